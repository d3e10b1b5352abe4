//! pycocotools' `rleFrPoly`, ported line for line (its C integer conversions included), so
//! `frPyObjects` of polygons and boxes gives the same `counts`.

/// C's `(int)x` as x86-64 computes it: truncation toward zero, and `INT_MIN` for NaN or a value
/// out of range (where C leaves it undefined and the hardware answers `INT_MIN`).
fn c_int(x: f64) -> i32 {
    // Both comparisons are false for NaN; `&` (not `&&`) leaves one branch-free test.
    if (x < 2_147_483_648.0) & (x > -2_147_483_649.0) {
        x as i32
    } else {
        i32::MIN
    }
}

/// The column-major runs of polygon `xy` (`[x0, y0, x1, y1, ...]`, a trailing odd value
/// ignored) on an `h × w` image.
pub(crate) fn fr_poly(xy: &[f64], h: usize, w: usize) -> Vec<u32> {
    let k = xy.len() / 2;
    let scale = 5.0;
    let mut x: Vec<i32> = (0..k).map(|j| c_int(scale * xy[2 * j] + 0.5)).collect();
    let mut y: Vec<i32> = (0..k).map(|j| c_int(scale * xy[2 * j + 1] + 0.5)).collect();
    if k > 0 {
        x.push(x[0]);
        y.push(y[0]);
    }
    // Discrete points densely along the whole boundary (upsampled); room for as many as the
    // loop below makes (a hostile polygon's count is capped: the vectors grow past it).
    let points: usize = (0..k)
        .map(|j| {
            let dx = x[j + 1].wrapping_sub(x[j]).wrapping_abs();
            let dy = y[j].wrapping_sub(y[j + 1]).wrapping_abs();
            usize::try_from(dx.max(dy)).map_or(0, |d| d + 1)
        })
        .fold(0usize, usize::saturating_add)
        .min(1 << 22);
    let (mut u, mut v) = (
        Vec::<i32>::with_capacity(points),
        Vec::<i32>::with_capacity(points),
    );
    for j in 0..k {
        let (mut xs, mut xe, mut ys, mut ye) = (x[j], x[j + 1], y[j], y[j + 1]);
        let dx = xe.wrapping_sub(xs).wrapping_abs();
        let dy = ys.wrapping_sub(ye).wrapping_abs();
        let flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
        if flip {
            std::mem::swap(&mut xs, &mut xe);
            std::mem::swap(&mut ys, &mut ye);
        }
        let s = if dx >= dy {
            f64::from(ye.wrapping_sub(ys)) / f64::from(dx)
        } else {
            f64::from(xe.wrapping_sub(xs)) / f64::from(dy)
        };
        // The steps t of the edge: 0..=d, or d down to 0 when flipped.
        let steps = |d: i32| (0..=d).map(move |i| if flip { d - i } else { i });
        if dx >= dy {
            u.extend(steps(dx).map(|t| t.wrapping_add(xs)));
            v.extend(steps(dx).map(|t| c_int(f64::from(ys) + s * f64::from(t) + 0.5)));
        } else {
            v.extend(steps(dy).map(|t| t.wrapping_add(ys)));
            u.extend(steps(dy).map(|t| c_int(f64::from(xs) + s * f64::from(t) + 0.5)));
        }
    }
    // Points along the y-boundary, downsampled.
    let mut a: Vec<u32> = Vec::new();
    for j in 1..u.len() {
        if u[j] == u[j - 1] {
            continue;
        }
        let xu = i64::from(if u[j] < u[j - 1] { u[j] } else { u[j] - 1 });
        // pycocotools keeps the point when `(xu + 0.5) / 5 - 0.5` is a whole number, which in
        // doubles (exact for |xu| < 2^31, and no rounding reaches a whole number otherwise) is
        // when xu = 5 xd + 2: tested on integers, without a floating-point floor.
        if xu.rem_euclid(5) != 2 {
            continue;
        }
        let xd = ((xu - 2) / 5) as f64;
        if xd < 0.0 || xd > w.wrapping_sub(1) as f64 {
            continue;
        }
        // pycocotools: `yd = (yv + 0.5) / 5 - 0.5`, clamped to [0, h], rounded up. In doubles
        // that is (yv - 2) / 5 exactly or at least 0.1 from a whole number, so its ceiling is
        // the integer ceiling of (yv - 2) / 5; clamped after rounding (h is whole), the same.
        let yv = i64::from(if v[j] < v[j - 1] { v[j] } else { v[j - 1] });
        let yd = (yv - 2).div_euclid(5) + i64::from((yv - 2).rem_euclid(5) != 0);
        let yd = yd.max(0) as f64;
        let yd = if yd > h as f64 { h as f64 } else { yd };
        let (xi, yi) = (c_int(xd), c_int(yd));
        a.push(xi.wrapping_mul(h as i32).wrapping_add(yi) as u32);
    }
    // Run-length encoding of the boundary points.
    a.push((h as u32).wrapping_mul(w as u32));
    a.sort_unstable();
    let mut p = 0u32;
    for e in a.iter_mut() {
        let t = *e;
        *e = e.wrapping_sub(p);
        p = t;
    }
    let mut b = Vec::with_capacity(a.len());
    let mut j = 0;
    b.push(a[j]);
    j += 1;
    while j < a.len() {
        if a[j] > 0 {
            b.push(a[j]);
            j += 1;
        } else {
            j += 1;
            if j < a.len() {
                if let Some(last) = b.last_mut() {
                    *last = last.wrapping_add(a[j]);
                }
                j += 1;
            }
        }
    }
    b
}
