//! Probe kinds that attach to functions or perf events: software events, kprobes and
//! kretprobes (wildcards expand over the kernel's functions), uprobes and uretprobes (by
//! symbol, wildcard, `+offset` or raw address, in a path, a program in `PATH` or a
//! library named like `libc`), and fentry/fexit. Their section names follow libbpf.

use crate::probes::elfsyms::ElfSymbols;
use crate::probes::ksyms::KernelSymbols;
use crate::probes::libs::{find_library, resolve_binary};
use crate::probes::{CtxKind, ProbeError, Target};
use ebpfc_parser::ast::AttachPoint;
use ebpfc_stdlib::meta::Attach;

/// Software perf events: (names, `PERF_COUNT_SW_*` config, default sample period).
const SOFTWARE_EVENTS: &[(&[&str], u64, u64)] = &[
    (&["cpu-clock", "cpu"], 0, 1_000_000),
    (&["task-clock"], 1, 1_000_000),
    (&["page-faults", "faults"], 2, 100),
    (&["context-switches", "cs"], 3, 1_000),
    (&["cpu-migrations"], 4, 1),
    (&["minor-faults"], 5, 100),
    (&["major-faults"], 6, 1),
    (&["alignment-faults"], 7, 1),
    (&["emulation-faults"], 8, 1),
    (&["dummy"], 9, 1),
    (&["bpf-output"], 10, 1),
];

/// Every software event's names, the bpftrace name first, then its aliases.
pub fn software_event_names() -> Vec<&'static [&'static str]> {
    SOFTWARE_EVENTS.iter().map(|(names, ..)| *names).collect()
}

/// `software:event[:count]`
pub fn software(ap: &AttachPoint) -> Result<Target, String> {
    let (event, count) = match ap.parts.as_slice() {
        [event] => (event.as_str(), None),
        [event, count] => (event.as_str(), Some(count.as_str())),
        _ => return Err(format!("'{}' should be software:event:count", ap.raw)),
    };
    let Some((names, config, default)) = SOFTWARE_EVENTS
        .iter()
        .find(|(names, ..)| names.contains(&event))
    else {
        let all = SOFTWARE_EVENTS.iter().flat_map(|(n, ..)| n.iter().copied());
        let hint = crate::suggest::did_you_mean(event, all)
            .map(|s| format!(" (did you mean {s}?)"))
            .unwrap_or_default();
        return Err(format!("unknown software event '{event}'{hint}"));
    };
    let period = match count {
        None => *default,
        Some(c) => c
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("'{c}' is not a positive count"))?,
    };
    let attach = Attach::Software {
        event: names[0].to_string(),
        config: *config,
        period,
    };
    let name = format!("software:{}:{period}", names[0]);
    Ok(Target::plain(
        name,
        "perf_event".to_string(),
        attach,
        CtxKind::Perf,
    ))
}

/// Splits `fn+0x10` into the function and its offset.
fn function_and_offset(text: &str) -> Result<(String, u64), String> {
    match text.split_once('+') {
        None => Ok((text.to_string(), 0)),
        Some((f, off)) => Ok((
            f.to_string(),
            parse_number(off).ok_or_else(|| format!("'{off}' is not an offset"))?,
        )),
    }
}

fn parse_number(text: &str) -> Option<u64> {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// `kprobe:[module:]fn[+off]`, `kretprobe:[module:]fn`, with `*` wildcards in `fn`
/// and `module`, checked against the running kernel's functions.
pub fn kprobe(ap: &AttachPoint, ret: bool) -> Result<Vec<Target>, ProbeError> {
    kprobe_with(ap, ret, KernelSymbols::system())
}

/// [`kprobe`] against a given function list; `None` when the kernel's list cannot be
/// read, which accepts any function without a wildcard.
pub fn kprobe_with(
    ap: &AttachPoint,
    ret: bool,
    symbols: Option<&KernelSymbols>,
) -> Result<Vec<Target>, ProbeError> {
    let (module, spec) = match ap.parts.as_slice() {
        [spec] => (None, spec),
        [module, spec] => (Some(module.as_str()), spec),
        _ => (None, &String::new()),
    };
    if spec.is_empty() {
        let msg = format!(
            "'{}' should name a kernel function, e.g. kprobe:vfs_read",
            ap.raw
        );
        return Err(msg.into());
    }
    let (function, offset) = function_and_offset(spec)?;
    if ret && offset != 0 {
        return Err("kretprobe cannot take an offset".to_string().into());
    }
    let wildcard = function.contains('*') || module.is_some_and(|m| m.contains('*'));
    if wildcard {
        if offset != 0 {
            return Err(format!("'{}': a wildcard cannot take an offset", ap.raw).into());
        }
        let Some(symbols) = symbols else {
            return Err(format!(
                "cannot expand '{}': neither available_filter_functions nor /proc/kallsyms is readable",
                ap.raw
            )
            .into());
        };
        let matches = symbols.matching(module, &function);
        if matches.is_empty() {
            return Err(ProbeError::missing(format!(
                "no kernel function matches '{}'",
                ap.raw
            )));
        }
        let targets = matches.iter().map(|f| kprobe_target(&f.name, 0, ret, None));
        return Ok(targets.collect());
    }
    if let Some(symbols) = symbols.filter(|s| !s.contains(module, &function)) {
        let hint = symbols
            .near(&function)
            .map(|s| format!(" (did you mean {s}?)"))
            .unwrap_or_default();
        let place = module
            .map(|m| format!(" in module {m}"))
            .unwrap_or_default();
        let mut err = ProbeError::missing(format!(
            "kernel function '{function}' is not probe-able here{place} (not existing, \
             inlined, or in a module not loaded){hint}"
        ));
        err.attempt = Some(Box::new(kprobe_target(&function, offset, ret, Some(spec))));
        return Err(err);
    }
    Ok(vec![kprobe_target(&function, offset, ret, Some(spec))])
}

/// One kprobe target; `spec` is the function as written, when it was written.
fn kprobe_target(function: &str, offset: u64, ret: bool, spec: Option<&str>) -> Target {
    let kind = if ret { "kretprobe" } else { "kprobe" };
    let attach = Attach::Kprobe {
        function: function.to_string(),
        offset,
        ret,
    };
    let mut target = Target::plain(
        format!("{kind}:{}", spec.unwrap_or(function)),
        format!("{kind}/{function}"),
        attach,
        CtxKind::PtRegs { ret },
    );
    target.func = Some(function.to_string());
    target
}

/// `uprobe:/path:func[+off]`, `uprobe:/path:0xADDR`, `uprobe:lib:func*` and the
/// uretprobe forms. The binary may be a program in `PATH` or a library's short name.
pub fn uprobe(ap: &AttachPoint, ret: bool) -> Result<Vec<Target>, ProbeError> {
    let [path, spec] = ap.parts.as_slice() else {
        let msg = format!("'{}' should be uprobe:/path/to/binary:function", ap.raw);
        return Err(msg.into());
    };
    let binary = resolve_binary(path)?;
    if spec.starts_with("0x") {
        let address = parse_number(spec).ok_or_else(|| format!("'{spec}' is not an address"))?;
        return Ok(vec![uprobe_target(&binary.path, None, spec, address, ret)]);
    }
    let (function, offset) = function_and_offset(spec)?;
    if function.contains('*') {
        if offset != 0 {
            return Err(format!("'{}': a wildcard cannot take an offset", ap.raw).into());
        }
        let symbols = ElfSymbols::of_file(&binary.path)?;
        let matches = symbols.matching(&function);
        if matches.is_empty() {
            return Err(ProbeError::missing(format!(
                "no function of {} matches '{function}'",
                binary.path
            )));
        }
        let targets = matches
            .iter()
            .map(|(shown, f)| uprobe_target(&binary.path, Some(&f.name), shown, 0, ret));
        return Ok(targets.collect());
    }
    // A file whose symbols cannot be read is left to the loader to judge.
    let Ok(symbols) = ElfSymbols::of_file(&binary.path) else {
        return Ok(vec![uprobe_target(
            &binary.path,
            Some(&function),
            spec,
            offset,
            ret,
        )]);
    };
    if let Some(found) = symbols.find(&function) {
        let symbol = found.name.clone();
        return Ok(vec![uprobe_target(
            &binary.path,
            Some(&symbol),
            spec,
            offset,
            ret,
        )]);
    }
    if binary.library {
        if let Some((path, symbol)) = in_needed_library(&symbols, &function) {
            return Ok(vec![uprobe_target(&path, Some(&symbol), spec, offset, ret)]);
        }
    }
    let hint = symbols
        .near(&function)
        .map(|s| format!(" (did you mean {s}?)"))
        .unwrap_or_default();
    Err(ProbeError::missing(format!(
        "function '{function}' is not in {}{hint}",
        binary.path
    )))
}

/// A function a stub library only forwards: since glibc 2.34 `libpthread.so.0` is
/// empty and `pthread_create` lives in the `libc.so.6` it needs, so
/// `uprobe:libpthread:pthread_create` probes libc's.
fn in_needed_library(stub: &ElfSymbols, function: &str) -> Option<(String, String)> {
    stub.needed().iter().find_map(|soname| {
        let stem = soname.split(".so").next()?;
        let path = find_library(stem)?.display().to_string();
        let symbols = ElfSymbols::of_file(&path).ok()?;
        let symbol = symbols.find(function)?.name.clone();
        Some((path, symbol))
    })
}

fn uprobe_target(path: &str, symbol: Option<&str>, spec: &str, offset: u64, ret: bool) -> Target {
    let kind = if ret { "uretprobe" } else { "uprobe" };
    let attach = Attach::Uprobe {
        path: path.to_string(),
        symbol: symbol.map(str::to_string),
        offset,
        ret,
    };
    let mut target = Target::plain(
        format!("{kind}:{path}:{spec}"),
        kind.to_string(),
        attach,
        CtxKind::PtRegs { ret },
    );
    target.func = symbol.map(|s| s.split('@').next().unwrap_or(s).to_string());
    target
}

/// `fentry:[module:]fn`, `fexit:[module:]fn`
pub fn fentry(ap: &AttachPoint, ret: bool) -> Result<Target, String> {
    let Some(function) = ap
        .parts
        .last()
        .filter(|p| !p.is_empty() && !p.contains('*'))
    else {
        return Err(format!(
            "'{}' should name one kernel function, e.g. fentry:vfs_read",
            ap.raw
        ));
    };
    let kind = if ret { "fexit" } else { "fentry" };
    let attach = Attach::Fentry {
        function: function.clone(),
        ret,
    };
    let mut target = Target::plain(
        format!("{kind}:{function}"),
        format!("{kind}/{function}"),
        attach,
        CtxKind::Args,
    );
    target.func = Some(function.clone());
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ebpfc_parser::span::Span;

    fn ap(provider: &str, parts: &[&str]) -> AttachPoint {
        let parts: Vec<String> = parts.iter().map(|s| s.to_string()).collect();
        let raw = format!("{provider}:{}", parts.join(":"));
        AttachPoint {
            provider: provider.into(),
            parts,
            raw,
            span: Span::default(),
        }
    }

    #[test]
    fn software_events_resolve_with_default_periods() {
        let t = software(&ap("software", &["faults"])).unwrap();
        assert_eq!(
            t.attach,
            Attach::Software {
                event: "page-faults".into(),
                config: 2,
                period: 100
            }
        );
        assert!(software(&ap("software", &["cpu-clok", "5"]))
            .unwrap_err()
            .contains("cpu-clock"));
    }

    const KALLSYMS: &str = "\
ffffffff816bab70 T vfs_read
ffffffff816bb3c0 T vfs_write
ffffffff816b93b0 t vfs_readv
ffffffff81216a1d t vfs_get_tree.cold
ffffffff816cd820 t lookup_fast.constprop.0
ffffffffc0300000 t ext4_read_folio\t[ext4]
";

    fn kp(parts: &[&str], ret: bool) -> Result<Vec<Target>, ProbeError> {
        let syms = KernelSymbols::from_kallsyms(KALLSYMS);
        kprobe_with(&ap("kprobe", parts), ret, Some(&syms))
    }

    #[test]
    fn kprobe_offsets_parse() {
        let t = kp(&["vfs_read+0x10"], false).unwrap();
        assert_eq!(
            t[0].attach,
            Attach::Kprobe {
                function: "vfs_read".into(),
                offset: 16,
                ret: false
            }
        );
        assert_eq!(t[0].section, "kprobe/vfs_read");
        assert!(kp(&["vfs_read+4"], true).is_err());
    }

    #[test]
    fn kprobe_wildcards_expand_to_one_target_per_function() {
        let names = |t: Vec<Target>| t.into_iter().map(|t| t.name).collect::<Vec<_>>();
        assert_eq!(
            names(kp(&["vfs_*"], false).unwrap()),
            ["kprobe:vfs_read", "kprobe:vfs_readv", "kprobe:vfs_write"]
        );
        let t = kp(&["lookup_fast.constprop.*"], true).unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].section, "kretprobe/lookup_fast.constprop.0");
        assert_eq!(t[0].func.as_deref(), Some("lookup_fast.constprop.0"));
        assert_eq!(
            names(kp(&["ext4", "*"], false).unwrap()),
            ["kprobe:ext4_read_folio"]
        );
        let none = kp(&["nothing_*"], false).unwrap_err();
        assert!(none.missing && none.message.contains("kprobe:nothing_*"));
    }

    #[test]
    fn missing_kernel_functions_get_a_suggestion_only_when_the_list_is_known() {
        let err = kp(&["vfs_raed"], false).unwrap_err();
        assert!(err.missing);
        assert!(
            err.message.contains("did you mean vfs_read?"),
            "{}",
            err.message
        );
        let attempt = err.attempt.expect("tried anyway when alone");
        assert_eq!(attempt.section, "kprobe/vfs_raed");
        assert!(kp(&["vmlinux", "vfs_read"], false).is_ok());
        assert!(kp(&["ext4", "vfs_read"], false).is_err());
        let unknown = kprobe_with(&ap("kprobe", &["vfs_raed"]), false, None);
        assert_eq!(unknown.unwrap().len(), 1);
        assert!(kprobe_with(&ap("kprobe", &["vfs_*"]), false, None).is_err());
    }

    #[test]
    fn uprobe_addresses_and_symbols() {
        let t = uprobe(&ap("uprobe", &["/bin/sh", "0x1000"]), false).unwrap();
        assert_eq!(
            t[0].attach,
            Attach::Uprobe {
                path: "/bin/sh".into(),
                symbol: None,
                offset: 0x1000,
                ret: false
            }
        );
        assert!(uprobe(&ap("uprobe", &["/nonexistent/x", "f"]), false)
            .unwrap_err()
            .message
            .contains("does not exist"));
    }

    /// The targets' probe names, or the error message.
    fn uprobe_names(parts: &[&str]) -> Result<Vec<String>, String> {
        uprobe(&ap("uprobe", parts), false)
            .map(|t| t.into_iter().map(|t| t.name).collect())
            .map_err(|e| e.message)
    }

    #[test]
    fn uprobes_find_libraries_by_short_name() {
        if crate::probes::libs::find_library("libc").is_none() {
            eprintln!("skipped: no libc shared library here");
            return;
        }
        let t = uprobe(&ap("uprobe", &["libc", "getenv"]), true).unwrap();
        let Attach::Uprobe { path, symbol, .. } = &t[0].attach else {
            panic!("a uprobe");
        };
        assert!(path.contains("libc.so"), "{path}");
        assert_eq!(symbol.as_deref(), Some("getenv"));
        assert!(t[0].name.starts_with("uretprobe:/"));
        let err = uprobe_names(&["libc", "getenvv"]).unwrap_err();
        assert!(err.contains("did you mean getenv?"), "{err}");
        let threads = uprobe(&ap("uprobe", &["libpthread", "pthread_create"]), false);
        assert_eq!(threads.unwrap()[0].func.as_deref(), Some("pthread_create"));
        let err = uprobe_names(&["libno_such_library_here", "f"]).unwrap_err();
        assert!(err.contains("shared library"), "{err}");
    }

    #[test]
    fn uprobe_wildcards_expand_over_elf_symbols() {
        let exe = std::env::current_exe().expect("test binary");
        let exe = exe.display().to_string();
        let names = uprobe_names(&[&exe, "mai*"]).unwrap();
        assert!(names.contains(&format!("uprobe:{exe}:main")), "{names:?}");
        let err = uprobe(&ap("uprobe", &[&exe, "no_such_function_*"]), false).unwrap_err();
        assert!(err.missing);
        assert!(uprobe_names(&[&exe, "main"]).is_ok());
    }
}
