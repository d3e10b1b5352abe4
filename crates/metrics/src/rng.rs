//! Bootstrap index samplers: numpy's legacy stream (for parity) and ChaCha (the default).

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

/// Draws `n` indices in `0..n` with replacement: one bootstrap replicate.
pub trait IndexSampler {
    /// Fills `out` with `n` indices in `0..n`.
    fn sample_indices(&mut self, n: usize, out: &mut Vec<usize>);
}

/// The Mersenne Twister MT19937 (Matsumoto & Nishimura), as numpy's legacy `RandomState` runs it.
///
/// Written here rather than taken from a crate: parity needs numpy's exact seeding
/// (`init_genrand` for an integer seed) and its exact use of the 32-bit outputs.
#[derive(Clone)]
struct Mt19937 {
    state: [u32; 624],
    index: usize,
}

impl Mt19937 {
    fn new(seed: u32) -> Self {
        let mut state = [0u32; 624];
        state[0] = seed;
        for i in 1..624 {
            state[i] = 1_812_433_253u32
                .wrapping_mul(state[i - 1] ^ (state[i - 1] >> 30))
                .wrapping_add(i as u32);
        }
        Mt19937 { state, index: 624 }
    }

    fn twist(&mut self) {
        const UPPER: u32 = 0x8000_0000;
        const LOWER: u32 = 0x7fff_ffff;
        for i in 0..624 {
            let y = (self.state[i] & UPPER) | (self.state[(i + 1) % 624] & LOWER);
            let mut v = self.state[(i + 397) % 624] ^ (y >> 1);
            if y & 1 != 0 {
                v ^= 0x9908_b0df;
            }
            self.state[i] = v;
        }
        self.index = 0;
    }

    fn next_u32(&mut self) -> u32 {
        if self.index >= 624 {
            self.twist();
        }
        let mut y = self.state[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }
}

/// Bit-identical to `np.random.seed(seed)` followed by calls of `np.random.choice(n, n)`
/// (numpy's legacy `RandomState`), so `--seed` reproduces the reference's bootstrap exactly.
///
/// `choice(n, n)` with replacement is `randint(0, n)`, which for ranges below 2^32 draws 32-bit
/// outputs, masks them with the smallest all-ones mask covering `n - 1`, and rejects values
/// above `n - 1` (numpy's `buffered_bounded_masked_uint32`). For `n == 1` it draws nothing.
#[derive(Clone)]
pub struct NumpyLegacyRng {
    mt: Mt19937,
}

impl NumpyLegacyRng {
    /// `np.random.seed(seed)`.
    pub fn new(seed: u32) -> Self {
        NumpyLegacyRng {
            mt: Mt19937::new(seed),
        }
    }

    /// One draw of `randint(0, n)` (`n >= 1`).
    pub fn below(&mut self, n: usize) -> usize {
        let rng = (n as u64).saturating_sub(1);
        if rng == 0 {
            return 0;
        }
        if rng <= u64::from(u32::MAX) {
            let rng = rng as u32;
            if rng == u32::MAX {
                return self.mt.next_u32() as usize;
            }
            let mask = u32::MAX >> rng.leading_zeros();
            loop {
                let v = self.mt.next_u32() & mask;
                if v <= rng {
                    return v as usize;
                }
            }
        }
        // 64-bit ranges: two 32-bit outputs, high word first (numpy's `next_uint64` for MT19937).
        let mask = u64::MAX >> rng.leading_zeros();
        loop {
            let hi = u64::from(self.mt.next_u32());
            let lo = u64::from(self.mt.next_u32());
            let v = ((hi << 32) | lo) & mask;
            if v <= rng {
                return v as usize;
            }
        }
    }
}

impl IndexSampler for NumpyLegacyRng {
    fn sample_indices(&mut self, n: usize, out: &mut Vec<usize>) {
        out.clear();
        out.extend((0..n).map(|_| self.below(n)));
    }
}

/// A modern, fast generator (ChaCha20) with unbiased bounded draws: the library default
/// (`ChaChaSampler::default()` is seed 0). Same statistics as [`NumpyLegacyRng`], different draws;
/// use [`NumpyLegacyRng`] only to reproduce the reference's published intervals.
pub struct ChaChaSampler {
    rng: ChaCha20Rng,
}

impl ChaChaSampler {
    /// A sampler seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        ChaChaSampler {
            rng: ChaCha20Rng::seed_from_u64(seed),
        }
    }

    fn below(&mut self, n: usize) -> usize {
        // Lemire's nearly divisionless method on 64-bit outputs.
        let n = n as u64;
        loop {
            let m = u128::from(self.rng.next_u64()) * u128::from(n);
            let low = m as u64;
            if low >= n.wrapping_neg() % n {
                return (m >> 64) as usize;
            }
        }
    }
}

impl Default for ChaChaSampler {
    fn default() -> Self {
        ChaChaSampler::new(0)
    }
}

impl IndexSampler for ChaChaSampler {
    fn sample_indices(&mut self, n: usize, out: &mut Vec<usize>) {
        out.clear();
        out.extend((0..n).map(|_| self.below(n)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choice(seed: u32, n: usize) -> Vec<usize> {
        let mut r = NumpyLegacyRng::new(seed);
        let mut out = Vec::new();
        r.sample_indices(n, &mut out);
        out.truncate(12);
        out
    }

    #[test]
    fn numpy_stream_is_pinned() {
        // Expected: numpy 2.4.6, `np.random.seed(s); np.random.choice(n, n)[:12].tolist()`.
        let cases: &[(u32, usize, &[usize])] = &[
            (0, 1, &[0]),
            (0, 2, &[0, 1]),
            (0, 3, &[0, 1, 0]),
            (0, 10, &[5, 0, 3, 3, 7, 9, 3, 5, 2, 4]),
            (
                0,
                234,
                &[172, 47, 117, 192, 67, 195, 103, 9, 211, 21, 36, 87],
            ),
            (
                0,
                1000,
                &[684, 559, 629, 192, 835, 763, 707, 359, 9, 723, 277, 754],
            ),
            (
                0,
                65537,
                &[
                    43567, 42613, 45891, 21243, 41993, 55026, 48600, 39512, 52620, 17089, 32230,
                    18983,
                ],
            ),
            (7, 2, &[1, 0]),
            (7, 3, &[0, 1, 2]),
            (7, 10, &[4, 9, 6, 3, 3, 7, 7, 9, 7, 8]),
            (
                7,
                234,
                &[175, 196, 25, 67, 211, 151, 103, 92, 185, 142, 23, 72],
            ),
            (12345, 3, &[2, 1, 1]),
            (12345, 10, &[2, 5, 1, 4, 9, 5, 2, 1, 6, 1]),
            (
                12345,
                1000,
                &[482, 485, 285, 129, 420, 425, 382, 357, 546, 541, 769, 118],
            ),
        ];
        for &(seed, n, want) in cases {
            assert_eq!(choice(seed, n), want, "seed {seed}, n {n}");
        }
    }

    #[test]
    fn consecutive_calls_continue_the_stream() {
        // Expected: np.random.seed(0); np.random.choice(5, 5); np.random.choice(5, 5)
        let mut r = NumpyLegacyRng::new(0);
        let mut a = Vec::new();
        r.sample_indices(5, &mut a);
        assert_eq!(a, [4, 0, 3, 3, 3]);
        r.sample_indices(5, &mut a);
        assert_eq!(a, [1, 3, 2, 4, 0]);
    }

    #[test]
    fn raw_mt19937_outputs() {
        // The reference implementation's init_genrand(0) outputs (also numpy's
        // RandomState(0).randint(0, 2**32, dtype=np.uint64)).
        let mut mt = Mt19937::new(0);
        assert_eq!(
            [mt.next_u32(), mt.next_u32(), mt.next_u32()],
            [2357136044, 2546248239, 3071714933]
        );
    }

    #[test]
    fn chacha_is_in_range_and_deterministic() {
        let mut a = ChaChaSampler::new(3);
        let mut b = ChaChaSampler::new(3);
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for n in [1, 2, 7, 234] {
            a.sample_indices(n, &mut x);
            b.sample_indices(n, &mut y);
            assert_eq!(x, y);
            assert!(x.iter().all(|&i| i < n));
        }
    }
}
