//! Reading one file for `cargo xtask cycles`: its tokens (comments skipped, string literals
//! kept whole, for `#[path]`), the modules it declares and every path it names.

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    PathSep,
    Punct(char),
}

/// The tokens of Rust source with their line numbers; comments dropped, string and char
/// literals reduced to `Str` (lifetimes are skipped).
fn tokenize(src: &str) -> Vec<(Tok, usize)> {
    let c: Vec<char> = src.chars().collect();
    let (mut i, mut line, mut out) = (0, 1, Vec::new());
    let lines = |s: &[char]| s.iter().filter(|&&x| x == '\n').count();
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if c[i..].starts_with(&['/', '/']) {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if c[i..].starts_with(&['/', '*']) {
            let (start, mut depth) = (i, 0);
            while i < c.len() {
                if c[i..].starts_with(&['/', '*']) {
                    depth += 1;
                    i += 2;
                } else if c[i..].starts_with(&['*', '/']) {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            line += lines(&c[start..i.min(c.len())]);
        } else if ch == '"' || (matches!(ch, 'b' | 'c') && c.get(i + 1) == Some(&'"')) {
            let start = i;
            i += if ch == '"' { 1 } else { 2 };
            let body = i;
            while i < c.len() && c[i] != '"' {
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            let end = i.min(c.len());
            out.push((Tok::Str(c[body..end].iter().collect()), line));
            i += 1;
            line += lines(&c[start..i.min(c.len())]);
        } else if (ch == 'r' || (ch == 'b' && c.get(i + 1) == Some(&'r')))
            && matches!(c.get(i + 1 + usize::from(ch == 'b')), Some('"' | '#'))
        {
            // Raw string: r"…", r#"…"#, br"…".
            let start = i;
            i += 1 + usize::from(ch == 'b');
            let mut hashes = 0;
            while c.get(i) == Some(&'#') {
                hashes += 1;
                i += 1;
            }
            i += 1; // the opening quote
            let body = i;
            let closes = |j: usize| c[j] == '"' && (1..=hashes).all(|h| c.get(j + h) == Some(&'#'));
            while i < c.len() && !closes(i) {
                i += 1;
            }
            out.push((Tok::Str(c[body..i.min(c.len())].iter().collect()), line));
            i = (i + 1 + hashes).min(c.len());
            line += lines(&c[start..i]);
        } else if ch == '\'' {
            // A char literal ('x', '\n', '\u{1F600}') or a lifetime / label ('a).
            if c.get(i + 1) == Some(&'\\') {
                i += 2;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
                out.push((Tok::Str(String::new()), line));
            } else if c.get(i + 2) == Some(&'\'') {
                i += 3;
                out.push((Tok::Str(String::new()), line));
            } else {
                i += 1;
                while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                    i += 1;
                }
            }
        } else if ch.is_alphabetic() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            out.push((Tok::Ident(word.trim_start_matches("r#").to_string()), line));
            if word == "r" && c.get(i) == Some(&'#') {
                // r#ident
                out.pop();
                i += 1;
            }
        } else if ch.is_ascii_digit() {
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_' || c[i] == '.') {
                if c[i] == '.' && c.get(i + 1) == Some(&'.') {
                    break;
                }
                i += 1;
            }
        } else if c[i..].starts_with(&[':', ':']) {
            out.push((Tok::PathSep, line));
            i += 2;
        } else {
            out.push((Tok::Punct(ch), line));
            i += 1;
        }
    }
    out
}

/// A `use` declaration (one path of its tree) or a path in code.
#[derive(Clone, Debug)]
pub(super) struct Reference {
    /// The module the reference is written in (inline modules included).
    pub(super) scope: Vec<String>,
    pub(super) segments: Vec<String>,
    /// `use … as alias` / the last segment: the name it brings into `scope` (`None` for globs).
    pub(super) name: Option<String>,
    /// A `use` declaration (as opposed to a path in code).
    pub(super) is_use: bool,
    pub(super) line: usize,
}

/// What one file declares and names.
#[derive(Default, Debug)]
pub(super) struct FileScan {
    /// File-backed child modules: (module path, `#[path]` value).
    pub(super) children: Vec<(Vec<String>, Option<String>)>,
    /// Inline modules (`mod x { … }`), as full module paths.
    pub(super) inline: Vec<Vec<String>>,
    pub(super) refs: Vec<Reference>,
}

fn ident(t: Option<&(Tok, usize)>) -> Option<&str> {
    match t {
        Some((Tok::Ident(s), _)) => Some(s),
        _ => None,
    }
}

/// Scans one file whose module path is `module`.
pub(super) fn scan(src: &str, module: &[String]) -> FileScan {
    let toks = tokenize(src);
    let mut out = FileScan::default();
    // Inline modules open: (path, brace depth inside them).
    let mut scopes: Vec<(Vec<String>, usize)> = vec![(module.to_vec(), 0)];
    let (mut depth, mut pending_path, mut i) = (0usize, None::<String>, 0);
    let is = |i: usize, p: char| matches!(toks.get(i), Some((Tok::Punct(x), _)) if *x == p);
    while i < toks.len() {
        let scope = scopes.last().map(|s| s.0.clone()).unwrap_or_default();
        match &toks[i].0 {
            Tok::Punct('#') if is(i + 1, '[') && ident(toks.get(i + 2)) == Some("path") => {
                if let Some((Tok::Str(p), _)) = toks.get(i + 4) {
                    pending_path = Some(p.clone());
                }
                i += 5;
            }
            Tok::Punct('{') => {
                depth += 1;
                i += 1;
            }
            Tok::Punct('}') => {
                depth = depth.saturating_sub(1);
                if scopes.len() > 1 && scopes.last().is_some_and(|s| s.1 > depth) {
                    scopes.pop();
                }
                i += 1;
            }
            Tok::Ident(k) if k == "mod" => {
                let Some(name) = ident(toks.get(i + 1)) else {
                    i += 1;
                    continue;
                };
                let mut path = scope.clone();
                path.push(name.to_string());
                if is(i + 2, ';') {
                    out.children.push((path, pending_path.take()));
                } else if is(i + 2, '{') {
                    depth += 1;
                    out.inline.push(path.clone());
                    scopes.push((path, depth));
                    pending_path = None;
                }
                i += 3;
            }
            Tok::Ident(k) if k == "use" => {
                let line = toks[i].1;
                let mut j = i + 1;
                let mut paths = Vec::new();
                use_tree(&toks, &mut j, Vec::new(), &mut paths);
                for (segments, name) in paths {
                    out.refs.push(Reference {
                        scope: scope.clone(),
                        segments,
                        name,
                        is_use: true,
                        line,
                    });
                }
                i = j;
            }
            Tok::Ident(first) if i == 0 || toks[i - 1].0 != Tok::PathSep => {
                let (line, mut segments, mut j) = (toks[i].1, vec![first.clone()], i + 1);
                while toks.get(j).map(|t| &t.0) == Some(&Tok::PathSep) {
                    let Some(s) = ident(toks.get(j + 1)) else {
                        break;
                    };
                    segments.push(s.to_string());
                    j += 2;
                }
                if segments.len() > 1 {
                    out.refs.push(Reference {
                        scope: scope.clone(),
                        segments,
                        name: None,
                        is_use: false,
                        line,
                    });
                }
                i = j;
            }
            Tok::Punct(';') => {
                pending_path = None;
                i += 1;
            }
            _ => i += 1,
        }
    }
    out
}

/// Parses a use tree at `*j` (after `use` or inside braces), appending every full path with
/// the name it binds; stops after the tree (at `,`, `}` or past `;`).
fn use_tree(
    toks: &[(Tok, usize)],
    j: &mut usize,
    mut prefix: Vec<String>,
    out: &mut Vec<(Vec<String>, Option<String>)>,
) {
    loop {
        match toks.get(*j).map(|t| &t.0) {
            Some(Tok::Ident(s)) if s == "as" => {
                let alias = ident(toks.get(*j + 1)).map(str::to_string);
                *j += 2;
                out.push((prefix.clone(), alias));
                prefix.clear();
            }
            Some(Tok::Ident(s)) => {
                prefix.push(s.clone());
                *j += 1;
            }
            Some(Tok::PathSep) => *j += 1,
            Some(Tok::Punct('*')) => {
                *j += 1;
                out.push((prefix.clone(), None));
                prefix.clear();
            }
            Some(Tok::Punct('{')) => {
                *j += 1;
                loop {
                    use_tree(toks, j, prefix.clone(), out);
                    match toks.get(*j).map(|t| &t.0) {
                        Some(Tok::Punct(',')) => *j += 1,
                        Some(Tok::Punct('}')) => {
                            *j += 1;
                            break;
                        }
                        _ => break,
                    }
                }
                prefix.clear();
            }
            Some(Tok::Punct(',' | '}')) | None => break,
            Some(Tok::Punct(';')) => {
                *j += 1;
                break;
            }
            Some(_) => *j += 1,
        }
        if matches!(
            toks.get(*j).map(|t| &t.0),
            Some(Tok::Punct(',' | '}' | ';')) | None
        ) && !prefix.is_empty()
        {
            let name = prefix.last().cloned().filter(|n| n != "self");
            let mut path = prefix.clone();
            if path.last().is_some_and(|s| s == "self") {
                path.pop();
            }
            out.push((path, name));
            prefix.clear();
        }
    }
}
