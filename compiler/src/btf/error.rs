//! Why a BTF source could not be read or a type could not be resolved.
//!
//! Every failure of the reader is one of these values: corrupt or truncated input,
//! a type id out of range, a reference chain that loops. The reader never panics on
//! bad input.

use super::TypeId;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// A BTF source is unreadable or inconsistent.
#[derive(Debug, Clone)]
pub enum BtfError {
    /// The file could not be opened or read.
    Io {
        path: PathBuf,
        error: Arc<std::io::Error>,
    },
    /// The blob does not start with the BTF magic `0xeB9F` (little-endian).
    BadMagic(u16),
    /// The BTF header's version is not 1.
    BadVersion(u8),
    /// The header's section offsets or lengths do not fit the blob.
    BadHeader(&'static str),
    /// A record or string runs past the end of its section.
    Truncated { what: &'static str, offset: usize },
    /// A type record has a kind this reader does not know.
    UnknownKind { id: u32, kind: u8 },
    /// A type refers to an id that does not exist.
    BadTypeId(u32),
    /// A name offset points outside the string section or at bytes that are not UTF-8.
    BadString(u32),
    /// A reference chain (typedefs, qualifiers, nested members) is too deep or loops.
    TooDeep(TypeId),
    /// A type record has the wrong kind for where it is used.
    Unexpected { id: TypeId, expected: &'static str },
    /// An ELF file has no `.BTF` section.
    NoBtfSection,
}

impl BtfError {
    pub(crate) fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        BtfError::Io {
            path: path.into(),
            error: Arc::new(error),
        }
    }
}

impl fmt::Display for BtfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BtfError::Io { path, error } => write!(f, "cannot read {}: {error}", path.display()),
            BtfError::BadMagic(m) => write!(f, "not BTF data (magic {m:#06x}, want 0xeb9f)"),
            BtfError::BadVersion(v) => write!(f, "unsupported BTF version {v}"),
            BtfError::BadHeader(what) => write!(f, "corrupt BTF header: {what}"),
            BtfError::Truncated { what, offset } => {
                write!(f, "truncated BTF: {what} at byte {offset}")
            }
            BtfError::UnknownKind { id, kind } => {
                write!(f, "BTF type {id} has unknown kind {kind}")
            }
            BtfError::BadTypeId(id) => write!(f, "BTF type id {id} does not exist"),
            BtfError::BadString(off) => write!(f, "bad BTF string offset {off}"),
            BtfError::TooDeep(id) => write!(f, "BTF type {} nests too deeply or loops", id.raw()),
            BtfError::Unexpected { id, expected } => {
                write!(f, "BTF type {} is not {expected}", id.raw())
            }
            BtfError::NoBtfSection => write!(f, "ELF file has no .BTF section"),
        }
    }
}

impl std::error::Error for BtfError {}
