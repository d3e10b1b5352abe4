//! Writes heatmap records as Python + torch would pickle them (legacy storage bytes inside).

use crate::PickleError;
use crate::torch::{MAGIC, PROTOCOL_VERSION};
use crate::value::{CxrImg, HeatmapRecord, Prob, Tensor, TensorData, Value};

struct Writer {
    out: Vec<u8>,
    protocol: u8,
    /// `Some` when writing a zip archive's `data.pkl`: tensors reference storages by persistent
    /// id, and their raw little-endian bytes are collected here (key = index).
    storages: Option<Vec<Vec<u8>>>,
}

impl Writer {
    fn op(&mut self, op: u8) {
        self.out.push(op);
    }

    fn int(&mut self, v: i64) {
        if (0..=0xff).contains(&v) {
            self.out.extend([b'K', v as u8]);
        } else if (0..=0xffff).contains(&v) {
            self.out.push(b'M');
            self.out.extend((v as u16).to_le_bytes());
        } else if i32::try_from(v).is_ok() {
            self.out.push(b'J');
            self.out.extend((v as i32).to_le_bytes());
        } else {
            self.long(&v.to_le_bytes());
        }
    }

    /// `LONG1` of minimal two's complement little-endian bytes.
    fn long(&mut self, bytes: &[u8]) {
        let mut b = bytes.to_vec();
        while b.len() > 1 {
            let last = b[b.len() - 1];
            let prev_sign = b[b.len() - 2] & 0x80;
            if (last == 0 && prev_sign == 0) || (last == 0xff && prev_sign != 0) {
                b.pop();
            } else {
                break;
            }
        }
        self.out.extend([0x8a, b.len() as u8]);
        self.out.extend(b);
    }

    fn float(&mut self, x: f64) {
        self.out.push(b'G');
        self.out.extend(x.to_be_bytes());
    }

    fn str(&mut self, s: &str) {
        if self.protocol >= 4 && s.len() < 256 {
            self.out.extend([0x8c, s.len() as u8]);
        } else {
            self.out.push(b'X');
            self.out.extend((s.len() as u32).to_le_bytes());
        }
        self.out.extend(s.as_bytes());
    }

    fn global(&mut self, module: &str, name: &str) {
        if self.protocol >= 4 {
            self.str(module);
            self.str(name);
            self.op(0x93);
        } else {
            self.op(b'c');
            self.out.extend(module.as_bytes());
            self.op(b'\n');
            self.out.extend(name.as_bytes());
            self.op(b'\n');
        }
    }

    fn bytes(&mut self, b: &[u8]) {
        if self.protocol >= 3 {
            if b.len() < 256 {
                self.out.extend([b'C', b.len() as u8]);
            } else {
                self.out.push(b'B');
                self.out.extend((b.len() as u32).to_le_bytes());
            }
            self.out.extend(b);
        } else if b.is_empty() {
            // Protocol 2 pickles b'' as __builtin__.bytes().
            self.global("__builtin__", "bytes");
            self.op(b')');
            self.op(b'R');
        } else {
            // Protocol 2 pickles bytes as _codecs.encode(<latin-1 text>, 'latin1').
            self.global("_codecs", "encode");
            let text: String = b.iter().map(|&c| char::from(c)).collect();
            self.str(&text);
            self.str("latin1");
            self.op(0x86);
            self.op(b'R');
        }
    }

    fn tuple(&mut self, items: &[i64]) {
        match items.len() {
            0 => self.op(b')'),
            1..=3 => {
                for &i in items {
                    self.int(i);
                }
                self.op(0x84 + items.len() as u8);
            }
            _ => {
                self.op(b'(');
                for &i in items {
                    self.int(i);
                }
                self.op(b't');
            }
        }
    }

    fn tensor(&mut self, t: &Tensor) -> Result<(), PickleError> {
        let n = t.numel();
        let stride: Vec<i64> = (0..t.shape.len())
            .map(|d| t.shape[d + 1..].iter().product::<usize>() as i64)
            .collect();
        self.global("torch._utils", "_rebuild_tensor_v2");
        self.op(b'(');
        if let Some(storages) = &mut self.storages {
            // torch.save's zip format: ('storage', torch.<Type>Storage, key, 'cpu', numel).
            let key = storages.len().to_string();
            storages.push(raw_le_bytes(&t.data));
            self.op(b'(');
            self.str("storage");
            self.global("torch", t.data.dtype().storage_class());
            self.str(&key);
            self.str("cpu");
            self.int(n as i64);
            self.op(b't');
            self.op(b'Q');
        } else {
            self.global("torch.storage", "_load_from_bytes");
            let storage = legacy_storage_bytes(&t.data, n)?;
            self.bytes(&storage);
            self.op(0x85);
            self.op(b'R');
        }
        self.int(0);
        self.tuple(&t.shape.iter().map(|&d| d as i64).collect::<Vec<_>>());
        self.tuple(&stride);
        self.op(0x89);
        self.global("collections", "OrderedDict");
        self.op(b')');
        self.op(b'R');
        self.op(b't');
        self.op(b'R');
        Ok(())
    }

    fn value(&mut self, v: &Value, depth: usize) -> Result<(), PickleError> {
        if depth > 100 {
            return Err(PickleError::BadRecord {
                key: String::new(),
                expected: "values nested at most 100 deep".to_owned(),
            });
        }
        match v {
            Value::None => self.op(b'N'),
            Value::Bool(b) => self.op(if *b { 0x88 } else { 0x89 }),
            Value::Int(i) => self.int(*i),
            Value::Float(x) => self.float(*x),
            Value::Str(s) => self.str(s),
            Value::Bytes(b) => self.bytes(b),
            Value::Tuple(items) => {
                self.op(b'(');
                for i in items {
                    self.value(i, depth + 1)?;
                }
                self.op(b't');
            }
            Value::List(items) => {
                self.op(b']');
                if !items.is_empty() {
                    self.op(b'(');
                    for i in items {
                        self.value(i, depth + 1)?;
                    }
                    self.op(b'e');
                }
            }
            Value::Dict(items) => {
                self.op(b'}');
                if !items.is_empty() {
                    self.op(b'(');
                    for (k, v) in items {
                        self.value(k, depth + 1)?;
                        self.value(v, depth + 1)?;
                    }
                    self.op(b'u');
                }
            }
            Value::Tensor(t) => self.tensor(t)?,
        }
        Ok(())
    }
}

/// torch's legacy serialisation of one storage holding `data`.
fn legacy_storage_bytes(data: &TensorData, n: usize) -> Result<Vec<u8>, PickleError> {
    let mut w = Writer {
        out: Vec::with_capacity(n * data.dtype().size() + 400),
        protocol: 2,
        storages: None,
    };
    w.op(0x80);
    w.op(2);
    w.long(&MAGIC);
    w.op(b'.');
    w.op(0x80);
    w.op(2);
    w.int(PROTOCOL_VERSION);
    w.op(b'.');
    w.op(0x80);
    w.op(2);
    w.op(b'}');
    w.op(b'(');
    w.str("protocol_version");
    w.int(PROTOCOL_VERSION);
    w.str("little_endian");
    w.op(0x88);
    w.str("type_sizes");
    w.op(b'}');
    w.op(b'(');
    for (k, v) in [("short", 2), ("int", 4), ("long", 4)] {
        w.str(k);
        w.int(v);
    }
    w.op(b'u');
    w.op(b'u');
    w.op(b'.');
    w.op(0x80);
    w.op(2);
    w.op(b'(');
    w.str("storage");
    w.global("torch", data.dtype().storage_class());
    w.str("0");
    w.str("cpu");
    w.int(n as i64);
    w.op(b'N');
    w.op(b't');
    w.op(b'Q');
    w.op(b'.');
    w.op(0x80);
    w.op(2);
    w.op(b']');
    w.str("0");
    w.op(b'a');
    w.op(b'.');
    w.out.extend((n as u64).to_le_bytes());
    w.out.extend(raw_le_bytes(data));
    Ok(w.out)
}

/// The elements as raw little-endian bytes, as torch stores them.
fn raw_le_bytes(data: &TensorData) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() * data.dtype().size());
    macro_rules! put {
        ($v:expr) => {
            for x in $v {
                out.extend(x.to_le_bytes());
            }
        };
    }
    match data {
        TensorData::F32(v) => put!(v),
        TensorData::F64(v) => put!(v),
        TensorData::F16(v) | TensorData::BF16(v) => put!(v),
        TensorData::I64(v) => put!(v),
        TensorData::I32(v) => put!(v),
        TensorData::I16(v) => put!(v),
        TensorData::I8(v) => put!(v),
        TensorData::U8(v) => out.extend(v),
        TensorData::Bool(v) => out.extend(v.iter().map(|&b| u8::from(b))),
    }
    out
}

/// Pickles a heatmap record with `protocol` 2 to 5, as `pickle.dump(info, f, protocol)` with
/// torch imported would (tensors through `_rebuild_tensor_v2` and `_load_from_bytes`).
pub fn dump_heatmap(rec: &HeatmapRecord, protocol: u8) -> Result<Vec<u8>, PickleError> {
    if !(2..=5).contains(&protocol) {
        return Err(PickleError::BadRecord {
            key: "protocol".to_owned(),
            expected: format!("a pickle protocol from 2 to 5 (got {protocol})"),
        });
    }
    let mut w = Writer {
        out: Vec::with_capacity(rec.map.numel() * 4 + 1024),
        protocol,
        storages: None,
    };
    record(&mut w, rec)?;
    Ok(w.out)
}

fn record(w: &mut Writer, rec: &HeatmapRecord) -> Result<(), PickleError> {
    let protocol = w.protocol;
    w.op(0x80);
    w.op(protocol);
    w.op(b'}');
    w.op(b'(');
    w.str("map");
    w.tensor(&rec.map)?;
    w.str("prob");
    match &rec.prob {
        Prob::Float(x) => w.float(*x),
        Prob::Tensor(t) => w.tensor(t)?,
    }
    w.str("task");
    w.str(&rec.task);
    w.str("gt");
    w.value(&rec.gt, 0)?;
    w.str("cxr_img");
    match &rec.cxr_img {
        CxrImg::Path(p) => w.str(p),
        CxrImg::Tensor(t) => w.tensor(t)?,
        CxrImg::Other(v) => w.value(v, 0)?,
    }
    w.str("cxr_dims");
    w.tuple(&[rec.cxr_dims.0, rec.cxr_dims.1]);
    w.op(b'u');
    w.op(b'.');
    Ok(())
}

/// Writes a heatmap record as `torch.save(info, f)` does by default (torch >= 1.6): a zip
/// archive of stored entries `<name>/data.pkl` (protocol 2, storages as persistent ids),
/// `<name>/byteorder`, `<name>/data/<key>` and `<name>/version`. `name` is the archive's root
/// folder (torch uses the file name without its extension).
pub fn dump_heatmap_torch_zip(rec: &HeatmapRecord, name: &str) -> Result<Vec<u8>, PickleError> {
    if name.is_empty() || name.contains('/') {
        return Err(PickleError::BadRecord {
            key: "name".to_owned(),
            expected: "a non-empty archive name without '/'".to_owned(),
        });
    }
    let mut w = Writer {
        out: Vec::with_capacity(1024),
        protocol: 2,
        storages: Some(Vec::new()),
    };
    record(&mut w, rec)?;
    let mut entries: Vec<(String, Vec<u8>)> = vec![
        (format!("{name}/data.pkl"), std::mem::take(&mut w.out)),
        (format!("{name}/byteorder"), b"little".to_vec()),
    ];
    for (i, s) in w
        .storages
        .take()
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        entries.push((format!("{name}/data/{i}"), s));
    }
    entries.push((format!("{name}/version"), b"3\n".to_vec()));
    Ok(crate::zip::write_stored(&entries))
}
