//! `-l [PATTERN]` and `-lv`: the probes that exist here, named as bpftrace lists them,
//! with their arguments on request.
//!
//! A pattern is `provider[:rest]`. The provider may be an alias (`t`, `kfunc`) or a glob
//! (`*` lists every kernel probe kind); `rest` is globbed (`*` matches any run, `:`
//! included) against each probe's name after the provider. For kprobes, fentry/fexit and
//! raw tracepoints, a `rest` without `:` is matched against the function or event only,
//! whatever its module. A bare word that is no provider is looked for among the kernel
//! probes' last names (`ebpfc -l 'vfs_read*'`). A pattern that matches nothing lists
//! nothing; an unknown provider is an error.
//!
//! Names follow upstream bpftrace: `tracepoint:syscalls:sys_enter_openat`,
//! `kprobe:vfs_read` (`kprobe:MODULE:fn` for module functions),
//! `fentry:vmlinux:vfs_read`, `rawtracepoint:vmlinux:sched_switch`,
//! `software:cpu-clock:`, `interval:s:`, `uprobe:/bin/bash:readline`,
//! `usdt:/usr/bin/python3:python:function__entry`, `iter:task`. With `verbose`,
//! tracepoints list their fields as the tracefs `format` file declares them, and
//! fentry/fexit and raw tracepoints their BTF parameters (`struct file * file`, then
//! `ssize_t retval` when the function returns a value).
//!
//! Every source is passed in ([`ListSources`]) so tests can list fixtures.

use crate::btf::{CType, KernelTypes, Kind, Param};
use crate::probes::elfsyms::ElfSymbols;
use crate::probes::ksyms::KernelSymbols;
use crate::probes::{canonical_provider, glob, libs};
use crate::tracefs::TraceFs;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where the lists come from.
pub struct ListSources<'a> {
    /// A tracefs-shaped directory: `available_events` and `events/*/*/format`.
    pub tracefs_root: &'a Path,
    /// Kernel BTF, for fentry/fexit functions and raw tracepoints.
    pub btf: Option<&'a KernelTypes>,
    /// The kernel's functions, for kprobes: asked for only when kprobes are listed, as
    /// reading them takes a while.
    pub kernel_symbols: &'a dyn Fn() -> Option<&'a KernelSymbols>,
}

/// The live tracefs root, as [`TraceFs::system`] chooses it.
pub fn system_tracefs_root() -> PathBuf {
    let primary = Path::new("/sys/kernel/tracing");
    let debugfs = Path::new("/sys/kernel/debug/tracing");
    if !primary.join("events").exists() && debugfs.join("events").exists() {
        debugfs.to_path_buf()
    } else {
        primary.to_path_buf()
    }
}

/// One listed probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The probe as bpftrace prints it, usable as an attach point.
    pub name: String,
    /// Its arguments (`const char * filename`), filled in when listing verbosely.
    pub args: Vec<String>,
}

/// Kinds `*` stands for: kernel probes, without return probes or aliases.
const KERNEL_KINDS: [&str; 6] = [
    "fentry",
    "hardware",
    "kprobe",
    "rawtracepoint",
    "software",
    "tracepoint",
];

/// Kinds a bare word is searched among.
const SEARCHED_KINDS: [&str; 4] = ["fentry", "kprobe", "rawtracepoint", "tracepoint"];

/// Every provider [`crate::probes::canonical_provider`] knows.
const ALL_KINDS: [&str; 17] = [
    "BEGIN",
    "END",
    "fentry",
    "fexit",
    "hardware",
    "interval",
    "iter",
    "kprobe",
    "kretprobe",
    "profile",
    "rawtracepoint",
    "software",
    "tracepoint",
    "uprobe",
    "uretprobe",
    "usdt",
    "watchpoint",
];

/// Hardware perf events as bpftrace names them (aliases after the name).
const HARDWARE_EVENTS: [&[&str]; 10] = [
    &["backend-stalls"],
    &["branch-instructions", "branches"],
    &["branch-misses"],
    &["bus-cycles"],
    &["cache-misses"],
    &["cache-references"],
    &["cpu-cycles", "cycles"],
    &["frontend-stalls"],
    &["instructions"],
    &["ref-cycles"],
];

/// Time units `interval` and `profile` take.
const TIME_UNITS: [&str; 5] = ["hz", "ms", "ns", "s", "us"];

/// How the part after the provider is matched.
#[derive(Debug, Clone, Copy)]
enum Rest<'p> {
    /// Everything of the kind.
    All,
    /// A glob over the name after the provider.
    Glob(&'p str),
    /// A bare word: a glob over the last name only.
    Last(&'p str),
}

impl<'p> Rest<'p> {
    /// Whether a probe whose name after the provider is `full` (last part `last`)
    /// matches; `modular` kinds match a `:`-less glob against `last`.
    fn matches(self, full: &str, last: &str, modular: bool) -> bool {
        match self {
            Rest::All => true,
            Rest::Glob(p) if modular && !p.contains(':') => glob(p, last),
            Rest::Glob(p) => glob(p, full),
            Rest::Last(w) => glob(w, last),
        }
    }

    /// The first `:`-separated piece, for kinds named by one word (`software:cpu*:`).
    fn first(self) -> Rest<'p> {
        match self {
            Rest::Glob(p) | Rest::Last(p) => Rest::Glob(p.split(':').next().unwrap_or_default()),
            Rest::All => Rest::All,
        }
    }
}

/// The probes matching `pattern` (all kernel probes without one), sorted within each
/// kind, kinds in alphabetical order.
pub fn list(
    pattern: Option<&str>,
    verbose: bool,
    sources: &ListSources,
) -> Result<Vec<Listed>, String> {
    let pattern = pattern
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .unwrap_or("*");
    let mut out = Vec::new();
    for (kind, rest) in kinds(pattern)? {
        out.extend(list_kind(kind, rest, verbose, sources)?);
    }
    Ok(out)
}

/// The kinds a pattern asks for, each with how to match the rest.
fn kinds(pattern: &str) -> Result<Vec<(&'static str, Rest<'_>)>, String> {
    let (provider, rest) = match pattern.split_once(':') {
        Some((p, r)) => (p, Some(r)),
        None => (pattern, None),
    };
    if provider.contains('*') {
        let kinds: Vec<_> = KERNEL_KINDS.iter().filter(|k| glob(provider, k)).collect();
        if rest.is_some() || !kinds.is_empty() {
            return Ok(kinds.into_iter().map(|k| (*k, rest_of(rest))).collect());
        }
    }
    let canonical = canonical_provider(provider);
    if let Some(kind) = ALL_KINDS.iter().find(|k| **k == canonical) {
        return Ok(vec![(*kind, rest_of(rest))]);
    }
    if rest.is_none() {
        return Ok(SEARCHED_KINDS
            .iter()
            .map(|k| (*k, Rest::Last(provider)))
            .collect());
    }
    let hint = crate::suggest::did_you_mean(provider, ALL_KINDS)
        .map(|s| format!(" (did you mean {s}?)"))
        .unwrap_or_default();
    Err(format!("unknown probe type '{provider}'{hint}"))
}

fn rest_of(rest: Option<&str>) -> Rest<'_> {
    match rest {
        None | Some("*") => Rest::All,
        Some(r) => Rest::Glob(r),
    }
}

fn list_kind(
    kind: &str,
    rest: Rest,
    verbose: bool,
    sources: &ListSources,
) -> Result<Vec<Listed>, String> {
    let mut found = match kind {
        "tracepoint" => tracepoints(rest, verbose, sources.tracefs_root),
        "kprobe" | "kretprobe" => kprobes(kind, rest, (sources.kernel_symbols)()),
        "fentry" | "fexit" => functions(kind, rest, verbose, sources.btf),
        "rawtracepoint" => raw_tracepoints(rest, verbose, sources.btf),
        "software" => named_events(kind, rest, crate::probes_perf::software_event_names()),
        "hardware" => named_events(kind, rest, HARDWARE_EVENTS.to_vec()),
        "interval" | "profile" => {
            let units = TIME_UNITS.iter().map(std::slice::from_ref).collect();
            named_events(kind, rest, units)
        }
        "uprobe" | "uretprobe" => uprobes(kind, rest)?,
        "usdt" => usdt(rest)?,
        "iter" => crate::probes::special::ITER_TARGETS
            .iter()
            .filter(|t| rest.matches(t, t, false))
            .map(|t| listed(format!("iter:{t}")))
            .collect(),
        _ => Vec::new(),
    };
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found.dedup_by(|a, b| a.name == b.name);
    Ok(found)
}

fn listed(name: String) -> Listed {
    Listed {
        name,
        args: Vec::new(),
    }
}

fn tracepoints(rest: Rest, verbose: bool, root: &Path) -> Vec<Listed> {
    let events = TraceFs::at(root).events();
    events
        .iter()
        .filter(|(c, e)| rest.matches(&format!("{c}:{e}"), e, false))
        .map(|(c, e)| Listed {
            name: format!("tracepoint:{c}:{e}"),
            args: match verbose {
                true => format_fields(root, c, e),
                false => Vec::new(),
            },
        })
        .collect()
}

/// The record fields of one tracepoint as its `format` file declares them, common
/// fields left out: `int __syscall_nr`, `const char * filename`.
pub fn format_fields(root: &Path, category: &str, event: &str) -> Vec<String> {
    let plain = |s: &str| !s.is_empty() && !s.contains(['/', '.']);
    if !plain(category) || !plain(event) {
        return Vec::new();
    }
    let path = root
        .join("events")
        .join(category)
        .join(event)
        .join("format");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    declarations(&text)
}

/// The `field:` declarations after the first blank line of a `format` file.
pub fn declarations(text: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.trim_start().strip_prefix("field:"))
        .map(|l| l.split(';').next().unwrap_or_default().trim().to_string())
        .collect()
}

fn kprobes(kind: &str, rest: Rest, symbols: Option<&KernelSymbols>) -> Vec<Listed> {
    let Some(symbols) = symbols else {
        return Vec::new();
    };
    symbols
        .all()
        .iter()
        .filter(|f| rest.matches(&format!("{}:{}", f.module_name(), f.name), &f.name, true))
        .map(|f| match &f.module {
            None => listed(format!("{kind}:{}", f.name)),
            Some(m) => listed(format!("{kind}:{m}:{}", f.name)),
        })
        .collect()
}

/// fentry/fexit: every BTF function, with its module.
fn functions(kind: &str, rest: Rest, verbose: bool, btf: Option<&KernelTypes>) -> Vec<Listed> {
    let Some(btf) = btf else {
        return Vec::new();
    };
    let names = btf.names_of(&[Kind::Func]).unwrap_or_default();
    let mut out = BTreeMap::new();
    for (name, id) in names {
        let module = btf.source_name(id).unwrap_or("vmlinux");
        if !rest.matches(&format!("{module}:{name}"), name, true) {
            continue;
        }
        let shown = format!("{kind}:{module}:{name}");
        if out.contains_key(&shown) {
            continue;
        }
        let args = match verbose {
            true => function_args(btf, id),
            false => Vec::new(),
        };
        out.insert(shown, args);
    }
    out.into_iter()
        .map(|(name, args)| Listed { name, args })
        .collect()
}

/// `struct file * file` per parameter, then `ssize_t retval` unless it returns void.
fn function_args(btf: &KernelTypes, id: crate::btf::TypeId) -> Vec<String> {
    let Ok(sig) = btf.signature(id) else {
        return Vec::new();
    };
    let mut args = params(btf, &sig.params);
    if sig.ret != CType::Void {
        if let Ok(ret) = btf.type_name(sig.ret_id) {
            args.push(format!("{ret} retval"));
        }
    }
    args
}

fn params(btf: &KernelTypes, params: &[Param]) -> Vec<String> {
    params
        .iter()
        .map(|p| {
            let ty = btf.type_name(p.type_id).unwrap_or_else(|_| "?".to_string());
            match &p.name {
                Some(name) => format!("{ty} {name}"),
                None => ty,
            }
        })
        .collect()
}

/// Raw tracepoints: the BTF `btf_trace_<event>` typedefs, with their module.
fn raw_tracepoints(rest: Rest, verbose: bool, btf: Option<&KernelTypes>) -> Vec<Listed> {
    let Some(btf) = btf else {
        return Vec::new();
    };
    let names = btf.names_of(&[Kind::Typedef]).unwrap_or_default();
    names
        .into_iter()
        .filter_map(|(name, id)| Some((name.strip_prefix("btf_trace_")?, id)))
        .filter_map(|(event, id)| {
            let module = btf.source_name(id).unwrap_or("vmlinux");
            if !rest.matches(&format!("{module}:{event}"), event, true) {
                return None;
            }
            let args = match verbose {
                true => btf.raw_tp_args(event).ok().flatten().unwrap_or_default(),
                false => Vec::new(),
            };
            Some(Listed {
                name: format!("rawtracepoint:{module}:{event}"),
                args: params(btf, &args),
            })
        })
        .collect()
}

/// Kinds named by one word with aliases: `software:cpu-clock:`, `interval:s:`.
fn named_events(kind: &str, rest: Rest, events: Vec<&[&str]>) -> Vec<Listed> {
    let rest = rest.first();
    events
        .into_iter()
        .filter(|names| names.iter().any(|n| rest.matches(n, n, false)))
        .filter_map(|names| names.first())
        .map(|name| listed(format!("{kind}:{name}:")))
        .collect()
}

fn uprobes(kind: &str, rest: Rest) -> Result<Vec<Listed>, String> {
    let (target, pattern) = match rest {
        Rest::Glob(r) => r.split_once(':').unwrap_or((r, "*")),
        Rest::All | Rest::Last(_) => {
            return Err(format!(
                "{kind} listings need a binary, e.g. '{kind}:/bin/bash:*'"
            ))
        }
    };
    if target.contains('*') {
        return Err(format!(
            "'{target}': wildcards in a {kind} binary are not supported"
        ));
    }
    let binary = libs::resolve_binary(target)?;
    let symbols = ElfSymbols::of_file(&binary.path)?;
    let found = symbols
        .matching(pattern)
        .into_iter()
        .map(|(shown, _)| listed(format!("{kind}:{}:{shown}", binary.path)));
    Ok(found.collect())
}

/// `usdt:/path[:pattern]`: the binary's USDT sites as `usdt:/path:provider:name`; the
/// pattern globs `name` or `provider:name`.
fn usdt(rest: Rest) -> Result<Vec<Listed>, String> {
    let (target, pattern) = match rest {
        Rest::Glob(r) => r.split_once(':').unwrap_or((r, "*")),
        Rest::All | Rest::Last(_) => {
            return Err("usdt listings need a binary, e.g. 'usdt:/usr/bin/python3:*'".into())
        }
    };
    if target.contains('*') {
        return Err(format!(
            "'{target}': wildcards in a usdt binary are not supported"
        ));
    }
    let binary = libs::resolve_binary(target)?;
    let sites = crate::probes::usdt::sites_of_file(&binary.path)?;
    let found = sites
        .iter()
        .filter(|s| crate::probes::special::site_matches(s, pattern))
        .map(|s| listed(format!("usdt:{}:{}:{}", binary.path, s.provider, s.name)));
    Ok(found.collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../snapshot-tests/fixtures/tracefs")
    }

    fn names(pattern: &str, symbols: Option<&KernelSymbols>) -> Result<Vec<String>, String> {
        let root = fixtures();
        let sources = ListSources {
            tracefs_root: &root,
            btf: None,
            kernel_symbols: &|| symbols,
        };
        let found = list(Some(pattern), false, &sources)?;
        Ok(found.into_iter().map(|l| l.name).collect())
    }

    #[test]
    fn tracepoints_match_by_category_and_event() {
        assert_eq!(
            names("tracepoint:syscalls:sys_enter_*", None).unwrap(),
            [
                "tracepoint:syscalls:sys_enter_openat",
                "tracepoint:syscalls:sys_enter_read",
                "tracepoint:syscalls:sys_enter_write"
            ]
        );
        assert_eq!(
            names("t:sched:sched_s*", None).unwrap(),
            ["tracepoint:sched:sched_switch"]
        );
        assert_eq!(names("tracepoint:*open*", None).unwrap().len(), 2);
        assert!(names("tracepoint:nothing:*", None).unwrap().is_empty());
    }

    #[test]
    fn verbose_tracepoints_show_declared_fields() {
        let root = fixtures();
        let sources = ListSources {
            tracefs_root: &root,
            btf: None,
            kernel_symbols: &|| None,
        };
        let found = list(Some("tracepoint:syscalls:sys_enter_openat"), true, &sources).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].args,
            [
                "int __syscall_nr",
                "int dfd",
                "const char * filename",
                "int flags",
                "umode_t mode"
            ]
        );
        let switch = list(Some("tracepoint:sched:sched_switch"), true, &sources).unwrap();
        assert!(switch[0].args.contains(&"char prev_comm[16]".to_string()));
    }

    #[test]
    fn kprobes_list_functions_and_modules() {
        let syms = KernelSymbols::from_filter_functions(
            "vfs_read\nvfs_readv\nvfs_write\next4_read [ext4]\n",
        );
        assert_eq!(
            names("kprobe:vfs_read*", Some(&syms)).unwrap(),
            ["kprobe:vfs_read", "kprobe:vfs_readv"]
        );
        assert_eq!(
            names("kprobe:ext4:*", Some(&syms)).unwrap(),
            ["kprobe:ext4:ext4_read"]
        );
        assert_eq!(
            names("kprobe:*read", Some(&syms)).unwrap(),
            ["kprobe:ext4:ext4_read", "kprobe:vfs_read"]
        );
        assert_eq!(
            names("kretprobe:vfs_write", Some(&syms)).unwrap(),
            ["kretprobe:vfs_write"]
        );
        assert!(names("kprobe:vfs_read", None).unwrap().is_empty());
    }

    #[test]
    fn perf_events_and_timers_list_their_names() {
        let software = names("software:*", None).unwrap();
        assert!(software.contains(&"software:cpu-clock:".to_string()));
        assert!(software.contains(&"software:page-faults:".to_string()));
        assert_eq!(names("s:faults", None).unwrap(), ["software:page-faults:"]);
        assert_eq!(
            names("hardware:cycles", None).unwrap(),
            ["hardware:cpu-cycles:"]
        );
        assert_eq!(names("interval", None).unwrap()[0], "interval:hz:");
        assert_eq!(names("profile:m*", None).unwrap(), ["profile:ms:"]);
    }

    #[test]
    fn bare_words_search_kernel_probes_and_stars_list_every_kind() {
        let syms = KernelSymbols::from_filter_functions("sys_enter_openat\nvfs_read\n");
        assert_eq!(
            names("sys_enter_open*", Some(&syms)).unwrap(),
            [
                "kprobe:sys_enter_openat",
                "tracepoint:syscalls:sys_enter_openat"
            ]
        );
        let all = names("*", Some(&syms)).unwrap();
        assert!(all.contains(&"kprobe:vfs_read".to_string()));
        assert!(all.contains(&"hardware:cpu-cycles:".to_string()));
        assert!(all.contains(&"tracepoint:sched:sched_switch".to_string()));
        assert!(!all.iter().any(|n| n.starts_with("kretprobe")));
    }

    #[test]
    fn unknown_providers_are_errors_with_a_suggestion() {
        let err = names("tracepiont:*", None).unwrap_err();
        assert!(err.contains("did you mean tracepoint?"), "{err}");
        assert!(names("BEGIN", None).unwrap().is_empty());
        assert!(names("uprobe", None).is_err());
    }

    #[test]
    fn uprobes_list_a_binarys_functions() {
        let exe = std::env::current_exe().expect("test binary");
        let exe = exe.display().to_string();
        let found = names(&format!("uprobe:{exe}:mai*"), None).unwrap();
        assert!(found.contains(&format!("uprobe:{exe}:main")), "{found:?}");
        assert!(names("uprobe:/no/such/file:*", None).is_err());
    }

    #[test]
    fn declarations_skip_the_common_fields() {
        let text = "name: x\nformat:\n\tfield:int common_pid;\toffset:4;\n\n\tfield:__data_loc char[] cmd;\toffset:8;\n\nprint fmt: \"\"\n";
        assert_eq!(declarations(text), ["__data_loc char[] cmd"]);
        assert!(declarations("").is_empty());
    }
}
