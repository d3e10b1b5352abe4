//! Raw pickle bytes for the hostile files, written opcode by opcode (as Python 3's `pickle` with
//! torch imported writes them), so that a case can be anything a file can hold, including what
//! the project's own writer would refuse to produce.

/// torch's legacy-format magic number (`torch.serialization.MAGIC_NUMBER`, a `LONG1`).
const MAGIC: [u8; 10] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
/// torch's legacy-format protocol version (`torch.serialization.PROTOCOL_VERSION`).
const TORCH_PROTOCOL: i64 = 1001;

/// A pickle under construction (protocol 3 opcodes).
#[derive(Default)]
pub(crate) struct P {
    pub(crate) out: Vec<u8>,
}

impl P {
    pub(crate) fn op(&mut self, op: u8) -> &mut Self {
        self.out.push(op);
        self
    }

    pub(crate) fn proto(&mut self) -> &mut Self {
        self.out.extend([0x80, 3]);
        self
    }

    /// `BININT1`, `BININT2`, `BININT` or `LONG1`, as pickle chooses.
    pub(crate) fn int(&mut self, v: i64) -> &mut Self {
        if (0..=0xff).contains(&v) {
            self.out.extend([b'K', v as u8]);
        } else if (0..=0xffff).contains(&v) {
            self.out.push(b'M');
            self.out.extend((v as u16).to_le_bytes());
        } else if let Ok(v) = i32::try_from(v) {
            self.out.push(b'J');
            self.out.extend(v.to_le_bytes());
        } else {
            self.out.extend([0x8a, 8]);
            self.out.extend(v.to_le_bytes());
        }
        self
    }

    /// `BINFLOAT` (big-endian IEEE double).
    pub(crate) fn float(&mut self, x: f64) -> &mut Self {
        self.out.push(b'G');
        self.out.extend(x.to_be_bytes());
        self
    }

    /// `BINUNICODE`.
    pub(crate) fn str(&mut self, s: &str) -> &mut Self {
        self.out.push(b'X');
        self.out.extend((s.len() as u32).to_le_bytes());
        self.out.extend(s.as_bytes());
        self
    }

    /// `BINBYTES`.
    pub(crate) fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.out.push(b'B');
        self.out.extend((b.len() as u32).to_le_bytes());
        self.out.extend(b);
        self
    }

    /// `GLOBAL module\nname\n`.
    pub(crate) fn global(&mut self, module: &str, name: &str) -> &mut Self {
        self.out.push(b'c');
        self.out.extend(module.as_bytes());
        self.out.push(b'\n');
        self.out.extend(name.as_bytes());
        self.out.push(b'\n');
        self
    }

    /// A tuple of integers (`MARK ... TUPLE`).
    pub(crate) fn int_tuple(&mut self, items: &[i64]) -> &mut Self {
        self.op(b'(');
        for &i in items {
            self.int(i);
        }
        self.op(b't')
    }

    /// `torch._utils._rebuild_tensor_v2(<storage>, offset, size, stride, False, OrderedDict())`,
    /// the storage pushed by `storage`.
    pub(crate) fn tensor_with(
        &mut self,
        storage: impl FnOnce(&mut P),
        offset: i64,
        size: &[i64],
        stride: &[i64],
    ) -> &mut Self {
        self.global("torch._utils", "_rebuild_tensor_v2");
        self.op(b'(');
        storage(self);
        self.int(offset).int_tuple(size).int_tuple(stride);
        self.op(0x89);
        self.global("collections", "OrderedDict").op(b')').op(b'R');
        self.op(b't').op(b'R')
    }

    /// A float32 tensor of `size` (C-contiguous strides) over `data`, its storage pickled as
    /// `torch.storage._load_from_bytes(<legacy storage bytes>)`.
    pub(crate) fn f32_tensor(&mut self, data: &[f32], size: &[i64]) -> &mut Self {
        let stride: Vec<i64> = (0..size.len())
            .map(|d| size[d + 1..].iter().product())
            .collect();
        self.tensor_with(|p| legacy_storage(p, data), 0, size, &stride)
    }
}

/// Pushes `torch.storage._load_from_bytes(b)`, `b` torch's legacy serialisation of a float32
/// storage holding `data`.
pub(crate) fn legacy_storage(p: &mut P, data: &[f32]) {
    let mut s = P::default();
    let two = |s: &mut P| {
        s.out.extend([0x80, 2]);
    };
    two(&mut s);
    s.out.extend([0x8a, MAGIC.len() as u8]);
    s.out.extend(MAGIC);
    s.op(b'.');
    two(&mut s);
    s.int(TORCH_PROTOCOL).op(b'.');
    two(&mut s);
    s.op(b'}').op(b'(');
    s.str("protocol_version").int(TORCH_PROTOCOL);
    s.str("little_endian").op(0x88);
    s.str("type_sizes").op(b'}').op(b'(');
    for (k, v) in [("short", 2), ("int", 4), ("long", 4)] {
        s.str(k).int(v);
    }
    s.op(b'u').op(b'u').op(b'.');
    two(&mut s);
    s.op(b'(').str("storage").global("torch", "FloatStorage");
    s.str("0")
        .str("cpu")
        .int(data.len() as i64)
        .op(b'N')
        .op(b't')
        .op(b'Q')
        .op(b'.');
    two(&mut s);
    s.op(b']').str("0").op(b'a').op(b'.');
    s.out.extend((data.len() as u64).to_le_bytes());
    for x in data {
        s.out.extend(x.to_le_bytes());
    }
    p.global("torch.storage", "_load_from_bytes");
    p.bytes(&s.out).op(0x85).op(b'R');
}

/// The other fields of a heatmap record (`prob`, `task`, `gt`, `cxr_img`, `cxr_dims`), as
/// key-value pairs on the stack (for a `SETITEMS`).
pub(crate) fn record_tail(p: &mut P, task: &str, cxr_dims: (i64, i64)) {
    p.str("prob").float(0.75);
    p.str("task").str(task);
    p.str("gt").int(1);
    p.str("cxr_img")
        .str("valid/patient1/study1/view1_frontal.jpg");
    p.str("cxr_dims").int(cxr_dims.0).int(cxr_dims.1).op(0x86);
}

/// A heatmap record `{map: <pushed by map>, prob, task, gt, cxr_img, cxr_dims}`.
pub(crate) fn record(task: &str, cxr_dims: (i64, i64), map: impl FnOnce(&mut P)) -> Vec<u8> {
    let mut p = P::default();
    p.proto().op(b'}').op(b'(').str("map");
    map(&mut p);
    record_tail(&mut p, task, cxr_dims);
    p.op(b'u').op(b'.');
    p.out
}
