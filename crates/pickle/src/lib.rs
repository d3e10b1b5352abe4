//! A safe reader, and a writer, for CheXlocalize heatmap pickles.
//!
//! A CheXlocalize submission holds one pickle per CXR and task: a dict
//! `{map, prob, task, gt, cxr_img, cxr_dims}` whose tensors are pickled by torch as
//! `torch._utils._rebuild_tensor_v2(torch.storage._load_from_bytes(b), offset, size, stride, …)`,
//! `b` being torch's legacy serialisation of the storage. Python's `pickle.load` executes whatever
//! a pickle names — a submission can run any code on the organiser's machine. This crate decodes
//! the same files with a small pickle machine that **never executes anything**: it knows only the
//! opcodes data needs and a fixed allow-list of constructors (listed in [`PickleError::ForbiddenGlobal`]'s
//! message), which it applies itself as data constructors. Every size a file claims is checked
//! against the bytes present and against [`Limits`] before anything is allocated.
//!
//! The same dict saved with `torch.save` reads too ([`load_heatmap`] sniffs the [`Container`]):
//! a zip archive (torch's default since 1.6; stored entries, CRC-32 checked, `data.pkl` through
//! the same machine) or torch's legacy file format. [`dump_heatmap_torch_zip`] writes the zip
//! format.
//!
//! ```
//! use chexlocalize_pickle::{CxrImg, HeatmapRecord, Limits, Prob, Tensor, TensorData, Value};
//!
//! let rec = HeatmapRecord {
//!     map: Tensor::new(vec![1, 1, 2, 2], TensorData::F32(vec![0.0, 0.5, 1.0, 0.25]))?,
//!     prob: Prob::Float(0.75),
//!     task: "Edema".into(),
//!     gt: Value::Int(1),
//!     cxr_img: CxrImg::Path("valid/patient1/study1/view1_frontal.jpg".into()),
//!     cxr_dims: (2828, 2320),
//! };
//! let bytes = chexlocalize_pickle::dump_heatmap(&rec, 3)?;
//! let back = chexlocalize_pickle::load_heatmap(&bytes, &Limits::default())?;
//! assert_eq!(back, rec);
//!
//! // A pickle that would run a shell command is refused, naming the global.
//! let evil = b"\x80\x03cos\nsystem\nX\x02\x00\x00\x00lsq\x00\x85R.";
//! let err = chexlocalize_pickle::load_value(evil, &Limits::default()).unwrap_err();
//! assert!(err.to_string().contains("os.system"));
//!
//! // torch.save's zip format: written by us, read back the same.
//! let zip = chexlocalize_pickle::dump_heatmap_torch_zip(&rec, "x_Edema_map")?;
//! assert_eq!(chexlocalize_pickle::Container::detect(&zip), chexlocalize_pickle::Container::TorchZip);
//! assert_eq!(chexlocalize_pickle::load_heatmap(&zip, &Limits::default())?, rec);
//! # Ok::<(), chexlocalize_pickle::PickleError>(())
//! ```
#![deny(missing_docs)]

mod convert;
mod error;
mod obj;
mod reduce;
mod skim;
mod torch;
mod value;
mod vm;
mod writer;
mod zip;

pub use error::PickleError;
pub use value::{CxrImg, DType, HeatmapRecord, Prob, Tensor, TensorData, Value};
pub use writer::{dump_heatmap, dump_heatmap_torch_zip};

use obj::{Ctx, Obj};
use reduce::Host;
use vm::Machine;

/// Resource limits of the reader, checked before allocating. The defaults are generous for
/// heatmap pickles (a 320×320 map and a 3×320×320 image use well under 1 % of them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest tensor or storage, in elements (default 2^22 = 2 048 x 2 048). A tensor counts at the size it
    /// materialises to: a stride-0 (broadcast) view of one element counts every element it shows.
    pub max_elements: u64,
    /// Largest string or bytes object, in bytes (default 64 MiB).
    pub max_bytes_object: u64,
    /// Deepest nesting of containers (default 100; at most 1 000 whatever is set, so that decoded
    /// [`Value`]s can be dropped and compared recursively). Checked as each container is built or
    /// deepened through `APPEND`/`SETITEM`, at the opcode that would go over; reference cycles
    /// are refused.
    pub max_depth: usize,
    /// Most items on the machine's stack, and most open marks (default 100 000).
    pub max_stack: usize,
    /// Most memo entries (default 100 000).
    pub max_memo: usize,
    /// Most containers (lists, dicts, tuples) in one pickle, and most entries in a `torch.save`
    /// zip archive (default 100 000).
    pub max_containers: u64,
    /// Most objects in the decoded value, an object referenced several times counted at each
    /// reference (default 1 000 000; a heatmap record has a few dozen). Python shares an object
    /// a pickle references twice; the decoded tree copies it, so this and
    /// [`max_value_bytes`](Limits::max_value_bytes) bound what nested shared references can
    /// expand to.
    pub max_values: u64,
    /// Most bytes of strings, byte strings and tensor elements in the decoded value, counted
    /// the same way (default 256 MiB).
    pub max_value_bytes: u64,
}

impl Limits {
    /// The built-in limits, sized from real heatmaps with a wide margin: a CheXlocalize heatmap
    /// pickle is 1.6 MB, its map 320 x 320 = 102 400 elements and its whole record about 1.6 MB
    /// of tensor data, a few dozen objects.
    pub const BUILTIN: Limits = Limits {
        max_elements: 1 << 22,
        max_bytes_object: 1 << 26,
        max_depth: 100,
        max_stack: 100_000,
        max_memo: 100_000,
        max_containers: 100_000,
        max_values: 1_000_000,
        max_value_bytes: 1 << 28,
    };
}

impl Default for Limits {
    /// [`Limits::BUILTIN`].
    fn default() -> Self {
        Limits::BUILTIN
    }
}

/// Host of the outer pickle: `_load_from_bytes` decodes a legacy torch storage; persistent ids
/// do not occur there.
struct OuterHost<'c, 'l> {
    ctx: &'c Ctx<'l>,
}

impl Host for OuterHost<'_, '_> {
    fn load_from_bytes(&mut self, bytes: &[u8], _offset: usize) -> Result<Obj, PickleError> {
        torch::load_legacy(bytes, self.ctx)
    }

    fn persistent_load(&mut self, _pid: &Obj, offset: usize) -> Result<Obj, PickleError> {
        Err(PickleError::Malformed {
            context: "pickle",
            offset,
            reason: "persistent ids occur only inside torch storages".to_owned(),
        })
    }
}

/// Decodes any pickle made of plain data and tensors.
pub fn load_value(bytes: &[u8], limits: &Limits) -> Result<Value, PickleError> {
    let ctx = Ctx::new(limits);
    let mut host = OuterHost { ctx: &ctx };
    let obj = Machine::new(bytes, "pickle", &ctx, &mut host).run()?;
    convert::to_value(&obj, &ctx)
}

/// How a heatmap file is serialised, told from its first bytes (never from its name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Container {
    /// A plain pickle (`pickle.dump` of a dict whose tensors carry legacy torch storage bytes):
    /// the CheXlocalize format.
    Pickle,
    /// A `torch.save` zip archive (the default since torch 1.6): `<name>/data.pkl` plus one
    /// stored entry per storage.
    TorchZip,
    /// A whole file in torch's legacy format (`torch.save(obj, f,
    /// _use_new_zipfile_serialization=False)`).
    TorchLegacy,
}

impl Container {
    /// Sniffs the format from the first bytes.
    pub fn detect(bytes: &[u8]) -> Container {
        if zip::is_zip(bytes) {
            Container::TorchZip
        } else if torch::is_legacy_file(bytes) {
            Container::TorchLegacy
        } else {
            Container::Pickle
        }
    }
}

/// Decodes a file written by `torch.save`, in the zip format or the legacy one, without executing
/// anything: `data.pkl` goes through the same allow-listed machine as a pickle, and the storages
/// are read from the archive's entries.
pub fn load_torch(bytes: &[u8], limits: &Limits) -> Result<Value, PickleError> {
    let ctx = Ctx::new(limits);
    let obj = match Container::detect(bytes) {
        Container::TorchZip => torch::load_zip(bytes, &ctx)?,
        Container::TorchLegacy => torch::load_legacy(bytes, &ctx)?,
        Container::Pickle => {
            return Err(PickleError::BadArchive {
                reason: "neither a zip archive nor a legacy torch file".to_owned(),
            });
        }
    };
    convert::to_value(&obj, &ctx)
}

/// Decodes a plain pickle or a `torch.save` file, whichever `bytes` holds ([`Container::detect`]).
pub fn load_any(bytes: &[u8], limits: &Limits) -> Result<Value, PickleError> {
    match Container::detect(bytes) {
        Container::Pickle => load_value(bytes, limits).map_err(|e| not_a_pickle(bytes, e)),
        Container::TorchZip | Container::TorchLegacy => load_torch(bytes, limits),
    }
}

/// `error` of reading `bytes` as a pickle, as [`PickleError::NotAPickle`] when the bytes do
/// not start with `PROTO` and the error is about their structure (some other file given as a
/// heatmap: the opcode-level message alone would not say so).
fn not_a_pickle(bytes: &[u8], error: PickleError) -> PickleError {
    let structural = matches!(
        error,
        PickleError::Malformed { .. }
            | PickleError::UnsupportedOpcode { .. }
            | PickleError::Truncated { .. }
    );
    if bytes.first() == Some(&0x80) || !structural {
        return error;
    }
    let head = &bytes[..bytes.len().min(8)];
    let hex: Vec<String> = head.iter().map(|b| format!("{b:02x}")).collect();
    let text: String = head
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                char::from(b)
            } else {
                '.'
            }
        })
        .collect();
    let start = if head.is_empty() {
        "nothing (an empty file)".to_owned()
    } else {
        format!("{} ({text:?})", hex.join(" "))
    };
    PickleError::NotAPickle {
        start,
        parse: Box::new(error),
    }
}

fn record_err(key: &str, expected: &str) -> PickleError {
    PickleError::BadRecord {
        key: key.to_owned(),
        expected: expected.to_owned(),
    }
}

/// Decodes a heatmap file: a dict with at least `map` (a tensor), `prob` (a number or a
/// tensor), `task` (a string) and `cxr_dims` (two integers); `gt` and `cxr_img` are optional.
///
/// The dict may be a plain pickle (the CheXlocalize format) or a `torch.save` file of the same
/// dict, zip or legacy format ([`load_any`]).
pub fn load_heatmap(bytes: &[u8], limits: &Limits) -> Result<HeatmapRecord, PickleError> {
    heatmap_from_value(load_any(bytes, limits)?)
}

/// The `prob` of a heatmap record from its value.
pub(crate) fn prob_from_value(v: Option<Value>) -> Result<Prob, PickleError> {
    match v {
        Some(Value::Float(x)) => Ok(Prob::Float(x)),
        Some(Value::Int(i)) => Ok(Prob::Float(i as f64)),
        Some(Value::Bool(b)) => Ok(Prob::Float(f64::from(u8::from(b)))),
        Some(Value::Tensor(t)) => Ok(Prob::Tensor(t)),
        _ => Err(record_err("prob", "a float or a tensor of probabilities")),
    }
}

/// What [`load_prob`] reads: a heatmap record without its tensors.
#[derive(Clone, Debug, PartialEq)]
pub struct Skimmed {
    /// The record's `prob`.
    pub prob: Prob,
    /// The record's `cxr_dims`, `(width, height)`.
    pub cxr_dims: (i64, i64),
}

/// The `prob` and `cxr_dims` of a plain heatmap pickle read from `file`, without reading its
/// tensors' bytes: each long `BINBYTES` payload (a tensor's storage) is skipped with a seek
/// after its first few kilobytes, and the record is checked as [`load_heatmap`] checks it,
/// except that the map and CXR image tensors are not materialised. `None` when that cannot be
/// done or the record is not valid: then read the whole file with [`load_heatmap`], which gives
/// the same values or the error to report.
///
/// ```
/// use chexlocalize_pickle::{CxrImg, HeatmapRecord, Limits, Prob, Tensor, TensorData, Value};
///
/// let rec = HeatmapRecord {
///     map: Tensor::new(vec![1, 1, 320, 320], TensorData::F32(vec![0.5; 320 * 320]))?,
///     prob: Prob::Float(0.75),
///     task: "Edema".into(),
///     gt: Value::Int(1),
///     cxr_img: CxrImg::Path("view1_frontal.jpg".into()),
///     cxr_dims: (2828, 2320),
/// };
/// let bytes = chexlocalize_pickle::dump_heatmap(&rec, 3)?;
/// let got = chexlocalize_pickle::load_prob(std::io::Cursor::new(&bytes), &Limits::default());
/// assert_eq!(got.map(|s| s.prob), Some(Prob::Float(0.75)));
/// # Ok::<(), chexlocalize_pickle::PickleError>(())
/// ```
pub fn load_prob(file: impl std::io::Read + std::io::Seek, limits: &Limits) -> Option<Skimmed> {
    skim::record_of(&skim::skim(file, limits)?, limits)
}

/// The heatmap record held by a decoded value (see [`load_heatmap`]).
pub fn heatmap_from_value(value: Value) -> Result<HeatmapRecord, PickleError> {
    let Value::Dict(mut items) = value else {
        return Err(record_err(
            "",
            "a dict {map, prob, task, gt, cxr_img, cxr_dims} at the top level",
        ));
    };
    let mut get = |key: &str| -> Option<Value> {
        let i = items
            .iter()
            .position(|(k, _)| matches!(k, Value::Str(s) if s == key))?;
        Some(items.swap_remove(i).1)
    };
    let map = match get("map") {
        Some(Value::Tensor(t)) => t,
        _ => return Err(record_err("map", "a torch tensor (the saliency map)")),
    };
    let prob = prob_from_value(get("prob"))?;
    let task = match get("task") {
        Some(Value::Str(s)) => s,
        _ => return Err(record_err("task", "a string (the task name)")),
    };
    let cxr_dims = match get("cxr_dims") {
        Some(Value::Tuple(v) | Value::List(v)) => match v.as_slice() {
            [Value::Int(w), Value::Int(h)] => (*w, *h),
            _ => return Err(record_err("cxr_dims", "two integers (width, height)")),
        },
        Some(Value::Tensor(t)) if t.numel() == 2 => {
            let v = t.to_f64_vec();
            if v.iter().any(|x| x.fract() != 0.0 || !x.is_finite()) {
                return Err(record_err("cxr_dims", "two integers (width, height)"));
            }
            (v[0] as i64, v[1] as i64)
        }
        _ => return Err(record_err("cxr_dims", "two integers (width, height)")),
    };
    let gt = get("gt").unwrap_or(Value::None);
    let cxr_img = match get("cxr_img") {
        Some(Value::Str(s)) => CxrImg::Path(s),
        Some(Value::Tensor(t)) => CxrImg::Tensor(t),
        Some(other) => CxrImg::Other(other),
        None => CxrImg::Other(Value::None),
    };
    Ok(HeatmapRecord {
        map,
        prob,
        task,
        gt,
        cxr_img,
        cxr_dims,
    })
}
