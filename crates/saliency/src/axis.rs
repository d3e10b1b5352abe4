//! The source indices and weights of one axis of torch's bilinear `interpolate`
//! (`align_corners=False`), shared by the fast engine, the reference and the tests: per output
//! index `i`, `scale = in / out` and `src = max(scale * (i + 0.5) - 0.5, 0)` in float32 (two
//! roundings), `i0 = min(floor(src), in - 1)`, `i1 = i0 + (i0 < in - 1)`, `l1 = clamp(src - i0,
//! 0, 1)`, `l0 = 1 - l1`; weights `(1, 0)` when `out == in` (see the `upsample` module).

/// Source indices and weights of one output axis.
pub(crate) struct Axis {
    pub(crate) i0: Vec<usize>,
    pub(crate) i1: Vec<usize>,
    pub(crate) w0: Vec<f32>,
    pub(crate) w1: Vec<f32>,
}

#[inline(always)] // inside the dispatch: `floor` is then an instruction, not a call
pub(crate) fn axis(input: usize, output: usize) -> Axis {
    let mut a = Axis {
        i0: Vec::with_capacity(output),
        i1: Vec::with_capacity(output),
        w0: Vec::with_capacity(output),
        w1: Vec::with_capacity(output),
    };
    let scale = input as f32 / output as f32;
    for i in 0..output {
        if input == output {
            a.i0.push(i);
            a.i1.push(i);
            a.w0.push(1.0);
            a.w1.push(0.0);
            continue;
        }
        let src = (scale * (i as f32 + 0.5) - 0.5).max(0.0);
        let i0 = (src.floor() as usize).min(input - 1);
        let l1 = (src - i0 as f32).clamp(0.0, 1.0);
        a.i0.push(i0);
        a.i1.push(if i0 < input - 1 { i0 + 1 } else { i0 });
        a.w0.push(1.0 - l1);
        a.w1.push(l1);
    }
    a
}
