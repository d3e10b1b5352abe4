//! The few parts of the ZIP format that torch's archives use, read without decompressing or
//! allocating beyond the file.
//!
//! `torch.save` (zip format, the default since torch 1.6) writes its archive with
//! `PyTorchStreamWriter`: every entry is *stored* (method 0, no compression), local headers
//! carry zero sizes and a data descriptor follows each entry (flag bit 3), and zip64 end
//! records are always present. We read the central directory (zip64 aware), check each local
//! header, and hand out the stored bytes after checking their CRC-32. We wrote this reader rather
//! than depend on a zip crate: stored entries need no codec, so the whole format surface is about
//! two hundred lines that the fuzzer covers completely, and compressed, encrypted, multi-disk or
//! ambiguous (duplicate name) archives — which torch never writes — are refused outright.

use std::collections::HashSet;

/// Why an archive was refused (turned into a [`crate::PickleError::BadArchive`]).
pub(crate) type ZipResult<T> = Result<T, String>;

/// A stored entry: its name and the bytes of its data.
#[derive(Debug)]
pub(crate) struct Entry<'a> {
    pub(crate) name: String,
    pub(crate) data: &'a [u8],
}

/// Whether `bytes` starts like a ZIP archive (a local file header).
pub(crate) fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

fn u16_at(b: &[u8], at: usize) -> ZipResult<u16> {
    at.checked_add(2)
        .and_then(|end| b.get(at..end))
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .ok_or_else(|| format!("truncated at byte {at}"))
}

fn u32_at(b: &[u8], at: usize) -> ZipResult<u32> {
    at.checked_add(4)
        .and_then(|end| b.get(at..end))
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or_else(|| format!("truncated at byte {at}"))
}

fn u64_at(b: &[u8], at: usize) -> ZipResult<u64> {
    at.checked_add(8)
        .and_then(|end| b.get(at..end))
        .map(|s| {
            let mut a = [0u8; 8];
            a.copy_from_slice(s);
            u64::from_le_bytes(a)
        })
        .ok_or_else(|| format!("truncated at byte {at}"))
}

fn to_usize(x: u64, what: &str) -> ZipResult<usize> {
    usize::try_from(x).map_err(|_| format!("{what} {x} does not fit in memory"))
}

const EOCD: u32 = 0x0605_4b50;
const ZIP64_LOCATOR: u32 = 0x0706_4b50;
const ZIP64_EOCD: u32 = 0x0606_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const LOCAL: u32 = 0x0403_4b50;

/// The entries of a stored-only archive, in central-directory order. At most `max_entries`;
/// entries may not overlap each other or the central directory, so each byte is CRC-checked at
/// most once.
pub(crate) fn entries(b: &[u8], max_entries: u64) -> ZipResult<Vec<Entry<'_>>> {
    // End of central directory: 22 bytes plus a comment of up to 65535 bytes, at the end.
    let lowest = b.len().saturating_sub(22 + 0xffff);
    let eocd = (lowest..=b.len().saturating_sub(22))
        .rev()
        .find(|&i| {
            u32_at(b, i) == Ok(EOCD)
                && u16_at(b, i + 20).is_ok_and(|c| i + 22 + usize::from(c) == b.len())
        })
        .ok_or("no end-of-central-directory record (not a zip archive, or truncated)")?;
    let (disk, cd_disk) = (u16_at(b, eocd + 4)?, u16_at(b, eocd + 6)?);
    let mut count = u64::from(u16_at(b, eocd + 10)?);
    let mut cd_size = u64::from(u32_at(b, eocd + 12)?);
    let mut cd_offset = u64::from(u32_at(b, eocd + 16)?);
    if disk != 0 || cd_disk != 0 {
        return Err("multi-disk archives are not supported".to_owned());
    }
    if eocd >= 20 && u32_at(b, eocd - 20)? == ZIP64_LOCATOR {
        let z = to_usize(u64_at(b, eocd - 20 + 8)?, "zip64 record offset")?;
        if u32_at(b, z)? != ZIP64_EOCD {
            return Err(format!("no zip64 end record at byte {z}"));
        }
        count = u64_at(b, z + 32)?;
        cd_size = u64_at(b, z + 40)?;
        cd_offset = u64_at(b, z + 48)?;
    }
    if count > max_entries {
        return Err(format!(
            "{count} entries, over the limit of {max_entries} (Limits::max_containers)"
        ));
    }
    let cd_start = to_usize(cd_offset, "central directory offset")?;
    let cd_end = cd_start
        .checked_add(to_usize(cd_size, "central directory size")?)
        .filter(|&e| e <= b.len())
        .ok_or("the central directory lies outside the file")?;
    // Each central record takes at least 46 bytes: no allocation beyond what the file holds.
    let mut spans: Vec<(usize, usize, String, usize, u32)> =
        Vec::with_capacity((count as usize).min((cd_end - cd_start) / 46));
    let mut seen: HashSet<String> = HashSet::new();
    let mut p = cd_start;
    for _ in 0..count {
        if p + 46 > cd_end || u32_at(b, p)? != CENTRAL {
            return Err(format!("central directory record expected at byte {p}"));
        }
        let flags = u16_at(b, p + 8)?;
        let method = u16_at(b, p + 10)?;
        let crc = u32_at(b, p + 16)?;
        let mut csize = u64::from(u32_at(b, p + 20)?);
        let mut usize_ = u64::from(u32_at(b, p + 24)?);
        let name_len = usize::from(u16_at(b, p + 28)?);
        let extra_len = usize::from(u16_at(b, p + 30)?);
        let comment_len = usize::from(u16_at(b, p + 32)?);
        let mut local = u64::from(u32_at(b, p + 42)?);
        let name_end = p + 46 + name_len;
        let extra_end = name_end + extra_len;
        let next = extra_end + comment_len;
        if next > cd_end {
            return Err(format!(
                "central directory record at byte {p} runs past its end"
            ));
        }
        let name = std::str::from_utf8(&b[p + 46..name_end])
            .map_err(|_| format!("entry name at byte {} is not UTF-8", p + 46))?
            .to_owned();
        // zip64 extended information: the 64-bit values of the fields saturated above.
        let mut e = name_end;
        while e + 4 <= extra_end {
            let (id, len) = (u16_at(b, e)?, usize::from(u16_at(b, e + 2)?));
            let body = e + 4;
            if body + len > extra_end {
                return Err(format!("entry {name:?}: extra field runs past its record"));
            }
            if id == 1 {
                let mut q = body;
                for field in [&mut usize_, &mut csize, &mut local] {
                    if *field == u64::from(u32::MAX) {
                        if q + 8 > body + len {
                            return Err(format!("entry {name:?}: short zip64 field"));
                        }
                        *field = u64_at(b, q)?;
                        q += 8;
                    }
                }
            }
            e = body + len;
        }
        if flags & 1 != 0 {
            return Err(format!("entry {name:?} is encrypted"));
        }
        if method != 0 {
            return Err(format!(
                "entry {name:?} is compressed (method {method}); torch stores its entries uncompressed"
            ));
        }
        if csize != usize_ {
            return Err(format!(
                "entry {name:?}: stored sizes differ ({csize} and {usize_})"
            ));
        }
        if !seen.insert(name.clone()) {
            return Err(format!("entry {name:?} appears twice"));
        }
        // The local header: its own name and extra field (torch's alignment padding) precede
        // the data.
        let lh = to_usize(local, "local header offset")?;
        if u32_at(b, lh)? != LOCAL {
            return Err(format!("entry {name:?}: no local header at byte {lh}"));
        }
        let start = lh
            .checked_add(30 + usize::from(u16_at(b, lh + 26)?) + usize::from(u16_at(b, lh + 28)?))
            .ok_or("offset overflow")?;
        let end = start
            .checked_add(to_usize(csize, "entry size")?)
            .filter(|&end| end <= b.len())
            .ok_or_else(|| format!("entry {name:?}: its data lies outside the file"))?;
        spans.push((lh, end, name, start, crc));
        p = next;
    }
    // Each byte belongs to at most one entry (its local header and data) or to the central
    // directory: an archive listing one entry's bytes under many names (a zip "quine" or bomb
    // without compression) is refused before anything is checked twice.
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_by_key(|&i| spans[i].0);
    for w in order.windows(2) {
        let (a, b2) = (&spans[w[0]], &spans[w[1]]);
        if b2.0 < a.1 {
            return Err(format!(
                "entries {:?} (bytes {}..{}) and {:?} (bytes {}..{}) overlap: each byte of an archive belongs to one entry",
                a.2, a.0, a.1, b2.2, b2.0, b2.1
            ));
        }
    }
    if let Some(s) = spans.iter().find(|s| s.0 < cd_end && cd_start < s.1) {
        return Err(format!(
            "entry {:?} (bytes {}..{}) overlaps the central directory (bytes {cd_start}..{cd_end})",
            s.2, s.0, s.1
        ));
    }
    let mut out = Vec::with_capacity(spans.len());
    for (_, end, name, start, crc) in spans {
        let data = &b[start..end];
        let got = crc32(data);
        if got != crc {
            return Err(format!(
                "entry {name:?}: CRC-32 {got:#010x}, the directory says {crc:#010x} (corrupt file)"
            ));
        }
        out.push(Entry { name, data });
    }
    Ok(out)
}

/// A ZIP archive of stored (uncompressed) entries, as torch writes them but without the
/// alignment padding and zip64 records (not needed below 4 GiB; the reader accepts both).
pub(crate) fn write_stored(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let offset = out.len() as u32;
        let crc = crc32(data);
        let fixed = |sig: u32, out: &mut Vec<u8>| {
            out.extend(sig.to_le_bytes());
        };
        // Local header: version 2.0, flags bit 11 (UTF-8 names), stored, no time stamp.
        fixed(LOCAL, &mut out);
        for v in [20u16, 0x0800, 0, 0, 0] {
            out.extend(v.to_le_bytes());
        }
        out.extend(crc.to_le_bytes());
        out.extend((data.len() as u32).to_le_bytes());
        out.extend((data.len() as u32).to_le_bytes());
        out.extend((name.len() as u16).to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out.extend(name.as_bytes());
        out.extend(data);
        fixed(CENTRAL, &mut central);
        for v in [20u16, 20, 0x0800, 0, 0, 0] {
            central.extend(v.to_le_bytes());
        }
        central.extend(crc.to_le_bytes());
        central.extend((data.len() as u32).to_le_bytes());
        central.extend((data.len() as u32).to_le_bytes());
        central.extend((name.len() as u16).to_le_bytes());
        for v in [0u16, 0, 0, 0] {
            central.extend(v.to_le_bytes());
        }
        central.extend(0u32.to_le_bytes());
        central.extend(offset.to_le_bytes());
        central.extend(name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    let cd_size = central.len() as u32;
    out.extend(central);
    out.extend(EOCD.to_le_bytes());
    for v in [0u16, 0, entries.len() as u16, entries.len() as u16] {
        out.extend(v.to_le_bytes());
    }
    out.extend(cd_size.to_le_bytes());
    out.extend(cd_offset.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

/// CRC-32 (IEEE 802.3, as ZIP uses it), one table lookup per byte.
pub(crate) fn crc32(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut t = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            t[i] = c;
            i += 1;
        }
        t
    };
    let mut c = !0u32;
    for &byte in data {
        c = TABLE[((c ^ u32::from(byte)) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_archives_read_back() {
        let entries = vec![
            ("a/data.pkl".to_owned(), b"\x80\x02N.".to_vec()),
            ("a/data/0".to_owned(), vec![1, 2, 3, 4]),
        ];
        let bytes = write_stored(&entries);
        assert!(is_zip(&bytes));
        let back = entries_of(&bytes);
        assert_eq!(back, entries);
        // Python's zipfile reads the same layout (checked with `zipfile.ZipFile(...).testzip()`
        // on an archive of dump_heatmap_torch_zip; see tests/torch_zip.rs).
    }

    fn entries_of(b: &[u8]) -> Vec<(String, Vec<u8>)> {
        entries(b, 10)
            .expect("valid")
            .into_iter()
            .map(|e| (e.name, e.data.to_vec()))
            .collect()
    }

    #[test]
    fn crc32_check_value() {
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b""), 0);
    }
}
