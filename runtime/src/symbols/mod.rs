//! The session's answers to the renderer's questions about stacks, addresses and times
//! ([`Symbols`]): frames from the object's stack map, kernel symbols from
//! `/proc/kallsyms` ([`kernel`]), user symbols from each process's mappings ([`user`])
//! and the ELF files behind them ([`elf`]), and `strftime()` texts from the metadata's
//! formats ([`clock`]), and `cgroup_path()` texts from the mounted cgroup hierarchies
//! ([`cgroup`]).
//!
//! Invariants: `/proc/kallsyms` is read at most once per session, when a kernel address
//! is first resolved; each mapped file's symbols are read at most once per session (a
//! file that cannot be read is remembered as having none); a process's mappings are
//! read afresh for every question, so the addresses of a process that has exited print
//! as addresses, as bpftrace prints them.

mod cgroup;
mod clock;
mod elf;
mod kernel;
mod user;

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::os::fd::{AsFd, OwnedFd};
use std::rc::Rc;

use aya::maps::Map;
use aya::Ebpf;
use ebpfc_stdlib::meta::Metadata;

use crate::error::{io_words, RuntimeError};
use crate::output::{Symbol, Symbols};
use crate::sys::RawMap;
use clock::WallClock;
use elf::ElfSymbols;
use kernel::KernelSymbols;

/// Stack map, kernel symbols and ELF symbol caches of one session.
#[derive(Default)]
pub(crate) struct SessionSymbols {
    /// The `BPF_MAP_TYPE_STACK_TRACE` map stack ids index, if the object has one.
    stack_map: Option<OwnedFd>,
    kernel: OnceCell<KernelSymbols>,
    /// Symbols per mapped file, keyed by `device:inode` and path.
    files: RefCell<HashMap<(String, std::path::PathBuf), Rc<ElfSymbols>>>,
    /// The metadata's strings (`strftime()` formats).
    strings: Vec<String>,
    /// Converts `strftime()` times; set when the session starts.
    clock: Option<WallClock>,
}

impl SessionSymbols {
    /// Symbols for the loaded object: its stack map is the one `meta.stack_map` names.
    pub fn new(ebpf: &Ebpf, meta: &Metadata) -> Result<Self, RuntimeError> {
        let stack_map = match &meta.stack_map {
            None => None,
            Some(name) => Some(stack_map_fd(ebpf, name)?),
        };
        Ok(Self {
            stack_map,
            strings: meta.strings.clone(),
            clock: Some(WallClock::now()),
            ..Self::default()
        })
    }

    /// The symbols of the file behind `mapping`, read on first use.
    fn file(&self, mapping: &user::Mapping) -> Rc<ElfSymbols> {
        let key = (mapping.file_id.clone(), mapping.path.clone());
        if let Some(found) = self.files.borrow().get(&key) {
            return Rc::clone(found);
        }
        let table = Rc::new(ElfSymbols::read(&mapping.path).unwrap_or_default());
        self.files.borrow_mut().insert(key, Rc::clone(&table));
        table
    }
}

/// A duplicate of the fd of the stack map `name`.
fn stack_map_fd(ebpf: &Ebpf, name: &str) -> Result<OwnedFd, RuntimeError> {
    let fail = |reason: String| RuntimeError::Map {
        map: name.to_string(),
        reason,
    };
    match ebpf.map(name) {
        Some(Map::StackTraceMap(data)) => data
            .fd()
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| fail(io_words(&e))),
        Some(_) => Err(fail("it is not a stack trace map".to_string())),
        None => Err(fail("the object has no map of that name".to_string())),
    }
}

impl Symbols for SessionSymbols {
    fn stack(&self, id: i64) -> Option<Vec<u64>> {
        let map = RawMap::new(self.stack_map.as_ref()?.as_fd(), 1).ok()?;
        let key_size = map.shape().key_size as usize;
        let key = id.to_le_bytes().get(..key_size)?.to_vec();
        let value = map.lookup(&key).ok()??;
        Some(frames(&value))
    }

    fn kernel_symbol(&self, addr: u64) -> Option<Symbol> {
        self.kernel.get_or_init(KernelSymbols::load).resolve(addr)
    }

    fn user_symbols(&self, pid: u32, addrs: &[u64]) -> Vec<Option<Symbol>> {
        let mappings = user::mappings(pid);
        addrs
            .iter()
            .map(|&addr| {
                mappings.iter().find_map(|m| {
                    let offset = m.file_offset(addr)?;
                    let symbol = self.file(m).resolve_file_offset(offset)?;
                    let module = Some(m.path.display().to_string());
                    Some(Symbol { module, ..symbol })
                })
            })
            .collect()
    }

    fn time(&self, format: u32, ns: u64) -> Option<Vec<u8>> {
        let format = self.strings.get(usize::try_from(format).ok()?)?;
        self.clock.as_ref()?.format(format, ns)
    }

    fn cgroup_path(&self, filter: u32, id: u64) -> Option<Vec<u8>> {
        let filter = self.strings.get(usize::try_from(filter).ok()?)?;
        Some(cgroup::paths(id, filter))
    }
}

/// Where functions start in their files, for uprobes; each file is read once.
#[derive(Default)]
pub(crate) struct FunctionOffsets {
    files: HashMap<String, Option<ElfSymbols>>,
}

impl FunctionOffsets {
    /// The file offset of function `name` in the file at `path`, if both are found.
    pub fn find(&mut self, path: &str, name: &str) -> Option<u64> {
        let table = self
            .files
            .entry(path.to_string())
            .or_insert_with(|| ElfSymbols::read(std::path::Path::new(path)));
        table.as_ref()?.file_offset_of(name)
    }
}

/// The instruction pointers of a stack map value, up to the first zero.
fn frames(value: &[u8]) -> Vec<u64> {
    value
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
        .take_while(|&ip| ip != 0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_end_at_the_first_zero() {
        let value: Vec<u8> = [5u64, 7, 0, 9]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        assert_eq!(frames(&value), vec![5, 7]);
        assert_eq!(frames(&[1, 2, 3]), Vec::<u64>::new());
    }

    #[test]
    fn without_a_stack_map_no_stack_is_found() {
        assert_eq!(SessionSymbols::default().stack(0), None);
    }

    #[inline(never)]
    fn resolvable_target() -> u64 {
        std::hint::black_box(42)
    }

    /// This test binary's own functions resolve through `/proc/self/maps` and its ELF
    /// symbols (the name is mangled: bpftrace 0.17 prints Rust symbols mangled too).
    #[test]
    fn resolves_a_function_of_this_process() {
        let addr = resolvable_target as fn() -> u64 as usize as u64;
        let syms = SessionSymbols::default();
        let found = syms.user_symbols(std::process::id(), &[addr + 1, 0]);
        let symbol = found[0].clone().expect("the test function resolves");
        assert!(symbol.name.contains("resolvable_target"), "{symbol:?}");
        assert_eq!(symbol.offset, 1);
        assert_eq!(found[1], None);
        assert_eq!(syms.files.borrow().len(), 1);
    }

    #[test]
    fn a_process_that_is_gone_resolves_nothing() {
        let syms = SessionSymbols::default();
        assert_eq!(syms.user_symbols(u32::MAX, &[0x1000]), vec![None]);
    }
}
