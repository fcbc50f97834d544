//! Turning a [`TypeId`] into an owned [`CType`]: typedefs and qualifiers are peeled,
//! pointers and struct members are left behind handles, so a resolution touches a
//! bounded number of records.

use super::ctype::{Aggregate, CType, EnumType, FuncSig, IntEncoding, Param, TypeId};
use super::error::BtfError;
use super::raw::{Kind, Record};
use super::{Budget, KernelTypes, MAX_DEPTH};

const INT_SIGNED: u32 = 1;
const INT_CHAR: u32 = 2;
const INT_BOOL: u32 = 4;
const CHAR_NAMES: [&str; 2] = ["char", "signed char"];

impl KernelTypes {
    /// `t` with typedefs, qualifiers and type tags peeled off.
    pub fn peel(&self, mut t: TypeId) -> Result<TypeId, BtfError> {
        for _ in 0..MAX_DEPTH {
            if t.is_void() {
                return Ok(t);
            }
            let record = self.record(t)?;
            if !record.kind.is_alias() {
                return Ok(t);
            }
            t = self.child(t, record.size_or_type);
        }
        Err(BtfError::TooDeep(t))
    }

    /// The type `t` describes, peeled; pointees and members stay unresolved.
    pub fn resolve(&self, t: TypeId) -> Result<CType, BtfError> {
        self.resolve_in(t, 0, &mut Budget::new())
    }

    pub(crate) fn resolve_in(
        &self,
        t: TypeId,
        depth: usize,
        budget: &mut Budget,
    ) -> Result<CType, BtfError> {
        budget.spend(t, depth)?;
        let t = self.peel(t)?;
        if t.is_void() {
            return Ok(CType::Void);
        }
        let record = self.record(t)?;
        let name = self.name(t, record.name_off)?.map(str::to_string);
        Ok(match record.kind {
            Kind::Int => int(&record, name.as_deref()),
            Kind::Float => CType::Float {
                size: record.size_or_type,
            },
            Kind::Ptr => CType::Ptr(self.child(t, record.size_or_type)),
            Kind::Array => self.array(t, &record, depth, budget)?,
            Kind::Struct => CType::Struct(aggregate(t, &record, name)),
            Kind::Union => CType::Union(aggregate(t, &record, name)),
            Kind::Enum | Kind::Enum64 => CType::Enum(enum_type(t, &record, name)),
            Kind::Fwd => CType::Fwd {
                name: name.unwrap_or_default(),
                union: record.kind_flag,
            },
            Kind::FuncProto | Kind::Func => {
                CType::Func(Box::new(self.signature_in(t, depth, budget)?))
            }
            _ => {
                return Err(BtfError::Unexpected {
                    id: t,
                    expected: "a type",
                })
            }
        })
    }

    fn array(
        &self,
        t: TypeId,
        record: &Record,
        depth: usize,
        budget: &mut Budget,
    ) -> Result<CType, BtfError> {
        let [elem, _index, len] = record.entries::<3>().next().unwrap_or_default();
        let elem = self.resolve_in(self.child(t, elem), depth + 1, budget)?;
        Ok(CType::Array {
            elem: Box::new(elem),
            len,
        })
    }

    /// The signature of a `FUNC`, a `FUNC_PROTO`, or a pointer to either (through
    /// typedefs).
    pub fn signature(&self, t: TypeId) -> Result<FuncSig, BtfError> {
        self.signature_in(t, 0, &mut Budget::new())
    }

    fn signature_in(
        &self,
        t: TypeId,
        depth: usize,
        budget: &mut Budget,
    ) -> Result<FuncSig, BtfError> {
        let (func, proto) = self.find_proto(t)?;
        let record = self.record(proto)?;
        let name = match func {
            Some(f) => self.name(f, self.record(f)?.name_off)?.map(str::to_string),
            None => None,
        };
        let mut params = Vec::with_capacity(usize::from(record.vlen));
        let mut variadic = false;
        for [name_off, ty] in record.entries::<2>() {
            if name_off == 0 && ty == 0 {
                variadic = true;
                continue;
            }
            let type_id = self.child(proto, ty);
            params.push(Param {
                name: self.name(proto, name_off)?.map(str::to_string),
                ty: self.resolve_in(type_id, depth + 1, budget)?,
                type_id,
            });
        }
        let ret_id = self.child(proto, record.size_or_type);
        Ok(FuncSig {
            id: func.unwrap_or(proto),
            name,
            ret: self.resolve_in(ret_id, depth + 1, budget)?,
            ret_id,
            params,
            variadic,
        })
    }

    /// The `FUNC` (if any) and the `FUNC_PROTO` that `t` leads to.
    fn find_proto(&self, t: TypeId) -> Result<(Option<TypeId>, TypeId), BtfError> {
        let mut func = None;
        let mut t = self.peel(t)?;
        for _ in 0..MAX_DEPTH {
            let record = self.record(t)?;
            match record.kind {
                Kind::FuncProto => return Ok((func, t)),
                Kind::Func if func.is_none() => func = Some(t),
                Kind::Ptr if func.is_none() => {}
                _ => {
                    return Err(BtfError::Unexpected {
                        id: t,
                        expected: "a function",
                    })
                }
            }
            t = self.peel(self.child(t, record.size_or_type))?;
        }
        Err(BtfError::TooDeep(t))
    }
}

fn int(record: &Record, name: Option<&str>) -> CType {
    let bits = record.extra();
    let encoding = bits >> 24;
    let is_char = encoding & INT_CHAR != 0 || name.is_some_and(|n| CHAR_NAMES.contains(&n));
    CType::Int {
        size: record.size_or_type,
        signed: encoding & INT_SIGNED != 0,
        encoding: if encoding & INT_BOOL != 0 {
            IntEncoding::Bool
        } else if is_char {
            IntEncoding::Char
        } else {
            IntEncoding::Plain
        },
    }
}

fn aggregate(id: TypeId, record: &Record, name: Option<String>) -> Aggregate {
    Aggregate {
        id,
        name,
        size: record.size_or_type,
    }
}

fn enum_type(id: TypeId, record: &Record, name: Option<String>) -> EnumType {
    EnumType {
        id,
        name,
        size: record.size_or_type,
        signed: record.kind_flag,
    }
}
