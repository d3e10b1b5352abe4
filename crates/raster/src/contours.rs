//! Border following as OpenCV's `findContours(mask, RETR_TREE, CHAIN_APPROX_SIMPLE)` does it
//! (Suzuki & Abe, 1985), giving the same contours with the same points.
//!
//! Facts of OpenCV (`imgproc/src/contours.cpp`) reproduced here:
//! - the image is padded with one row/column of zeros on every side and binarised (non-zero → 1);
//! - a raster scan starts an outer border at a 1 preceded by a 0, and a hole border at a 0
//!   preceded by a positive (not right-bound) pixel; the hole's tracing starts on that left pixel;
//! - tracing: the first neighbour is searched from direction 3 (outer) or 7 (hole) going
//!   clockwise, then the border is followed counter-clockwise; visited pixels are marked 2, or
//!   −126 when they are a right bound, which is what stops later scans from starting there;
//! - `CHAIN_APPROX_SIMPLE` keeps a point only where the chain direction changes;
//! - a single-pixel component gives a one-point contour.
//!
//! The order of the contours differs from OpenCV's tree order; CheXlocalize fills every contour
//! onto one mask, so the order does not change the result.

use ndarray::Array2;

/// Neighbour offsets `(dx, dy)` of the 8 chain directions (0 = +x, 2 = up, 4 = −x, 6 = down).
const DELTAS: [(isize, isize); 8] = [
    (1, 0),
    (1, -1),
    (0, -1),
    (-1, -1),
    (-1, 0),
    (-1, 1),
    (0, 1),
    (1, 1),
];

const RIGHT_BOUND: i8 = 2 | -128;
const VISITED: i8 = 2;

/// How a border is turned into points (OpenCV's `ContourApproximationModes`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContourApprox {
    /// `CHAIN_APPROX_NONE`: every border pixel, one point per step of the chain.
    None,
    /// `CHAIN_APPROX_SIMPLE`: only the points where the chain direction changes.
    Simple,
}

/// The contours of the non-zero pixels of `mask` (row-major `(h, w)`), each as `(x, y)` points,
/// as `findContours(mask, RETR_TREE, CHAIN_APPROX_SIMPLE)` (in raster-scan order).
pub fn find_contours(mask: &Array2<u8>) -> Vec<Vec<[i32; 2]>> {
    BorderImage::from_mask(mask).contours(ContourApprox::Simple)
}

/// `findContours(mask, RETR_LIST, approx)`: every outer and hole border, in OpenCV's order (the
/// reverse of the raster scan that finds them), each as `(x, y)` points.
pub fn find_contours_list(mask: &Array2<u8>, approx: ContourApprox) -> Vec<Vec<[i32; 2]>> {
    let mut contours = BorderImage::from_mask(mask).contours(approx);
    contours.reverse();
    contours
}

/// A binary image inside a one-pixel border of zeros, the form OpenCV's border following works
/// on. Fill it row by row with [`BorderImage::set_row`], then call
/// [`BorderImage::find_contours`] (which gives the same contours as [`find_contours`] on the
/// equivalent mask, without building that mask).
#[derive(Clone, Debug)]
pub struct BorderImage {
    data: Vec<i8>,
    height: usize,
    width: usize,
}

impl BorderImage {
    /// An all-background image of `height × width` pixels.
    ///
    /// Its rows are materialised as they are set (rows never set are background), so filling
    /// every row in order with [`BorderImage::set_row`] writes the buffer once, without zeroing
    /// it first.
    pub fn new(height: usize, width: usize) -> BorderImage {
        let mut data = Vec::with_capacity((height + 2) * (width + 2));
        data.resize(width + 2, 0); // the top border
        BorderImage {
            data,
            height,
            width,
        }
    }

    /// Rows (including the top border) present in `data`.
    fn rows_present(&self) -> usize {
        self.data.len() / (self.width + 2)
    }

    /// Appends background rows until row `r` (of the image) is present.
    fn grow_to(&mut self, r: usize) {
        let len = (r + 2) * (self.width + 2);
        if self.data.len() < len {
            self.data.resize(len, 0);
        }
    }

    /// The image of a dense mask (non-zero = foreground).
    fn from_mask(mask: &Array2<u8>) -> BorderImage {
        let (h, w) = mask.dim();
        let mut img = BorderImage::new(h, w);
        crate::for_each_row(mask, |r, row| img.set_row(r, row));
        img
    }

    /// Sets row `r` (non-zero = foreground). Does nothing for a row outside the image; `row` is
    /// truncated or padded with background to the width.
    pub fn set_row(&mut self, r: usize, row: &[u8]) {
        self.set_row_with(r, row, |&b| b != 0);
    }

    /// Sets row `r` from any row of values, `foreground` telling which are foreground (e.g. a
    /// threshold), without an intermediate row of bits. Otherwise as [`BorderImage::set_row`].
    ///
    /// ```
    /// use chexlocalize_raster::BorderImage;
    ///
    /// let mut img = BorderImage::new(1, 4);
    /// img.set_row_with(0, &[10u8, 200, 220, 30], |&v| v > 128);
    /// assert_eq!(img.find_contours(), vec![vec![[1, 0], [2, 0]]]);
    /// ```
    pub fn set_row_with<T>(&mut self, r: usize, row: &[T], foreground: impl Fn(&T) -> bool) {
        if r >= self.height {
            return;
        }
        let pw = self.width + 2;
        if self.rows_present() == r + 1 {
            // The next row: appended (borders, pixels, padding) without zero-filling first.
            let n = row.len().min(self.width);
            self.data.push(0);
            self.data
                .extend(row[..n].iter().map(|b| i8::from(foreground(b))));
            self.data.resize((r + 2) * pw, 0);
            return;
        }
        self.grow_to(r);
        let dst = &mut self.data[(r + 1) * pw + 1..(r + 1) * pw + 1 + self.width];
        let n = row.len().min(dst.len());
        for (d, b) in dst[..n].iter_mut().zip(row) {
            *d = i8::from(foreground(b));
        }
        dst[n..].fill(0);
    }

    /// The contours, as `findContours(RETR_TREE, CHAIN_APPROX_SIMPLE)` gives their points.
    pub fn find_contours(self) -> Vec<Vec<[i32; 2]>> {
        self.contours(ContourApprox::Simple)
    }

    /// Every border in raster-scan order, with the points `approx` keeps.
    /// With AVX-512 (through `pulp`'s safe `V4` token) the scan compiles for it and skips 64
    /// bytes per comparison.
    fn contours(self, approx: ContourApprox) -> Vec<Vec<[i32; 2]>> {
        #[cfg(target_arch = "x86_64")]
        if let Some(v4) = pulp::x86::V4::try_new() {
            return v4.vectorize(
                #[inline(always)]
                move || self.scan(approx, Some(v4)),
            );
        }
        self.scan(approx, None)
    }

    #[inline(always)]
    fn scan(mut self, approx: ContourApprox, wide: Wide) -> Vec<Vec<[i32; 2]>> {
        self.grow_to(self.height); // the rows never set, and the bottom border
        let (ph, pw) = (self.height + 2, self.width + 2);
        let img = &mut self.data;
        let step = pw as isize;
        let offs: [isize; 8] = DELTAS.map(|(dx, dy)| dy * step + dx);
        let mut contours = Vec::new();
        for y in 1..ph - 1 {
            let mut prev: i8 = 0;
            let mut x = 1;
            while x < pw - 1 {
                // Nothing happens at a pixel equal to the previous one: skip such stretches
                // 64 bytes at a time where the CPU can, else 32 and eight.
                x = skip_equal(wide, &img[y * pw..(y + 1) * pw - 1], x, prev);
                let splat = u64::from_ne_bytes([prev as u8; 8]);
                while x + 32 < pw && all_equal(&img[y * pw + x..y * pw + x + 32], splat) {
                    x += 32;
                }
                while x + 8 < pw && word(img, y * pw + x) == splat {
                    x += 8;
                }
                if x >= pw - 1 {
                    break;
                }
                let p = img[y * pw + x];
                if p != prev {
                    let is_hole = if prev == 0 && p == 1 {
                        Some(false)
                    } else if p == 0 && prev >= 1 {
                        Some(true)
                    } else {
                        None
                    };
                    if let Some(hole) = is_hole {
                        let sx = x - usize::from(hole);
                        let points = follow(
                            img,
                            &offs,
                            y * pw + sx,
                            hole,
                            [sx as i32 - 1, y as i32 - 1],
                            approx,
                        );
                        contours.push(points);
                    }
                }
                prev = img[y * pw + x];
                x += 1;
            }
        }
        contours
    }
}

/// The AVX-512 instructions [`skip_equal`] uses, when the CPU has them (always `None` off
/// x86-64).
#[cfg(target_arch = "x86_64")]
type Wide = Option<pulp::x86::V4>;
#[cfg(not(target_arch = "x86_64"))]
type Wide = Option<std::convert::Infallible>;

/// The first position from `x` of a byte of `row` that differs from `prev`, or of the first
/// of the last 64 bytes if all before them are equal to it (`x` itself without AVX-512).
#[inline(always)]
fn skip_equal(wide: Wide, row: &[i8], mut x: usize, prev: i8) -> usize {
    #[cfg(target_arch = "x86_64")]
    if let Some(v4) = wide {
        let splat = v4.avx512f._mm512_set1_epi8(prev);
        while let Some(Ok(chunk)) = row.get(x..x + 64).map(<&[i8; 64]>::try_from) {
            let m = v4
                .avx512bw
                ._mm512_cmpneq_epi8_mask(pulp::bytemuck::cast(*chunk), splat);
            if m != 0 {
                return x + m.trailing_zeros() as usize;
            }
            x += 64;
        }
    }
    let _ = (wide, row, prev);
    x
}

/// Eight bytes of `img` from `at`, as one word.
#[inline(always)]
fn word(img: &[i8], at: usize) -> u64 {
    let b: [i8; 8] = img[at..at + 8].try_into().unwrap_or([0; 8]);
    u64::from_ne_bytes(b.map(|x| x as u8))
}

/// Whether the 32 bytes of `chunk` all equal the byte repeated in `splat`.
#[inline(always)]
fn all_equal(chunk: &[i8], splat: u64) -> bool {
    (0..4).fold(0, |acc, k| acc | (word(chunk, 8 * k) ^ splat)) == 0
}

/// Follows one border from pixel index `start` (OpenCV's `icvFetchContour`), marking it.
fn follow(
    img: &mut [i8],
    offs: &[isize; 8],
    start: usize,
    hole: bool,
    mut pt: [i32; 2],
    approx: ContourApprox,
) -> Vec<[i32; 2]> {
    let at = |i: usize, s: usize| (i as isize + offs[s & 7]) as usize;
    let mut points = Vec::new();
    let s_end0 = if hole { 0 } else { 4 };
    let mut s = s_end0;
    let mut i1;
    loop {
        s = (s + 7) & 7;
        i1 = at(start, s);
        if img[i1] != 0 || s == s_end0 {
            break;
        }
    }
    if img[i1] == 0 && s == s_end0 {
        img[start] = RIGHT_BOUND;
        points.push(pt);
        return points;
    }
    let mut i3 = start;
    let mut prev_s = s ^ 4;
    loop {
        let s_end = s;
        let mut i4;
        loop {
            s += 1;
            i4 = at(i3, s);
            if img[i4] != 0 {
                break;
            }
        }
        s &= 7;
        if s.wrapping_sub(1) < s_end {
            img[i3] = RIGHT_BOUND;
        } else if img[i3] == 1 {
            img[i3] = VISITED;
        }
        if s != prev_s || approx == ContourApprox::None {
            points.push(pt);
            prev_s = s;
        }
        pt[0] += DELTAS[s].0 as i32;
        pt[1] += DELTAS[s].1 as i32;
        if i4 == start && i3 == i1 {
            break;
        }
        i3 = i4;
        s = (s + 4) & 7;
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_square_has_its_four_corners() {
        let mut m = Array2::zeros((5, 6));
        for r in 1..4 {
            for c in 1..5 {
                m[[r, c]] = 1u8;
            }
        }
        // cv2.findContours(m, RETR_TREE, CHAIN_APPROX_SIMPLE)[0] == [[[1,1]],[[1,3]],[[4,3]],[[4,1]]]
        assert_eq!(
            find_contours(&m),
            vec![vec![[1, 1], [1, 3], [4, 3], [4, 1]]]
        );
    }

    #[test]
    fn rows_set_in_any_order_or_not_at_all() {
        let mut m = Array2::zeros((7, 9));
        for (r, c) in [(1, 1), (1, 2), (2, 2), (4, 5), (5, 5), (5, 6), (6, 8)] {
            m[[r, c]] = 1u8;
        }
        let want = find_contours(&m);
        // Only the non-empty rows, last first; then every row in order.
        let mut img = BorderImage::new(7, 9);
        for r in (0..7).rev().filter(|&r| m.row(r).iter().any(|&v| v != 0)) {
            img.set_row(r, &m.row(r).to_vec());
        }
        assert_eq!(img.find_contours(), want);
        let mut img = BorderImage::new(7, 9);
        for r in 0..7 {
            img.set_row(r, &m.row(r).to_vec());
        }
        img.set_row(7, &[1; 9]); // outside: ignored
        assert_eq!(img.find_contours(), want);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// The scan that skips 64 bytes at a time (AVX-512, where the CPU has it) finds the same
        /// contours as the portable one (checked against OpenCV in `tests/contour_oracle.rs`),
        /// on masks wide enough for it: rows of long and short runs, holes and lines.
        #[test]
        fn the_wide_scan_finds_the_same_contours(
            h in 1usize..10,
            w in 1usize..400,
            runs in proptest::collection::vec((0u8..2, 1usize..150), 1..60),
        ) {
            let mut it = runs.iter().cycle().flat_map(|&(v, n)| std::iter::repeat_n(v, n));
            let m = Array2::from_shape_fn((h, w), |_| it.next().unwrap_or(0));
            for approx in [ContourApprox::Simple, ContourApprox::None] {
                let portable = BorderImage::from_mask(&m).scan(approx, None);
                #[cfg(target_arch = "x86_64")]
                if let Some(v4) = pulp::x86::V4::try_new() {
                    let wide = v4.vectorize(|| BorderImage::from_mask(&m).scan(approx, Some(v4)));
                    proptest::prop_assert_eq!(&wide, &portable);
                }
                proptest::prop_assert_eq!(BorderImage::from_mask(&m).contours(approx), portable);
            }
        }
    }

    #[test]
    fn single_pixel_and_empty() {
        let mut m = Array2::zeros((3, 3));
        assert!(find_contours(&m).is_empty());
        m[[1, 1]] = 1u8;
        assert_eq!(find_contours(&m), vec![vec![[1, 1]]]);
    }
}
