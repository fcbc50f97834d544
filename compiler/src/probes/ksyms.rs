//! The kernel functions kprobes can attach to, for wildcard expansion, "did you mean"
//! suggestions and `-l`.
//!
//! The list comes from tracefs `available_filter_functions` when it is readable, and
//! otherwise from `/proc/kallsyms` text symbols (types `t`/`T`). Either text can be
//! handed in directly ([`KernelSymbols::from_filter_functions`],
//! [`KernelSymbols::from_kallsyms`]), so the matching logic is tested without a kernel.
//! Compiler-made clones that cannot be probed (`.cold`, `.part.N`) and ftrace's
//! placeholders are left out. The list is sorted by name and has no duplicates.

use crate::probes::glob;
use crate::suggest::did_you_mean;
use std::sync::OnceLock;

/// One probe-able kernel function.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct KernelFunc {
    pub name: String,
    /// The module defining it; `None` for vmlinux.
    pub module: Option<String>,
}

impl KernelFunc {
    /// `vmlinux` for built-in functions, otherwise the module's name.
    pub fn module_name(&self) -> &str {
        self.module.as_deref().unwrap_or("vmlinux")
    }
}

/// The kernel's probe-able functions.
#[derive(Debug, Clone, Default)]
pub struct KernelSymbols {
    funcs: Vec<KernelFunc>,
}

const FILTER_FUNCTIONS: [&str; 2] = [
    "/sys/kernel/tracing/available_filter_functions",
    "/sys/kernel/debug/tracing/available_filter_functions",
];
const KALLSYMS: &str = "/proc/kallsyms";

impl KernelSymbols {
    /// The running kernel's functions, read once per process; `None` when neither
    /// `available_filter_functions` nor `/proc/kallsyms` can be read.
    pub fn system() -> Option<&'static KernelSymbols> {
        static SYSTEM: OnceLock<Option<KernelSymbols>> = OnceLock::new();
        SYSTEM.get_or_init(Self::read_system).as_ref()
    }

    fn read_system() -> Option<KernelSymbols> {
        let filtered = FILTER_FUNCTIONS
            .iter()
            .find_map(|p| std::fs::read_to_string(p).ok())
            .map(|text| Self::from_filter_functions(&text))
            .filter(|s| !s.is_empty());
        filtered.or_else(|| {
            let text = std::fs::read_to_string(KALLSYMS).ok()?;
            Some(Self::from_kallsyms(&text)).filter(|s| !s.is_empty())
        })
    }

    /// Parses `available_filter_functions`: `name` or `name [module]` per line.
    pub fn from_filter_functions(text: &str) -> Self {
        let funcs = text.lines().filter_map(|line| {
            let mut words = line.split_whitespace();
            let name = words.next()?;
            let module = words.next().and_then(module_of);
            Some((name, module))
        });
        Self::collect(funcs)
    }

    /// Parses `/proc/kallsyms`: `address type name [\t[module]]`, keeping text symbols.
    pub fn from_kallsyms(text: &str) -> Self {
        let funcs = text.lines().filter_map(|line| {
            let mut words = line.split_whitespace();
            let (_addr, kind, name) = (words.next()?, words.next()?, words.next()?);
            if kind != "t" && kind != "T" {
                return None;
            }
            let module = match words.next() {
                Some(m) if m.starts_with("[__builtin") => return None,
                Some(m) => module_of(m),
                None => None,
            };
            Some((name, module))
        });
        Self::collect(funcs)
    }

    fn collect<'a>(funcs: impl Iterator<Item = (&'a str, Option<&'a str>)>) -> Self {
        let mut funcs: Vec<KernelFunc> = funcs
            .filter(|(name, _)| probeable(name))
            .map(|(name, module)| KernelFunc {
                name: name.to_string(),
                module: module.map(str::to_string),
            })
            .collect();
        funcs.sort();
        funcs.dedup();
        KernelSymbols { funcs }
    }

    pub fn is_empty(&self) -> bool {
        self.funcs.is_empty()
    }

    /// Every function, sorted by name.
    pub fn all(&self) -> &[KernelFunc] {
        &self.funcs
    }

    /// Functions whose name matches `pattern` (`*` matches any run, dots included), in
    /// modules matching `module` (`vmlinux` for built-ins) when one is given. Each name
    /// appears once.
    pub fn matching(&self, module: Option<&str>, pattern: &str) -> Vec<&KernelFunc> {
        let mut out: Vec<&KernelFunc> = self
            .funcs
            .iter()
            .filter(|f| glob(pattern, &f.name))
            .filter(|f| module.is_none_or(|m| glob(m, f.module_name())))
            .collect();
        out.dedup_by(|a, b| a.name == b.name);
        out
    }

    /// Whether function `name` exists (in `module`, when one is given).
    pub fn contains(&self, module: Option<&str>, name: &str) -> bool {
        let start = self.funcs.partition_point(|f| f.name.as_str() < name);
        self.funcs[start..]
            .iter()
            .take_while(|f| f.name == name)
            .any(|f| module.is_none_or(|m| m == f.module_name()))
    }

    /// The function name closest to `name`, if one is close enough to be a typo.
    pub fn near(&self, name: &str) -> Option<&str> {
        let limit = name.len() / 3 + 1;
        let close = self
            .funcs
            .iter()
            .map(|f| f.name.as_str())
            .filter(|n| n.len().abs_diff(name.len()) <= limit);
        did_you_mean(name, close)
    }
}

/// `[ext4]` → `ext4`.
fn module_of(word: &str) -> Option<&str> {
    word.strip_prefix('[')?.strip_suffix(']')
}

/// Whether a symbol names a function a kprobe can attach to.
fn probeable(name: &str) -> bool {
    !name.contains(".cold")
        && !name.contains(".part.")
        && !name.starts_with("__pfx_")
        && !name.starts_with("__ftrace_invalid_address__")
}

#[cfg(test)]
mod tests {
    use super::*;

    const KALLSYMS: &str = "\
ffffffff816b93b0 t vfs_readv
ffffffff81216a1d t vfs_get_tree.cold
ffffffff816bab70 T vfs_read
ffffffff816bab60 t __pfx_vfs_read
ffffffff816bb3c0 T vfs_write
ffffffff82000000 D vfs_data
ffffffff816cd820 t lookup_fast.constprop.0
ffffffff816cd820 t lookup_fast.part.0
ffffffff816cd900 t lookup_fast
ffffffffc0201000 t ftrace_trampoline\t[__builtin__ftrace]
ffffffffc0300000 t ext4_read_folio\t[ext4]
ffffffffc0300000 t vfs_read\t[ext4]
";

    fn names(funcs: Vec<&KernelFunc>) -> Vec<&str> {
        funcs.into_iter().map(|f| f.name.as_str()).collect()
    }

    #[test]
    fn kallsyms_keeps_text_symbols_only() {
        let syms = KernelSymbols::from_kallsyms(KALLSYMS);
        let all: Vec<_> = syms.all().iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            all,
            [
                "ext4_read_folio",
                "lookup_fast",
                "lookup_fast.constprop.0",
                "vfs_read",
                "vfs_read",
                "vfs_readv",
                "vfs_write"
            ]
        );
        assert!(syms.contains(Some("ext4"), "ext4_read_folio"));
        assert!(!syms.contains(Some("vmlinux"), "ext4_read_folio"));
        assert!(!syms.contains(None, "ftrace_trampoline"));
    }

    #[test]
    fn stars_match_across_dots_and_names_are_unique() {
        let syms = KernelSymbols::from_kallsyms(KALLSYMS);
        assert_eq!(
            names(syms.matching(None, "vfs_*")),
            ["vfs_read", "vfs_readv", "vfs_write"]
        );
        assert_eq!(
            names(syms.matching(None, "lookup_fast.constprop.*")),
            ["lookup_fast.constprop.0"]
        );
        assert_eq!(
            names(syms.matching(Some("ext*"), "*")),
            ["ext4_read_folio", "vfs_read"]
        );
        assert!(syms.matching(None, "nothing_*").is_empty());
    }

    #[test]
    fn filter_functions_parse_with_modules() {
        let text = "vfs_read\nvfs_write\next4_read_folio [ext4]\n__ftrace_invalid_address___64\n";
        let syms = KernelSymbols::from_filter_functions(text);
        assert_eq!(syms.all().len(), 3);
        assert!(syms.contains(Some("ext4"), "ext4_read_folio"));
        assert_eq!(syms.near("vfs_raed"), Some("vfs_read"));
        assert_eq!(syms.near("completely_else"), None);
    }
}
