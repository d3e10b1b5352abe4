//! torch's legacy (non-zip) serialisation, as found inside `torch.storage._load_from_bytes(b)`.
//!
//! `b` is a concatenation of five pickles and raw data (torch `serialization._legacy_save`):
//! 1. the magic number `0x1950a86a20f9469cfc6c` (a `LONG1`),
//! 2. the protocol version `1001`,
//! 3. a `sys_info` dict (`little_endian`, `type_sizes`),
//! 4. the object itself, whose storages are persistent ids
//!    `('storage', torch.<Type>Storage, key, location, numel, view_metadata)`,
//! 5. the list of storage keys,
//!
//! then, for each key in that list, a little-endian `u64` element count and the raw
//! little-endian elements. Element counts are checked against the bytes present before anything
//! is allocated.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::PickleError;
use crate::obj::{Ctx, Known, Obj, Storage, TensorSpec};
use crate::reduce::Host;
use crate::value::{DType, Tensor, TensorData};
use crate::vm::Machine;

/// The magic number torch writes first, as `LONG1` little-endian bytes.
pub(crate) const MAGIC: [u8; 10] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
/// The legacy protocol version.
pub(crate) const PROTOCOL_VERSION: i64 = 1001;

fn bad(reason: impl Into<String>) -> PickleError {
    PickleError::BadStorage {
        reason: reason.into(),
    }
}

/// Host of the inner pickles: resolves persistent ids into (not yet filled) storages.
struct LegacyHost<'c, 'l> {
    ctx: &'c Ctx<'l>,
    storages: HashMap<String, Rc<Storage>>,
}

impl Host for LegacyHost<'_, '_> {
    fn load_from_bytes(&mut self, _bytes: &[u8], offset: usize) -> Result<Obj, PickleError> {
        Err(PickleError::Malformed {
            context: "tensor storage",
            offset,
            reason: "nested _load_from_bytes".to_owned(),
        })
    }

    fn persistent_load(&mut self, pid: &Obj, offset: usize) -> Result<Obj, PickleError> {
        let (dtype, key, numel) = storage_pid(pid, offset, "tensor storage")?;
        if numel > self.ctx.limits.max_elements {
            return Err(PickleError::LimitExceeded {
                context: "tensor storage",
                what: "storage element count",
                value: numel,
                limit: self.ctx.limits.max_elements,
            });
        }
        let s = self
            .storages
            .entry(key.clone())
            .or_insert_with(|| {
                Rc::new(Storage {
                    dtype,
                    numel,
                    data: RefCell::new(None),
                })
            })
            .clone();
        if s.dtype != dtype || s.numel != numel {
            return Err(bad(format!(
                "storage {key:?} declared twice with different types or sizes"
            )));
        }
        Ok(Obj::Storage(s))
    }
}

/// Decodes `_load_from_bytes`' argument into the object it holds (normally a storage).
pub(crate) fn load_legacy(bytes: &[u8], ctx: &Ctx<'_>) -> Result<Obj, PickleError> {
    let mut host = LegacyHost {
        ctx,
        storages: HashMap::new(),
    };
    let mut pos = 0usize;
    let next = |host: &mut LegacyHost<'_, '_>, pos: &mut usize| -> Result<Obj, PickleError> {
        let mut m = Machine::new(&bytes[*pos..], "tensor storage", ctx, host);
        let v = m.run().map_err(|e| shift(e, *pos))?;
        *pos += m.position();
        Ok(v)
    };
    match next(&mut host, &mut pos)? {
        Obj::BigInt(b) if *b == MAGIC => {}
        _ => {
            return Err(bad(
                "missing torch's magic number (not a legacy torch serialisation)",
            ));
        }
    }
    match next(&mut host, &mut pos)? {
        Obj::Int(PROTOCOL_VERSION) => {}
        _ => return Err(bad(format!("protocol version is not {PROTOCOL_VERSION}"))),
    }
    let sys_info = next(&mut host, &mut pos)?;
    check_sys_info(&sys_info)?;
    let obj = next(&mut host, &mut pos)?;
    let key_obj = next(&mut host, &mut pos)?;
    let keys = match &key_obj {
        Obj::List(l) => l
            .items
            .borrow()
            .iter()
            .map(|k| match k {
                Obj::Str(s) => Ok(s.to_string()),
                _ => Err(bad("storage key list holds a non-string")),
            })
            .collect::<Result<Vec<_>, _>>(),
        _ => Err(bad("storage keys are not a list")),
    };
    let keys = keys?;
    for (i, key) in keys.iter().enumerate() {
        // In a skimmed pickle, the elements of this storage and the following ones were cut
        // off: recorded, and true (stop reading); false otherwise (an error).
        let cut_off = |host: &LegacyHost<'_, '_>| {
            let Some(cut) = &ctx.cut else {
                return false;
            };
            let rest = keys[i..]
                .iter()
                .filter_map(|k| host.storages.get(k).cloned());
            cut.borrow_mut().extend(rest);
            true
        };
        let storage = host.storages.get(key).cloned().ok_or_else(|| {
            bad(format!(
                "data for storage {key:?}, which nothing references"
            ))
        })?;
        let Some(head) = bytes.get(pos..pos + 8) else {
            if cut_off(&host) {
                break;
            }
            return Err(PickleError::Truncated {
                context: "tensor storage",
                offset: pos,
                needed: (pos + 8 - bytes.len()) as u64,
            });
        };
        let mut b = [0u8; 8];
        b.copy_from_slice(head);
        let numel = u64::from_le_bytes(b);
        pos += 8;
        if numel != storage.numel {
            return Err(bad(format!(
                "storage {key:?} holds {numel} elements, its header says {}",
                storage.numel
            )));
        }
        let nbytes = numel
            .checked_mul(storage.dtype.size() as u64)
            .ok_or_else(|| bad("storage size overflows"))?;
        let left = (bytes.len() - pos) as u64;
        if nbytes > left && cut_off(&host) {
            break;
        }
        if nbytes > left {
            return Err(PickleError::Truncated {
                context: "tensor storage",
                offset: pos,
                needed: nbytes - left,
            });
        }
        let raw = &bytes[pos..pos + nbytes as usize];
        pos += nbytes as usize;
        *storage.data.borrow_mut() = Some(Rc::new(decode_elements(storage.dtype, raw, false)));
    }
    Ok(obj)
}

fn shift(e: PickleError, base: usize) -> PickleError {
    match e {
        PickleError::Truncated {
            context,
            offset,
            needed,
        } => PickleError::Truncated {
            context,
            offset: offset + base,
            needed,
        },
        PickleError::Malformed {
            context,
            offset,
            reason,
        } => PickleError::Malformed {
            context,
            offset: offset + base,
            reason,
        },
        PickleError::UnsupportedOpcode {
            context,
            opcode,
            name,
            offset,
        } => PickleError::UnsupportedOpcode {
            context,
            opcode,
            name,
            offset: offset + base,
        },
        PickleError::ForbiddenGlobal {
            context,
            module,
            name,
            offset,
        } => PickleError::ForbiddenGlobal {
            context,
            module,
            name,
            offset: offset + base,
        },
        other => other,
    }
}

fn check_sys_info(o: &Obj) -> Result<(), PickleError> {
    let Obj::Dict(d) = o else {
        return Err(bad("sys_info is not a dict"));
    };
    for kv in d.items.borrow().chunks_exact(2) {
        if let [Obj::Str(k), Obj::Bool(false)] = kv {
            if &**k == "little_endian" {
                return Err(bad("big-endian data is not supported"));
            }
        }
    }
    Ok(())
}

/// The elements of a storage's raw bytes, in the byte order the file declares.
fn decode_elements(dtype: DType, raw: &[u8], big_endian: bool) -> TensorData {
    // The byte order is decided once, outside the loops, so that the little-endian loop is a
    // plain copy on a little-endian machine.
    macro_rules! le {
        ($t:ty, $n:expr) => {{
            let each = |c: &[u8], f: fn([u8; $n]) -> $t| {
                let mut a = [0u8; $n];
                a.copy_from_slice(c);
                f(a)
            };
            if big_endian {
                raw.chunks_exact($n)
                    .map(|c| each(c, <$t>::from_be_bytes))
                    .collect()
            } else {
                raw.chunks_exact($n)
                    .map(|c| each(c, <$t>::from_le_bytes))
                    .collect()
            }
        }};
    }
    match dtype {
        DType::F32 => TensorData::F32(le!(f32, 4)),
        DType::F64 => TensorData::F64(le!(f64, 8)),
        DType::F16 => TensorData::F16(le!(u16, 2)),
        DType::BF16 => TensorData::BF16(le!(u16, 2)),
        DType::I64 => TensorData::I64(le!(i64, 8)),
        DType::I32 => TensorData::I32(le!(i32, 4)),
        DType::I16 => TensorData::I16(le!(i16, 2)),
        DType::I8 => TensorData::I8(raw.iter().map(|&b| b as i8).collect()),
        DType::U8 => TensorData::U8(raw.to_vec()),
        DType::Bool => TensorData::Bool(raw.iter().map(|&b| b != 0).collect()),
    }
}

/// Whether `bytes` is a whole legacy torch file (`torch.save(..., _use_new_zipfile_serialization=False)`):
/// it starts with the magic number pickle.
pub(crate) fn is_legacy_file(bytes: &[u8]) -> bool {
    bytes.len() > 14
        && bytes[0] == 0x80
        && bytes[2] == 0x8a
        && bytes[3] == 10
        && bytes[4..14] == MAGIC
}

/// Parses a persistent id `('storage', torch.<Type>Storage, key, location, numel[, view])`.
fn storage_pid(
    pid: &Obj,
    offset: usize,
    context: &'static str,
) -> Result<(DType, String, u64), PickleError> {
    let malformed = |reason: &str| PickleError::Malformed {
        context,
        offset,
        reason: reason.to_owned(),
    };
    let Obj::Tuple(t) = pid else {
        return Err(malformed("persistent id is not a tuple"));
    };
    let t = t.items.borrow();
    let (kind, class, key, numel) = match &t[..] {
        [
            Obj::Str(kind),
            Obj::Global(class),
            Obj::Str(key),
            Obj::Str(_location),
            Obj::Int(numel),
            rest @ ..,
        ] => {
            if let [view] = rest {
                if !matches!(view, Obj::None) {
                    return Err(bad("storage views (view_metadata) are not supported"));
                }
            } else if rest.len() > 1 {
                return Err(malformed("persistent id has too many fields"));
            }
            (kind, class, key, numel)
        }
        _ => {
            return Err(malformed(
                "persistent id is not ('storage', torch.<Type>Storage, key, location, numel, view_metadata)",
            ));
        }
    };
    if &**kind != "storage" {
        return Err(malformed("persistent id of a kind other than 'storage'"));
    }
    let dtype = match class {
        Known::StorageClass(d) => *d,
        Known::UntypedStorage => DType::U8,
        _ => return Err(malformed("persistent id names no storage class")),
    };
    let numel =
        u64::try_from(*numel).map_err(|_| bad(format!("negative element count {numel}")))?;
    Ok((dtype, key.to_string(), numel))
}

fn archive(reason: impl Into<String>) -> PickleError {
    PickleError::BadArchive {
        reason: reason.into(),
    }
}

/// Host of a zip archive's `data.pkl`: persistent ids name the entries `data/<key>`.
struct ZipHost<'a, 'c, 'l> {
    ctx: &'c Ctx<'l>,
    prefix: String,
    entries: &'a HashMap<&'a str, &'a [u8]>,
    big_endian: bool,
    storages: HashMap<String, Rc<Storage>>,
}

impl Host for ZipHost<'_, '_, '_> {
    fn load_from_bytes(&mut self, _bytes: &[u8], offset: usize) -> Result<Obj, PickleError> {
        Err(PickleError::Malformed {
            context: "data.pkl",
            offset,
            reason: "_load_from_bytes inside a torch archive".to_owned(),
        })
    }

    fn persistent_load(&mut self, pid: &Obj, offset: usize) -> Result<Obj, PickleError> {
        let (dtype, key, numel) = storage_pid(pid, offset, "data.pkl")?;
        if numel > self.ctx.limits.max_elements {
            return Err(PickleError::LimitExceeded {
                context: "torch archive",
                what: "storage element count",
                value: numel,
                limit: self.ctx.limits.max_elements,
            });
        }
        if let Some(s) = self.storages.get(&key) {
            if s.dtype != dtype || s.numel != numel {
                return Err(bad(format!(
                    "storage {key:?} declared twice with different types or sizes"
                )));
            }
            return Ok(Obj::Storage(Rc::clone(s)));
        }
        let name = format!("{}data/{key}", self.prefix);
        let raw = self
            .entries
            .get(name.as_str())
            .ok_or_else(|| archive(format!("no entry {name:?} for storage {key:?}")))?;
        let nbytes = numel
            .checked_mul(dtype.size() as u64)
            .ok_or_else(|| bad("storage size overflows"))?;
        if raw.len() as u64 != nbytes {
            return Err(archive(format!(
                "entry {name:?} holds {} bytes, expected {numel} {} elements = {nbytes} bytes",
                raw.len(),
                dtype.torch_name()
            )));
        }
        let s = Rc::new(Storage {
            dtype,
            numel,
            data: RefCell::new(Some(Rc::new(decode_elements(dtype, raw, self.big_endian)))),
        });
        self.storages.insert(key, Rc::clone(&s));
        Ok(Obj::Storage(s))
    }
}

/// Decodes a `torch.save` zip archive: `<name>/data.pkl` with storages in `<name>/data/<key>`.
pub(crate) fn load_zip(bytes: &[u8], ctx: &Ctx<'_>) -> Result<Obj, PickleError> {
    let list = crate::zip::entries(bytes, ctx.limits.max_containers).map_err(archive)?;
    let entries: HashMap<&str, &[u8]> = list.iter().map(|e| (e.name.as_str(), e.data)).collect();
    let mut roots = list.iter().filter_map(|e| {
        let prefix = e.name.strip_suffix("data.pkl")?;
        (prefix.ends_with('/') && prefix.matches('/').count() == 1).then_some(prefix)
    });
    let prefix = match (roots.next(), roots.next()) {
        (Some(p), None) => p.to_owned(),
        (None, _) => {
            return Err(archive(
                "no <name>/data.pkl entry (not a torch.save archive)",
            ));
        }
        (Some(_), Some(_)) => return Err(archive("more than one <name>/data.pkl entry")),
    };
    let big_endian = match entries.get(format!("{prefix}byteorder").as_str()).copied() {
        None | Some(b"little") => false,
        Some(b"big") => true,
        Some(other) => {
            return Err(archive(format!(
                "byteorder is {:?}, expected \"little\" or \"big\"",
                String::from_utf8_lossy(other)
            )));
        }
    };
    let data_pkl = entries
        .get(format!("{prefix}data.pkl").as_str())
        .copied()
        .unwrap_or_default();
    let mut host = ZipHost {
        ctx,
        prefix,
        entries: &entries,
        big_endian,
        storages: HashMap::new(),
    };
    Machine::new(data_pkl, "data.pkl", ctx, &mut host).run()
}

/// The checks of [`materialize`] that need no element: the element count (within the limit)
/// and the view within a storage of `storage_len` elements. Returns the element count.
pub(crate) fn check_view(
    spec: &TensorSpec,
    storage_len: u64,
    limits: &crate::Limits,
) -> Result<u64, PickleError> {
    let numel = spec
        .size
        .iter()
        .try_fold(1u64, |a, &d| a.checked_mul(d))
        .ok_or_else(|| PickleError::BadTensor {
            reason: format!("size {:?} overflows", spec.size),
        })?;
    if numel > limits.max_elements {
        return Err(PickleError::LimitExceeded {
            context: "tensor",
            what: "element count",
            value: numel,
            limit: limits.max_elements,
        });
    }
    if numel == 0 {
        // No element is read: offset and strides do not matter (torch accepts any).
        return Ok(0);
    }
    {
        let max_index = spec
            .size
            .iter()
            .zip(&spec.stride)
            .try_fold(spec.offset, |a, (&d, &s)| {
                a.checked_add((d - 1).checked_mul(s)?)
            })
            .ok_or_else(|| PickleError::BadTensor {
                reason: "stride arithmetic overflows".to_owned(),
            })?;
        if max_index >= storage_len {
            return Err(PickleError::BadTensor {
                reason: format!(
                    "size {:?}, stride {:?} and offset {} reach element {max_index} of a storage of {}",
                    spec.size, spec.stride, spec.offset, storage_len
                ),
            });
        }
    }
    Ok(numel)
}

/// Applies a tensor's offset, size and stride to its storage: a contiguous copy, as torch gives
/// after `.contiguous()`. Every index is checked against the storage first ([`check_view`]).
pub(crate) fn materialize(
    spec: &TensorSpec,
    limits: &crate::Limits,
) -> Result<Tensor, PickleError> {
    let data = spec
        .storage
        .data
        .borrow()
        .clone()
        .ok_or_else(|| bad("a storage has no data"))?;
    let numel = check_view(spec, data.len() as u64, limits)?;
    let shape: Vec<usize> = spec.size.iter().map(|&d| d as usize).collect();
    if numel == 0 {
        return Tensor::new(shape, empty_like(&data));
    }
    // Fast path: a row-major contiguous view is one slice of the storage.
    let contiguous = (0..spec.size.len())
        .all(|d| spec.size[d] <= 1 || spec.stride[d] == spec.size[d + 1..].iter().product::<u64>());
    if contiguous {
        let (a, b) = (spec.offset as usize, (spec.offset + numel) as usize);
        macro_rules! slice {
            ($v:expr, $variant:ident) => {
                TensorData::$variant($v.get(a..b).map(<[_]>::to_vec).unwrap_or_default())
            };
        }
        let out = match &*data {
            TensorData::F32(v) => slice!(v, F32),
            TensorData::F64(v) => slice!(v, F64),
            TensorData::F16(v) => slice!(v, F16),
            TensorData::BF16(v) => slice!(v, BF16),
            TensorData::I64(v) => slice!(v, I64),
            TensorData::I32(v) => slice!(v, I32),
            TensorData::I16(v) => slice!(v, I16),
            TensorData::I8(v) => slice!(v, I8),
            TensorData::U8(v) => slice!(v, U8),
            TensorData::Bool(v) => slice!(v, Bool),
        };
        return Tensor::new(shape, out);
    }
    // Gathered one element at a time: nothing is allocated but the output, whose size was
    // checked above (stride-0 and broadcast views count every element they show).
    let n = numel as usize;
    macro_rules! gather {
        ($v:expr, $variant:ident) => {{
            let mut out = Vec::with_capacity(n);
            for_each_index(spec, n, |i| out.push($v[i]));
            TensorData::$variant(out)
        }};
    }
    let out = match &*data {
        TensorData::F32(v) => gather!(v, F32),
        TensorData::F64(v) => gather!(v, F64),
        TensorData::F16(v) => gather!(v, F16),
        TensorData::BF16(v) => gather!(v, BF16),
        TensorData::I64(v) => gather!(v, I64),
        TensorData::I32(v) => gather!(v, I32),
        TensorData::I16(v) => gather!(v, I16),
        TensorData::I8(v) => gather!(v, I8),
        TensorData::U8(v) => gather!(v, U8),
        TensorData::Bool(v) => gather!(v, Bool),
    };
    Tensor::new(shape, out)
}

/// Calls `f` with the storage index of each of a tensor's `numel` elements, in row-major order
/// (bounds already checked).
///
/// Dimensions of size 1 are skipped: their stride is never applied (torch allows any stride
/// there, even one that would overflow if it were).
fn for_each_index(spec: &TensorSpec, numel: usize, mut f: impl FnMut(usize)) {
    if numel == 0 {
        return;
    }
    let dims: Vec<(u64, u64)> = spec
        .size
        .iter()
        .zip(&spec.stride)
        .filter(|(size, _)| **size > 1)
        .map(|(&size, &stride)| (size, stride))
        .collect();
    let mut counter = vec![0u64; dims.len()];
    let mut at = spec.offset;
    for _ in 0..numel {
        f(at as usize);
        for (d, &(size, stride)) in dims.iter().enumerate().rev() {
            counter[d] += 1;
            // Every index reached is within the storage (checked before); only the step past
            // the end of a dimension may go beyond it, and it is undone at once.
            at = at.wrapping_add(stride);
            if counter[d] < size {
                break;
            }
            at = at.wrapping_sub(stride.wrapping_mul(size));
            counter[d] = 0;
        }
    }
}

fn empty_like(data: &TensorData) -> TensorData {
    match data {
        TensorData::F32(_) => TensorData::F32(Vec::new()),
        TensorData::F64(_) => TensorData::F64(Vec::new()),
        TensorData::F16(_) => TensorData::F16(Vec::new()),
        TensorData::BF16(_) => TensorData::BF16(Vec::new()),
        TensorData::I64(_) => TensorData::I64(Vec::new()),
        TensorData::I32(_) => TensorData::I32(Vec::new()),
        TensorData::I16(_) => TensorData::I16(Vec::new()),
        TensorData::I8(_) => TensorData::I8(Vec::new()),
        TensorData::U8(_) => TensorData::U8(Vec::new()),
        TensorData::Bool(_) => TensorData::Bool(Vec::new()),
    }
}
