//! The kernel type database: lazy lookups of kernel types in BTF.
//!
//! [`KernelTypes`] reads vmlinux BTF (`/sys/kernel/btf/vmlinux`, mapped rather than
//! copied when the kernel allows), module BTF (split BTF under `/sys/kernel/btf/<module>`,
//! loaded on the first lookup that vmlinux cannot answer) or a `--btf FILE` (raw BTF or an
//! ELF file with a `.BTF` section). Nothing is parsed eagerly:
//!
//! - opening checks the header only;
//! - records are walked in order, as far as the furthest one asked for, and their offsets
//!   kept, so finding type `n` again is an index (module `source`);
//! - a lookup by name walks records of the asked kinds, comparing names in place, and
//!   stops at the first match; results are remembered (module `names`);
//! - a found type becomes an owned [`CType`] whose pointers and struct members stay
//!   behind [`TypeId`] handles until asked for (modules `resolve`, `members`).
//!
//! ```no_run
//! use ebpfc_compiler::btf::KernelTypes;
//!
//! let types = KernelTypes::system()?;
//! let task = types.struct_named("task_struct")?.expect("vmlinux has task_struct");
//! let parent = types.field(&task, "real_parent")?.expect("a field of task_struct");
//! let parent = types.resolve(parent.ty.pointee().expect("a pointer"))?;
//! let pid = types.field(parent.as_aggregate().expect("a struct"), "pid")?;
//! assert!(pid.is_some_and(|pid| pid.ty.is_signed()));
//! # Ok::<(), ebpfc_compiler::btf::BtfError>(())
//! ```
//!
//! Every failure on corrupt input is a [`BtfError`]; every chain of references
//! (typedefs, qualifiers, nested anonymous members, arrays) is bounded by
//! [`MAX_DEPTH`], and the records one call visits by a fixed budget.

mod ctype;
mod elf;
mod error;
mod load;
mod members;
mod names;
mod raw;
mod render;
mod resolve;
mod source;

pub use ctype::{
    Aggregate, CType, EnumType, Field, FuncSig, IntEncoding, Param, TypeId, Typedef, Variant,
};
pub use error::BtfError;
pub use raw::Kind;

use raw::Record;
use source::{Source, Strings};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

/// How many references (typedefs, qualifiers, array elements, anonymous members) a
/// resolution follows in a chain before it gives up with [`BtfError::TooDeep`].
pub const MAX_DEPTH: usize = 64;

/// Records one public call may visit before it gives up with [`BtfError::TooDeep`]:
/// corrupt BTF can share nested types so that expanding them grows exponentially.
const MAX_STEPS: u32 = 1 << 16;

/// The work left to one public call: records to visit, checked with the nesting depth.
pub(crate) struct Budget {
    steps: u32,
}

impl Budget {
    pub(crate) fn new() -> Self {
        Budget { steps: MAX_STEPS }
    }

    /// Spends one step on type `t` at nesting `depth`.
    pub(crate) fn spend(&mut self, t: TypeId, depth: usize) -> Result<(), BtfError> {
        if depth > MAX_DEPTH || self.steps == 0 {
            return Err(BtfError::TooDeep(t));
        }
        self.steps -= 1;
        Ok(())
    }
}

/// The kernel's types: vmlinux BTF plus module BTF, or one BTF file.
pub struct KernelTypes {
    base: Source,
    /// Where module BTF files live (`/sys/kernel/btf`), if modules are wanted.
    module_dir: Option<PathBuf>,
    modules: OnceLock<Modules>,
    /// Results of [`find`](Self::find), keyed by kind mask and name.
    memo: Mutex<HashMap<(u32, String), Option<TypeId>>>,
}

/// The module sources, loaded together on the first miss in the base.
#[derive(Default)]
struct Modules {
    loaded: Vec<Source>,
    failed: Vec<(String, BtfError)>,
}

impl KernelTypes {
    fn new(base: Source, module_dir: Option<PathBuf>) -> Self {
        KernelTypes {
            base,
            module_dir,
            modules: OnceLock::new(),
            memo: Mutex::default(),
        }
    }

    fn memo_get(&self, key: &(u32, String)) -> Option<Option<TypeId>> {
        let memo = self.memo.lock().unwrap_or_else(|e| e.into_inner());
        memo.get(key).copied()
    }

    fn memo_put(&self, key: (u32, String), found: Option<TypeId>) {
        let mut memo = self.memo.lock().unwrap_or_else(|e| e.into_inner());
        memo.insert(key, found);
    }

    /// Module sources, loading them on first use.
    fn modules(&self) -> &Modules {
        self.modules.get_or_init(|| match &self.module_dir {
            Some(dir) => load::modules(dir, &self.base),
            None => Modules::default(),
        })
    }

    /// Module sources if they were already loaded.
    fn loaded_modules(&self) -> &[Source] {
        self.modules.get().map_or(&[], |m| &m.loaded)
    }

    /// The source numbered `n` (0 is the base).
    fn source(&self, n: u16) -> Result<&Source, BtfError> {
        match n {
            0 => Ok(&self.base),
            n => self
                .loaded_modules()
                .get(usize::from(n) - 1)
                .ok_or(BtfError::BadTypeId(0)),
        }
    }

    /// The strings the names of source `n` refer to.
    fn strings_of<'a>(&'a self, source: &'a Source) -> Strings<'a> {
        Strings {
            base: self.base.strings(),
            own: source.strings(),
            split_at: source.str_base,
        }
    }

    /// The record of type `t` (not `void`).
    fn record(&self, t: TypeId) -> Result<Record<'_>, BtfError> {
        self.source(t.source)?.record(t.id)
    }

    /// The handle of raw id `raw` as referred to from a record of `from`.
    fn child(&self, from: TypeId, raw: u32) -> TypeId {
        let local = self
            .source(from.source)
            .is_ok_and(|source| from.source != 0 && source.owns(raw));
        TypeId {
            source: if local { from.source } else { 0 },
            id: raw,
        }
    }

    /// The name at `off` for a record of `t`; `None` for the empty name.
    fn name(&self, t: TypeId, off: u32) -> Result<Option<&str>, BtfError> {
        let source = self.source(t.source)?;
        let name = self.strings_of(source).get(off)?;
        Ok((!name.is_empty()).then_some(name))
    }

    /// Every type id of vmlinux (or the file) and of the modules loaded so far; builds
    /// the offset index.
    pub fn type_ids(&self) -> Result<Vec<TypeId>, BtfError> {
        let mut out = Vec::new();
        let sources = std::iter::once(&self.base).chain(self.loaded_modules());
        for (n, source) in sources.enumerate() {
            let ids = source.first_id..source.first_id + source.count()?;
            out.extend(ids.map(|id| TypeId {
                source: n as u16,
                id,
            }));
        }
        Ok(out)
    }

    /// Which source a type comes from: `vmlinux`, a module's name, or the file's path.
    pub fn source_name(&self, t: TypeId) -> Option<&str> {
        self.source(t.source).ok().map(|s| s.name.as_str())
    }
}
