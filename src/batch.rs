//! Batch: every title under a deliverables tree, a bounded number in flight, resumable, shardable.
