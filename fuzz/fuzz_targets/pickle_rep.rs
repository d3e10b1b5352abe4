#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| chexlocalize_fuzzing::pickle_rep(data));
