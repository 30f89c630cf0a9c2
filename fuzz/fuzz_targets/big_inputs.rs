//! Fuzz target `big_inputs`: a few bytes of structure expand to megabytes of policy (fuzz/src/big.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    orgscope_fuzz::big::big_inputs(data);
});
