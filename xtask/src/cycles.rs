//! `cargo xtask cycles`: fails if the files of a crate import each other in a cycle.
//!
//! Every crate root of the workspace (`crates/*/src/{lib,main}.rs`, `src/bin/*.rs`, `xtask`,
//! `benches`) is read with the files its `mod` declarations name (`#[path]` included). Each file
//! is a node; a file has an edge to another file of the same crate when it names one of its
//! items: a `use` tree, or a path in code, starting with `crate::`, `super::`, `self::` or a
//! child module's name. Paths are resolved to the deepest file module they reach, through the
//! `use` declarations of that module (so `crate::quantize`, re-exported by `lib.rs`, points to
//! the file defining it). Code inside inline modules (`mod tests { … }`) belongs to its file;
//! comments and string literals are skipped.
//!
//! A module and the modules inside it are one unit: an import between a module and one of its
//! ancestors (a parent declaring `mod child`, using or re-exporting its items, a child using
//! `super::` items) is not an edge, and an import from `a/x.rs` of `b.rs` is an edge between
//! the siblings `a` and `b`. A cycle is a strongly connected component of more than one module
//! (Tarjan); each is reported with its files and one import per edge of a shortest cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::Args;

use scan::{FileScan, Reference, scan};

mod scan;

/// Which tree to check.
#[derive(Args, Debug)]
pub(crate) struct CyclesArgs {
    /// Workspace root (default: the one this xtask belongs to).
    #[arg(long)]
    root: Option<PathBuf>,
}

pub(crate) fn run(args: &CyclesArgs) -> Result<()> {
    let root = args
        .root
        .clone()
        .unwrap_or_else(crate::util::workspace_root);
    let read = |p: &Path| std::fs::read_to_string(p).ok();
    let (mut files, mut edges, mut problems) = (0, 0, Vec::new());
    for crate_root in crate_roots(&root) {
        let graph = Graph::load(&crate_root, &read);
        files += graph.files.len();
        edges += graph.edges.len();
        for cycle in graph.cycles() {
            problems.push(graph.describe(&cycle, &root));
        }
    }
    if !problems.is_empty() {
        bail!(
            "{} file-level import cycle(s):\n{}",
            problems.len(),
            problems.join("\n")
        );
    }
    println!("no file-level import cycles ({files} files, {edges} import edges)");
    Ok(())
}

/// The crate roots under `root`: `lib.rs`, `main.rs` and `bin/*.rs` of every `crates/*/src`,
/// `xtask/src` and `benches/src`.
fn crate_roots(root: &Path) -> Vec<PathBuf> {
    let mut packages: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    packages.push(root.join("xtask"));
    packages.push(root.join("benches"));
    packages.sort();
    let mut roots = Vec::new();
    for p in packages {
        let src = p.join("src");
        roots.extend(
            ["lib.rs", "main.rs"]
                .iter()
                .map(|f| src.join(f))
                .filter(|f| f.is_file()),
        );
        let mut bins: Vec<PathBuf> = std::fs::read_dir(src.join("bin"))
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        bins.retain(|b| b.extension().is_some_and(|e| e == "rs"));
        bins.sort();
        roots.extend(bins);
    }
    roots
}

/// The files of one crate and the import edges between sibling modules.
struct Graph {
    /// File path and module path of every file.
    files: Vec<(PathBuf, Vec<String>)>,
    /// `(from, to) -> (file, line, path as written)` of the first import found, between the
    /// files of two sibling modules.
    edges: BTreeMap<(usize, usize), (usize, usize, String)>,
}

impl Graph {
    /// Reads the crate rooted at `root` through `read` (a file's text, `None` if missing).
    fn load(root: &Path, read: &dyn Fn(&Path) -> Option<String>) -> Graph {
        let mut files: Vec<(PathBuf, Vec<String>)> = Vec::new();
        let mut scans: Vec<FileScan> = Vec::new();
        let mut queue = vec![(root.to_path_buf(), Vec::new())];
        while let Some((file, module)) = queue.pop() {
            if files.iter().any(|f| f.0 == file) {
                continue;
            }
            let Some(src) = read(&file) else { continue };
            let s = scan(&src, &module);
            let dir = file.parent().unwrap_or(Path::new("")).to_path_buf();
            let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            let own = if module.is_empty() || stem == "mod" {
                dir.clone()
            } else {
                dir.join(stem)
            };
            for (child, path) in &s.children {
                let rel: PathBuf = child[module.len()..].iter().collect();
                let candidates = match path {
                    Some(p) => vec![dir.join(p)],
                    None => vec![
                        own.join(&rel).with_extension("rs"),
                        own.join(&rel).join("mod.rs"),
                    ],
                };
                if let Some(f) = candidates.into_iter().find(|f| read(f).is_some()) {
                    queue.push((f, child.clone()));
                }
            }
            files.push((file, module));
            scans.push(s);
        }
        // Files in path order, so that reports are stable.
        let mut both: Vec<_> = files.into_iter().zip(scans).collect();
        both.sort_by(|x, y| x.0.0.cmp(&y.0.0));
        let (files, scans): (Vec<_>, Vec<_>) = both.into_iter().unzip();
        // Module path -> file index, inline modules mapping to their file.
        let mut modules: BTreeMap<Vec<String>, usize> = BTreeMap::new();
        for (k, (_, m)) in files.iter().enumerate() {
            modules.insert(m.clone(), k);
            for inline in &scans[k].inline {
                modules.entry(inline.clone()).or_insert(k);
            }
        }
        // Names each module binds with `use`: module -> name -> absolute path.
        let mut bound: BTreeMap<Vec<String>, BTreeMap<String, Vec<String>>> = BTreeMap::new();
        for s in &scans {
            for r in s.refs.iter().filter(|r| r.is_use) {
                if let (Some(name), Some(abs)) = (&r.name, absolute(r, &modules)) {
                    bound
                        .entry(r.scope.clone())
                        .or_default()
                        .insert(name.clone(), abs);
                }
            }
        }
        let file_of: BTreeMap<&[String], usize> = files
            .iter()
            .enumerate()
            .map(|(k, f)| (f.1.as_slice(), k))
            .collect();
        let mut edges = BTreeMap::new();
        for (k, s) in scans.iter().enumerate() {
            for r in &s.refs {
                let Some(abs) = absolute(r, &modules) else {
                    continue;
                };
                let Some(target) = resolve(&abs, &modules, &bound) else {
                    continue;
                };
                // Lifted to the two siblings under the modules' deepest common ancestor; none
                // when one module contains the other.
                let (u, v) = (&files[k].1, &files[target].1);
                let c = u.iter().zip(v).take_while(|(a, b)| a == b).count();
                if c == u.len() || c == v.len() {
                    continue;
                }
                if let (Some(&a), Some(&b)) = (file_of.get(&u[..=c]), file_of.get(&v[..=c])) {
                    edges
                        .entry((a, b))
                        .or_insert_with(|| (k, r.line, r.segments.join("::")));
                }
            }
        }
        Graph { files, edges }
    }

    /// The strongly connected components of more than one module, each with a cycle.
    fn cycles(&self) -> Vec<(Vec<usize>, Vec<usize>)> {
        let n = self.files.len();
        let mut adj = vec![Vec::new(); n];
        for &(a, b) in self.edges.keys() {
            adj[a].push(b);
        }
        find_cycles(&adj)
    }

    /// The files of a component and a shortest cycle through its first file, one import per
    /// edge (`file:line: path`).
    fn describe(&self, (members, cycle): &(Vec<usize>, Vec<usize>), root: &Path) -> String {
        let name = |k: usize| {
            let f = &self.files[k].0;
            f.strip_prefix(root).unwrap_or(f).display().to_string()
        };
        let all: Vec<String> = members.iter().map(|&k| name(k)).collect();
        let mut s = format!("- between {}:\n", all.join(", "));
        for (i, &a) in cycle.iter().enumerate() {
            let b = cycle[(i + 1) % cycle.len()];
            if let Some((file, line, path)) = self.edges.get(&(a, b)) {
                s.push_str(&format!(
                    "    {} imports {} ({}:{line}: {path})\n",
                    name(a),
                    name(b),
                    name(*file)
                ));
            }
        }
        s
    }
}

/// The absolute module path a reference names, or `None` for another crate's or a local name.
fn absolute(r: &Reference, modules: &BTreeMap<Vec<String>, usize>) -> Option<Vec<String>> {
    let mut segs = r.segments.iter().peekable();
    let mut base = match segs.peek()?.as_str() {
        "crate" => {
            segs.next();
            Vec::new()
        }
        "self" => {
            segs.next();
            r.scope.clone()
        }
        "super" => {
            let mut b = r.scope.clone();
            while segs.peek().is_some_and(|s| *s == "super") {
                segs.next();
                b.pop()?;
            }
            b
        }
        first => {
            let mut child = r.scope.clone();
            child.push(first.to_string());
            if !modules.contains_key(&child) {
                return None;
            }
            r.scope.clone()
        }
    };
    base.extend(segs.cloned());
    Some(base)
}

/// The file a path points into: its deepest module prefix, followed through the `use`
/// declarations of that module for the next segment (at most 16 times).
fn resolve(
    path: &[String],
    modules: &BTreeMap<Vec<String>, usize>,
    bound: &BTreeMap<Vec<String>, BTreeMap<String, Vec<String>>>,
) -> Option<usize> {
    let mut path = path.to_vec();
    for _ in 0..16 {
        let n = (0..=path.len())
            .rev()
            .find(|&n| modules.contains_key(&path[..n]))?;
        let via = path
            .get(n)
            .and_then(|next| bound.get(&path[..n]).and_then(|b| b.get(next)));
        match via {
            Some(abs) if abs.as_slice() != &path[..=n] => {
                let mut p = abs.clone();
                p.extend(path[n + 1..].iter().cloned());
                path = p;
            }
            _ => return modules.get(&path[..n]).copied(),
        }
    }
    None
}

/// Tarjan's strongly connected components of the graph `adj`: every component of more than
/// one node (sorted), with a shortest cycle from its smallest node.
fn find_cycles(adj: &[Vec<usize>]) -> Vec<(Vec<usize>, Vec<usize>)> {
    struct T<'a> {
        adj: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(t: &mut T<'_>, v: usize) {
        t.index[v] = Some(t.next);
        t.low[v] = t.next;
        t.next += 1;
        t.stack.push(v);
        t.on[v] = true;
        for &w in &t.adj[v] {
            match t.index[w] {
                None => {
                    visit(t, w);
                    t.low[v] = t.low[v].min(t.low[w]);
                }
                Some(iw) if t.on[w] => t.low[v] = t.low[v].min(iw),
                _ => {}
            }
        }
        if Some(t.low[v]) == t.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on[w] = false;
                comp.push(w);
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                t.out.push(comp);
            }
        }
    }
    let n = adj.len();
    let mut t = T {
        adj,
        index: vec![None; n],
        low: vec![0; n],
        on: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if t.index[v].is_none() {
            visit(&mut t, v);
        }
    }
    // A shortest cycle inside each component, from its smallest node (breadth-first).
    t.out
        .iter()
        .map(|comp| {
            let set: BTreeSet<usize> = comp.iter().copied().collect();
            let members: Vec<usize> = set.iter().copied().collect();
            let start = *comp.iter().min().unwrap_or(&0);
            let mut prev = vec![usize::MAX; n];
            let mut queue = std::collections::VecDeque::from([start]);
            let mut end = start;
            'bfs: while let Some(v) = queue.pop_front() {
                for &w in &adj[v] {
                    if w == start {
                        end = v;
                        break 'bfs;
                    }
                    if set.contains(&w) && prev[w] == usize::MAX {
                        prev[w] = v;
                        queue.push_back(w);
                    }
                }
            }
            let mut cycle = vec![end];
            while *cycle.last().unwrap_or(&start) != start {
                let p = prev[*cycle.last().unwrap_or(&start)];
                cycle.push(p);
            }
            cycle.reverse();
            (members, cycle)
        })
        .collect()
}

#[cfg(test)]
mod tests;
