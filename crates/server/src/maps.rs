//! The confidence-map archive of a submission: a flat POSIX tar (ustar) of heatmap files named
//! `<cxr_id>_<task>_map.pkl` (or `.pt`, or `.npy` with its `_map.json` sidecar), as
//! [`pack_map_dir`] writes it. Reading it
//! never uses a path from the archive: an entry's name must be a plain heatmap file name (no
//! `/`, no `..`), only regular files are accepted (no links, no devices), and the entry count
//! and sizes are limited; the scorer writes each entry under that checked name in a folder of
//! its own.

use std::collections::BTreeSet;
use std::path::Path;

use chexlocalize_io::HEATMAP_SUFFIXES;

use crate::error::ServerError;

const BLOCK: usize = 512;
/// Most entries an archive may have (668 CXRs × 10 tasks is 6 680).
pub const MAX_MAP_ENTRIES: usize = 100_000;
const MAX_NAME: usize = 99;

fn octal(field: &mut [u8], value: u64) {
    let width = field.len() - 1;
    let s = format!("{value:0width$o}");
    field[..width].copy_from_slice(&s.as_bytes()[s.len() - width..]);
    field[width] = 0;
}

fn header(name: &str, size: u64) -> [u8; BLOCK] {
    let mut h = [0u8; BLOCK];
    h[..name.len()].copy_from_slice(name.as_bytes());
    octal(&mut h[100..108], 0o644);
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], size);
    octal(&mut h[136..148], 0);
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].fill(b' ');
    let sum: u64 = h.iter().map(|b| u64::from(*b)).sum();
    octal(&mut h[148..155], sum);
    h[155] = b' ';
    h
}

/// Checks an entry name: a plain heatmap file name.
pub fn check_map_name(name: &str) -> Result<(), String> {
    let plain = !name.is_empty()
        && name.len() <= MAX_NAME
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
        && !name.chars().any(char::is_control);
    if !plain {
        return Err(format!(
            "map archive entry {name:?}: expected a plain file name of at most {MAX_NAME} bytes"
        ));
    }
    if !HEATMAP_SUFFIXES.iter().any(|s| name.ends_with(s)) && !name.ends_with("_map.json") {
        return Err(format!(
            "map archive entry {name:?}: expected <cxr_id>_<task>_map.pkl (or .pt, .npy, \
             and a .npy's _map.json sidecar)"
        ));
    }
    chexlocalize_io::parse_heatmap_name(Path::new(name))
        .map(|_| ())
        .map_err(|e| format!("map archive entry {name:?}: {e}"))
}

/// Packs heatmap files (`(file name, bytes)`) into the archive.
pub fn pack_maps(files: &[(String, Vec<u8>)]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for (name, bytes) in files {
        check_map_name(name)?;
        if !seen.insert(name.as_str()) {
            return Err(format!("map archive: two files named {name:?}"));
        }
        out.extend_from_slice(&header(name, bytes.len() as u64));
        out.extend_from_slice(bytes);
        out.resize(out.len().div_ceil(BLOCK) * BLOCK, 0);
    }
    out.resize(out.len() + 2 * BLOCK, 0);
    Ok(out)
}

/// Packs every heatmap file under `dir` (searched recursively, as the CLI's commands find
/// them) under its file name: what `chexlocalize submit --map-dir` uploads.
pub fn pack_map_dir(dir: &Path) -> Result<Vec<u8>, ServerError> {
    let io = |message: String| ServerError::Config {
        path: dir.to_path_buf(),
        message,
    };
    let found = chexlocalize_io::list_heatmaps(dir).map_err(|e| io(e.to_string()))?;
    let mut files = Vec::with_capacity(found.len());
    for f in found {
        let name = f
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| io(format!("{}: expected a UTF-8 file name", f.path.display())))?
            .to_string();
        let read = |p: &Path| {
            std::fs::read(p).map_err(|source| ServerError::Io {
                path: p.to_path_buf(),
                source,
            })
        };
        if name.ends_with(".npy") {
            let side = chexlocalize_io::npy_sidecar_path(&f.path);
            if side.is_file() {
                files.push((name.replace("_map.npy", "_map.json"), read(&side)?));
            }
        }
        files.push((name, read(&f.path)?));
    }
    pack_maps(&files).map_err(io)
}

fn parse_octal(field: &[u8], what: &str) -> Result<u64, String> {
    let s: Vec<u8> = field
        .iter()
        .copied()
        .take_while(|b| *b != 0)
        .filter(|b| *b != b' ')
        .collect();
    let s = std::str::from_utf8(&s).map_err(|_| format!("map archive: bad {what}"))?;
    if s.is_empty() {
        return Ok(0);
    }
    u64::from_str_radix(s, 8).map_err(|_| format!("map archive: bad {what} {s:?}"))
}

/// Reads the archive: `(checked file name, bytes)` per regular file, at most
/// [`MAX_MAP_ENTRIES`], each at most `max_entry_bytes`.
pub fn unpack_maps(bytes: &[u8], max_entry_bytes: u64) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    let mut at = 0usize;
    loop {
        let Some(h) = bytes.get(at..at + BLOCK) else {
            return Err(format!(
                "map archive: truncated at byte {at} (expected an end marker)"
            ));
        };
        if h.iter().all(|b| *b == 0) {
            return Ok(out);
        }
        let stored = parse_octal(&h[148..156], "checksum")?;
        let sum: u64 = h
            .iter()
            .enumerate()
            .map(|(i, b)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    u64::from(*b)
                }
            })
            .sum();
        if stored != sum {
            return Err(format!("map archive: bad header checksum at byte {at}"));
        }
        let size = parse_octal(&h[124..136], "size")?;
        let name_end = h[..100].iter().position(|b| *b == 0).unwrap_or(100);
        let name = std::str::from_utf8(&h[..name_end])
            .map_err(|_| format!("map archive: entry name at byte {at} is not UTF-8"))?
            .to_string();
        let data_start = at + BLOCK;
        let len = usize::try_from(size).map_err(|_| "map archive: entry too large".to_string())?;
        let padded = len.div_ceil(BLOCK) * BLOCK;
        match h[156] {
            b'0' | 0 => {}
            b'5' if len == 0 => {
                at = data_start;
                continue;
            }
            t => {
                return Err(format!(
                    "map archive entry {name:?}: expected a regular file, found type {:?}",
                    t as char
                ));
            }
        }
        if h[345..500].iter().any(|b| *b != 0) {
            return Err(format!(
                "map archive entry {name:?}: expected no path prefix"
            ));
        }
        check_map_name(&name)?;
        if size > max_entry_bytes {
            return Err(format!(
                "map archive entry {name:?}: {size} bytes, expected at most {max_entry_bytes}"
            ));
        }
        let data = bytes
            .get(data_start..data_start + len)
            .ok_or_else(|| format!("map archive entry {name:?}: truncated"))?;
        if !seen.insert(name.clone()) {
            return Err(format!("map archive: two entries named {name:?}"));
        }
        if out.len() == MAX_MAP_ENTRIES {
            return Err(format!("map archive: more than {MAX_MAP_ENTRIES} entries"));
        }
        out.push((name, data.to_vec()));
        at = data_start + padded;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: &str = "patient1_study1_view1_frontal_Cardiomegaly_map.pkl";

    #[test]
    fn round_trip() {
        let files = vec![
            (NAME.to_string(), vec![7u8; 600]),
            (NAME.replace("Cardio", "Xcardio"), vec![]),
        ];
        let tar = pack_maps(&files).expect("pack");
        assert_eq!(tar.len() % BLOCK, 0);
        assert_eq!(unpack_maps(&tar, 1 << 20), Ok(files));
        assert!(unpack_maps(&tar, 599).is_err(), "size limit");
        assert!(
            unpack_maps(&tar[..tar.len() - BLOCK * 3], 1 << 20).is_err(),
            "truncated"
        );
    }

    #[test]
    fn paths_links_and_bad_names_are_refused() {
        for bad in [
            "../patient1_study1_view1_frontal_Cardiomegaly_map.pkl",
            "/etc/patient1_study1_view1_frontal_Cardiomegaly_map.pkl",
            ".patient1_study1_view1_frontal_Cardiomegaly_map.pkl",
            "patient1_study1_view1_frontal_Cardiomegaly.pkl",
            "evil.sh",
        ] {
            assert!(check_map_name(bad).is_err(), "{bad}");
            let mut tar = pack_maps(&[(NAME.into(), vec![1])]).expect("pack");
            tar[..100].fill(0);
            tar[..bad.len()].copy_from_slice(bad.as_bytes());
            let fixed = header(bad, 1);
            tar[148..156].copy_from_slice(&fixed[148..156]);
            assert!(unpack_maps(&tar, 10).is_err(), "{bad}");
        }
        let mut link = pack_maps(&[(NAME.into(), vec![1])]).expect("pack");
        link[156] = b'2';
        let mut h = [0u8; BLOCK];
        h.copy_from_slice(&link[..BLOCK]);
        h[148..156].fill(b' ');
        let sum: u64 = h.iter().map(|b| u64::from(*b)).sum();
        octal(&mut link[148..155], sum);
        let e = unpack_maps(&link, 10).expect_err("a symlink");
        assert!(e.contains("regular file"), "{e}");
        let mut corrupt = pack_maps(&[(NAME.into(), vec![1])]).expect("pack");
        corrupt[0] ^= 1;
        assert!(unpack_maps(&corrupt, 10).is_err(), "checksum");
    }
}
