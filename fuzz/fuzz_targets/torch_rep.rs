#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| chexlocalize_fuzzing::torch_rep(data));

// One mutation in four rescales a repeat count (see `chexlocalize_fuzzing::rescale`).
libfuzzer_sys::fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    if seed % 4 == 0 && chexlocalize_fuzzing::rescale(&mut data[..size], seed >> 2) {
        size
    } else {
        libfuzzer_sys::fuzzer_mutate(data, size, max_size)
    }
});
