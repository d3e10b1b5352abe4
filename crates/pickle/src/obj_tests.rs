//! Unit tests of the object model.

use super::*;

fn at() -> At {
    At {
        context: "test",
        offset: 0,
        opcode: "SETITEM",
    }
}

#[test]
fn python_key_equality() {
    // Python: d = {}; d[1] = 'a'; d[True] = 'b'; d[1.0] = 'c'; d['1'] = 'd'; d[b'1'] = 'e'
    // gives {1: 'c', '1': 'd', b'1': 'e'}; d[float('nan')] twice adds two entries.
    let limits = Limits::default();
    let ctx = Ctx::new(&limits);
    let d = ctx.new_dict();
    let s = |x: &str| Obj::Str(Rc::from(x));
    for (k, v) in [
        (Obj::Int(1), "a"),
        (Obj::Bool(true), "b"),
        (Obj::Float(1.0), "c"),
        (s("1"), "d"),
        (Obj::Bytes(Rc::from(&b"1"[..])), "e"),
        (Obj::Float(f64::NAN), "f"),
        (Obj::Float(f64::NAN), "g"),
        (Obj::Float(-0.0), "h"),
        (Obj::Int(0), "i"),
    ] {
        ctx.set_item(&d, k, s(v), at()).expect("hashable");
    }
    let Obj::Dict(n) = &d else { unreachable!() };
    let items = n.items.borrow();
    let got: Vec<String> = items.iter().map(|o| format!("{o:?}")).collect();
    assert_eq!(items.len(), 12, "{got:?}");
    assert!(matches!(items[0], Obj::Int(1)));
    assert!(matches!(&items[1], Obj::Str(v) if &**v == "c"));
    assert!(matches!(&items[11], Obj::Str(v) if &**v == "i"));
    let list = ctx.new_seq(true, vec![], at()).expect("list");
    let err = ctx
        .set_item(&d, list, Obj::None, at())
        .expect_err("unhashable");
    assert!(err.to_string().contains("unhashable key (a list)"), "{err}");
}

#[test]
fn long_bytes_are_normalised() {
    // 5 written in 9 bytes, -1 in 9 bytes, 2^63 in 9 bytes (Python int.to_bytes, signed).
    assert!(matches!(
        long_from_bytes(&[5, 0, 0, 0, 0, 0, 0, 0, 0]),
        Obj::Int(5)
    ));
    assert!(matches!(long_from_bytes(&[0xff; 9]), Obj::Int(-1)));
    let big = [0, 0, 0, 0, 0, 0, 0, 0x80, 0];
    assert!(matches!(long_from_bytes(&big), Obj::BigInt(b) if b.len() == 9));
}

#[test]
fn a_million_deep_chain_drops_on_a_small_stack() {
    // Built directly (the machine would refuse it at depth 101): dropping it must not recurse.
    std::thread::Builder::new()
        .stack_size(128 * 1024)
        .spawn(|| {
            let mut o = Obj::None;
            for i in 0..1_000_000 {
                let n = Node::empty();
                n.items.borrow_mut().push(o);
                o = if i % 3 == 0 {
                    Obj::Tuple(n)
                } else if i % 3 == 1 {
                    Obj::List(n)
                } else {
                    n.items.borrow_mut().insert(0, Obj::Int(i));
                    Obj::Dict(n)
                };
            }
            assert_eq!(format!("{o:?}"), "tuple(len 1, height 1)");
            drop(o);
        })
        .expect("spawn")
        .join()
        .expect("no stack overflow");
}
