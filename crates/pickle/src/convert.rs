//! The machine's objects turned into plain [`Value`]s, tensors materialised, without recursion.

use crate::PickleError;
use crate::obj::{Ctx, Obj};
use crate::value::Value;

/// What is still to do: visit an object at a depth, or assemble a container from the last
/// values produced.
enum Task {
    Visit(Obj, usize),
    Tuple(usize),
    List(usize),
    Dict(usize),
}

fn limit(what: &'static str, value: u64, limit: u64) -> PickleError {
    PickleError::LimitExceeded {
        context: "pickle",
        what,
        value,
        limit,
    }
}

/// Converts a machine object into a plain value, materialising tensors, with an explicit work
/// stack (no recursion). Size-limited by [`Limits::max_values`](crate::Limits::max_values) and
/// [`Limits::max_value_bytes`](crate::Limits::max_value_bytes): a pickle may reference one object
/// many times through the memo (Python shares it); the tree copies it, so without these a few
/// hundred bytes of nested references would expand exponentially ("billion laughs"). A tensor
/// counts at its materialised size (a stride-0 view of one element counts every element it
/// shows), checked before anything is allocated. Depth is bounded when containers are built
/// ([`crate::obj`]) and checked again here.
pub(crate) fn to_value(root: &Obj, ctx: &Ctx<'_>) -> Result<Value, PickleError> {
    let limits = ctx.limits;
    let max_depth = ctx.max_depth();
    let (mut values, mut bytes) = (limits.max_values, limits.max_value_bytes);
    let mut tasks = vec![Task::Visit(root.clone(), 0)];
    let mut out: Vec<Value> = Vec::new();
    while let Some(task) = tasks.pop() {
        let (o, depth) = match task {
            Task::Visit(o, depth) => (o, depth),
            Task::Tuple(n) => {
                let items = out.split_off(out.len() - n);
                out.push(Value::Tuple(items));
                continue;
            }
            Task::List(n) => {
                let items = out.split_off(out.len() - n);
                out.push(Value::List(items));
                continue;
            }
            Task::Dict(n) => {
                let mut flat = out.split_off(out.len() - 2 * n).into_iter();
                let mut pairs = Vec::with_capacity(n);
                while let (Some(k), Some(v)) = (flat.next(), flat.next()) {
                    pairs.push((k, v));
                }
                out.push(Value::Dict(pairs));
                continue;
            }
        };
        if depth > max_depth {
            return Err(limit("nesting depth", depth as u64, max_depth as u64));
        }
        if values == 0 {
            return Err(limit(
                "objects in the decoded value (shared objects counted at each reference)",
                limits.max_values + 1,
                limits.max_values,
            ));
        }
        values -= 1;
        let payload = match &o {
            Obj::Str(s) => s.len() as u64,
            Obj::Bytes(b) => b.len() as u64,
            Obj::Tensor(spec) => spec
                .size
                .iter()
                .try_fold(spec.storage.dtype.size() as u64, |a, &d| a.checked_mul(d))
                .unwrap_or(u64::MAX),
            _ => 0,
        };
        if payload > bytes {
            return Err(limit(
                "bytes in the decoded value (shared objects counted at each reference, tensors at their materialised size)",
                (limits.max_value_bytes - bytes).saturating_add(payload),
                limits.max_value_bytes,
            ));
        }
        bytes -= payload;
        let v = match &o {
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
            Obj::Tuple(n) | Obj::List(n) | Obj::Dict(n) => {
                let items = n.items.borrow();
                tasks.push(match &o {
                    Obj::Tuple(_) => Task::Tuple(items.len()),
                    Obj::List(_) => Task::List(items.len()),
                    _ => Task::Dict(items.len() / 2),
                });
                tasks.extend(
                    items
                        .iter()
                        .rev()
                        .map(|x| Task::Visit(x.clone(), depth + 1)),
                );
                continue;
            }
            Obj::Tensor(spec) => Value::Tensor(crate::torch::materialize(spec, limits)?),
            Obj::Global(_) | Obj::Storage(_) => {
                return Err(PickleError::BadRecord {
                    key: String::new(),
                    expected: "plain data, tensors and dicts (found a bare class or storage)"
                        .to_owned(),
                });
            }
        };
        out.push(v);
    }
    Ok(out.pop().unwrap_or(Value::None))
}
