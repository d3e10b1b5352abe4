//! A pickle machine that only builds data: opcode decoding.
//!
//! It implements the opcodes of protocols 2 to 5 that plain data, tensors and our writer use.
//! `GLOBAL` / `STACK_GLOBAL` resolve names against a fixed allow-list of constructors
//! ([`Known`](crate::obj::Known)); `REDUCE` applies those as pure data constructors
//! ([`crate::reduce`]). Any other global is refused with its name before anything else happens,
//! so a pickle can never make this reader run code, open files or allocate more than its
//! [`Limits`](crate::Limits) allow. Objects and their depth bookkeeping live in [`crate::obj`].
//! Every opcode costs time proportional to the bytes it reads or the items it moves, so a run is
//! linear in the input.

use std::collections::HashMap;

use crate::PickleError;
use crate::obj::{At, Ctx, Obj, long_from_bytes, resolve};
use crate::reduce::{Cache, Host};
use std::rc::Rc;

pub(crate) struct Machine<'a, H: Host> {
    data: &'a [u8],
    pos: usize,
    context: &'static str,
    ctx: &'a Ctx<'a>,
    stack: Vec<Obj>,
    marks: Vec<usize>,
    memo: HashMap<u32, Obj>,
    containers: u64,
    cache: Cache,
    host: &'a mut H,
}

fn opcode_name(op: u8) -> &'static str {
    match op {
        b']' => "EMPTY_LIST",
        b')' => "EMPTY_TUPLE",
        b'l' => "LIST",
        b't' => "TUPLE",
        0x85 => "TUPLE1",
        0x86 => "TUPLE2",
        0x87 => "TUPLE3",
        b'd' => "DICT",
        b's' => "SETITEM",
        b'u' => "SETITEMS",
        b'a' => "APPEND",
        b'e' => "APPENDS",
        b'R' => "REDUCE",
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
        ctx: &'a Ctx<'a>,
        host: &'a mut H,
    ) -> Self {
        Machine {
            data,
            pos: 0,
            context,
            ctx,
            stack: Vec::new(),
            marks: Vec::new(),
            memo: HashMap::new(),
            containers: 0,
            cache: Cache::default(),
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
        let limit = self.ctx.limits.max_bytes_object;
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
        if self.stack.len() >= self.ctx.limits.max_stack {
            return Err(PickleError::LimitExceeded {
                context: self.context,
                what: "stack depth",
                value: self.stack.len() as u64 + 1,
                limit: self.ctx.limits.max_stack as u64,
            });
        }
        self.stack.push(o);
        Ok(())
    }

    fn new_container(&mut self) -> Result<(), PickleError> {
        self.containers += 1;
        if self.containers > self.ctx.limits.max_containers {
            return Err(PickleError::LimitExceeded {
                context: self.context,
                what: "number of containers",
                value: self.containers,
                limit: self.ctx.limits.max_containers,
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
        if self.memo.len() >= self.ctx.limits.max_memo && !self.memo.contains_key(&key) {
            return Err(PickleError::LimitExceeded {
                context: self.context,
                what: "memo size",
                value: self.memo.len() as u64 + 1,
                limit: self.ctx.limits.max_memo as u64,
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

    fn at(&self, offset: usize, op: u8) -> At {
        At {
            context: self.context,
            offset,
            opcode: opcode_name(op),
        }
    }

    fn set_items(&mut self, dict: &Obj, items: Vec<Obj>, at: At) -> Result<(), PickleError> {
        if items.len() % 2 != 0 {
            return Err(at.malformed("SETITEMS with an odd number of items"));
        }
        let mut it = items.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            self.ctx.set_item(dict, k, v, at)?;
        }
        Ok(())
    }

    fn append(&mut self, list: &Obj, items: Vec<Obj>, at: At) -> Result<(), PickleError> {
        for item in items {
            self.ctx.append(list, item, at)?;
        }
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
                    if self.marks.len() >= self.ctx.limits.max_stack {
                        return Err(PickleError::LimitExceeded {
                            context: self.context,
                            what: "marks",
                            value: self.marks.len() as u64 + 1,
                            limit: self.ctx.limits.max_stack as u64,
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
                    let d = self.ctx.new_dict();
                    self.push(d)?;
                }
                b']' | b')' => {
                    self.new_container()?;
                    let o = self.ctx.new_seq(op == b']', Vec::new(), self.at(at, op))?;
                    self.push(o)?;
                }
                b'd' => {
                    let items = self.pop_mark(at)?;
                    self.new_container()?;
                    let d = self.ctx.new_dict();
                    self.set_items(&d, items, self.at(at, op))?;
                    self.push(d)?;
                }
                b'l' | b't' => {
                    let items = self.pop_mark(at)?;
                    self.new_container()?;
                    let o = self.ctx.new_seq(op == b'l', items, self.at(at, op))?;
                    self.push(o)?;
                }
                0x85..=0x87 => {
                    let n = usize::from(op - 0x84);
                    let mut items = Vec::with_capacity(n);
                    for _ in 0..n {
                        items.push(self.pop(at)?);
                    }
                    items.reverse();
                    self.new_container()?;
                    let o = self.ctx.new_seq(false, items, self.at(at, op))?;
                    self.push(o)?;
                }
                b's' => {
                    let v = self.pop(at)?;
                    let k = self.pop(at)?;
                    let d = self.top(at)?.clone();
                    self.set_items(&d, vec![k, v], self.at(at, op))?;
                }
                b'u' => {
                    let items = self.pop_mark(at)?;
                    let d = self.top(at)?.clone();
                    self.set_items(&d, items, self.at(at, op))?;
                }
                b'a' => {
                    let v = self.pop(at)?;
                    let l = self.top(at)?.clone();
                    self.append(&l, vec![v], self.at(at, op))?;
                }
                b'e' => {
                    let items = self.pop_mark(at)?;
                    let l = self.top(at)?.clone();
                    self.append(&l, items, self.at(at, op))?;
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
                    if matches!(f, Obj::Global(crate::obj::Known::OrderedDict)) {
                        self.new_container()?;
                    }
                    let at = self.at(at, op);
                    let v = crate::reduce::apply(
                        self.ctx,
                        &mut *self.host,
                        &mut self.cache,
                        f,
                        args,
                        at,
                    )?;
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
}
