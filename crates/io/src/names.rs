//! File names as errors and reports show them: every byte visible, nothing that could forge a
//! line or move the terminal's cursor.

use std::path::Path;

/// A path as error messages and reports show it: UTF-8 text as is, control characters and
/// newlines escaped (`\n`, `\t`, `\x1b`, `\u{85}`) so that a name cannot forge a line or a
/// terminal sequence, and bytes that are not UTF-8 as `\xNN`.
pub fn escape_path(path: &Path) -> String {
    let mut out = String::new();
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        for chunk in path.as_os_str().as_bytes().utf8_chunks() {
            push_escaped(&mut out, chunk.valid());
            for b in chunk.invalid() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        }
    }
    #[cfg(not(unix))]
    push_escaped(&mut out, &path.to_string_lossy());
    out
}

fn push_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() && c.is_ascii() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
}
