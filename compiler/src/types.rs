//! The types of the language as the type checker sees them.

use crate::btf::TypeId;
use crate::ctypes::TypeEnv;
use ebpfc_stdlib::meta;
use std::fmt;

/// A struct or union type by name; its members are looked up on demand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructRef {
    /// `struct task_struct`, `union u`, or the script's own definition's name.
    pub name: String,
    pub size: u32,
    /// Its alignment: computed for the script's structs, guessed from the size for BTF's
    /// (see [`natural_align`]).
    pub align: u32,
    pub origin: Origin,
}

/// Where a struct's definition lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Btf(TypeId),
    /// The `n`th struct defined in the script.
    Script(usize),
}

/// The type of an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    /// An integer of `size` bytes (1, 2, 4, 8).
    Int { size: u8, signed: bool },
    /// `true` or `false` (comparisons, `!`, `has_key()`...): 0 or 1, stored as a 64-bit
    /// integer as bpftrace 0.17 stores it, so it mixes with integers in maps, tuples
    /// and variables.
    Bool,
    /// A NUL-terminated string in a buffer of `size` bytes.
    Str { size: u32 },
    /// A pointer; `user` says which address space it points into.
    Ptr { pointee: Box<Type>, user: bool },
    /// A tuple (also the type of a multi-part map key); a record's fields are
    /// [`Type::Named`].
    Tuple(Vec<Type>),
    /// A named field of a record (only as an element of a [`Type::Tuple`]).
    Named(String, Box<Type>),
    /// A C struct or union in memory: from kernel BTF or defined in the script.
    Struct(StructRef),
    /// A fixed-size C array in memory.
    Array { elem: Box<Type>, len: u32 },
    /// An IP address from `ntop()`.
    Inet,
    /// Raw bytes from `buf()`, at most `size` of them.
    Buf { size: u32 },
    /// A stack trace id from `kstack`/`ustack`, printed as up to `frames` frames.
    Stack {
        user: bool,
        frames: u32,
        mode: meta::StackMode,
    },
    /// An address printed as its symbol (`ksym()`, `usym()`).
    Sym { user: bool },
    /// A CLOCK_MONOTONIC time printed as wall-clock time with strftime format number
    /// `format` of the module's strings (`strftime()`).
    Time { format: u32 },
    /// A uid printed as its user name (`username`).
    Username,
    /// An errno printed as its message (`strerror()`).
    Errno,
    /// A cgroup id printed as its paths in the hierarchies matching string `filter` of
    /// the module's strings (`cgroup_path()`).
    CgroupPath { filter: u32 },
    /// Six bytes printed as a MAC address (`macaddr()`).
    Mac,
    /// The `args` structure of the current probe.
    Args,
    /// No value (statements, `exit()`, `printf()`).
    Void,
}

impl Type {
    pub const I64: Type = Type::Int {
        size: 8,
        signed: true,
    };
    pub const U64: Type = Type::Int {
        size: 8,
        signed: false,
    };
    pub const U32: Type = Type::Int {
        size: 4,
        signed: false,
    };

    /// Whether this is C's `char` (a signed byte): arrays of it are strings, arrays of
    /// `u8` are arrays.
    pub fn is_char(&self) -> bool {
        matches!(
            self,
            Type::Int {
                size: 1,
                signed: true
            }
        )
    }

    pub fn is_int(&self) -> bool {
        matches!(self, Type::Int { .. })
    }

    /// The width and signedness of an integer or bool as loaded from memory.
    pub fn int_parts(&self) -> Option<(u8, bool)> {
        match self {
            Type::Int { size, signed } => Some((*size, *signed)),
            Type::Bool => Some((8, false)),
            _ => None,
        }
    }

    /// Whether values of this type live in a stack slot as laid out for the runtime
    /// (tuples, ntop, buf, stacks, symbols) rather than in a register or a string.
    pub fn is_formatted(&self) -> bool {
        matches!(
            self,
            Type::Inet
                | Type::Buf { .. }
                | Type::Stack { .. }
                | Type::Sym { .. }
                | Type::Time { .. }
                | Type::Username
                | Type::Errno
                | Type::CgroupPath { .. }
                | Type::Mac
                | Type::Tuple(_)
        )
    }

    /// Whether this is a C struct, union or array.
    pub fn is_c_aggregate(&self) -> bool {
        matches!(self, Type::Struct(_) | Type::Array { .. })
    }

    /// Whether a value of this type can be stored in a map, a tuple or an event.
    pub fn is_storable(&self) -> bool {
        matches!(self, Type::Int { .. } | Type::Bool | Type::Str { .. })
            || self.is_c_aggregate()
            || self.is_formatted()
    }

    pub fn is_signed(&self) -> bool {
        matches!(self, Type::Int { signed: true, .. })
    }

    /// Size in bytes when stored in a key, value or event record.
    pub fn size(&self) -> u32 {
        match self {
            Type::Int { size, .. } => u32::from(*size),
            Type::Bool => 8,
            Type::Str { size } => *size,
            Type::Ptr { .. } => 8,
            Type::Tuple(fields) => tuple_layout(fields).1,
            Type::Named(_, ty) => ty.size(),
            Type::Struct(s) => s.size,
            Type::Array { elem, len } => elem.size().saturating_mul(*len),
            Type::Inet
            | Type::Buf { .. }
            | Type::Stack { .. }
            | Type::Sym { .. }
            | Type::Time { .. }
            | Type::Username
            | Type::Errno
            | Type::CgroupPath { .. }
            | Type::Mac => self.plain_meta().size(),
            Type::Args | Type::Void => 0,
        }
    }

    /// Alignment in bytes when stored.
    pub fn align(&self) -> u32 {
        match self {
            Type::Int { size, .. } => u32::from(*size),
            Type::Bool => 8,
            Type::Ptr { .. } => 8,
            Type::Tuple(fields) => fields.iter().map(Type::align).max().unwrap_or(1),
            Type::Named(_, ty) => ty.align(),
            Type::Str { .. } | Type::Inet | Type::Buf { .. } | Type::Stack { .. } => 8,
            Type::Sym { .. } | Type::Time { .. } | Type::Username => 8,
            Type::Errno | Type::CgroupPath { .. } | Type::Mac => 8,
            Type::Struct(s) => s.align,
            Type::Array { elem, .. } => elem.align(),
            Type::Args | Type::Void => 1,
        }
    }

    /// The same type as stored in a map key or record: integers widen to 64 bits.
    pub fn widened(&self) -> Type {
        match self {
            Type::Int { signed, .. } => Type::Int {
                size: 8,
                signed: *signed,
            },
            Type::Ptr { .. } => Type::U64,
            Type::Tuple(fields) => Type::Tuple(fields.iter().map(Type::widened).collect()),
            Type::Named(name, ty) => Type::Named(name.clone(), Box::new(ty.widened())),
            other => other.clone(),
        }
    }

    /// The runtime's description of a stored value of this type; C structs and arrays
    /// are laid out from the members `env` lists.
    pub fn to_meta(&self, env: &TypeEnv) -> meta::Ty {
        match self {
            Type::Tuple(fields) => {
                let (offsets, size) = tuple_layout(fields);
                let fields = fields
                    .iter()
                    .zip(offsets)
                    .map(|(ty, offset)| meta::Field {
                        offset,
                        ty: ty.to_meta(env),
                    })
                    .collect();
                let names = record_names(self).unwrap_or_default();
                meta::Ty::Tuple {
                    fields,
                    size,
                    names,
                }
            }
            Type::Named(_, ty) => ty.to_meta(env),
            Type::Struct(s) => struct_meta(s, env),
            Type::Array { elem, len } => meta::Ty::Array {
                elem: Box::new(member_meta(elem, env)),
                len: *len,
                stride: elem.size(),
            },
            other => other.plain_meta(),
        }
    }

    /// The runtime's description of a type that holds no tuple, struct or array.
    fn plain_meta(&self) -> meta::Ty {
        match self {
            Type::Int { size, signed } => meta::Ty::Int {
                size: *size,
                signed: *signed,
            },
            Type::Bool => meta::Ty::Int {
                size: 8,
                signed: false,
            },
            Type::Str { size } => meta::Ty::Str { size: *size },
            Type::Inet => meta::Ty::Inet,
            Type::Buf { size } => meta::Ty::Buf { size: *size },
            Type::Stack { user, frames, mode } => meta::Ty::Stack {
                user: *user,
                frames: *frames,
                mode: *mode,
            },
            Type::Sym { user } => meta::Ty::Sym { user: *user },
            Type::Time { format } => meta::Ty::Time { format: *format },
            Type::Username => meta::Ty::Username,
            Type::Errno => meta::Ty::Errno,
            Type::CgroupPath { filter } => meta::Ty::CgroupPath { filter: *filter },
            Type::Mac => meta::Ty::Mac,
            _ => meta::Ty::Int {
                size: 8,
                signed: false,
            },
        }
    }
}

/// A struct copied from memory, member by member; a struct whose members cannot be
/// listed is shown as its bytes.
fn struct_meta(s: &StructRef, env: &TypeEnv) -> meta::Ty {
    let Ok(members) = env.members(s) else {
        return meta::Ty::Array {
            elem: Box::new(meta::Ty::Int {
                size: 1,
                signed: false,
            }),
            len: s.size,
            stride: 1,
        };
    };
    let members = members
        .into_iter()
        .map(|(name, m)| meta::Member {
            name,
            offset: m.offset_bits / 8,
            ty: member_meta(&m.ty, env),
            bits: (m.bits != 0).then_some(meta::Bits {
                shift: m.offset_bits % 8,
                width: m.bits,
            }),
        })
        .collect();
    meta::Ty::Struct {
        members,
        size: s.size,
    }
}

/// A member or element of a C value as printed: `char` arrays as strings, pointers as
/// signed integers.
fn member_meta(ty: &Type, env: &TypeEnv) -> meta::Ty {
    match ty {
        Type::Ptr { .. } => meta::Ty::Int {
            size: 8,
            signed: true,
        },
        Type::Array { elem, len } if elem.is_char() => meta::Ty::Str { size: *len },
        Type::Int { .. } | Type::Struct(_) | Type::Array { .. } => ty.to_meta(env),
        _ => meta::Ty::Int {
            size: ty.size().clamp(1, 8) as u8,
            signed: false,
        },
    }
}

/// The integer type a language or C type name means (`uint32`, `unsigned long`, `u8`).
pub fn int_type_named(name: &str) -> Option<Type> {
    let (signed, bits) = match name {
        "int8" | "char" | "signed char" | "int8_t" | "s8" | "__s8" => (true, 8),
        "uint8" | "u8" | "__u8" | "unsigned char" | "uint8_t" | "bool" | "_Bool" => (false, 8),
        "int16" | "short" | "short int" | "int16_t" | "s16" | "__s16" => (true, 16),
        "uint16" | "u16" | "__u16" | "uint16_t" | "unsigned short" | "unsigned short int" => {
            (false, 16)
        }
        "int32" | "int" | "signed" | "signed int" | "int32_t" | "s32" | "__s32" => (true, 32),
        "uint32" | "u32" | "__u32" | "unsigned int" | "unsigned" | "uint32_t" => (false, 32),
        "int64" | "long" | "long int" | "long long" | "long long int" | "int64_t" | "s64"
        | "__s64" => (true, 64),
        "uint64"
        | "u64"
        | "__u64"
        | "unsigned long"
        | "unsigned long int"
        | "unsigned long long"
        | "unsigned long long int"
        | "uint64_t"
        | "size_t" => (false, 64),
        _ => return None,
    };
    Some(Type::Int {
        size: bits / 8,
        signed,
    })
}

/// The alignment a C aggregate of `size` bytes most likely has: the largest power of two
/// up to 8 that divides its size (BTF records sizes, not alignments).
pub fn natural_align(size: u32) -> u32 {
    [8, 4, 2]
        .into_iter()
        .find(|a| size.is_multiple_of(*a))
        .unwrap_or(1)
}

/// Offsets of each field laid out in order with natural alignment, and the total size
/// rounded up to the largest alignment.
pub fn tuple_layout(fields: &[Type]) -> (Vec<u32>, u32) {
    let mut offsets = Vec::with_capacity(fields.len());
    let mut end = 0u32;
    for ty in fields {
        let align = ty.align().max(1);
        let offset = end.div_ceil(align) * align;
        offsets.push(offset);
        end = offset + ty.size();
    }
    let align = fields.iter().map(Type::align).max().unwrap_or(1).max(1);
    (offsets, end.div_ceil(align) * align)
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Int { size, signed } => {
                write!(f, "{}int{}", if *signed { "" } else { "u" }, size * 8)
            }
            Type::Bool => write!(f, "bool"),
            Type::Str { size } => write!(f, "string[{size}]"),
            Type::Ptr { pointee, .. } => write!(f, "{pointee} *"),
            Type::Tuple(fields) => {
                write!(f, "(")?;
                for (i, t) in fields.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{t}")?;
                }
                write!(f, ")")
            }
            Type::Named(name, ty) => write!(f, "{name}: {ty}"),
            Type::Struct(s) => write!(f, "{}", s.name),
            Type::Array { elem, len } => write!(f, "{elem}[{len}]"),
            Type::Inet => write!(f, "inet"),
            Type::Buf { size } => write!(f, "buffer[{size}]"),
            Type::Stack { user, .. } => write!(f, "{}stack", if *user { "u" } else { "k" }),
            Type::Sym { user } => write!(f, "{}sym", if *user { "u" } else { "k" }),
            Type::Time { .. } => write!(f, "timestamp"),
            Type::Username => write!(f, "username"),
            Type::Errno => write!(f, "strerror"),
            Type::CgroupPath { .. } => write!(f, "cgroup_path"),
            Type::Mac => write!(f, "macaddr"),
            Type::Args => write!(f, "args"),
            Type::Void => write!(f, "none"),
        }
    }
}

/// The field names of a record type (a tuple whose fields are all named).
pub fn record_names(ty: &Type) -> Option<Vec<String>> {
    let Type::Tuple(fields) = ty else {
        return None;
    };
    fields
        .iter()
        .map(|f| match f {
            Type::Named(name, _) => Some(name.clone()),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()
        .filter(|names| !names.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuple_fields_align_naturally() {
        let (offsets, size) = tuple_layout(&[Type::Str { size: 3 }, Type::I64]);
        assert_eq!(offsets, vec![0, 8]);
        assert_eq!(size, 16);
    }

    #[test]
    fn display_names_types() {
        assert_eq!(Type::U32.to_string(), "uint32");
        assert_eq!(
            Type::Tuple(vec![Type::I64, Type::Str { size: 16 }]).to_string(),
            "(int64, string[16])"
        );
    }
}
