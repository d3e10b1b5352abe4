//! A pickle machine that only builds data.
//!
//! It implements the opcodes of protocols 2 to 5 that plain data, tensors and our writer use.
//! `GLOBAL` / `STACK_GLOBAL` resolve names against a fixed allow-list of constructors
//! ([`Known`]); `REDUCE` applies those as pure data constructors implemented here. Any other
//! global is refused with its name before anything else happens, so a pickle can never make this
//! reader run code, open files or allocate more than its [`Limits`] allow.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::value::{DType, Value};
use crate::{Limits, PickleError};

/// The callables and classes a heatmap pickle may name.
#[derive(Clone, Copy, Debug, PartialEq)]
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

fn resolve(module: &str, name: &str) -> Option<Known> {
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
#[derive(Clone, Debug)]
pub(crate) enum Obj {
    None,
    Bool(bool),
    Int(i64),
    /// An integer too large for i64, as little-endian two's complement bytes.
    BigInt(Rc<[u8]>),
    Float(f64),
    Str(Rc<str>),
    Bytes(Rc<[u8]>),
    Tuple(Rc<Vec<Obj>>),
    List(Rc<RefCell<Vec<Obj>>>),
    Dict(Rc<RefCell<Vec<(Obj, Obj)>>>),
    Global(Known),
    Storage(Rc<Storage>),
    Tensor(Rc<TensorSpec>),
}

/// Hooks of the two kinds of pickles we read: the outer one (with `_load_from_bytes`) and the
/// legacy torch storage pickles (with persistent ids).
pub(crate) trait Host {
    /// `_load_from_bytes(b)`.
    fn load_from_bytes(&mut self, bytes: &[u8], offset: usize) -> Result<Obj, PickleError>;
    /// `BINPERSID` with the given persistent id.
    fn persistent_load(&mut self, pid: &Obj, offset: usize) -> Result<Obj, PickleError>;
}

pub(crate) struct Machine<'a, H: Host> {
    data: &'a [u8],
    pos: usize,
    context: &'static str,
    limits: &'a Limits,
    stack: Vec<Obj>,
    marks: Vec<usize>,
    memo: HashMap<u32, Obj>,
    containers: u64,
    host: &'a mut H,
}

fn opcode_name(op: u8) -> &'static str {
    match op {
        b'I' => "INT",
        b'L' => "LONG",
        b'F' => "FLOAT",
        b'S' => "STRING",
        b'V' => "UNICODE",
        b'P' => "PERSID",
        b'p' => "PUT",
        b'g' => "GET",
        b'i' => "INST",
        b'o' => "OBJ",
        b'b' => "BUILD",
        0x81 => "NEWOBJ",
        0x92 => "NEWOBJ_EX",
        0x82..=0x84 => "EXT",
        b'T' | b'U' => "(SHORT_)BINSTRING",
        0x96 => "BYTEARRAY8",
        0x97 => "NEXT_BUFFER",
        0x98 => "READONLY_BUFFER",
        0x90 => "EMPTY_SET",
        0x91 => "ADDITEMS",
        0x8f => "FROZENSET",
        _ => "unknown",
    }
}

impl<'a, H: Host> Machine<'a, H> {
    pub(crate) fn new(
        data: &'a [u8],
        context: &'static str,
        limits: &'a Limits,
        host: &'a mut H,
    ) -> Self {
        Machine {
            data,
            pos: 0,
            context,
            limits,
            stack: Vec::new(),
            marks: Vec::new(),
            memo: HashMap::new(),
            containers: 0,
            host,
        }
    }

    /// Bytes consumed so far.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    fn malformed(&self, offset: usize, reason: impl Into<String>) -> PickleError {
        PickleError::Malformed {
            context: self.context,
            offset,
            reason: reason.into(),
        }
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], PickleError> {
        let left = (self.data.len() - self.pos) as u64;
        if n > left {
            return Err(PickleError::Truncated {
                context: self.context,
                offset: self.pos,
                needed: n - left,
            });
        }
        let s = &self.data[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, PickleError> {
        Ok(self.take(1)?[0])
    }

    fn le_u64(&mut self, n: usize) -> Result<u64, PickleError> {
        let b = self.take(n as u64)?;
        let mut buf = [0u8; 8];
        buf[..n].copy_from_slice(b);
        Ok(u64::from_le_bytes(buf))
    }

    fn checked_len(&self, what: &'static str, n: u64) -> Result<u64, PickleError> {
        let limit = self.limits.max_bytes_object;
        if n > limit {
            return Err(PickleError::LimitExceeded {
                context: self.context,
                what,
                value: n,
                limit,
            });
        }
        Ok(n)
    }

    fn push(&mut self, o: Obj) -> Result<(), PickleError> {
        if self.stack.len() >= self.limits.max_stack {
            return Err(PickleError::LimitExceeded {
                context: self.context,
                what: "stack depth",
                value: self.stack.len() as u64 + 1,
                limit: self.limits.max_stack as u64,
            });
        }
        self.stack.push(o);
        Ok(())
    }

    fn new_container(&mut self) -> Result<(), PickleError> {
        self.containers += 1;
        if self.containers > self.limits.max_containers {
            return Err(PickleError::LimitExceeded {
                context: self.context,
                what: "number of containers",
                value: self.containers,
                limit: self.limits.max_containers,
            });
        }
        Ok(())
    }

    fn pop(&mut self, at: usize) -> Result<Obj, PickleError> {
        if self.marks.last().is_some_and(|&m| m >= self.stack.len()) {
            return Err(self.malformed(at, "stack underflow (popped past a mark)"));
        }
        self.stack
            .pop()
            .ok_or_else(|| self.malformed(at, "stack underflow"))
    }

    fn pop_mark(&mut self, at: usize) -> Result<Vec<Obj>, PickleError> {
        let m = self
            .marks
            .pop()
            .ok_or_else(|| self.malformed(at, "no mark on the stack"))?;
        if m > self.stack.len() {
            return Err(self.malformed(at, "mark above the stack"));
        }
        Ok(self.stack.split_off(m))
    }

    fn top(&mut self, at: usize) -> Result<&Obj, PickleError> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err(self.malformed(at, "stack underflow"));
        }
        Ok(&self.stack[self.stack.len() - 1])
    }

    fn memo_put(&mut self, key: u32, at: usize) -> Result<(), PickleError> {
        let v = self.top(at)?.clone();
        if self.memo.len() >= self.limits.max_memo && !self.memo.contains_key(&key) {
            return Err(PickleError::LimitExceeded {
                context: self.context,
                what: "memo size",
                value: self.memo.len() as u64 + 1,
                limit: self.limits.max_memo as u64,
            });
        }
        self.memo.insert(key, v);
        Ok(())
    }

    fn memo_get(&mut self, key: u32, at: usize) -> Result<(), PickleError> {
        let v = self
            .memo
            .get(&key)
            .cloned()
            .ok_or_else(|| self.malformed(at, format!("memo key {key} not set")))?;
        self.push(v)
    }

    fn string(&mut self, n: u64, at: usize) -> Result<(), PickleError> {
        let n = self.checked_len("string length", n)?;
        let b = self.take(n)?;
        let s = std::str::from_utf8(b)
            .map_err(|e| self.malformed(at, format!("string is not UTF-8: {e}")))?;
        self.push(Obj::Str(Rc::from(s)))
    }

    fn bytes(&mut self, n: u64) -> Result<(), PickleError> {
        let n = self.checked_len("bytes length", n)?;
        let b = self.take(n)?;
        self.push(Obj::Bytes(Rc::from(b)))
    }

    fn global(&mut self, module: &str, name: &str, at: usize) -> Result<(), PickleError> {
        match resolve(module, name) {
            Some(k) => self.push(Obj::Global(k)),
            None => Err(PickleError::ForbiddenGlobal {
                context: self.context,
                module: module.to_owned(),
                name: name.to_owned(),
                offset: at,
            }),
        }
    }

    fn line(&mut self) -> Result<&'a str, PickleError> {
        let rest = &self.data[self.pos..];
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            return Err(PickleError::Truncated {
                context: self.context,
                offset: self.pos,
                needed: 1,
            });
        };
        let at = self.pos;
        self.pos += end + 1;
        std::str::from_utf8(&rest[..end])
            .map_err(|_| self.malformed(at, "GLOBAL name is not UTF-8"))
    }

    fn set_items(&mut self, dict: &Obj, items: Vec<Obj>, at: usize) -> Result<(), PickleError> {
        let Obj::Dict(d) = dict else {
            return Err(self.malformed(at, "SETITEM(S) on a non-dict"));
        };
        if items.len() % 2 != 0 {
            return Err(self.malformed(at, "SETITEMS with an odd number of items"));
        }
        let mut d = d.borrow_mut();
        let mut it = items.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            match d.iter().position(|(ek, _)| obj_key_eq(ek, &k)) {
                Some(i) => d[i].1 = v,
                None => d.push((k, v)),
            }
        }
        Ok(())
    }

    fn append(&mut self, list: &Obj, items: Vec<Obj>, at: usize) -> Result<(), PickleError> {
        let Obj::List(l) = list else {
            return Err(self.malformed(at, "APPEND(S) on a non-list"));
        };
        l.borrow_mut().extend(items);
        Ok(())
    }

    /// Runs until STOP; returns the result.
    pub(crate) fn run(&mut self) -> Result<Obj, PickleError> {
        loop {
            let at = self.pos;
            let op = self.u8()?;
            match op {
                0x80 => {
                    let p = self.u8()?;
                    if p > 5 {
                        return Err(
                            self.malformed(at, format!("pickle protocol {p}, expected 2 to 5"))
                        );
                    }
                }
                0x95 => {
                    self.take(8)?; // FRAME length: frames are advisory
                }
                b'.' => {
                    let v = self.pop(at)?;
                    if !self.marks.is_empty() {
                        return Err(self.malformed(at, "STOP with an open mark"));
                    }
                    return Ok(v);
                }
                b'(' => {
                    if self.marks.len() >= self.limits.max_stack {
                        return Err(PickleError::LimitExceeded {
                            context: self.context,
                            what: "marks",
                            value: self.marks.len() as u64 + 1,
                            limit: self.limits.max_stack as u64,
                        });
                    }
                    self.marks.push(self.stack.len());
                }
                b'0' => {
                    self.pop(at)?;
                }
                b'1' => {
                    self.pop_mark(at)?;
                }
                b'2' => {
                    let v = self.top(at)?.clone();
                    self.push(v)?;
                }
                b'N' => self.push(Obj::None)?,
                0x88 => self.push(Obj::Bool(true))?,
                0x89 => self.push(Obj::Bool(false))?,
                b'J' => {
                    let v = self.le_u64(4)? as u32 as i32;
                    self.push(Obj::Int(i64::from(v)))?;
                }
                b'K' => {
                    let v = self.u8()?;
                    self.push(Obj::Int(i64::from(v)))?;
                }
                b'M' => {
                    let v = self.le_u64(2)?;
                    self.push(Obj::Int(v as i64))?;
                }
                0x8a | 0x8b => {
                    let n = if op == 0x8a {
                        u64::from(self.u8()?)
                    } else {
                        self.le_u64(4)?
                    };
                    let n = self.checked_len("long integer length", n)?;
                    let b = self.take(n)?;
                    self.push(long_from_bytes(b))?;
                }
                b'G' => {
                    let b = self.take(8)?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(b);
                    self.push(Obj::Float(f64::from_be_bytes(a)))?;
                }
                b'X' => {
                    let n = self.le_u64(4)?;
                    self.string(n, at)?;
                }
                0x8c => {
                    let n = u64::from(self.u8()?);
                    self.string(n, at)?;
                }
                0x8d => {
                    let n = self.le_u64(8)?;
                    self.string(n, at)?;
                }
                b'B' => {
                    let n = self.le_u64(4)?;
                    self.bytes(n)?;
                }
                b'C' => {
                    let n = u64::from(self.u8()?);
                    self.bytes(n)?;
                }
                0x8e => {
                    let n = self.le_u64(8)?;
                    self.bytes(n)?;
                }
                b'}' => {
                    self.new_container()?;
                    self.push(Obj::Dict(Rc::new(RefCell::new(Vec::new()))))?;
                }
                b']' => {
                    self.new_container()?;
                    self.push(Obj::List(Rc::new(RefCell::new(Vec::new()))))?;
                }
                b')' => {
                    self.new_container()?;
                    self.push(Obj::Tuple(Rc::new(Vec::new())))?;
                }
                b'd' => {
                    let items = self.pop_mark(at)?;
                    self.new_container()?;
                    let d = Obj::Dict(Rc::new(RefCell::new(Vec::new())));
                    self.set_items(&d, items, at)?;
                    self.push(d)?;
                }
                b'l' => {
                    let items = self.pop_mark(at)?;
                    self.new_container()?;
                    self.push(Obj::List(Rc::new(RefCell::new(items))))?;
                }
                b't' => {
                    let items = self.pop_mark(at)?;
                    self.new_container()?;
                    self.push(Obj::Tuple(Rc::new(items)))?;
                }
                0x85..=0x87 => {
                    let n = usize::from(op - 0x84);
                    let mut items = Vec::with_capacity(n);
                    for _ in 0..n {
                        items.push(self.pop(at)?);
                    }
                    items.reverse();
                    self.new_container()?;
                    self.push(Obj::Tuple(Rc::new(items)))?;
                }
                b's' => {
                    let v = self.pop(at)?;
                    let k = self.pop(at)?;
                    let d = self.top(at)?.clone();
                    self.set_items(&d, vec![k, v], at)?;
                }
                b'u' => {
                    let items = self.pop_mark(at)?;
                    let d = self.top(at)?.clone();
                    self.set_items(&d, items, at)?;
                }
                b'a' => {
                    let v = self.pop(at)?;
                    let l = self.top(at)?.clone();
                    self.append(&l, vec![v], at)?;
                }
                b'e' => {
                    let items = self.pop_mark(at)?;
                    let l = self.top(at)?.clone();
                    self.append(&l, items, at)?;
                }
                b'q' => {
                    let k = u32::from(self.u8()?);
                    self.memo_put(k, at)?;
                }
                b'r' => {
                    let k = self.le_u64(4)? as u32;
                    self.memo_put(k, at)?;
                }
                0x94 => {
                    let k = self.memo.len() as u32;
                    self.memo_put(k, at)?;
                }
                b'h' => {
                    let k = u32::from(self.u8()?);
                    self.memo_get(k, at)?;
                }
                b'j' => {
                    let k = self.le_u64(4)? as u32;
                    self.memo_get(k, at)?;
                }
                b'c' => {
                    let module = self.line()?;
                    let name = self.line()?;
                    self.global(module, name, at)?;
                }
                0x93 => {
                    let name = self.pop(at)?;
                    let module = self.pop(at)?;
                    match (module, name) {
                        (Obj::Str(m), Obj::Str(n)) => self.global(&m, &n, at)?,
                        _ => return Err(self.malformed(at, "STACK_GLOBAL needs two strings")),
                    }
                }
                b'R' => {
                    let args = self.pop(at)?;
                    let f = self.pop(at)?;
                    let v = self.reduce(f, args, at)?;
                    self.push(v)?;
                }
                b'Q' => {
                    let pid = self.pop(at)?;
                    let v = self.host.persistent_load(&pid, at)?;
                    self.push(v)?;
                }
                _ => {
                    return Err(PickleError::UnsupportedOpcode {
                        context: self.context,
                        opcode: op,
                        name: opcode_name(op),
                        offset: at,
                    });
                }
            }
        }
    }

    /// `REDUCE` of an allowed constructor: computed here as data, never by calling anything.
    fn reduce(&mut self, f: Obj, args: Obj, at: usize) -> Result<Obj, PickleError> {
        let Obj::Tuple(args) = args else {
            return Err(self.malformed(at, "REDUCE arguments are not a tuple"));
        };
        let Obj::Global(k) = f else {
            return Err(self.malformed(at, "REDUCE of something that is not an allowed global"));
        };
        match (k, &args[..]) {
            (Known::OrderedDict, []) => {
                self.new_container()?;
                Ok(Obj::Dict(Rc::new(RefCell::new(Vec::new()))))
            }
            (Known::Bytes, []) => Ok(Obj::Bytes(Rc::from(Vec::new()))),
            (Known::CodecsEncode, [Obj::Str(s), Obj::Str(enc)])
                if &**enc == "latin1" || &**enc == "latin-1" =>
            {
                let mut out = Vec::with_capacity(s.len());
                for c in s.chars() {
                    let b = u8::try_from(u32::from(c)).map_err(|_| {
                        self.malformed(at, "_codecs.encode(..., 'latin1') of a non-latin-1 string")
                    })?;
                    out.push(b);
                }
                Ok(Obj::Bytes(Rc::from(out)))
            }
            (Known::LoadFromBytes, [Obj::Bytes(b)]) => {
                let b = Rc::clone(b);
                self.host.load_from_bytes(&b, at)
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
            ) if rest.len() <= 1 => {
                let Obj::Storage(storage) = storage else {
                    return Err(self.malformed(
                        at,
                        "_rebuild_tensor_v2: the first argument is not a storage",
                    ));
                };
                let ints = |o: &Obj, what: &str| -> Result<Vec<u64>, PickleError> {
                    match o {
                        Obj::Tuple(t) => t
                            .iter()
                            .map(|x| match x {
                                Obj::Int(i) if *i >= 0 => Ok(*i as u64),
                                _ => Err(self.malformed(
                                    at,
                                    format!(
                                        "_rebuild_tensor_v2: {what} must hold non-negative ints"
                                    ),
                                )),
                            })
                            .collect(),
                        _ => Err(self
                            .malformed(at, format!("_rebuild_tensor_v2: {what} is not a tuple"))),
                    }
                };
                let offset = match offset {
                    Obj::Int(i) if *i >= 0 => *i as u64,
                    _ => {
                        return Err(self.malformed(
                            at,
                            "_rebuild_tensor_v2: storage offset is not a non-negative int",
                        ));
                    }
                };
                let (size, stride) = (ints(size, "size")?, ints(stride, "stride")?);
                if size.len() != stride.len() {
                    return Err(
                        self.malformed(at, "_rebuild_tensor_v2: size and stride differ in length")
                    );
                }
                if size.len() > 64 {
                    return Err(self.malformed(at, "_rebuild_tensor_v2: more than 64 dimensions"));
                }
                Ok(Obj::Tensor(Rc::new(TensorSpec {
                    storage: Rc::clone(storage),
                    offset,
                    size,
                    stride,
                })))
            }
            (k, a) => Err(self.malformed(
                at,
                format!(
                    "cannot apply {k:?} to {} argument(s) of these types",
                    a.len()
                ),
            )),
        }
    }
}

impl<H: Host> Drop for Machine<'_, H> {
    fn drop(&mut self) {
        let mut work = std::mem::take(&mut self.stack);
        work.extend(self.memo.drain().map(|(_, v)| v));
        teardown(work);
    }
}

/// Drops objects without recursion: a hostile pickle can nest containers far deeper than the
/// call stack could follow, and dropping nested `Rc`s recursively would overflow it.
pub(crate) fn teardown(mut work: Vec<Obj>) {
    while let Some(o) = work.pop() {
        // Only the last owner empties a container; other owners (the memo, a parent) still see
        // it whole. Reference cycles are leaked, not followed.
        match o {
            Obj::List(l) if Rc::strong_count(&l) == 1 => work.append(&mut l.borrow_mut()),
            Obj::Dict(d) if Rc::strong_count(&d) == 1 => {
                for (k, v) in std::mem::take(&mut *d.borrow_mut()) {
                    work.push(k);
                    work.push(v);
                }
            }
            Obj::Tuple(t) => {
                if let Ok(items) = Rc::try_unwrap(t) {
                    work.extend(items);
                }
            }
            _ => {}
        }
    }
}

fn long_from_bytes(b: &[u8]) -> Obj {
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

fn obj_key_eq(a: &Obj, b: &Obj) -> bool {
    match (a, b) {
        (Obj::Str(x), Obj::Str(y)) => x == y,
        (Obj::Int(x), Obj::Int(y)) => x == y,
        (Obj::Bytes(x), Obj::Bytes(y)) => x == y,
        (Obj::Bool(x), Obj::Bool(y)) => x == y,
        (Obj::None, Obj::None) => true,
        _ => false,
    }
}

/// What the decoded tree may still take: objects and payload bytes.
pub(crate) struct Budget {
    pub(crate) values: u64,
    pub(crate) bytes: u64,
}

impl Budget {
    pub(crate) fn new(limits: &Limits) -> Self {
        Budget {
            values: limits.max_values,
            bytes: limits.max_value_bytes,
        }
    }
}

/// Converts a machine object into a plain value, materialising tensors; depth-limited (which also
/// stops reference cycles built through the memo) and size-limited by `budget`
/// ([`Limits::max_values`], [`Limits::max_value_bytes`]). A pickle may reference one object
/// many times through the memo (Python shares it); our tree copies it, so without the budget a
/// few hundred bytes of nested references would expand exponentially ("billion laughs").
pub(crate) fn to_value(
    o: &Obj,
    limits: &Limits,
    depth: usize,
    budget: &mut Budget,
) -> Result<Value, PickleError> {
    if depth > limits.max_depth {
        return Err(PickleError::LimitExceeded {
            context: "pickle",
            what: "nesting depth",
            value: depth as u64,
            limit: limits.max_depth as u64,
        });
    }
    if budget.values == 0 {
        return Err(PickleError::LimitExceeded {
            context: "pickle",
            what: "objects in the decoded value (shared objects counted at each reference)",
            value: limits.max_values + 1,
            limit: limits.max_values,
        });
    }
    budget.values -= 1;
    let payload = match o {
        Obj::Str(s) => s.len() as u64,
        Obj::Bytes(b) => b.len() as u64,
        Obj::Tensor(spec) => spec
            .size
            .iter()
            .try_fold(spec.storage.dtype.size() as u64, |a, &d| a.checked_mul(d))
            .unwrap_or(u64::MAX),
        _ => 0,
    };
    if payload > budget.bytes {
        return Err(PickleError::LimitExceeded {
            context: "pickle",
            what: "bytes in the decoded value (shared objects counted at each reference)",
            value: (limits.max_value_bytes - budget.bytes).saturating_add(payload),
            limit: limits.max_value_bytes,
        });
    }
    budget.bytes -= payload;
    let mut seq = |items: &[Obj]| -> Result<Vec<Value>, PickleError> {
        items
            .iter()
            .map(|x| to_value(x, limits, depth + 1, budget))
            .collect()
    };
    Ok(match o {
        Obj::None => Value::None,
        Obj::Bool(b) => Value::Bool(*b),
        Obj::Int(i) => Value::Int(*i),
        Obj::BigInt(_) => {
            return Err(PickleError::BadRecord {
                key: String::new(),
                expected: "integers that fit in 64 bits".to_owned(),
            });
        }
        Obj::Float(x) => Value::Float(*x),
        Obj::Str(s) => Value::Str(s.to_string()),
        Obj::Bytes(b) => Value::Bytes(b.to_vec()),
        Obj::Tuple(t) => Value::Tuple(seq(t)?),
        Obj::List(l) => Value::List(seq(&l.borrow())?),
        Obj::Dict(d) => Value::Dict(
            d.borrow()
                .iter()
                .map(|(k, v)| {
                    Ok((
                        to_value(k, limits, depth + 1, budget)?,
                        to_value(v, limits, depth + 1, budget)?,
                    ))
                })
                .collect::<Result<_, PickleError>>()?,
        ),
        Obj::Tensor(spec) => Value::Tensor(crate::torch::materialize(spec, limits)?),
        Obj::Global(_) | Obj::Storage(_) => {
            return Err(PickleError::BadRecord {
                key: String::new(),
                expected: "plain data, tensors and dicts (found a bare class or storage)"
                    .to_owned(),
            });
        }
    })
}
