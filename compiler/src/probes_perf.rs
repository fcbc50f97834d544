//! Probe kinds that attach to functions or perf events: software events, kprobes and
//! kretprobes, uprobes and uretprobes (by symbol, `+offset` or raw address), and
//! fentry/fexit. Their section names follow libbpf.

use crate::probes::{CtxKind, Target};
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
        CtxKind::None,
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

/// `kprobe:[module:]fn[+off]`, `kretprobe:[module:]fn`
pub fn kprobe(ap: &AttachPoint, ret: bool) -> Result<Target, String> {
    let Some(spec) = ap.parts.last().filter(|p| !p.is_empty()) else {
        return Err(format!(
            "'{}' should name a kernel function, e.g. kprobe:vfs_read",
            ap.raw
        ));
    };
    if spec.contains('*') {
        return Err(format!("wildcards in '{}' need the kernel's function list, which this kernel does not offer for kprobes", ap.raw));
    }
    let (function, offset) = function_and_offset(spec)?;
    if ret && offset != 0 {
        return Err("kretprobe cannot take an offset".to_string());
    }
    let kind = if ret { "kretprobe" } else { "kprobe" };
    let attach = Attach::Kprobe {
        function: function.clone(),
        offset,
        ret,
    };
    let mut target = Target::plain(
        format!("{kind}:{spec}"),
        format!("{kind}/{function}"),
        attach,
        CtxKind::PtRegs { ret },
    );
    target.func = Some(function);
    Ok(target)
}

/// `uprobe:/path:func[+off]`, `uprobe:/path:0xADDR`, and the uretprobe forms.
pub fn uprobe(ap: &AttachPoint, ret: bool) -> Result<Target, String> {
    let [path, spec] = ap.parts.as_slice() else {
        return Err(format!(
            "'{}' should be uprobe:/path/to/binary:function",
            ap.raw
        ));
    };
    let path = resolve_binary(path)?;
    let kind = if ret { "uretprobe" } else { "uprobe" };
    let (symbol, offset) = if spec.starts_with("0x") {
        (
            None,
            parse_number(spec).ok_or_else(|| format!("'{spec}' is not an address"))?,
        )
    } else {
        let (f, off) = function_and_offset(spec)?;
        (Some(f), off)
    };
    let attach = Attach::Uprobe {
        path: path.clone(),
        symbol: symbol.clone(),
        offset,
        ret,
    };
    let mut target = Target::plain(
        format!("{kind}:{path}:{spec}"),
        kind.to_string(),
        attach,
        CtxKind::PtRegs { ret },
    );
    target.func = symbol;
    Ok(target)
}

/// A binary named without a path is looked up in `PATH`, as bpftrace does.
fn resolve_binary(path: &str) -> Result<String, String> {
    if path.contains('/') {
        return match std::path::Path::new(path).exists() {
            true => Ok(path.to_string()),
            false => Err(format!("'{path}' does not exist")),
        };
    }
    let dirs = std::env::var("PATH").unwrap_or_default();
    dirs.split(':')
        .map(|d| std::path::Path::new(d).join(path))
        .find(|p| p.exists())
        .map(|p| p.display().to_string())
        .ok_or_else(|| format!("'{path}' was not found in PATH"))
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

    #[test]
    fn kprobe_offsets_parse() {
        let t = kprobe(&ap("kprobe", &["vfs_read+0x10"]), false).unwrap();
        assert_eq!(
            t.attach,
            Attach::Kprobe {
                function: "vfs_read".into(),
                offset: 16,
                ret: false
            }
        );
        assert_eq!(t.section, "kprobe/vfs_read");
        assert!(kprobe(&ap("kretprobe", &["vfs_read+4"]), true).is_err());
    }

    #[test]
    fn uprobe_addresses_and_symbols() {
        let t = uprobe(&ap("uprobe", &["/bin/sh", "0x1000"]), false).unwrap();
        assert_eq!(
            t.attach,
            Attach::Uprobe {
                path: "/bin/sh".into(),
                symbol: None,
                offset: 0x1000,
                ret: false
            }
        );
        assert!(uprobe(&ap("uprobe", &["/nonexistent/x", "f"]), false)
            .unwrap_err()
            .contains("does not exist"));
    }
}
