//! The owned descriptions of kernel types that the database hands to the type checker.
//!
//! A [`CType`] is a type with typedefs and qualifiers (`const`, `volatile`, `restrict`,
//! type tags) peeled off. It never holds the contents of a struct or the target of a
//! pointer: those stay behind a [`TypeId`] and are resolved on demand, so describing a
//! type costs the same for `int` as for `struct task_struct`.

/// A handle on one type of the database: cheap to copy, resolved on demand by
/// [`KernelTypes::resolve`](super::KernelTypes::resolve).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeId {
    /// 0 for the base BTF, `n` for the `n`th loaded module.
    pub(crate) source: u16,
    pub(crate) id: u32,
}

impl TypeId {
    /// `void`: BTF id 0.
    pub const VOID: TypeId = TypeId { source: 0, id: 0 };

    /// The BTF type id (module ids continue after vmlinux's).
    pub fn raw(self) -> u32 {
        self.id
    }

    pub fn is_void(self) -> bool {
        self.id == 0
    }

    /// Whether the type comes from a module's split BTF rather than the base.
    pub fn in_module(self) -> bool {
        self.source != 0
    }
}

/// How the bits of an integer are meant (`BTF_INT_CHAR`, `BTF_INT_BOOL`, or neither).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntEncoding {
    Plain,
    /// `char` or `signed char`: arrays of it are strings (`unsigned char`, as `u8`, is
    /// a plain integer).
    Char,
    Bool,
}

/// A kernel type with typedefs and qualifiers peeled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CType {
    Void,
    Int {
        size: u32,
        signed: bool,
        encoding: IntEncoding,
    },
    Float {
        size: u32,
    },
    /// A pointer; the pointee is resolved on demand.
    Ptr(TypeId),
    Array {
        elem: Box<CType>,
        len: u32,
    },
    Struct(Aggregate),
    Union(Aggregate),
    Enum(EnumType),
    /// Declared but not defined in the BTF (`struct foo;`).
    Fwd {
        name: String,
        union: bool,
    },
    /// A function type (what a function pointer points to).
    Func(Box<FuncSig>),
}

impl CType {
    /// Size in bytes; `None` for `void`, forward declarations and functions.
    pub fn size(&self) -> Option<u32> {
        match self {
            CType::Int { size, .. } | CType::Float { size } => Some(*size),
            CType::Ptr(_) => Some(8),
            CType::Array { elem, len } => elem.size()?.checked_mul(*len),
            CType::Struct(a) | CType::Union(a) => Some(a.size),
            CType::Enum(e) => Some(e.size),
            CType::Void | CType::Fwd { .. } | CType::Func(_) => None,
        }
    }

    /// The pointee of a pointer.
    pub fn pointee(&self) -> Option<TypeId> {
        match self {
            CType::Ptr(to) => Some(*to),
            _ => None,
        }
    }

    /// The struct or union this type is.
    pub fn as_aggregate(&self) -> Option<&Aggregate> {
        match self {
            CType::Struct(a) | CType::Union(a) => Some(a),
            _ => None,
        }
    }

    /// Whether this is an integer or an enum (something arithmetic works on).
    pub fn is_integer(&self) -> bool {
        matches!(self, CType::Int { .. } | CType::Enum(_))
    }

    /// Whether this is an integer or enum with a signed representation.
    pub fn is_signed(&self) -> bool {
        match self {
            CType::Int { signed, .. } => *signed,
            CType::Enum(e) => e.signed,
            _ => false,
        }
    }
}

/// A struct or union; its members are listed on demand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregate {
    pub id: TypeId,
    /// `None` for an anonymous struct or union.
    pub name: Option<String>,
    pub size: u32,
}

/// An enum; its variants are listed on demand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumType {
    pub id: TypeId,
    pub name: Option<String>,
    pub size: u32,
    pub signed: bool,
}

/// One accessible member of a struct or union.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    /// Offset from the start of the outermost struct, in bits.
    pub offset_bits: u32,
    /// Width of a bitfield in bits; 0 when the member is not a bitfield.
    pub bitfield_size: u32,
    pub ty: CType,
    /// The member's declared type (before peeling), for printing its C spelling.
    pub type_id: TypeId,
}

impl Field {
    /// Offset in whole bytes (the byte holding the first bit, for bitfields).
    pub fn offset_bytes(&self) -> u32 {
        self.offset_bits / 8
    }

    pub fn is_bitfield(&self) -> bool {
        self.bitfield_size != 0
    }
}

/// One parameter of a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// `None` when the BTF records no name (function pointer prototypes).
    pub name: Option<String>,
    pub ty: CType,
    pub type_id: TypeId,
}

/// A function or function prototype.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuncSig {
    /// The `FUNC` (or the bare `FUNC_PROTO`) this describes.
    pub id: TypeId,
    /// `None` for a bare prototype.
    pub name: Option<String>,
    pub ret: CType,
    pub ret_id: TypeId,
    pub params: Vec<Param>,
    /// Whether the prototype ends in `...`.
    pub variadic: bool,
}

/// One enumerator of an enum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub name: String,
    pub value: i128,
}

/// A typedef and the type it names, peeled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typedef {
    pub id: TypeId,
    pub name: String,
    pub ty: CType,
}
