//! Trained models (the sung-vocal classifier): loading, inference with ndarray, training.
