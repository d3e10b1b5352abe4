//! A stored-only ZIP writer whose central directory may list one local entry under several
//! names (what the hostile `.pt` case needs; no zip library writes that).

/// CRC-32 (IEEE 802.3, as ZIP uses it).
fn crc32(data: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (i, t) in table.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        *t = c;
    }
    let mut c = !0u32;
    for &b in data {
        c = table[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

/// A ZIP archive of the stored `entries`; the central directory then lists the entry at index
/// `aliased.0` again under each of the names `aliased.1` (same local header, same data).
pub(crate) fn stored_with_aliases(
    entries: &[(String, Vec<u8>)],
    aliased: (usize, &[String]),
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    let mut records = Vec::new();
    for (name, data) in entries {
        let offset = out.len() as u32;
        let crc = crc32(data);
        out.extend(0x0403_4b50u32.to_le_bytes());
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
        records.push((offset, crc, data.len() as u32));
    }
    let mut central_record = |name: &str, (offset, crc, len): (u32, u32, u32)| {
        central.extend(0x0201_4b50u32.to_le_bytes());
        for v in [20u16, 20, 0x0800, 0, 0, 0] {
            central.extend(v.to_le_bytes());
        }
        central.extend(crc.to_le_bytes());
        central.extend(len.to_le_bytes());
        central.extend(len.to_le_bytes());
        central.extend((name.len() as u16).to_le_bytes());
        for v in [0u16, 0, 0, 0] {
            central.extend(v.to_le_bytes());
        }
        central.extend(0u32.to_le_bytes());
        central.extend(offset.to_le_bytes());
        central.extend(name.as_bytes());
    };
    for ((name, _), &r) in entries.iter().zip(&records) {
        central_record(name, r);
    }
    for name in aliased.1 {
        central_record(name, records[aliased.0]);
    }
    let count = (entries.len() + aliased.1.len()) as u16;
    let cd_offset = out.len() as u32;
    let cd_size = central.len() as u32;
    out.extend(central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    for v in [0u16, 0, count, count] {
        out.extend(v.to_le_bytes());
    }
    out.extend(cd_size.to_le_bytes());
    out.extend(cd_offset.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn crc32_check_value() {
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(super::crc32(b"123456789"), 0xcbf4_3926);
    }
}
