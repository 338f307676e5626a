//! Bench: times the pipeline stage by stage on a folder or on generated stems.
