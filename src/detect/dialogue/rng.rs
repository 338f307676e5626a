//! The crate's seeded generator, under the name the dialogue code uses.

pub use crate::rng::Rng;
