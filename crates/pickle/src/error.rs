//! Why a pickle was refused.

/// Why a pickle was refused. Nothing in a refused file was executed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PickleError {
    /// The data ends before the pickle does.
    #[error("{context}: truncated at byte {offset}: expected {needed} more bytes")]
    Truncated {
        /// Which pickle (outer, or a tensor's storage bytes).
        context: &'static str,
        /// Offset where more data was needed.
        offset: usize,
        /// How many bytes were needed.
        needed: u64,
    },
    /// An opcode this reader does not implement (not needed by heatmap pickles).
    #[error("{context}: unsupported pickle opcode {opcode:#04x} ({name}) at byte {offset}")]
    UnsupportedOpcode {
        /// Which pickle.
        context: &'static str,
        /// The opcode byte.
        opcode: u8,
        /// Its name, when known.
        name: &'static str,
        /// Offset of the opcode.
        offset: usize,
    },
    /// A global outside the allow-list: refused, nothing is called.
    #[error(
        "{context}: refused global {module}.{name} at byte {offset}: only torch tensor rebuilding, collections.OrderedDict and _codecs.encode are allowed"
    )]
    ForbiddenGlobal {
        /// Which pickle.
        context: &'static str,
        /// The module.
        module: String,
        /// The attribute.
        name: String,
        /// Offset of the opcode.
        offset: usize,
    },
    /// The opcodes are well-formed but do not make sense (stack underflow, bad memo key,
    /// wrong argument types to an allowed constructor …).
    #[error("{context}: malformed at byte {offset}: {reason}")]
    Malformed {
        /// Which pickle.
        context: &'static str,
        /// Offset of the opcode.
        offset: usize,
        /// What was wrong.
        reason: String,
    },
    /// A size, count or depth over the configured [`Limits`](crate::Limits).
    #[error("{context}: {what} is {value}, over the limit of {limit}")]
    LimitExceeded {
        /// Which pickle.
        context: &'static str,
        /// What was measured.
        what: &'static str,
        /// The value found.
        value: u64,
        /// The limit.
        limit: u64,
    },
    /// A container nested deeper than [`Limits::max_depth`](crate::Limits::max_depth), refused at
    /// the opcode that would build or deepen it.
    #[error(
        "{context}: nesting depth would be {depth} at byte {offset} ({opcode}), over the limit of {limit}"
    )]
    NestingTooDeep {
        /// Which pickle.
        context: &'static str,
        /// Offset of the opcode.
        offset: usize,
        /// The opcode's name.
        opcode: &'static str,
        /// The depth it would make.
        depth: u64,
        /// The limit.
        limit: u64,
    },
    /// The torch legacy serialisation inside `_load_from_bytes` is not as torch writes it.
    #[error("tensor storage: {reason}")]
    BadStorage {
        /// What was wrong.
        reason: String,
    },
    /// A `torch.save` zip archive is not as torch writes it (compressed, corrupt, or lacking
    /// `data.pkl` or a storage).
    #[error("torch archive: {reason}")]
    BadArchive {
        /// What was wrong.
        reason: String,
    },
    /// A tensor's size / stride / offset does not fit its storage.
    #[error("tensor: {reason}")]
    BadTensor {
        /// What was wrong.
        reason: String,
    },
    /// The pickle is valid but is not a heatmap record.
    #[error("key {key:?}: expected {expected}")]
    BadRecord {
        /// The dictionary key.
        key: String,
        /// What was expected there.
        expected: String,
    },
    /// Bytes that do not start like a heatmap file (a pickle of protocol 2 or later starts
    /// with the `PROTO` opcode, 0x80; a `torch.save` file is a zip archive or a legacy torch
    /// file) and that do not parse as an older pickle either.
    #[error(
        "not a pickle of protocol 2 or later (first byte 0x80) nor a torch.save file: it starts with {start}; read as an older pickle: {parse}"
    )]
    NotAPickle {
        /// The first bytes, in hex and as text.
        start: String,
        /// Why reading it as a pickle of protocol 0 or 1 failed.
        parse: Box<PickleError>,
    },
}
