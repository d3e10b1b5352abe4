//! Pillow's polygon fill, as `ImageDraw.Draw(img).polygon(xy, fill=1, outline=1)` draws it on a
//! mode `"1"` image — how CheXlocalize's ground-truth masks were made.
//!
//! Facts of Pillow's C code (`_imaging.c` `_draw_polygon`, `libImaging/Draw.c`
//! `ImagingDrawPolygon` and `polygon_generic`), reproduced here:
//! - vertex coordinates are converted with a C `(int)` cast: truncation toward zero
//!   (2.7 → 2, −0.5 → 0, −1.5 → −1); fewer than 2 vertices are refused. Parity quirk: outside
//!   the int32 range (3e9, −5e9, 1e20, 2^31) the cast is undefined in C, and on x86-64 (the
//!   `cvttsd2si` instruction) gives `INT_MIN`; the edge arithmetic on such vertices is then int
//!   arithmetic that wraps in 32 bits (CPython builds extensions with `-fwrapv`): the slope
//!   `(float)(x1 - x0) / (y1 - y0)` and the crossing `(y - y0) * dx + x0`. The `ROUND_UP` and
//!   `ROUND_DOWN` casts of a crossing beyond the int32 range give `INT_MIN` too;
//! - `outline=1` equals `fill=1`, so Pillow draws only the fill;
//! - edges are built between consecutive vertices and back to the first one (unless the last
//!   vertex equals the first); a horizontal edge that continues a horizontal edge in the same
//!   direction extends it instead of starting a new one;
//! - horizontal edges are drawn directly as spans `xmin..=xmax`;
//! - for each scanline `y` from the lowest vertex row to the highest (clipped to the image, the
//!   last one being `y = height`), every other edge with `ymin <= y <= ymax` contributes
//!   `x = (y - y0) * dx + x0` in float32, twice at its lower end (`y == ymax`, except on the last
//!   row); at a corner where two sloped edges meet, the crossing is moved one pixel outwards
//!   ("connect discontiguous corners"); the crossings are sorted and each pair `(a, b)` fills
//!   `ROUND_UP(a)..=ROUND_DOWN(b)`, rounding half away from zero and half toward zero;
//! - spans are clipped to the image.
//!
//! The float32 arithmetic and the `float`/`double` mix of the rounding macros are kept as in C
//! (Pillow's wheels are built for baseline x86-64, without FMA).

use ndarray::Array2;

/// Pillow's conversion of a vertex coordinate: the C `(int)` cast, truncating toward zero;
/// `INT_MIN` outside the `i32` range and for NaN, as x86-64 gives (see the module doc).
pub fn pillow_vertex(v: f64) -> i32 {
    c_int(v)
}

/// C's `(int)` cast of a double on x86-64: truncation, `INT_MIN` when out of range or NaN.
fn c_int(v: f64) -> i32 {
    if v > -2_147_483_649.0 && v < 2_147_483_648.0 {
        v as i32
    } else {
        i32::MIN
    }
}

#[derive(Clone, Copy, Debug)]
struct Edge {
    x0: i64,
    y0: i64,
    xmin: i64,
    ymin: i64,
    xmax: i64,
    ymax: i64,
    dx: f32,
}

impl Edge {
    fn new(x0: i64, y0: i64, x1: i64, y1: i64) -> Edge {
        // The vertices are i32; the differences wrap in 32 bits as in Pillow's C.
        let dx = if y0 == y1 {
            0.0
        } else {
            (x1 as i32).wrapping_sub(x0 as i32) as f32 / (y1 as i32).wrapping_sub(y0 as i32) as f32
        };
        Edge {
            x0,
            y0,
            xmin: x0.min(x1),
            xmax: x0.max(x1),
            ymin: y0.min(y1),
            ymax: y0.max(y1),
            dx,
        }
    }

    /// `(y - y0) * dx + x0` in float32, as Pillow computes a crossing (`y - y0` in int,
    /// wrapping in 32 bits).
    fn x_at(&self, y: i64) -> f32 {
        (y as i32).wrapping_sub(self.y0 as i32) as f32 * self.dx + self.x0 as f32
    }
}

/// `ROUND_UP`: half away from zero, with Pillow's float/double mix.
fn round_up(f: f32) -> i64 {
    i64::from(c_int(if f >= 0.0 {
        f64::from(f + 0.5).floor()
    } else {
        -(f64::from(f).abs() + 0.5).floor()
    }))
}

/// `ROUND_DOWN`: half toward zero, with Pillow's float/double mix.
fn round_down(f: f32) -> i64 {
    i64::from(c_int(if f >= 0.0 {
        f64::from(f - 0.5).ceil()
    } else {
        -(f64::from(f).abs() - 0.5).ceil()
    }))
}

/// C's `roundf`: half away from zero.
fn roundf(f: f32) -> f32 {
    f.round()
}

/// Where a fill draws: rows of pixels that spans are set on.
///
/// Implemented by a dense mask (`Array2<u8>`, pixels set to 1) and by [`RowSpans`](crate::RowSpans),
/// which only records the spans (for building an RLE without a dense buffer).
pub trait Canvas {
    /// `(height, width)` in pixels.
    fn dims(&self) -> (usize, usize);
    /// Sets pixels `x0..=x1` of row `y`; the caller has clipped them to the canvas.
    fn span(&mut self, y: usize, x0: usize, x1: usize);
}

impl Canvas for Array2<u8> {
    fn dims(&self) -> (usize, usize) {
        self.dim()
    }

    fn span(&mut self, y: usize, x0: usize, x1: usize) {
        let mut row = self.row_mut(y);
        for v in row.iter_mut().skip(x0).take(x1 - x0 + 1) {
            *v = 1;
        }
    }
}

/// `hline8`: a horizontal span of 1s, clipped to the canvas.
fn hline<C: Canvas + ?Sized>(canvas: &mut C, x0: i64, y: i64, x1: i64) {
    let (h, w) = canvas.dims();
    if y < 0 || y >= h as i64 || x0 >= w as i64 || x1 < 0 {
        return;
    }
    let (a, b) = (x0.max(0) as usize, x1.min(w as i64 - 1) as usize);
    if a <= b {
        canvas.span(y as usize, a, b);
    }
}

/// Fills one polygon with integer vertices `(x, y)` onto `canvas` (a row-major `(h, w)` mask
/// or a [`RowSpans`](crate::RowSpans)), setting covered pixels, exactly as Pillow's
/// `ImagingDrawPolygon` with `fill=1`.
pub fn fill_polygon<C: Canvas + ?Sized>(canvas: &mut C, xy: &[[i32; 2]]) {
    let count = xy.len();
    if count == 0 {
        return;
    }
    let p = |i: usize| (i64::from(xy[i][0]), i64::from(xy[i][1]));
    let mut edges: Vec<Edge> = Vec::with_capacity(count);
    let mut i = 0;
    while i + 1 < count {
        let ((x0, y0), (x1, y1)) = (p(i), p(i + 1));
        if y0 == y1 && i != 0 && y0 == p(i - 1).1 && !edges.is_empty() {
            // A horizontal edge continuing a horizontal edge in the same direction extends it.
            let xprev = p(i - 1).0;
            let last = edges.len() - 1;
            if x1 > x0 && x0 > xprev {
                edges[last].xmax = x1;
                i += 1;
                continue;
            } else if x1 < x0 && x0 < xprev {
                edges[last].xmin = x1;
                i += 1;
                continue;
            }
        }
        edges.push(Edge::new(x0, y0, x1, y1));
        i += 1;
    }
    let (xl, yl) = p(count - 1);
    let (xf, yf) = p(0);
    if xl != xf || yl != yf {
        edges.push(Edge::new(xl, yl, xf, yf));
    }
    polygon_generic(canvas, &edges);
}

/// Pillow's scanline fill over an edge list.
///
/// Pillow visits every edge on every scanline; we keep an active edge table (the edges whose
/// `ymin..=ymax` holds the scanline, in their original order), which visits the same edges in
/// the same order — the corner rule below depends on that order — in time proportional to the
/// active edges rather than to all of them.
fn polygon_generic<C: Canvas + ?Sized>(canvas: &mut C, edges: &[Edge]) {
    if edges.is_empty() {
        return;
    }
    let height = canvas.dims().0 as i64;
    let mut ymin = height - 1;
    let mut ymax = 0i64;
    let mut table: Vec<&Edge> = Vec::with_capacity(edges.len());
    for e in edges {
        ymin = ymin.min(e.ymin);
        ymax = ymax.max(e.ymax);
        if e.ymin == e.ymax {
            hline(canvas, e.xmin, e.ymin, e.xmax);
            continue;
        }
        table.push(e);
    }
    let ymin = ymin.max(0);
    let ymax = ymax.min(height);
    // Edge indices by first scanline (stable: index order among equal starts).
    let mut by_start: Vec<usize> = (0..table.len()).collect();
    by_start.sort_by_key(|&i| table[i].ymin);
    let mut next = 0;
    let mut active: Vec<usize> = Vec::new(); // ascending edge indices
    let mut xx: Vec<f32> = Vec::with_capacity(table.len() * 2);
    for y in ymin..=ymax {
        active.retain(|&i| table[i].ymax >= y);
        while next < by_start.len() && table[by_start[next]].ymin <= y {
            let i = by_start[next];
            next += 1;
            if table[i].ymax >= y {
                let at = active.partition_point(|&a| a < i);
                active.insert(at, i);
            }
        }
        xx.clear();
        for (k, &i) in active.iter().enumerate() {
            let current = table[i];
            xx.push(current.x_at(y));
            if y == current.ymax && y < ymax {
                // "Needed to draw consistent polygons"
                let last = xx[xx.len() - 1];
                xx.push(last);
            } else if (y == current.ymin || y == current.ymax) && current.dx != 0.0 {
                // "Connect discontiguous corners": Pillow looks at every earlier edge with an end
                // on this scanline; those are all active.
                let j = xx.len();
                for &o in &active[..k] {
                    let other = table[o];
                    if (y != other.ymin && y != other.ymax) || other.dx == 0.0 {
                        continue;
                    }
                    if roundf(xx[j - 1]) != roundf(other.x_at(y)) {
                        continue;
                    }
                    let offset = if y == current.ymax { -1 } else { 1 };
                    let adjacent = current.x_at(y + offset);
                    if y + offset >= other.ymin && y + offset <= other.ymax {
                        let adjacent_other = other.x_at(y + offset);
                        if xx[j - 1] > adjacent + 1.0 && xx[j - 1] > adjacent_other + 1.0 {
                            xx[j - 1] = roundf(adjacent.max(adjacent_other)) + 1.0;
                        } else if xx[j - 1] < adjacent - 1.0 && xx[j - 1] < adjacent_other - 1.0 {
                            xx[j - 1] = roundf(adjacent.min(adjacent_other)) - 1.0;
                        }
                        break;
                    }
                }
            }
        }
        xx.sort_by(f32::total_cmp);
        for pair in xx.chunks_exact(2) {
            hline(canvas, round_up(pair[0]), y, round_down(pair[1]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_macros() {
        // ROUND_UP / ROUND_DOWN from Draw.c: half away from / toward zero.
        assert_eq!((round_up(2.5), round_down(2.5)), (3, 2));
        assert_eq!((round_up(-2.5), round_down(-2.5)), (-3, -2));
        assert_eq!((round_up(2.4), round_down(2.6)), (2, 3));
        assert_eq!(pillow_vertex(2.7), 2);
        assert_eq!(pillow_vertex(-0.5), 0);
        assert_eq!(pillow_vertex(-1.5), -1);
    }

    #[test]
    fn a_square_includes_its_boundary() {
        let mut m = Array2::zeros((6, 6));
        fill_polygon(&mut m, &[[1, 1], [4, 1], [4, 3], [1, 3]]);
        let set: usize = m.iter().map(|&v| usize::from(v)).sum();
        assert_eq!(set, 4 * 3);
        assert_eq!(m[[1, 1]], 1);
        assert_eq!(m[[3, 4]], 1);
        assert_eq!(m[[0, 0]], 0);
    }
}
