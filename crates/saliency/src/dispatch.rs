//! Running work with the fastest exact fused multiply-add the CPU has: the hardware instruction
//! inside a function compiled for FMA and AVX2 (x86-64, detected at run time; every aarch64),
//! through `pulp`'s safe dispatch, else the exact software FMA of the `fma` module. Both give
//! the same bits as torch's contracted multiply-add.

/// `a * b + c` with a single rounding.
pub(crate) trait Fma {
    /// Whether this is the CPU's instruction (then the dispatch enabled FMA and AVX2 or is on
    /// aarch64).
    const HARDWARE: bool;
    fn fma(a: f32, b: f32, c: f32) -> f32;
}

/// The CPU's FMA instruction (only used inside a dispatch with FMA enabled, or on aarch64).
pub(crate) struct HardwareFma;

/// The exact software FMA.
pub(crate) struct SoftwareFma;

impl Fma for HardwareFma {
    const HARDWARE: bool = true;
    #[inline(always)]
    fn fma(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
}

impl Fma for SoftwareFma {
    const HARDWARE: bool = false;
    #[inline(always)]
    fn fma(a: f32, b: f32, c: f32) -> f32 {
        crate::fma::fmaf(a, b, c)
    }
}

/// Work that is generic over the FMA implementation. `run` and everything it calls in its hot
/// loops must be `#[inline(always)]`, so that they are compiled for the dispatched features.
pub(crate) trait Job {
    type Output;
    fn run<F: Fma>(self) -> Self::Output;
}

/// Whether the CPU has a hardware FMA that `pulp`'s dispatch enables.
fn hardware_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("fma") && std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(target_arch = "aarch64")]
    {
        true
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        false
    }
}

/// Runs `job` with the fastest exact FMA this CPU has.
pub(crate) fn dispatch<J: Job>(job: J) -> J::Output {
    if hardware_fma() {
        pulp::Arch::new().dispatch(
            #[inline(always)]
            move || job.run::<HardwareFma>(),
        )
    } else {
        job.run::<SoftwareFma>()
    }
}
