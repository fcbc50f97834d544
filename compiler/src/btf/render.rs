//! The C spelling of a type (`struct task_struct *`, `const char *`, `u8[16]`), with
//! typedef names kept, for diagnostics and listings.

use super::ctype::TypeId;
use super::error::BtfError;
use super::raw::Kind;
use super::{Budget, KernelTypes};

impl KernelTypes {
    /// How C would spell type `t`.
    pub fn type_name(&self, t: TypeId) -> Result<String, BtfError> {
        self.spell(t, 0, &mut Budget::new())
    }

    fn spell(&self, t: TypeId, depth: usize, budget: &mut Budget) -> Result<String, BtfError> {
        budget.spend(t, depth)?;
        if t.is_void() {
            return Ok("void".to_string());
        }
        let record = self.record(t)?;
        let name = self.name(t, record.name_off)?.unwrap_or("(anon)");
        let inner = self.child(t, record.size_or_type);
        Ok(match record.kind {
            Kind::Struct => format!("struct {name}"),
            Kind::Union => format!("union {name}"),
            Kind::Enum | Kind::Enum64 => format!("enum {name}"),
            Kind::Fwd if record.kind_flag => format!("union {name}"),
            Kind::Fwd => format!("struct {name}"),
            Kind::Ptr => self.spell_pointer(inner, depth, budget)?,
            Kind::Const => self.spell_qualified("const", inner, depth, budget)?,
            Kind::Volatile => self.spell_qualified("volatile", inner, depth, budget)?,
            Kind::Restrict => self.spell_qualified("restrict", inner, depth, budget)?,
            Kind::TypeTag => self.spell(inner, depth + 1, budget)?,
            Kind::Array => self.spell_array(t, depth, budget)?,
            Kind::FuncProto => self.spell_proto(t, "", depth, budget)?,
            _ => name.to_string(),
        })
    }

    fn spell_pointer(
        &self,
        to: TypeId,
        depth: usize,
        budget: &mut Budget,
    ) -> Result<String, BtfError> {
        let peeled = self.peel(to)?;
        if !peeled.is_void() && self.record(peeled)?.kind == Kind::FuncProto {
            return self.spell_proto(peeled, "(*)", depth + 1, budget);
        }
        Ok(format!("{} *", self.spell(to, depth + 1, budget)?))
    }

    fn spell_qualified(
        &self,
        qual: &str,
        inner: TypeId,
        depth: usize,
        budget: &mut Budget,
    ) -> Result<String, BtfError> {
        let spelled = self.spell(inner, depth + 1, budget)?;
        let is_pointer = !inner.is_void() && self.record(inner)?.kind == Kind::Ptr;
        Ok(match is_pointer {
            true => format!("{spelled} {qual}"),
            false => format!("{qual} {spelled}"),
        })
    }

    fn spell_array(
        &self,
        t: TypeId,
        depth: usize,
        budget: &mut Budget,
    ) -> Result<String, BtfError> {
        let record = self.record(t)?;
        let [elem, _, len] = record.entries::<3>().next().unwrap_or_default();
        let elem = self.spell(self.child(t, elem), depth + 1, budget)?;
        Ok(format!("{elem}[{len}]"))
    }

    /// `ret declarator(params)`.
    fn spell_proto(
        &self,
        t: TypeId,
        declarator: &str,
        depth: usize,
        budget: &mut Budget,
    ) -> Result<String, BtfError> {
        let record = self.record(t)?;
        let ret = self.spell(self.child(t, record.size_or_type), depth + 1, budget)?;
        let mut params = Vec::new();
        for [_, ty] in record.entries::<2>() {
            params.push(match ty {
                0 => "...".to_string(),
                ty => self.spell(self.child(t, ty), depth + 1, budget)?,
            });
        }
        Ok(format!("{ret} {declarator}({})", params.join(", ")))
    }
}
