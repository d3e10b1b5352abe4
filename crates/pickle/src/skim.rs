//! A heatmap's `prob` without reading its tensors' bytes: what the regression on the model's
//! probability needs from each of thousands of files.
//!
//! A plain heatmap pickle is a few hundred bytes of structure around one large `BINBYTES`
//! payload per tensor (torch's legacy storage serialisation: a short header of small pickles,
//! then the raw elements). [`skim`] walks the opcodes of the file from a reader, copying each
//! one, and copies only the first [`KEEP`] bytes of any `BINBYTES` payload longer than
//! [`SKIP_OVER`], seeking over the rest and shortening its length field to match. The pickle
//! machine then runs on that copy as on any pickle, with storages whose raw elements are cut
//! off left without data; every entry but the map and CXR tensors is converted and checked.
//!
//! It only ever answers `Some` with what the whole read gives: anything it cannot follow — an
//! unknown opcode, a line or a copy too long, a `STOP` before the end of the file, a `prob`
//! whose tensor lost its data, any error of the machine or of the record's checks — is `None`,
//! and the caller reads the whole file (whose errors are then the ones reported). The one
//! difference: the map and CXR tensors' elements are not read, so damage only decoding them
//! would find goes unnoticed (their views are checked against their storages and the limits).

use std::io::{BufRead, BufReader, Read, Seek};
use std::rc::Rc;

use crate::obj::{Ctx, Obj};
use crate::vm::Machine;
use crate::{Limits, OuterHost, Skimmed, Tensor, TensorData, Value, heatmap_from_value};

/// Payloads longer than this are cut.
pub(crate) const SKIP_OVER: u64 = 64 << 10;
/// How much of a cut payload is kept: room for the storage header pickles.
pub(crate) const KEEP: u64 = 4 << 10;
/// The largest copy [`skim`] makes; larger files of small objects are read whole.
const MAX_COPY: usize = 1 << 20;
/// The longest newline-terminated argument followed.
const MAX_LINE: usize = 4 << 10;

/// How an opcode's argument is laid out.
enum Arg {
    None,
    Fixed(usize),
    /// One or two lines, each ending with `\n`.
    Lines(usize),
    /// A little-endian length of this many bytes, then that many bytes.
    Counted(usize),
}

fn arg(op: u8) -> Option<Arg> {
    Some(match op {
        b'('
        | b'.'
        | b'0'
        | b'1'
        | b'2'
        | b'N'
        | b'Q'
        | b'R'
        | b'a'
        | b'b'
        | b'd'
        | b'}'
        | b'e'
        | b'l'
        | b']'
        | b'o'
        | b's'
        | b't'
        | b')'
        | b'u'
        | 0x81
        | 0x85..=0x89
        | 0x8f..=0x94
        | 0x97
        | 0x98 => Arg::None,
        b'K' | b'h' | b'q' | 0x80 | 0x82 => Arg::Fixed(1),
        b'M' | 0x83 => Arg::Fixed(2),
        b'J' | b'j' | b'r' | 0x84 => Arg::Fixed(4),
        b'G' | 0x95 => Arg::Fixed(8),
        b'F' | b'I' | b'L' | b'P' | b'S' | b'V' | b'g' | b'p' => Arg::Lines(1),
        b'c' | b'i' => Arg::Lines(2),
        b'U' | b'C' | 0x8c | 0x8a => Arg::Counted(1),
        b'T' | b'X' | b'B' | 0x8b => Arg::Counted(4),
        0x8d | 0x8e | 0x96 => Arg::Counted(8),
        _ => return None,
    })
}

/// The pickle read from `src` with the long `BINBYTES` payloads cut (see the module
/// documentation), or `None` if it cannot be followed.
pub(crate) fn skim(src: impl Read + Seek, limits: &Limits) -> Option<Vec<u8>> {
    let mut src = BufReader::with_capacity(8 << 10, src);
    let mut out = Vec::with_capacity(1 << 10);
    let mut byte = [0u8; 1];
    loop {
        src.read_exact(&mut byte).ok()?;
        let op = byte[0];
        out.push(op);
        match arg(op)? {
            Arg::None if op == b'.' => {
                // The end of the pickle must be the end of the file, as for the whole read.
                return src.fill_buf().ok()?.is_empty().then_some(out);
            }
            Arg::None => {}
            Arg::Fixed(n) => copy(&mut src, &mut out, n)?,
            Arg::Lines(n) => {
                for _ in 0..n {
                    let start = out.len();
                    (&mut src)
                        .take(MAX_LINE as u64)
                        .read_until(b'\n', &mut out)
                        .ok()?;
                    if out.last() != Some(&b'\n') || out.len() - start >= MAX_LINE {
                        return None;
                    }
                }
            }
            Arg::Counted(width) => {
                let mut len = [0u8; 8];
                src.read_exact(&mut len[..width]).ok()?;
                let n = u64::from_le_bytes(len);
                if n > limits.max_bytes_object {
                    return None;
                }
                if matches!(op, b'B' | 0x8e) && n > SKIP_OVER {
                    out.extend_from_slice(&KEEP.to_le_bytes()[..width]);
                    copy(&mut src, &mut out, KEEP as usize)?;
                    src.seek_relative(i64::try_from(n - KEEP).ok()?).ok()?;
                } else {
                    out.extend_from_slice(&len[..width]);
                    copy(&mut src, &mut out, usize::try_from(n).ok()?)?;
                }
            }
        }
        if out.len() > MAX_COPY {
            return None;
        }
    }
}

/// Appends the next `n` bytes of `src` (at most [`MAX_COPY`] in all).
fn copy(src: &mut impl Read, out: &mut Vec<u8>, n: usize) -> Option<()> {
    if out.len() + n > MAX_COPY {
        return None;
    }
    let start = out.len();
    out.resize(start + n, 0);
    src.read_exact(&mut out[start..]).ok()
}

/// The record of a [`skim`]med pickle with its tensors left out: every entry but the tensors
/// converted as the whole read converts it, and the record checked by the same
/// [`heatmap_from_value`] (a tensor stands in for each tensor that is not converted).
pub(crate) fn record_of(bytes: &[u8], limits: &Limits) -> Option<Skimmed> {
    let ctx = Ctx::partial(limits);
    let mut host = OuterHost { ctx: &ctx };
    let Obj::Dict(d) = Machine::new(bytes, "pickle", &ctx, &mut host).run().ok()? else {
        return None;
    };
    let items = d.items.borrow();
    let mut entries = Vec::with_capacity(items.len() / 2);
    for kv in items.chunks_exact(2) {
        let key = crate::convert::to_value(&kv[0], &ctx).ok()?;
        let skipped = matches!(&kv[0], Obj::Str(k) if &**k == "map" || &**k == "cxr_img");
        let value = match &kv[1] {
            // Not materialised, but checked as materialising checks it (a cut storage has the
            // length its header declares, which the whole read requires of its elements); a
            // storage without data for another reason than the cut is the whole read's error.
            Obj::Tensor(t) if skipped => {
                let cut = ctx
                    .cut
                    .as_ref()
                    .is_some_and(|c| c.borrow().iter().any(|s| Rc::ptr_eq(s, &t.storage)));
                let len = match &*t.storage.data.borrow() {
                    Some(data) => data.len() as u64,
                    None if cut => t.storage.numel,
                    None => return None,
                };
                crate::torch::check_view(t, len, limits).ok()?;
                Value::Tensor(Tensor::new(vec![0], TensorData::F32(vec![])).ok()?)
            }
            other => crate::convert::to_value(other, &ctx).ok()?,
        };
        entries.push((key, value));
    }
    let rec = heatmap_from_value(Value::Dict(entries)).ok()?;
    Some(Skimmed {
        prob: rec.prob,
        cxr_dims: rec.cxr_dims,
    })
}
