//! Support crate of the orgscope fuzz targets: the invariants live in [`checks`], which
//! `tests/fuzz_regressions.rs` also includes (by path) to replay the seeds on stable Rust.
pub mod big;
pub mod checks;
