#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| chexlocalize_fuzzing::torch_rep(data));
