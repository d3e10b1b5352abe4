//! Tests of `cargo xtask cycles` on tiny synthetic crates.

use super::*;

/// The cycles of a crate given as (path, text) files, rooted at `src/lib.rs`.
fn cycles_of(files: &[(&str, &str)]) -> Vec<String> {
    let files: BTreeMap<PathBuf, String> = files
        .iter()
        .map(|(p, t)| (PathBuf::from(p), t.to_string()))
        .collect();
    let read = |p: &Path| files.get(p).cloned();
    let graph = Graph::load(Path::new("src/lib.rs"), &read);
    assert_eq!(graph.files.len(), files.len(), "every file is reached");
    graph
        .cycles()
        .iter()
        .map(|c| graph.describe(c, Path::new("")))
        .collect()
}

#[test]
fn tarjan_finds_cycles_and_only_them() {
    assert_eq!(
        find_cycles(&[vec![1], vec![0]]),
        vec![(vec![0, 1], vec![0, 1])]
    );
    let (members, cycle) = &find_cycles(&[vec![1], vec![2], vec![0, 3], vec![]])[0];
    assert_eq!(
        (members.as_slice(), cycle.as_slice()),
        (&[0, 1, 2][..], &[0, 1, 2][..])
    );
    assert!(find_cycles(&[vec![1], vec![2], vec![]]).is_empty());
    assert!(
        find_cycles(&[vec![0], vec![0]]).is_empty(),
        "a self-loop is no cycle"
    );
}

#[test]
fn two_siblings_importing_each_other_fail_with_the_imports_named() {
    let found = cycles_of(&[
        ("src/lib.rs", "mod a;\nmod b;\n"),
        ("src/a.rs", "use crate::b::X;\npub fn g() {}\n"),
        (
            "src/b.rs",
            "pub struct X;\nfn f() {\n    super::a::g();\n}\n",
        ),
    ]);
    assert_eq!(
        found,
        ["- between src/a.rs, src/b.rs:\n    \
          src/a.rs imports src/b.rs (src/a.rs:1: crate::b::X)\n    \
          src/b.rs imports src/a.rs (src/b.rs:3: super::a::g)\n"]
    );
}

#[test]
fn parents_children_comments_strings_and_tests_are_no_edges() {
    let found = cycles_of(&[
        (
            "src/lib.rs",
            "mod a;\nmod b;\npub use a::Y;\npub struct Limits;\nfn f() { b::inner::h() }\n",
        ),
        (
            "src/a.rs",
            "use crate::Limits;\npub struct Y;\n// crate::b::Z\n/* crate::b::Z */\n\
             const S: &str = \"crate::b::Z\";\nconst R: &str = r#\"crate::b::Z\"#;\n\
             #[cfg(test)]\n#[path = \"a_tests.rs\"]\nmod tests;\n",
        ),
        ("src/a_tests.rs", "use super::*;\nuse crate::a::Y;\n"),
        (
            "src/b.rs",
            "use crate::{Limits, a::Y as Why};\npub struct Z<'a>(&'a str);\nmod inner;\n\
             fn c() -> char { '{' }\nmod tests { use super::*; fn t() { inner::h() } }\n",
        ),
        (
            "src/b/inner.rs",
            "use super::super::a::Y;\nuse super::Z;\npub fn h() {}\n",
        ),
    ]);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn re_exports_and_nested_modules_are_followed() {
    // `crate::Y` is `a`'s item re-exported by lib.rs; `b/inner.rs` belongs to `b`.
    let found = cycles_of(&[
        ("src/lib.rs", "mod a;\nmod b;\npub use a::Y;\n"),
        (
            "src/a.rs",
            "pub struct Y;\nfn g() { crate::b::inner::h(); }\n",
        ),
        ("src/b.rs", "mod inner;\n"),
        ("src/b/inner.rs", "use crate::Y;\npub fn h() {}\n"),
    ]);
    assert_eq!(
        found,
        ["- between src/a.rs, src/b.rs:\n    \
          src/a.rs imports src/b.rs (src/a.rs:2: crate::b::inner::h)\n    \
          src/b.rs imports src/a.rs (src/b/inner.rs:1: crate::Y)\n"]
    );
}
