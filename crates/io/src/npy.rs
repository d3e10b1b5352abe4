//! numpy `.npy` arrays (format versions 1.0 to 3.0), read without numpy and without pickles.
//!
//! A file is the magic `\x93NUMPY`, a version, a header length (2 bytes in 1.0, 4 bytes in 2.0
//! and 3.0), the header — a Python dict literal such as
//! `{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 20, 20), }` — and the raw elements.
//! We parse the literal ourselves (strings, `True`/`False`, tuples of integers: nothing is
//! evaluated) and accept float32 and float64 arrays, little- or big-endian, in C or Fortran
//! order. Object arrays (`descr` `'|O'`) hold pickles and are refused, as `np.load` refuses them
//! unless `allow_pickle=True`.

use std::path::Path;

use chexlocalize_pickle::{Tensor, TensorData};

use crate::{IoError, Limits};

/// Decodes the bytes of a `.npy` file (`path` names it in errors) into a row-major tensor:
/// float32 or float64, either byte order, C or Fortran order. The element count the header
/// claims is checked against `limits.pickle.max_elements` before anything is allocated.
pub fn parse_npy(path: &Path, bytes: &[u8], limits: &Limits) -> Result<Tensor, IoError> {
    decode(bytes, limits.pickle.max_elements).map_err(|reason| IoError::Npy {
        path: path.to_path_buf(),
        reason,
    })
}

/// numpy's own default `max_header_size` in `np.load`.
const MAX_HEADER: usize = 10_000;

/// Reads the `.npy` file at `path` as [`parse_npy`] decodes it. What `np.save` writes on a
/// little-endian machine — float32, little-endian, C order — is read as `np.load` reads it:
/// the header first, then the elements straight into the array (one copy, no intermediate
/// buffer). Anything else, and any file the header does not describe exactly, goes through
/// [`parse_npy`] on the whole file, whose errors are the ones reported.
pub(crate) fn read_npy(path: &Path, limits: &Limits) -> Result<Tensor, IoError> {
    if let Some(t) = read_f32_direct(path, limits)? {
        return Ok(t);
    }
    crate::files::with_file_bytes(path, limits, |bytes| parse_npy(path, bytes, limits))?
}

/// The direct read of [`read_npy`], or `None` when it does not apply.
fn read_f32_direct(path: &Path, limits: &Limits) -> Result<Option<Tensor>, IoError> {
    use std::io::Read;
    if cfg!(target_endian = "big") {
        return Ok(None);
    }
    let (mut file, file_len) = crate::files::open_limited(path, limits)?;
    // Magic, version and a 1.0 header length: 10 bytes; the header follows.
    let mut head = vec![0u8; 10];
    if file.read_exact(&mut head).is_err() || !head.starts_with(b"\x93NUMPY\x01\x00") {
        return Ok(None);
    }
    let len = usize::from(u16::from_le_bytes([head[8], head[9]]));
    if len > MAX_HEADER {
        return Ok(None);
    }
    head.resize(10 + len, 0);
    if file.read_exact(&mut head[10..]).is_err() {
        return Ok(None);
    }
    let Some(h) = std::str::from_utf8(&head[10..])
        .ok()
        .and_then(|t| Header::parse(t).ok())
    else {
        return Ok(None);
    };
    if h.descr != "<f4" || h.fortran_order || h.shape.len() > 64 {
        return Ok(None);
    }
    let Some(numel) = h
        .shape
        .iter()
        .try_fold(1u64, |a, &d| a.checked_mul(d))
        .filter(|&n| n > 0 && n <= limits.pickle.max_elements)
    else {
        return Ok(None);
    };
    if file_len != head.len() as u64 + 4 * numel {
        return Ok(None);
    }
    let mut out = vec![0f32; numel as usize];
    let mut extra = [0u8; 1];
    let read = file.read_exact(bytemuck::cast_slice_mut(&mut out));
    // A file that changed meanwhile is read again whole (and its error reported).
    if read.is_err() || file.read(&mut extra).map_or(true, |n| n != 0) {
        return Ok(None);
    }
    let shape = h.shape.iter().map(|&d| d as usize).collect();
    Ok(Tensor::new(shape, TensorData::F32(out)).ok())
}

/// Decodes a `.npy` file into a row-major tensor. `max_elements` bounds the element count
/// claimed by the header before anything is allocated.
fn decode(bytes: &[u8], max_elements: u64) -> Result<Tensor, String> {
    let rest = bytes
        .strip_prefix(b"\x93NUMPY")
        .ok_or("missing the \\x93NUMPY magic (not a .npy file)")?;
    let (&[major, minor], rest) = rest.split_first_chunk::<2>().ok_or("truncated header")?;
    let (len, rest) = match major {
        1 => {
            let (l, r) = rest.split_first_chunk::<2>().ok_or("truncated header")?;
            (usize::from(u16::from_le_bytes(*l)), r)
        }
        2 | 3 => {
            let (l, r) = rest.split_first_chunk::<4>().ok_or("truncated header")?;
            let n = u32::from_le_bytes(*l);
            (usize::try_from(n).unwrap_or(usize::MAX), r)
        }
        _ => {
            return Err(format!(
                "format version {major}.{minor}, expected 1.0 to 3.0"
            ));
        }
    };
    if len > MAX_HEADER {
        return Err(format!(
            "header of {len} bytes, over numpy's limit of {MAX_HEADER}"
        ));
    }
    let header = rest.get(..len).ok_or("truncated header")?;
    let data = &rest[len..];
    let header = std::str::from_utf8(header).map_err(|_| "header is not UTF-8 text")?;
    let h = Header::parse(header)?;
    let (size, big_endian) = match h.descr.as_str() {
        "<f4" => (4, false),
        ">f4" => (4, true),
        "<f8" => (8, false),
        ">f8" => (8, true),
        d if d.contains('O') => {
            return Err(format!(
                "dtype {d:?} is an object array, which holds pickles: refused"
            ));
        }
        d => {
            return Err(format!(
                "dtype {d:?}, expected float32 or float64 ('<f4', '>f4', '<f8', '>f8')"
            ));
        }
    };
    if h.shape.len() > 64 {
        return Err(format!("{} dimensions, expected at most 64", h.shape.len()));
    }
    let numel = h
        .shape
        .iter()
        .try_fold(1u64, |a, &d| a.checked_mul(d))
        .filter(|&n| n <= max_elements)
        .ok_or_else(|| {
            format!(
                "shape {:?} has more than the limit of {max_elements} elements",
                h.shape
            )
        })?;
    let nbytes = numel * size;
    if data.len() as u64 != nbytes {
        return Err(format!(
            "shape {:?} of {} needs {nbytes} bytes of data, the file has {}",
            h.shape,
            h.descr,
            data.len()
        ));
    }
    let shape: Vec<usize> = h.shape.iter().map(|&d| d as usize).collect();
    let numel = numel as usize;
    if numel == 0 {
        // A zero-sized dimension: the other dimensions may be anything (their product could
        // overflow), and there is nothing to read.
        let empty = if size == 4 {
            TensorData::F32(Vec::new())
        } else {
            TensorData::F64(Vec::new())
        };
        return Tensor::new(shape, empty).map_err(|e| e.to_string());
    }
    // Element i of a Fortran-order file is the one whose first index runs fastest: its
    // row-major position follows from the C strides.
    let c_strides: Vec<usize> = (0..shape.len())
        .map(|d| shape[d + 1..].iter().product())
        .collect();
    let position = |i: usize| -> usize {
        if !h.fortran_order {
            return i;
        }
        let (mut rem, mut pos) = (i, 0usize);
        for (&n, &stride) in shape.iter().zip(&c_strides) {
            pos += (rem % n) * stride;
            rem /= n;
        }
        pos
    };
    macro_rules! read {
        ($t:ty, $n:expr, $variant:ident) => {{
            let value = |c: &[u8]| {
                let mut a = [0u8; $n];
                a.copy_from_slice(c);
                if big_endian {
                    <$t>::from_be_bytes(a)
                } else {
                    <$t>::from_le_bytes(a)
                }
            };
            // C order (what `np.save` writes): the elements in file order, one pass that
            // compiles to a copy (or a byte swap) of the whole array.
            if !h.fortran_order {
                let out: Vec<$t> = if big_endian {
                    data.chunks_exact($n).map(value).collect()
                } else {
                    data.chunks_exact($n)
                        .map(|c| {
                            let mut a = [0u8; $n];
                            a.copy_from_slice(c);
                            <$t>::from_le_bytes(a)
                        })
                        .collect()
                };
                return Tensor::new(shape, TensorData::$variant(out)).map_err(|e| e.to_string());
            }
            let mut out: Vec<$t> = vec![0.0; numel];
            for (i, c) in data.chunks_exact($n).enumerate() {
                out[position(i)] = value(c);
            }
            TensorData::$variant(out)
        }};
    }
    let data = if size == 4 {
        read!(f32, 4, F32)
    } else {
        read!(f64, 8, F64)
    };
    Tensor::new(shape, data).map_err(|e| e.to_string())
}

/// The three keys of a `.npy` header.
#[derive(Debug, PartialEq)]
struct Header {
    descr: String,
    fortran_order: bool,
    shape: Vec<u64>,
}

/// A value of the header's dict literal.
#[derive(Debug)]
enum Lit {
    Str(String),
    Bool(bool),
    Tuple(Vec<u64>),
}

struct Lexer<'a> {
    s: &'a [u8],
    p: usize,
}

impl Lexer<'_> {
    fn ws(&mut self) {
        while self.s.get(self.p).is_some_and(u8::is_ascii_whitespace) {
            self.p += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.p) == Some(&c) {
            self.p += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!(
                "header: expected {:?} at byte {}",
                char::from(c),
                self.p
            ))
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.ws();
        let q = *self.s.get(self.p).ok_or("header: unexpected end")?;
        if q != b'\'' && q != b'"' {
            return Err(format!("header: expected a string at byte {}", self.p));
        }
        let start = self.p + 1;
        let len = self.s[start..]
            .iter()
            .position(|&c| c == q || c == b'\\')
            .ok_or("header: unterminated string")?;
        if self.s[start + len] == b'\\' {
            return Err("header: escapes in strings are not expected".to_owned());
        }
        self.p = start + len + 1;
        Ok(String::from_utf8_lossy(&self.s[start..start + len]).into_owned())
    }

    fn int(&mut self) -> Result<u64, String> {
        self.ws();
        let start = self.p;
        while self.s.get(self.p).is_some_and(u8::is_ascii_digit) {
            self.p += 1;
        }
        let digits = std::str::from_utf8(&self.s[start..self.p]).unwrap_or_default();
        // Python's literal syntax has no leading zeros (`np.load` refuses `(07,)`).
        if digits.len() > 1 && digits.starts_with('0') {
            return Err(format!(
                "header: leading zero in a dimension at byte {start}"
            ));
        }
        let n = digits
            .parse::<u64>()
            .map_err(|_| format!("header: expected a dimension at byte {start}"))?;
        // Python 2 era files write longs as `3L`.
        if self.s.get(self.p) == Some(&b'L') {
            self.p += 1;
        }
        Ok(n)
    }

    fn value(&mut self) -> Result<Lit, String> {
        self.ws();
        match self.s.get(self.p) {
            Some(b'\'' | b'"') => Ok(Lit::Str(self.string()?)),
            Some(b'(') => {
                self.p += 1;
                let mut dims = Vec::new();
                loop {
                    if self.eat(b')') {
                        break;
                    }
                    if dims.len() >= 64 {
                        return Err("header: more than 64 dimensions".to_owned());
                    }
                    dims.push(self.int()?);
                    if !self.eat(b',') {
                        self.expect(b')')?;
                        break;
                    }
                }
                Ok(Lit::Tuple(dims))
            }
            _ if self.s[self.p..].starts_with(b"True") => {
                self.p += 4;
                Ok(Lit::Bool(true))
            }
            _ if self.s[self.p..].starts_with(b"False") => {
                self.p += 5;
                Ok(Lit::Bool(false))
            }
            _ => Err(format!("header: unexpected value at byte {}", self.p)),
        }
    }
}

impl Header {
    fn parse(text: &str) -> Result<Header, String> {
        let mut lx = Lexer {
            s: text.as_bytes(),
            p: 0,
        };
        lx.expect(b'{')?;
        let (mut descr, mut fortran, mut shape) = (None, None, None);
        loop {
            if lx.eat(b'}') {
                break;
            }
            let key = lx.string()?;
            lx.expect(b':')?;
            let v = lx.value()?;
            match (key.as_str(), v) {
                ("descr", Lit::Str(s)) if descr.is_none() => descr = Some(s),
                ("fortran_order", Lit::Bool(b)) if fortran.is_none() => fortran = Some(b),
                ("shape", Lit::Tuple(t)) if shape.is_none() => shape = Some(t),
                (k, v) => {
                    return Err(format!(
                        "header: unexpected key {k:?} = {v:?} (expected descr, fortran_order and shape once each)"
                    ));
                }
            }
            if !lx.eat(b',') {
                lx.expect(b'}')?;
                break;
            }
        }
        lx.ws();
        if lx.p != lx.s.len() {
            return Err(format!(
                "header: unexpected text after the dict at byte {}",
                lx.p
            ));
        }
        match (descr, fortran, shape) {
            (Some(descr), Some(fortran_order), Some(shape)) => Ok(Header {
                descr,
                fortran_order,
                shape,
            }),
            _ => Err("header: expected the keys descr, fortran_order and shape".to_owned()),
        }
    }
}

/// A `.npy` file of `shape` holding `data` (float32 little-endian, C order), as `np.save`
/// writes it (format 1.0, header padded to 64 bytes).
pub fn npy_bytes(shape: &[usize], data: &[f32]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let tuple = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {tuple}, }}");
    let used = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - used % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + data.len() * 4);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for x in data {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_as_numpy_writes_them() {
        // np.save(f, np.zeros((2, 3), '<f4')) and older spellings.
        let h =
            Header::parse("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }      \n")
                .expect("parse");
        assert_eq!(
            h,
            Header {
                descr: "<f4".into(),
                fortran_order: false,
                shape: vec![2, 3]
            }
        );
        let h =
            Header::parse("{'descr': '>f8', 'fortran_order': True, 'shape': (5,)}").expect("parse");
        assert_eq!(h.shape, vec![5]);
        let h =
            Header::parse("{\"shape\": (2L, 3L), \"fortran_order\": False, \"descr\": \"<f4\"}")
                .expect("python 2");
        assert_eq!(h.shape, vec![2, 3]);
        assert_eq!(
            Header::parse("{'descr': '<f4', 'fortran_order': False, 'shape': ()}")
                .expect("scalar")
                .shape,
            Vec::<u64>::new()
        );
        for bad in [
            "",
            "{",
            "{'descr': '<f4'}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': True}",
            "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (07,)}",
            "{'descr': __import__('os'), 'fortran_order': False, 'shape': (1,)}",
        ] {
            assert!(Header::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn our_writer_reads_back() {
        let data: Vec<f32> = (0..6).map(|i| i as f32 / 3.0).collect();
        let t = decode(&npy_bytes(&[1, 2, 3], &data), 100).expect("read");
        assert_eq!(t.shape, vec![1, 2, 3]);
        assert_eq!(t.data, TensorData::F32(data));
        let e = decode(&npy_bytes(&[1000, 1000], &[]), 1 << 30).expect_err("no data");
        assert!(e.contains("needs 4000000 bytes"), "{e}");
        let e = decode(&npy_bytes(&[1 << 20, 1 << 20], &[]), 1 << 28).expect_err("limit");
        assert!(e.contains("limit"), "{e}");
    }

    #[test]
    fn empty_arrays_with_huge_dimensions() {
        // Found by the `npy` fuzz target: shape (0, 2^40, 2^40) has no element, but the
        // product of its other dimensions overflows.
        let mut f = npy_bytes(&[0, 1 << 40, 1 << 40], &[]);
        let t = decode(&f, 100).expect("empty");
        assert_eq!((t.shape.len(), t.numel()), (3, 0));
        let at = f
            .windows(5)
            .position(|w| w == b"False")
            .expect("fortran_order");
        f.splice(at..at + 5, b"True ".iter().copied());
        assert_eq!(decode(&f, 100).expect("empty").numel(), 0);
    }

    #[test]
    fn big_endian_c_order_is_swapped() {
        let data = [0.5f32, -3.25, 1e-3];
        let mut f = npy_bytes(&[3], &data);
        let at = f.windows(3).position(|w| w == b"<f4").expect("descr");
        f[at] = b'>';
        let payload = f.len() - 12;
        for (chunk, v) in f[payload..].chunks_exact_mut(4).zip(data) {
            chunk.copy_from_slice(&v.to_be_bytes());
        }
        let t = decode(&f, 100).expect("read");
        assert_eq!(t.data, TensorData::F32(data.to_vec()));
    }

    #[test]
    fn fortran_order_is_transposed() {
        // A 2x3 array [[0, 1, 2], [3, 4, 5]] stored column by column: 0 3 1 4 2 5.
        let mut f = npy_bytes(&[2, 3], &[0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
        let at = f
            .windows(5)
            .position(|w| w == b"False")
            .expect("fortran_order");
        f.splice(at..at + 5, b"True ".iter().copied());
        let t = decode(&f, 100).expect("read");
        assert_eq!(t.data, TensorData::F32(vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]));
    }
}
