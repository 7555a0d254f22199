//! What a flag or a path parameter may say: numbers within bounds and
//! durations, one grammar each for the whole binary (server flags, the
//! `/delay/{duration}` and `/work/{duration}` paths, `loadgen`, `check`,
//! `doctor`). The bottom layer of the crate: it imports nothing from it, so
//! every layer above may take its parsers without pulling in another.

pub mod duration;
pub(crate) mod number;

pub(crate) use number::{in_range, number};
