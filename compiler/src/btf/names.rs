//! Lookups by name: the entry points the type checker calls.
//!
//! There is no name index. A lookup walks the records of vmlinux in order, reading only
//! the `name_off` and `info` words of each and comparing the name in place when the kind
//! matches, and stops at the first match; modules are scanned (and loaded, the first
//! time) only when vmlinux has no match. Results are remembered, so asking again for the same name costs a hash
//! lookup.

use super::ctype::{Aggregate, CType, EnumType, FuncSig, Param, TypeId, Typedef};
use super::error::BtfError;
use super::members::enum_entries;
use super::raw::{split_info, u32_at, Kind};
use super::source::Source;
use super::KernelTypes;
use crate::suggest::did_you_mean;

/// A set of kinds as a bit mask indexed by kind number.
fn mask(kinds: &[Kind]) -> u32 {
    kinds.iter().fold(0, |m, k| m | (1 << (*k as u32)))
}

impl KernelTypes {
    /// The first type of one of `kinds` called `name`, in vmlinux first, then in modules.
    /// An enum with no enumerators (a forward declaration) is returned only when no
    /// complete one exists.
    pub fn find(&self, kinds: &[Kind], name: &str) -> Result<Option<TypeId>, BtfError> {
        let key = (mask(kinds), name.to_string());
        if let Some(found) = self.memo_get(&key) {
            return Ok(found);
        }
        let found = self.find_uncached(key.0, name)?;
        self.memo_put(key, found);
        Ok(found)
    }

    fn find_uncached(&self, kinds: u32, name: &str) -> Result<Option<TypeId>, BtfError> {
        let wanted = [name.as_bytes(), b"\0"].concat();
        if let Some(found) = self.scan(&self.base, 0, kinds, &wanted)? {
            return Ok(Some(found));
        }
        for (i, module) in self.modules().loaded.iter().enumerate() {
            if let Some(found) = self.scan(module, i as u16 + 1, kinds, &wanted)? {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    /// Scans one source for a record of `kinds` named `wanted` (with its NUL).
    fn scan(
        &self,
        source: &Source,
        n: u16,
        kinds: u32,
        wanted: &[u8],
    ) -> Result<Option<TypeId>, BtfError> {
        let strings = self.strings_of(source);
        let types = source.types();
        let mut incomplete = None;
        let found = source.position(|id, off| {
            let name_off = u32_at(types, off).unwrap_or(0);
            let (kind, vlen) = split_info(u32_at(types, off + 4).unwrap_or(0));
            if name_off == 0 || (kinds >> kind) & 1 == 0 || !strings.is(name_off, wanted) {
                return false;
            }
            let is_enum = kind == Kind::Enum as u8 || kind == Kind::Enum64 as u8;
            if is_enum && vlen == 0 {
                incomplete = incomplete.or(Some(id));
                return false;
            }
            true
        })?;
        Ok(found.or(incomplete).map(|id| TypeId { source: n, id }))
    }

    /// `struct name`.
    pub fn struct_named(&self, name: &str) -> Result<Option<Aggregate>, BtfError> {
        self.aggregate_named(Kind::Struct, name)
    }

    /// `union name`.
    pub fn union_named(&self, name: &str) -> Result<Option<Aggregate>, BtfError> {
        self.aggregate_named(Kind::Union, name)
    }

    fn aggregate_named(&self, kind: Kind, name: &str) -> Result<Option<Aggregate>, BtfError> {
        let Some(id) = self.find(&[kind], name)? else {
            return Ok(None);
        };
        match self.resolve(id)? {
            CType::Struct(a) | CType::Union(a) => Ok(Some(a)),
            _ => Err(BtfError::Unexpected {
                id,
                expected: "a struct or union",
            }),
        }
    }

    /// `enum name` (32- or 64-bit).
    pub fn enum_named(&self, name: &str) -> Result<Option<EnumType>, BtfError> {
        let Some(id) = self.find(&[Kind::Enum, Kind::Enum64], name)? else {
            return Ok(None);
        };
        match self.resolve(id)? {
            CType::Enum(e) => Ok(Some(e)),
            _ => Err(BtfError::Unexpected {
                id,
                expected: "an enum",
            }),
        }
    }

    /// `typedef ... name`, with the type it names peeled.
    pub fn typedef_named(&self, name: &str) -> Result<Option<Typedef>, BtfError> {
        let Some(id) = self.find(&[Kind::Typedef], name)? else {
            return Ok(None);
        };
        Ok(Some(Typedef {
            id,
            name: name.to_string(),
            ty: self.resolve(id)?,
        }))
    }

    /// The kernel function `name`: its parameters (with names) and return type.
    pub fn func_named(&self, name: &str) -> Result<Option<FuncSig>, BtfError> {
        match self.find(&[Kind::Func], name)? {
            Some(id) => self.signature(id).map(Some),
            None => Ok(None),
        }
    }

    /// `struct trace_event_raw_<event>`: the record of a tracepoint defined with its own
    /// `TRACE_EVENT`. Events sharing a template (`DEFINE_EVENT`) use the template's
    /// struct, which this does not find: the tracefs `format` file is the fallback.
    pub fn trace_event_struct(&self, event: &str) -> Result<Option<Aggregate>, BtfError> {
        self.struct_named(&format!("trace_event_raw_{event}"))
    }

    /// The arguments of raw tracepoint `event`: the prototype of typedef
    /// `btf_trace_<event>` without its leading `void *`. Names come from the function
    /// `__bpf_trace_<event>` when it exists with the same parameters; otherwise they are
    /// `None`.
    pub fn raw_tp_args(&self, event: &str) -> Result<Option<Vec<Param>>, BtfError> {
        let Some(id) = self.find(&[Kind::Typedef], &format!("btf_trace_{event}"))? else {
            return Ok(None);
        };
        let mut params = self.signature(id)?.params;
        if !params.is_empty() {
            params.remove(0);
        }
        if let Some(named) = self.func_named(&format!("__bpf_trace_{event}"))? {
            name_params(&mut params, &named.params[named.params.len().min(1)..]);
        }
        Ok(Some(params))
    }

    /// The enum with an enumerator called `name`, and its value.
    pub fn enum_constant(&self, name: &str) -> Result<Option<(EnumType, i128)>, BtfError> {
        let wanted = [name.as_bytes(), b"\0"].concat();
        for (n, source) in self.sources_with_modules() {
            let strings = self.strings_of(source);
            for id in self.ids_of(source, n, mask(&[Kind::Enum, Kind::Enum64]))? {
                let record = self.record(id)?;
                let mut entries = enum_entries(id, &record)?;
                if let Some((_, value)) = entries.find(|(off, _)| strings.is(*off, &wanted)) {
                    let CType::Enum(e) = self.resolve(id)? else {
                        continue;
                    };
                    return Ok(Some((e, value)));
                }
            }
        }
        Ok(None)
    }

    /// Every name of a type of one of `kinds`, in vmlinux and every module (loading
    /// them): the candidates for a "did you mean".
    pub fn names_of(&self, kinds: &[Kind]) -> Result<Vec<(&str, TypeId)>, BtfError> {
        let kinds = mask(kinds);
        let mut out = Vec::new();
        for (n, source) in self.sources_with_modules() {
            let strings = self.strings_of(source);
            let types = source.types();
            let mut failed = None;
            source.position(|id, off| {
                let name_off = u32_at(types, off).unwrap_or(0);
                let (kind, _) = split_info(u32_at(types, off + 4).unwrap_or(0));
                if name_off != 0 && (kinds >> kind) & 1 == 1 {
                    match strings.get(name_off) {
                        Ok(name) => out.push((name, TypeId { source: n, id })),
                        Err(err) => failed = Some(err),
                    }
                }
                failed.is_some()
            })?;
            if let Some(err) = failed {
                return Err(err);
            }
        }
        Ok(out)
    }

    /// The name of a type of one of `kinds` closest to `name`, if one is close enough to
    /// be a likely typo.
    pub fn name_near(&self, kinds: &[Kind], name: &str) -> Result<Option<String>, BtfError> {
        let names = self.names_of(kinds)?;
        let limit = name.len() / 3 + 1;
        let close = names
            .iter()
            .map(|(n, _)| *n)
            .filter(|n| n.len().abs_diff(name.len()) <= limit);
        Ok(did_you_mean(name, close).map(str::to_string))
    }

    /// The struct name closest to `name`, for "unknown struct; did you mean ...".
    pub fn struct_name_near(&self, name: &str) -> Result<Option<String>, BtfError> {
        self.name_near(&[Kind::Struct], name)
    }

    /// The base and every loaded module, with their source numbers.
    fn sources_with_modules(&self) -> impl Iterator<Item = (u16, &Source)> {
        let modules = self.modules().loaded.iter();
        let modules = modules.enumerate().map(|(i, m)| (i as u16 + 1, m));
        std::iter::once((0, &self.base)).chain(modules)
    }

    /// Ids of the records of `source` whose kind is in `kinds`.
    fn ids_of(&self, source: &Source, n: u16, kinds: u32) -> Result<Vec<TypeId>, BtfError> {
        let types = source.types();
        let mut ids = Vec::new();
        source.position(|id, off| {
            let (kind, _) = split_info(u32_at(types, off + 4).unwrap_or(0));
            if (kinds >> kind) & 1 == 1 {
                ids.push(TypeId { source: n, id });
            }
            false
        })?;
        Ok(ids)
    }
}

/// Gives unnamed `params` the names of `named` when both list the same types.
fn name_params(params: &mut [Param], named: &[Param]) {
    let same = params.len() == named.len() && params.iter().zip(named).all(|(p, n)| p.ty == n.ty);
    if same {
        for (param, named) in params.iter_mut().zip(named) {
            param.name = param.name.take().or_else(|| named.name.clone());
        }
    }
}
