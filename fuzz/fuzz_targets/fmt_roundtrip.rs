//! Fuzz target `fmt_roundtrip`: see docs/fuzzing.md for what it asserts (fuzz/src/checks.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    orgscope_fuzz::checks::fmt_roundtrip(data);
});
