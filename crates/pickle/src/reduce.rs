//! `REDUCE` of the allow-listed constructors ([`Known`]), computed here as data — nothing is
//! ever called — and the host hooks of the two kinds of pickles we read.

use std::collections::HashMap;
use std::rc::Rc;

use crate::PickleError;
use crate::obj::{At, Ctx, Known, Obj, TensorSpec};

/// Hooks of the two kinds of pickles we read: the outer one (with `_load_from_bytes`) and the
/// legacy torch storage pickles (with persistent ids).
pub(crate) trait Host {
    /// `_load_from_bytes(b)`.
    fn load_from_bytes(&mut self, bytes: &[u8], offset: usize) -> Result<Obj, PickleError>;
    /// `BINPERSID` with the given persistent id.
    fn persistent_load(&mut self, pid: &Obj, offset: usize) -> Result<Obj, PickleError>;
}

/// Results of the constructors whose cost is the length of their argument, by the argument's
/// address: a pickle may apply one to the same memo-shared megabyte a million times in a few
/// bytes each, and each application after the first then costs nothing. (Python would build
/// equal objects each time; bytes and storages are immutable here, so sharing one is the same.)
#[derive(Default)]
pub(crate) struct Cache {
    /// `_load_from_bytes(b)`: the argument (kept alive, so its address is not reused) and result.
    loaded: HashMap<usize, (Rc<[u8]>, Obj)>,
    /// `_codecs.encode(s, 'latin1')`.
    encoded: HashMap<usize, (Rc<str>, Rc<[u8]>)>,
}

/// `f(*args)` for an allowed `f`.
pub(crate) fn apply<H: Host + ?Sized>(
    ctx: &Ctx<'_>,
    host: &mut H,
    cache: &mut Cache,
    f: Obj,
    args: Obj,
    at: At,
) -> Result<Obj, PickleError> {
    let Obj::Tuple(args) = args else {
        return Err(at.malformed("REDUCE arguments are not a tuple"));
    };
    let Obj::Global(k) = f else {
        return Err(at.malformed("REDUCE of something that is not an allowed global"));
    };
    let args = args.items.borrow();
    match (k, &args[..]) {
        (Known::OrderedDict, []) => Ok(ctx.new_dict()),
        (Known::Bytes, []) => Ok(Obj::Bytes(Rc::from(Vec::new()))),
        (Known::CodecsEncode, [Obj::Str(s), Obj::Str(enc)])
            if &**enc == "latin1" || &**enc == "latin-1" =>
        {
            let key = s.as_ptr() as usize;
            if let Some((_, b)) = cache.encoded.get(&key) {
                return Ok(Obj::Bytes(Rc::clone(b)));
            }
            let mut out = Vec::with_capacity(s.len());
            for c in s.chars() {
                let b = u8::try_from(u32::from(c)).map_err(|_| {
                    at.malformed("_codecs.encode(..., 'latin1') of a non-latin-1 string")
                })?;
                out.push(b);
            }
            let out: Rc<[u8]> = Rc::from(out);
            cache.encoded.insert(key, (Rc::clone(s), Rc::clone(&out)));
            Ok(Obj::Bytes(out))
        }
        (Known::LoadFromBytes, [Obj::Bytes(b)]) => {
            let key = b.as_ptr() as usize;
            if let Some((_, o)) = cache.loaded.get(&key) {
                return Ok(o.clone());
            }
            let b = Rc::clone(b);
            let o = host.load_from_bytes(&b, at.offset)?;
            cache.loaded.insert(key, (b, o.clone()));
            Ok(o)
        }
        (
            Known::RebuildTensorV2,
            [
                storage,
                offset,
                size,
                stride,
                _requires_grad,
                _hooks,
                rest @ ..,
            ],
        ) if rest.len() <= 1 => rebuild_tensor(storage, offset, size, stride, at),
        (k, a) => Err(at.malformed(format!(
            "cannot apply {k:?} to {} argument(s) of these types",
            a.len()
        ))),
    }
}

/// `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, …)`: a view, checked and
/// materialised later ([`crate::torch::materialize`]).
fn rebuild_tensor(
    storage: &Obj,
    offset: &Obj,
    size: &Obj,
    stride: &Obj,
    at: At,
) -> Result<Obj, PickleError> {
    let Obj::Storage(storage) = storage else {
        return Err(at.malformed("_rebuild_tensor_v2: the first argument is not a storage"));
    };
    let ints = |o: &Obj, what: &str| -> Result<Vec<u64>, PickleError> {
        let Obj::Tuple(t) = o else {
            return Err(at.malformed(format!("_rebuild_tensor_v2: {what} is not a tuple")));
        };
        let t = t.items.borrow();
        if t.len() > 64 {
            return Err(at.malformed("_rebuild_tensor_v2: more than 64 dimensions"));
        }
        t.iter()
            .map(|x| match x {
                Obj::Int(i) if *i >= 0 => Ok(*i as u64),
                _ => Err(at.malformed(format!(
                    "_rebuild_tensor_v2: {what} must hold non-negative ints"
                ))),
            })
            .collect()
    };
    let offset = match offset {
        Obj::Int(i) if *i >= 0 => *i as u64,
        _ => {
            return Err(
                at.malformed("_rebuild_tensor_v2: storage offset is not a non-negative int")
            );
        }
    };
    let (size, stride) = (ints(size, "size")?, ints(stride, "stride")?);
    if size.len() != stride.len() {
        return Err(at.malformed("_rebuild_tensor_v2: size and stride differ in length"));
    }
    Ok(Obj::Tensor(Rc::new(TensorSpec {
        storage: Rc::clone(storage),
        offset,
        size,
        stride,
    })))
}
