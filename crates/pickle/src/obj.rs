//! The pickle machine's object model: shared containers whose nesting depth is known at every
//! step, dicts with hashed keys, and a drop that never recurses.
//!
//! A pickle builds containers bottom-up (`TUPLE`, `LIST`, `DICT`) and may then mutate lists and
//! dicts (`APPEND(S)`, `SETITEM(S)`) that already sit inside others through the memo. Each
//! container records its *height* (1 + the height of its deepest child; scalars are 0) and its
//! parents (weak links, one per distinct parent). Building a container computes its height;
//! mutating one raises its height and, through the parent links, the heights of everything that
//! holds it. Any height over [`Limits::max_depth`] is refused at the opcode that causes it, and an
//! insertion that would make a container hold itself (a reference cycle, whose depth is
//! unbounded) is refused before it is made, so the object graph is always a DAG no deeper than the
//! limit. Each container's height rises at most `max_depth` times, so the propagation costs at
//! most `max_depth` × the number of parent links: linear in the input.
//!
//! Heights never decrease: a dict value replaced by a shallower one still counts at the old
//! depth (a conservative bound; Python pickles never do this).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use crate::value::DType;
use crate::{Limits, PickleError};

/// The deepest nesting the reader ever accepts, whatever [`Limits::max_depth`] says: decoded
/// [`Value`](crate::Value)s are dropped, compared and printed recursively, so their depth must
/// stay far below what a thread's stack can follow.
pub(crate) const HARD_MAX_DEPTH: usize = 1000;

/// The callables and classes a heatmap pickle may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Known {
    /// `torch._utils._rebuild_tensor_v2`
    RebuildTensorV2,
    /// `torch.storage._load_from_bytes`
    LoadFromBytes,
    /// `collections.OrderedDict`
    OrderedDict,
    /// `_codecs.encode` (protocol 2's way of pickling bytes)
    CodecsEncode,
    /// `__builtin__.bytes` / `builtins.bytes` (protocol 2's empty bytes)
    Bytes,
    /// `torch.<Type>Storage`
    StorageClass(DType),
    /// `torch.UntypedStorage` (bytes)
    UntypedStorage,
}

/// The allow-list: what `GLOBAL module name` may resolve to.
pub(crate) fn resolve(module: &str, name: &str) -> Option<Known> {
    Some(match (module, name) {
        ("torch._utils", "_rebuild_tensor_v2") => Known::RebuildTensorV2,
        ("torch.storage", "_load_from_bytes") => Known::LoadFromBytes,
        ("collections", "OrderedDict") => Known::OrderedDict,
        ("_codecs", "encode") => Known::CodecsEncode,
        ("__builtin__" | "builtins", "bytes") => Known::Bytes,
        ("torch", "UntypedStorage") => Known::UntypedStorage,
        ("torch", n) => Known::StorageClass(DType::from_storage_class(n)?),
        _ => return None,
    })
}

/// A storage whose data may arrive after it is referenced (legacy torch files put the raw data
/// after the pickles).
#[derive(Debug)]
pub(crate) struct Storage {
    pub(crate) dtype: DType,
    pub(crate) numel: u64,
    pub(crate) data: RefCell<Option<Rc<crate::value::TensorData>>>,
}

/// A tensor view waiting for its storage's data.
#[derive(Clone, Debug)]
pub(crate) struct TensorSpec {
    pub(crate) storage: Rc<Storage>,
    pub(crate) offset: u64,
    pub(crate) size: Vec<u64>,
    pub(crate) stride: Vec<u64>,
}

/// Objects on the machine's stack. Containers are shared (`Rc`) so that memo references and
/// later mutations behave as in Python.
#[derive(Clone)]
pub(crate) enum Obj {
    None,
    Bool(bool),
    Int(i64),
    /// An integer too large for i64, as minimal little-endian two's complement bytes.
    BigInt(Rc<[u8]>),
    Float(f64),
    Str(Rc<str>),
    Bytes(Rc<[u8]>),
    Tuple(Rc<Node>),
    List(Rc<Node>),
    /// A dict: its node's items are keys and values interleaved, in insertion order.
    Dict(Rc<Node>),
    Global(Known),
    Storage(Rc<Storage>),
    Tensor(Rc<TensorSpec>),
}

impl Obj {
    /// The container node, for tuples, lists and dicts.
    pub(crate) fn node(&self) -> Option<&Rc<Node>> {
        match self {
            Obj::Tuple(n) | Obj::List(n) | Obj::Dict(n) => Some(n),
            _ => None,
        }
    }

    fn height(&self) -> usize {
        self.node().map_or(0, |n| n.height.get())
    }

    fn kind(&self) -> &'static str {
        match self {
            Obj::None => "None",
            Obj::Bool(_) => "bool",
            Obj::Int(_) | Obj::BigInt(_) => "int",
            Obj::Float(_) => "float",
            Obj::Str(_) => "str",
            Obj::Bytes(_) => "bytes",
            Obj::Tuple(_) => "tuple",
            Obj::List(_) => "list",
            Obj::Dict(_) => "dict",
            Obj::Global(_) => "class",
            Obj::Storage(_) => "storage",
            Obj::Tensor(_) => "tensor",
        }
    }
}

/// Shallow: a container shows its kind, length and height, never its contents (which may be
/// deep or shared many times).
impl std::fmt::Debug for Obj {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Obj::None => write!(f, "None"),
            Obj::Bool(b) => write!(f, "Bool({b})"),
            Obj::Int(i) => write!(f, "Int({i})"),
            Obj::BigInt(b) => write!(f, "BigInt({} bytes)", b.len()),
            Obj::Float(x) => write!(f, "Float({x})"),
            Obj::Str(s) => write!(f, "Str({} bytes)", s.len()),
            Obj::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            Obj::Tuple(n) | Obj::List(n) | Obj::Dict(n) => write!(
                f,
                "{}(len {}, height {})",
                self.kind(),
                n.items.borrow().len(),
                n.height.get()
            ),
            Obj::Global(k) => write!(f, "Global({k:?})"),
            Obj::Storage(s) => write!(f, "Storage({}, {})", s.dtype.torch_name(), s.numel),
            Obj::Tensor(t) => write!(f, "Tensor({:?})", t.size),
        }
    }
}

/// A tuple, list or dict.
pub(crate) struct Node {
    height: Cell<usize>,
    /// Distinct parents (by address), each with how many times it holds this node.
    parents: RefCell<HashMap<usize, (Weak<Node>, u32)>>,
    /// Elements; for a dict, keys and values interleaved.
    pub(crate) items: RefCell<Vec<Obj>>,
    /// A dict's index: key id ([`KeyTable`]) to entry number.
    index: RefCell<HashMap<u32, usize>>,
}

impl Node {
    fn empty() -> Rc<Node> {
        Rc::new(Node {
            height: Cell::new(1),
            parents: RefCell::new(HashMap::new()),
            items: RefCell::new(Vec::new()),
            index: RefCell::new(HashMap::new()),
        })
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let items = std::mem::take(self.items.get_mut());
        teardown(items);
    }
}

/// Drops objects without recursion: a container owned only by the worklist is emptied into it
/// before it is dropped, so no drop ever follows more than one level.
pub(crate) fn teardown(mut work: Vec<Obj>) {
    while let Some(o) = work.pop() {
        if let Some(n) = o.node() {
            if Rc::strong_count(n) == 1 {
                work.append(&mut n.items.borrow_mut());
            }
        }
    }
}

fn addr(n: &Rc<Node>) -> usize {
    Rc::as_ptr(n) as usize
}

/// The form of a dict key that decides equality, as Python does: `1 == 1.0 == True` (and
/// `0 == -0.0 == False`) are one key; strings, bytes, big integers and tuples compare by content;
/// classes by name; storages and tensors by identity. Each NaN is its own key (Python compares
/// NaN keys by identity, and each NaN a pickle decodes is a new object unless memo-shared; we
/// do not track that sharing). A float equal to an integer beyond 64 bits is not matched with it.
#[derive(Clone, PartialEq, Eq, Hash)]
enum KeyForm {
    None,
    Int(i64),
    Float(u64),
    Nan(u64),
    Big(Rc<[u8]>),
    Str(Rc<str>),
    Bytes(Rc<[u8]>),
    Global(Known),
    Ident(usize),
    Tuple(Box<[u32]>),
}

/// Length from which a string, bytes or big-integer key is remembered by address.
const LONG_KEY: usize = 64;

/// 2^63 as a float (exact).
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

/// Interned dict keys of one load, shared by all its machines (a dict built by one may be
/// filled by another). Objects behind an `Rc` are keyed once, by address, and kept alive here so
/// that the address is not reused: a key used many times costs its length once.
#[derive(Default)]
pub(crate) struct KeyTable {
    by_addr: HashMap<usize, (Obj, u32)>,
    ids: HashMap<KeyForm, u32>,
    nans: u64,
}

impl KeyTable {
    fn intern(&mut self, form: KeyForm) -> u32 {
        let n = self.ids.len() as u32;
        *self.ids.entry(form).or_insert(n)
    }

    /// The key id of `k`, or what makes it unhashable.
    fn id(&mut self, k: &Obj) -> Result<u32, &'static str> {
        // Short strings are cheaper to hash again than to remember: only long ones (where a key
        // used many times would cost its length each time) are kept by address.
        let rc_addr = match k {
            Obj::BigInt(b) | Obj::Bytes(b) if b.len() >= LONG_KEY => Some(b.as_ptr() as usize),
            Obj::Str(s) if s.len() >= LONG_KEY => Some(s.as_ptr() as usize),
            Obj::BigInt(_) | Obj::Bytes(_) | Obj::Str(_) => None,
            Obj::Tuple(n) => Some(addr(n)),
            Obj::Storage(s) => Some(Rc::as_ptr(s) as usize),
            Obj::Tensor(t) => Some(Rc::as_ptr(t) as usize),
            _ => None,
        };
        if let Some(a) = rc_addr {
            if let Some((_, id)) = self.by_addr.get(&a) {
                return Ok(*id);
            }
        }
        let form = match k {
            Obj::None => KeyForm::None,
            Obj::Bool(b) => KeyForm::Int(i64::from(*b)),
            Obj::Int(i) => KeyForm::Int(*i),
            Obj::Float(x) if x.is_nan() => {
                self.nans += 1;
                KeyForm::Nan(self.nans)
            }
            // -2^63 <= x < 2^63 and integral: the int it equals.
            Obj::Float(x) if x.fract() == 0.0 && *x >= -TWO_POW_63 && *x < TWO_POW_63 => {
                KeyForm::Int(*x as i64)
            }
            Obj::Float(x) => KeyForm::Float(x.to_bits()),
            Obj::BigInt(b) => KeyForm::Big(Rc::clone(b)),
            Obj::Str(s) => KeyForm::Str(Rc::clone(s)),
            Obj::Bytes(b) => KeyForm::Bytes(Rc::clone(b)),
            Obj::Global(g) => KeyForm::Global(*g),
            Obj::Storage(_) | Obj::Tensor(_) => KeyForm::Ident(rc_addr.unwrap_or(0)),
            Obj::Tuple(n) => KeyForm::Tuple(self.tuple_items(n)?),
            Obj::List(_) => return Err("a list"),
            Obj::Dict(_) => return Err("a dict"),
        };
        let id = self.intern(form);
        if let Some(a) = rc_addr {
            self.by_addr.insert(a, (k.clone(), id));
        }
        Ok(id)
    }

    /// The key ids of a tuple's items, without recursion (inner tuples first).
    fn tuple_items(&mut self, root: &Rc<Node>) -> Result<Box<[u32]>, &'static str> {
        // Post-order over tuples not yet keyed; their height is bounded, their width by the input.
        let mut stack: Vec<(Rc<Node>, usize, Vec<u32>)> = vec![(Rc::clone(root), 0, Vec::new())];
        loop {
            let Some((node, i, ids)) = stack.last_mut() else {
                return Err("a tuple");
            };
            let next = node.items.borrow().get(*i).cloned();
            match next {
                Some(Obj::Tuple(inner)) if !self.by_addr.contains_key(&addr(&inner)) => {
                    *i += 1;
                    stack.push((inner, 0, Vec::new()));
                }
                Some(item) => {
                    *i += 1;
                    let id = self.id(&item)?;
                    ids.push(id);
                }
                None => {
                    let (node, _, ids) = stack.pop().unwrap_or_else(|| unreachable!());
                    let ids = ids.into_boxed_slice();
                    if stack.is_empty() {
                        return Ok(ids);
                    }
                    let id = self.intern(KeyForm::Tuple(ids));
                    self.by_addr
                        .insert(addr(&node), (Obj::Tuple(Rc::clone(&node)), id));
                    if let Some((_, _, parent_ids)) = stack.last_mut() {
                        parent_ids.push(id);
                    }
                }
            }
        }
    }
}

/// What every machine of one load shares: the limits and the dict key table.
pub(crate) struct Ctx<'l> {
    pub(crate) limits: &'l Limits,
    keys: RefCell<KeyTable>,
    /// `Some` when reading a skimmed pickle (`skim`): the storages whose raw elements were cut
    /// off, left without data instead of being an error.
    pub(crate) cut: Option<RefCell<Vec<Rc<Storage>>>>,
}

/// Where an operation happens, for its errors.
#[derive(Clone, Copy)]
pub(crate) struct At {
    pub(crate) context: &'static str,
    pub(crate) offset: usize,
    pub(crate) opcode: &'static str,
}

impl At {
    pub(crate) fn malformed(self, reason: impl Into<String>) -> PickleError {
        PickleError::Malformed {
            context: self.context,
            offset: self.offset,
            reason: reason.into(),
        }
    }
}

impl<'l> Ctx<'l> {
    pub(crate) fn new(limits: &'l Limits) -> Self {
        Ctx {
            limits,
            keys: RefCell::new(KeyTable::default()),
            cut: None,
        }
    }

    /// A context for a skimmed pickle (see [`Ctx::cut`](field@Ctx::cut)).
    pub(crate) fn partial(limits: &'l Limits) -> Self {
        Ctx {
            cut: Some(RefCell::new(Vec::new())),
            ..Ctx::new(limits)
        }
    }

    /// [`Limits::max_depth`], at most [`HARD_MAX_DEPTH`].
    pub(crate) fn max_depth(&self) -> usize {
        self.limits.max_depth.min(HARD_MAX_DEPTH)
    }

    fn too_deep(&self, at: At, depth: usize) -> PickleError {
        PickleError::NestingTooDeep {
            context: at.context,
            offset: at.offset,
            opcode: at.opcode,
            depth: depth as u64,
            limit: self.max_depth() as u64,
        }
    }

    /// A new tuple or list of `items`.
    pub(crate) fn new_seq(&self, list: bool, items: Vec<Obj>, at: At) -> Result<Obj, PickleError> {
        let height = 1 + items.iter().map(Obj::height).max().unwrap_or(0);
        if height > self.max_depth() {
            teardown(items);
            return Err(self.too_deep(at, height));
        }
        let node = Node::empty();
        node.height.set(height);
        for item in &items {
            link(item, &node);
        }
        *node.items.borrow_mut() = items;
        Ok(if list {
            Obj::List(node)
        } else {
            Obj::Tuple(node)
        })
    }

    /// A new empty dict.
    pub(crate) fn new_dict(&self) -> Obj {
        Obj::Dict(Node::empty())
    }

    /// Makes room for `child` inside `parent`: raises the heights of `parent` and of everything
    /// holding it, refusing a cycle or a height over the limit before anything is linked.
    fn admit(&self, parent: &Rc<Node>, child: &Obj, at: At) -> Result<(), PickleError> {
        let Some(c) = child.node() else {
            return Ok(());
        };
        let cycle = || {
            at.malformed(format!(
                "{} would hold itself (a reference cycle: unbounded nesting depth)",
                at.opcode
            ))
        };
        if Rc::ptr_eq(c, parent) {
            return Err(cycle());
        }
        let max = self.max_depth();
        let mut work = vec![(Rc::clone(parent), c.height.get() + 1)];
        while let Some((n, h)) = work.pop() {
            if n.height.get() >= h {
                continue;
            }
            if Rc::ptr_eq(&n, c) {
                return Err(cycle());
            }
            if h > max {
                return Err(self.too_deep(at, h));
            }
            n.height.set(h);
            for (p, _) in n.parents.borrow().values() {
                if let Some(p) = p.upgrade() {
                    work.push((p, h + 1));
                }
            }
        }
        link(child, parent);
        Ok(())
    }

    /// `list.append(item)`.
    pub(crate) fn append(&self, list: &Obj, item: Obj, at: At) -> Result<(), PickleError> {
        let Obj::List(l) = list else {
            return Err(at.malformed(format!("{} on a {}, not a list", at.opcode, list.kind())));
        };
        self.admit(l, &item, at)?;
        l.items.borrow_mut().push(item);
        Ok(())
    }

    /// `dict[k] = v`, as Python does it: an equal key keeps its first object and place and
    /// takes the new value.
    pub(crate) fn set_item(&self, dict: &Obj, k: Obj, v: Obj, at: At) -> Result<(), PickleError> {
        let Obj::Dict(d) = dict else {
            return Err(at.malformed(format!("{} on a {}, not a dict", at.opcode, dict.kind())));
        };
        let id = self.keys.borrow_mut().id(&k).map_err(|what| {
            at.malformed(format!("{} with an unhashable key ({what})", at.opcode))
        })?;
        let existing = d.index.borrow().get(&id).copied();
        match existing {
            Some(i) => {
                self.admit(d, &v, at)?;
                let old = std::mem::replace(&mut d.items.borrow_mut()[2 * i + 1], v);
                unlink(&old, d);
                teardown(vec![old]);
            }
            None => {
                self.admit(d, &k, at)?;
                self.admit(d, &v, at)?;
                let mut items = d.items.borrow_mut();
                d.index.borrow_mut().insert(id, items.len() / 2);
                items.push(k);
                items.push(v);
            }
        }
        Ok(())
    }
}

/// Records that `parent` holds `child` once more.
fn link(child: &Obj, parent: &Rc<Node>) {
    if let Some(c) = child.node() {
        let mut parents = c.parents.borrow_mut();
        let e = parents
            .entry(addr(parent))
            .or_insert_with(|| (Rc::downgrade(parent), 0));
        if e.0.strong_count() == 0 {
            // A dead parent's address, reused.
            *e = (Rc::downgrade(parent), 0);
        }
        e.1 += 1;
    }
}

/// Records that `parent` holds `child` once less.
fn unlink(child: &Obj, parent: &Rc<Node>) {
    if let Some(c) = child.node() {
        let mut parents = c.parents.borrow_mut();
        if let Some(e) = parents.get_mut(&addr(parent)) {
            e.1 -= 1;
            if e.1 == 0 {
                parents.remove(&addr(parent));
            }
        }
    }
}

/// An integer from pickle's little-endian two's complement bytes (`LONG1`/`LONG4`), with
/// redundant sign bytes dropped so that every value that fits is an `Int`.
pub(crate) fn long_from_bytes(b: &[u8]) -> Obj {
    let mut n = b.len();
    while n > 1 {
        let (last, prev) = (b[n - 1], b[n - 2]);
        if (last == 0 && prev & 0x80 == 0) || (last == 0xff && prev & 0x80 != 0) {
            n -= 1;
        } else {
            break;
        }
    }
    let b = &b[..n];
    if b.is_empty() {
        return Obj::Int(0);
    }
    if b.len() <= 8 {
        let neg = b[b.len() - 1] & 0x80 != 0;
        let mut buf = if neg { [0xffu8; 8] } else { [0u8; 8] };
        buf[..b.len()].copy_from_slice(b);
        return Obj::Int(i64::from_le_bytes(buf));
    }
    Obj::BigInt(Rc::from(b))
}

#[cfg(test)]
#[path = "obj_tests.rs"]
mod tests;
