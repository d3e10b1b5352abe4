//! The decoded values: tensors, plain Python values, and the heatmap record.

use crate::PickleError;

/// Element type of a tensor, named as torch names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    /// `torch.float32` (`FloatStorage`).
    F32,
    /// `torch.float64` (`DoubleStorage`).
    F64,
    /// `torch.float16` (`HalfStorage`).
    F16,
    /// `torch.bfloat16` (`BFloat16Storage`).
    BF16,
    /// `torch.int64` (`LongStorage`).
    I64,
    /// `torch.int32` (`IntStorage`).
    I32,
    /// `torch.int16` (`ShortStorage`).
    I16,
    /// `torch.int8` (`CharStorage`).
    I8,
    /// `torch.uint8` (`ByteStorage`, also untyped storages).
    U8,
    /// `torch.bool` (`BoolStorage`).
    Bool,
}

impl DType {
    /// Bytes per element in a storage.
    pub fn size(self) -> usize {
        match self {
            DType::F64 | DType::I64 => 8,
            DType::F32 | DType::I32 => 4,
            DType::F16 | DType::BF16 | DType::I16 => 2,
            DType::I8 | DType::U8 | DType::Bool => 1,
        }
    }

    /// torch's name (`float32`, `int64`, …).
    pub fn torch_name(self) -> &'static str {
        match self {
            DType::F32 => "float32",
            DType::F64 => "float64",
            DType::F16 => "float16",
            DType::BF16 => "bfloat16",
            DType::I64 => "int64",
            DType::I32 => "int32",
            DType::I16 => "int16",
            DType::I8 => "int8",
            DType::U8 => "uint8",
            DType::Bool => "bool",
        }
    }

    /// The legacy storage class name (`FloatStorage`, …).
    pub fn storage_class(self) -> &'static str {
        match self {
            DType::F32 => "FloatStorage",
            DType::F64 => "DoubleStorage",
            DType::F16 => "HalfStorage",
            DType::BF16 => "BFloat16Storage",
            DType::I64 => "LongStorage",
            DType::I32 => "IntStorage",
            DType::I16 => "ShortStorage",
            DType::I8 => "CharStorage",
            DType::U8 => "ByteStorage",
            DType::Bool => "BoolStorage",
        }
    }

    pub(crate) fn from_storage_class(name: &str) -> Option<DType> {
        [
            DType::F32,
            DType::F64,
            DType::F16,
            DType::BF16,
            DType::I64,
            DType::I32,
            DType::I16,
            DType::I8,
            DType::U8,
            DType::Bool,
        ]
        .into_iter()
        .find(|d| d.storage_class() == name)
    }
}

/// Tensor elements, contiguous in row-major order (offset and strides already applied).
/// Half-precision values are kept as their raw 16-bit patterns.
#[derive(Clone, Debug, PartialEq)]
pub enum TensorData {
    /// float32 elements.
    F32(Vec<f32>),
    /// float64 elements.
    F64(Vec<f64>),
    /// float16 bit patterns.
    F16(Vec<u16>),
    /// bfloat16 bit patterns.
    BF16(Vec<u16>),
    /// int64 elements.
    I64(Vec<i64>),
    /// int32 elements.
    I32(Vec<i32>),
    /// int16 elements.
    I16(Vec<i16>),
    /// int8 elements.
    I8(Vec<i8>),
    /// uint8 elements.
    U8(Vec<u8>),
    /// bool elements.
    Bool(Vec<bool>),
}

impl TensorData {
    /// The element type.
    pub fn dtype(&self) -> DType {
        match self {
            TensorData::F32(_) => DType::F32,
            TensorData::F64(_) => DType::F64,
            TensorData::F16(_) => DType::F16,
            TensorData::BF16(_) => DType::BF16,
            TensorData::I64(_) => DType::I64,
            TensorData::I32(_) => DType::I32,
            TensorData::I16(_) => DType::I16,
            TensorData::I8(_) => DType::I8,
            TensorData::U8(_) => DType::U8,
            TensorData::Bool(_) => DType::Bool,
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            TensorData::F32(v) => v.len(),
            TensorData::F64(v) => v.len(),
            TensorData::F16(v) | TensorData::BF16(v) => v.len(),
            TensorData::I64(v) => v.len(),
            TensorData::I32(v) => v.len(),
            TensorData::I16(v) => v.len(),
            TensorData::I8(v) => v.len(),
            TensorData::U8(v) => v.len(),
            TensorData::Bool(v) => v.len(),
        }
    }

    /// Whether there is no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// IEEE half to f32 (exact).
fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exp = u32::from((h >> 10) & 0x1f);
    let frac = u32::from(h & 0x3ff);
    let bits = match (exp, frac) {
        (0, 0) => sign,
        (0, f) => {
            // subnormal: normalise
            let mut e = 127 - 15 + 1;
            let mut f = f;
            while f & 0x400 == 0 {
                f <<= 1;
                e -= 1;
            }
            sign | (e << 23) | ((f & 0x3ff) << 13)
        }
        (0x1f, f) => sign | 0x7f80_0000 | (f << 13),
        (e, f) => sign | ((e + 127 - 15) << 23) | (f << 13),
    };
    f32::from_bits(bits)
}

/// A tensor as torch would give it after loading: shape and contiguous row-major elements.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// Sizes of the dimensions.
    pub shape: Vec<usize>,
    /// The elements.
    pub data: TensorData,
}

impl Tensor {
    /// A tensor of `shape` over `data`; the product of `shape` must equal `data.len()`.
    pub fn new(shape: Vec<usize>, data: TensorData) -> Result<Tensor, PickleError> {
        let n = shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .ok_or(PickleError::BadTensor {
                reason: format!("shape {shape:?} overflows"),
            })?;
        if n != data.len() {
            return Err(PickleError::BadTensor {
                reason: format!(
                    "shape {shape:?} has {n} elements but {} were given",
                    data.len()
                ),
            });
        }
        Ok(Tensor { shape, data })
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.data.len()
    }

    /// Element type.
    pub fn dtype(&self) -> DType {
        self.data.dtype()
    }

    /// The elements as f64 (exact for every type but int64 beyond 2^53).
    pub fn to_f64_vec(&self) -> Vec<f64> {
        match &self.data {
            TensorData::F32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            TensorData::F64(v) => v.clone(),
            TensorData::F16(v) => v.iter().map(|&x| f64::from(f16_to_f32(x))).collect(),
            TensorData::BF16(v) => v
                .iter()
                .map(|&x| f64::from(f32::from_bits(u32::from(x) << 16)))
                .collect(),
            TensorData::I64(v) => v.iter().map(|&x| x as f64).collect(),
            TensorData::I32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            TensorData::I16(v) => v.iter().map(|&x| f64::from(x)).collect(),
            TensorData::I8(v) => v.iter().map(|&x| f64::from(x)).collect(),
            TensorData::U8(v) => v.iter().map(|&x| f64::from(x)).collect(),
            TensorData::Bool(v) => v.iter().map(|&x| f64::from(u8::from(x))).collect(),
        }
    }

    /// The elements as f32, as torch's `.float()` converts them (rounding f64 and large ints).
    pub fn to_f32_vec(&self) -> Vec<f32> {
        match &self.data {
            TensorData::F32(v) => v.clone(),
            TensorData::F16(v) => v.iter().map(|&x| f16_to_f32(x)).collect(),
            TensorData::BF16(v) => v
                .iter()
                .map(|&x| f32::from_bits(u32::from(x) << 16))
                .collect(),
            _ => self.to_f64_vec().into_iter().map(|x| x as f32).collect(),
        }
    }
}

/// A value of the outer pickle.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An integer that fits in 64 bits.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// A bytes object.
    Bytes(Vec<u8>),
    /// A tuple.
    Tuple(Vec<Value>),
    /// A list.
    List(Vec<Value>),
    /// A dict (or `OrderedDict`), in insertion order.
    Dict(Vec<(Value, Value)>),
    /// A torch tensor.
    Tensor(Tensor),
}

/// The `prob` of a heatmap record.
#[derive(Clone, Debug, PartialEq)]
pub enum Prob {
    /// A Python float (or int / bool, widened).
    Float(f64),
    /// A tensor, usually the 14-element CheXpert probability vector.
    Tensor(Tensor),
}

/// The `cxr_img` of a heatmap record.
#[derive(Clone, Debug, PartialEq)]
pub enum CxrImg {
    /// A path to the image.
    Path(String),
    /// The preprocessed image tensor (e.g. `3 × 320 × 320`).
    Tensor(Tensor),
    /// Anything else (kept, unused by the metrics), `None` when absent.
    Other(Value),
}

/// One heatmap pickle of a CheXlocalize submission.
#[derive(Clone, Debug, PartialEq)]
pub struct HeatmapRecord {
    /// The saliency map, usually `1 × 1 × h × w` float32.
    pub map: Tensor,
    /// The model's probability for the task (or all 14 CheXpert probabilities).
    pub prob: Prob,
    /// The task name as stored.
    pub task: String,
    /// The `gt` entry as stored (`None` when absent).
    pub gt: Value,
    /// The `cxr_img` entry.
    pub cxr_img: CxrImg,
    /// `cxr_dims` as stored: `(width, height)` of the original image.
    pub cxr_dims: (i64, i64),
}

impl HeatmapRecord {
    /// The largest CXR side `segmentation_sizes` accepts in `cxr_dims`.
    pub const MAX_CXR_SIDE: i64 = 1 << 16;

    /// What segmenting this record needs: the map's `(h, w)` (a `… × 1 × h × w` tensor with
    /// every leading dimension 1 and no empty side) and the CXR's `(height, width)` from
    /// `cxr_dims` (each between 1 and [`HeatmapRecord::MAX_CXR_SIDE`]). The error says which
    /// entry is unusable and what was expected.
    ///
    /// ```
    /// use chexlocalize_pickle::{CxrImg, HeatmapRecord, Prob, Tensor, TensorData, Value};
    ///
    /// let rec = HeatmapRecord {
    ///     map: Tensor::new(vec![1, 1, 2, 3], TensorData::F32(vec![0.0; 6]))?,
    ///     prob: Prob::Float(0.5),
    ///     task: "Edema".into(),
    ///     gt: Value::None,
    ///     cxr_img: CxrImg::Other(Value::None),
    ///     cxr_dims: (300, 200),
    /// };
    /// assert_eq!(rec.segmentation_sizes(), Ok(((2, 3), (200, 300))));
    /// # Ok::<(), chexlocalize_pickle::PickleError>(())
    /// ```
    #[allow(clippy::type_complexity)] // two (h, w) pairs, named in the doc
    pub fn segmentation_sizes(&self) -> Result<((usize, usize), (usize, usize)), String> {
        let s = &self.map.shape;
        if s.len() < 2 || s[..s.len() - 2].iter().any(|&d| d != 1) || s.contains(&0) {
            return Err(format!(
                "map: expected a tensor of shape [1, 1, h, w], found {s:?}"
            ));
        }
        let (w, h) = self.cxr_dims;
        let limit = Self::MAX_CXR_SIDE;
        match (usize::try_from(h), usize::try_from(w)) {
            (Ok(hu), Ok(wu)) if (1..=limit).contains(&h) && (1..=limit).contains(&w) => {
                Ok(((s[s.len() - 2], s[s.len() - 1]), (hu, wu)))
            }
            _ => Err(format!(
                "cxr_dims: expected (width, height) between 1 and {limit}, found ({w}, {h})"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_conversion() {
        // Bit patterns from IEEE 754 binary16 tables.
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x0001), 5.960_464_5e-8);
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert!(f16_to_f32(0x7e00).is_nan());
        assert_eq!(f16_to_f32(0x7c00), f32::INFINITY);
    }

    #[test]
    fn segmentation_sizes_check_shape_and_dims() {
        let rec = |shape: Vec<usize>, dims: (i64, i64)| {
            let n = shape.iter().product();
            HeatmapRecord {
                map: Tensor::new(shape, TensorData::F32(vec![0.0; n])).expect("valid"),
                prob: Prob::Float(0.5),
                task: "Edema".into(),
                gt: Value::None,
                cxr_img: CxrImg::Other(Value::None),
                cxr_dims: dims,
            }
        };
        assert_eq!(
            rec(vec![4, 5], (65_536, 1)).segmentation_sizes(),
            Ok(((4, 5), (1, 65_536)))
        );
        for shape in [vec![2, 1, 3, 3], vec![1, 1, 0, 3], vec![7]] {
            let e = rec(shape, (10, 10))
                .segmentation_sizes()
                .expect_err("shape");
            assert!(e.starts_with("map: expected a tensor of shape"), "{e}");
        }
        for dims in [(0, 5), (5, -1), (65_537, 5), (i64::MAX, 1)] {
            let e = rec(vec![1, 1, 2, 2], dims)
                .segmentation_sizes()
                .expect_err("dims");
            assert!(e.starts_with("cxr_dims: expected (width, height)"), "{e}");
        }
    }

    #[test]
    fn tensor_new_checks_shape() {
        assert!(Tensor::new(vec![2, 2], TensorData::F32(vec![0.0; 3])).is_err());
        assert!(Tensor::new(vec![usize::MAX, 2], TensorData::F32(vec![])).is_err());
        let t = Tensor::new(vec![2], TensorData::I32(vec![1, 2])).expect("valid");
        assert_eq!(t.to_f64_vec(), vec![1.0, 2.0]);
    }
}
