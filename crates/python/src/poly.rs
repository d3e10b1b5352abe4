//! pycocotools' `rleFrPoly`, ported line for line (its C integer conversions included), so
//! `frPyObjects` of polygons and boxes gives the same `counts`.

/// C's `(int)x` as x86-64 computes it: truncation toward zero, and `INT_MIN` for NaN or a value
/// out of range (where C leaves it undefined and the hardware answers `INT_MIN`).
fn c_int(x: f64) -> i32 {
    if x.is_nan() || x >= 2_147_483_648.0 || x <= -2_147_483_649.0 {
        i32::MIN
    } else {
        x as i32
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
    // Discrete points densely along the whole boundary (upsampled).
    let (mut u, mut v) = (Vec::<i32>::new(), Vec::<i32>::new());
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
        if dx >= dy {
            for d in 0..=dx {
                let t = if flip { dx - d } else { d };
                u.push(t.wrapping_add(xs));
                v.push(c_int(f64::from(ys) + s * f64::from(t) + 0.5));
            }
        } else {
            for d in 0..=dy {
                let t = if flip { dy - d } else { d };
                v.push(t.wrapping_add(ys));
                u.push(c_int(f64::from(xs) + s * f64::from(t) + 0.5));
            }
        }
    }
    // Points along the y-boundary, downsampled.
    let mut a: Vec<u32> = Vec::new();
    for j in 1..u.len() {
        if u[j] == u[j - 1] {
            continue;
        }
        let xd = f64::from(if u[j] < u[j - 1] { u[j] } else { u[j] - 1 });
        let xd = (xd + 0.5) / scale - 0.5;
        if xd.floor() != xd || xd < 0.0 || xd > w.wrapping_sub(1) as f64 {
            continue;
        }
        let yd = f64::from(if v[j] < v[j - 1] { v[j] } else { v[j - 1] });
        let mut yd = (yd + 0.5) / scale - 0.5;
        if yd < 0.0 {
            yd = 0.0;
        } else if yd > h as f64 {
            yd = h as f64;
        }
        let yd = yd.ceil();
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
