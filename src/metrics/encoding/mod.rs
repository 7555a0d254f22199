//! Encoders that walk a [`Registry`](super::Registry) and write an exposition
//! format into a caller-owned, reused byte buffer.

mod number;
pub mod text;

pub use number::{write_f64, write_u64};
