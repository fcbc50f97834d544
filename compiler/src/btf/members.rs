//! Members of structs and unions, and enumerators of enums.
//!
//! Members of anonymous nested structs and unions are reachable by name from the
//! outer struct, as in C, with their offsets added up. Bitfields are recognised in both
//! encodings: the struct's `kind_flag` (size in the top 8 bits of the offset) and the
//! older one where the member's `INT` carries its own bit width and bit offset.

use super::ctype::{Aggregate, EnumType, Field, TypeId, Variant};
use super::error::BtfError;
use super::raw::{Kind, Record};
use super::{Budget, KernelTypes};

/// One raw member record: name offset, type, bit offset and bitfield width.
struct RawMember {
    /// The struct or union the member belongs to (whose strings hold its name).
    owner: TypeId,
    name_off: u32,
    ty: TypeId,
    offset_bits: u32,
    bitfield_size: u32,
}

impl KernelTypes {
    /// The direct members of a struct or union, in order; anonymous members have an
    /// empty name and are not flattened.
    pub fn members(&self, agg: &Aggregate) -> Result<Vec<Field>, BtfError> {
        let raw = self.raw_members(agg.id)?;
        let mut budget = Budget::new();
        raw.into_iter()
            .map(|m| self.field_of(m, 0, &mut budget))
            .collect()
    }

    /// Every member accessible by name, in order, members of anonymous structs and unions
    /// included, with offsets from the start of `agg`.
    pub fn fields(&self, agg: &Aggregate) -> Result<Vec<Field>, BtfError> {
        let mut out = Vec::new();
        self.collect_fields(agg.id, 0, 0, &mut Budget::new(), &mut out)?;
        Ok(out)
    }

    /// The names [`fields`](Self::fields) lists: candidates for a "did you mean".
    pub fn field_names(&self, agg: &Aggregate) -> Result<Vec<String>, BtfError> {
        Ok(self.fields(agg)?.into_iter().map(|f| f.name).collect())
    }

    /// The member `name` of `agg`, looking inside anonymous structs and unions; only the
    /// found member's type is resolved.
    pub fn field(&self, agg: &Aggregate, name: &str) -> Result<Option<Field>, BtfError> {
        let mut wanted = name.as_bytes().to_vec();
        wanted.push(0);
        self.find_field(agg.id, &wanted, 0, 0, &mut Budget::new())
    }

    fn collect_fields(
        &self,
        id: TypeId,
        base_bits: u32,
        depth: usize,
        budget: &mut Budget,
        out: &mut Vec<Field>,
    ) -> Result<(), BtfError> {
        for member in self.raw_members(id)? {
            budget.spend(id, depth)?;
            if member.name_off != 0 {
                out.push(self.field_of(member, base_bits, budget)?);
            } else if let Some(inner) = self.anonymous_aggregate(&member)? {
                let bits = base_bits.saturating_add(member.offset_bits);
                self.collect_fields(inner, bits, depth + 1, budget, out)?;
            }
        }
        Ok(())
    }

    /// The member named `wanted` (with its NUL) of `id` or of its anonymous members.
    fn find_field(
        &self,
        id: TypeId,
        wanted: &[u8],
        base_bits: u32,
        depth: usize,
        budget: &mut Budget,
    ) -> Result<Option<Field>, BtfError> {
        let strings = self.strings_of(self.source(id.source)?);
        for member in self.raw_members(id)? {
            budget.spend(id, depth)?;
            if member.name_off != 0 {
                if strings.is(member.name_off, wanted) {
                    return self.field_of(member, base_bits, budget).map(Some);
                }
            } else if let Some(inner) = self.anonymous_aggregate(&member)? {
                let bits = base_bits.saturating_add(member.offset_bits);
                if let Some(found) = self.find_field(inner, wanted, bits, depth + 1, budget)? {
                    return Ok(Some(found));
                }
            }
        }
        Ok(None)
    }

    /// The struct or union an unnamed member embeds, if it is one.
    fn anonymous_aggregate(&self, member: &RawMember) -> Result<Option<TypeId>, BtfError> {
        let inner = self.peel(member.ty)?;
        if inner.is_void() {
            return Ok(None);
        }
        let kind = self.record(inner)?.kind;
        Ok(matches!(kind, Kind::Struct | Kind::Union).then_some(inner))
    }

    fn raw_members(&self, id: TypeId) -> Result<Vec<RawMember>, BtfError> {
        let record = self.record(id)?;
        if !matches!(record.kind, Kind::Struct | Kind::Union) {
            return Err(BtfError::Unexpected {
                id,
                expected: "a struct or union",
            });
        }
        let members = record.entries::<3>().map(|[name_off, ty, offset]| {
            let (offset_bits, bitfield_size) = match record.kind_flag {
                true => (offset & 0x00ff_ffff, offset >> 24),
                false => (offset, 0),
            };
            RawMember {
                owner: id,
                name_off,
                ty: self.child(id, ty),
                offset_bits,
                bitfield_size,
            }
        });
        Ok(members.collect())
    }

    /// The public description of `member`, offset by `base_bits`.
    fn field_of(
        &self,
        member: RawMember,
        base_bits: u32,
        budget: &mut Budget,
    ) -> Result<Field, BtfError> {
        let (extra_bits, int_width) = self.int_bitfield(member.ty)?;
        let bitfield_size = match member.bitfield_size {
            0 => int_width,
            n => n,
        };
        let name = self.name(member.owner, member.name_off)?;
        Ok(Field {
            name: name.unwrap_or("").to_string(),
            offset_bits: base_bits
                .saturating_add(member.offset_bits)
                .saturating_add(extra_bits),
            bitfield_size,
            ty: self.resolve_in(member.ty, 0, budget)?,
            type_id: member.ty,
        })
    }

    /// Bit offset and width an `INT` member type carries in the older bitfield encoding;
    /// `(0, 0)` when the type is not such an `INT`.
    fn int_bitfield(&self, ty: TypeId) -> Result<(u32, u32), BtfError> {
        let ty = self.peel(ty)?;
        if ty.is_void() {
            return Ok((0, 0));
        }
        let record = self.record(ty)?;
        if record.kind != Kind::Int {
            return Ok((0, 0));
        }
        let bits = record.extra() & 0xff;
        let offset = (record.extra() >> 16) & 0xff;
        let full = record.size_or_type.saturating_mul(8);
        Ok(if bits != full || offset != 0 {
            (offset, bits)
        } else {
            (0, 0)
        })
    }

    /// The enumerators of `e`, in order.
    pub fn enum_variants(&self, e: &EnumType) -> Result<Vec<Variant>, BtfError> {
        let record = self.record(e.id)?;
        enum_entries(e.id, &record)?
            .map(|(name_off, value)| {
                let name = self.name(e.id, name_off)?.unwrap_or("").to_string();
                Ok(Variant { name, value })
            })
            .collect()
    }

    /// The value of enumerator `name` of `e`.
    pub fn enum_value(&self, e: &EnumType, name: &str) -> Result<Option<i128>, BtfError> {
        let record = self.record(e.id)?;
        let strings = self.strings_of(self.source(e.id.source)?);
        let wanted = [name.as_bytes(), b"\0"].concat();
        let mut entries = enum_entries(e.id, &record)?;
        Ok(entries
            .find(|(name_off, _)| strings.is(*name_off, &wanted))
            .map(|(_, value)| value))
    }
}

/// `(name offset, value)` of each enumerator of an `ENUM` or `ENUM64` record.
pub(crate) fn enum_entries<'a>(
    id: TypeId,
    record: &Record<'a>,
) -> Result<Box<dyn Iterator<Item = (u32, i128)> + 'a>, BtfError> {
    let signed = record.kind_flag;
    match record.kind {
        Kind::Enum => Ok(Box::new(record.entries::<2>().map(move |[name, v]| {
            let value = if signed {
                i128::from(v as i32)
            } else {
                i128::from(v)
            };
            (name, value)
        }))),
        Kind::Enum64 => Ok(Box::new(record.entries::<3>().map(move |[name, lo, hi]| {
            let bits = (u64::from(hi) << 32) | u64::from(lo);
            let value = if signed {
                i128::from(bits as i64)
            } else {
                i128::from(bits)
            };
            (name, value)
        }))),
        _ => Err(BtfError::Unexpected {
            id,
            expected: "an enum",
        }),
    }
}
