//! The x86-64 vector instruction sets a path may use, detected once: AVX2 (`pulp`'s `V3`
//! token) and AVX-512 (`V4`), each `None` where the CPU lacks it (always, off x86-64). Tests
//! run every path the CPU can ([`Simd::every`]).

/// The instruction sets a path may use.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Simd {
    #[cfg(target_arch = "x86_64")]
    pub(crate) v3: Option<pulp::x86::V3>,
    #[cfg(target_arch = "x86_64")]
    pub(crate) v4: Option<pulp::x86::V4>,
}

impl Simd {
    /// The best this CPU has.
    pub(crate) fn detect() -> Simd {
        Simd {
            #[cfg(target_arch = "x86_64")]
            v3: pulp::x86::V3::try_new(),
            #[cfg(target_arch = "x86_64")]
            v4: pulp::x86::V4::try_new(),
        }
    }

    /// Every path this CPU can run: the best, then without AVX-512, then scalar (for tests).
    #[cfg(test)]
    pub(crate) fn every() -> Vec<Simd> {
        let best = Simd::detect();
        #[cfg(target_arch = "x86_64")]
        {
            let no_v4 = Simd { v4: None, ..best };
            let scalar = Simd { v3: None, v4: None };
            vec![best, no_v4, scalar]
        }
        #[cfg(not(target_arch = "x86_64"))]
        vec![best]
    }
}
