//! pycocotools' `rleToBbox`, run by run, for the runs of an [`Rle`](crate::Rle) or straight
//! from its compressed text.

/// The bounding box of a mask, accumulated run by run (column-major runs of a mask `h` high,
/// alternating background and foreground).
pub(crate) struct Bbox {
    h: u64,
    start: u64,
    odd: bool,
    xs: u64,
    ys: u64,
    xe: u64,
    ye: u64,
}

impl Bbox {
    pub(crate) fn new(height: usize) -> Bbox {
        Bbox {
            h: height as u64,
            start: 0,
            odd: false,
            xs: u64::MAX,
            ys: u64::MAX,
            xe: 0,
            ye: 0,
        }
    }

    #[inline]
    pub(crate) fn add(&mut self, r: u32) {
        let end = self.start + u64::from(r);
        if self.odd && r > 0 && self.h > 0 {
            let h = self.h;
            let (x0, x1) = (self.start / h, (end - 1) / h);
            self.xs = self.xs.min(x0);
            self.xe = self.xe.max(x1);
            if x0 < x1 {
                self.ys = 0;
                self.ye = h - 1;
            } else {
                self.ys = self.ys.min(self.start % h);
                self.ye = self.ye.max((end - 1) % h);
            }
        }
        self.start = end;
        self.odd = !self.odd;
    }

    /// `[x, y, w, h]`, `[0, 0, 0, 0]` for an empty mask.
    pub(crate) fn finish(&self) -> [f64; 4] {
        if self.h == 0 || self.xs == u64::MAX {
            return [0.0; 4];
        }
        [
            self.xs as f64,
            self.ys as f64,
            (self.xe - self.xs + 1) as f64,
            (self.ye - self.ys + 1) as f64,
        ]
    }
}
