//! Probe resolution and expansion: an attach point as written becomes one or more
//! concrete attach targets (wildcards expand against the tracefs event list), each with
//! its libbpf section name and the runtime's [`Attach`] description.

use crate::error::{error, Diagnostics};
use crate::suggest::did_you_mean;
use crate::tracefs::{TpField, TraceFs};
use ebpfc_parser::ast::AttachPoint;
use ebpfc_stdlib::meta::Attach;

/// A concrete attach target.
#[derive(Debug, Clone)]
pub struct Target {
    /// Full probe name as bpftrace prints it, e.g. `tracepoint:syscalls:sys_enter_openat`.
    pub name: String,
    pub section: String,
    pub attach: Attach,
    /// Tracepoint record fields (for `args`), when the probe has them.
    pub fields: Option<Vec<TpField>>,
    /// What the program's context pointer points to.
    pub ctx: CtxKind,
    /// The probed function's name (`func`), where there is one.
    pub func: Option<String>,
}

/// The layout behind a program's context pointer, which decides how `argN` and
/// `retval` are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CtxKind {
    /// A tracepoint record (`args`).
    Tracepoint,
    /// `struct pt_regs` (kprobes, uprobes): arguments in registers.
    PtRegs { ret: bool },
    /// An array of u64 arguments (raw tracepoints, fentry/fexit).
    Args,
    /// Nothing readable (BEGIN/END, perf events).
    None,
}

/// Expands one attach point into its targets, or reports why it cannot attach.
pub fn expand(ap: &AttachPoint, tracefs: &TraceFs, diags: &mut Diagnostics) -> Vec<Target> {
    let provider = canonical_provider(&ap.provider);
    let result = match provider {
        "BEGIN" | "END" => Ok(vec![begin_end(provider)]),
        "tracepoint" => tracepoints(ap, tracefs),
        "interval" => timer(ap, true).map(|t| vec![t]),
        "profile" => timer(ap, false).map(|t| vec![t]),
        "rawtracepoint" => raw_tracepoint(ap).map(|t| vec![t]),
        "software" => crate::probes_perf::software(ap).map(|t| vec![t]),
        "kprobe" | "kretprobe" => {
            crate::probes_perf::kprobe(ap, provider == "kretprobe").map(|t| vec![t])
        }
        "uprobe" | "uretprobe" => {
            crate::probes_perf::uprobe(ap, provider == "uretprobe").map(|t| vec![t])
        }
        "fentry" | "fexit" => crate::probes_perf::fentry(ap, provider == "fexit").map(|t| vec![t]),
        _ => Err(format!("probe type '{}' is not supported yet", ap.provider)),
    };
    match result {
        Ok(targets) => targets,
        Err(msg) => {
            diags.push(error(msg, ap.span, "in this probe"));
            Vec::new()
        }
    }
}

/// Resolves short and legacy provider names.
pub fn canonical_provider(p: &str) -> &str {
    match p {
        "BEGIN" | "begin" => "BEGIN",
        "END" | "end" => "END",
        "t" | "tracepoint" => "tracepoint",
        "rt" | "rawtracepoint" => "rawtracepoint",
        "k" | "kprobe" => "kprobe",
        "kr" | "kretprobe" => "kretprobe",
        "f" | "fentry" | "kfunc" => "fentry",
        "fr" | "fexit" | "kretfunc" => "fexit",
        "u" | "uprobe" => "uprobe",
        "ur" | "uretprobe" => "uretprobe",
        "U" | "usdt" => "usdt",
        "p" | "profile" => "profile",
        "i" | "interval" => "interval",
        "s" | "software" => "software",
        "h" | "hardware" => "hardware",
        "w" | "watchpoint" => "watchpoint",
        "it" | "iter" => "iter",
        other => other,
    }
}

fn begin_end(which: &str) -> Target {
    let (attach, section) = if which == "BEGIN" {
        (Attach::Begin, "raw_tp/ebpfc_begin")
    } else {
        (Attach::End, "raw_tp/ebpfc_end")
    };
    Target::plain(
        which.to_string(),
        section.to_string(),
        attach,
        CtxKind::None,
    )
}

fn tracepoints(ap: &AttachPoint, tracefs: &TraceFs) -> Result<Vec<Target>, String> {
    let [category, event] = ap.parts.as_slice() else {
        return Err(format!("'{}' should be tracepoint:category:event", ap.raw));
    };
    if !category.contains('*') && !event.contains('*') {
        return tracepoint(category, event, tracefs).map(|t| vec![t]);
    }
    let events = tracefs.events();
    let matching: Vec<_> = events
        .iter()
        .filter(|(c, n)| glob(category, c) && glob(event, n))
        .collect();
    if matching.is_empty() {
        return Err(format!("no tracepoint matches '{}'", ap.raw));
    }
    matching
        .into_iter()
        .map(|(c, n)| tracepoint(c, n, tracefs))
        .collect()
}

fn tracepoint(category: &str, event: &str, tracefs: &TraceFs) -> Result<Target, String> {
    let Some(fields) = tracefs.fields(category, event) else {
        if let Some(problem) = tracefs.access_problem() {
            return Err(problem);
        }
        let events = tracefs.events();
        let names = events
            .iter()
            .filter(|(c, _)| c == category)
            .map(|(_, n)| n.as_str());
        let hint = did_you_mean(event, names)
            .map(|s| format!(" (did you mean {s}?)"))
            .unwrap_or_default();
        return Err(format!(
            "tracepoint '{category}:{event}' does not exist{hint}"
        ));
    };
    Ok(Target {
        name: format!("tracepoint:{category}:{event}"),
        section: format!("tracepoint/{category}/{event}"),
        attach: Attach::Tracepoint {
            category: category.to_string(),
            name: event.to_string(),
        },
        fields: Some(fields),
        ctx: CtxKind::Tracepoint,
        func: None,
    })
}

/// `interval:s:1`, `interval:ms:100`, `profile:hz:99`, `interval:1s`...
fn timer(ap: &AttachPoint, one_cpu: bool) -> Result<Target, String> {
    let (unit, value) = match ap.parts.as_slice() {
        [unit, value] => (unit.as_str(), value.as_str()),
        [value] => ("hz", value.as_str()),
        _ => return Err(format!("'{}' should be {}:unit:count", ap.raw, ap.provider)),
    };
    let n: u64 = value
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("'{value}' is not a positive count in '{}'", ap.raw))?;
    let period_ns = match unit {
        "s" => n * 1_000_000_000,
        "ms" => n * 1_000_000,
        "us" => n * 1_000,
        "ns" => n,
        "hz" => 1_000_000_000 / n,
        _ => {
            return Err(format!(
                "unknown time unit '{unit}' (use s, ms, us, ns or hz)"
            ))
        }
    };
    let kind = if one_cpu { "interval" } else { "profile" };
    let attach = if one_cpu {
        Attach::Interval { period_ns }
    } else {
        Attach::Profile { period_ns }
    };
    Ok(Target::plain(
        format!("{kind}:{unit}:{n}"),
        "perf_event".to_string(),
        attach,
        CtxKind::None,
    ))
}

/// `rawtracepoint:[module:]event`
fn raw_tracepoint(ap: &AttachPoint) -> Result<Target, String> {
    let Some(event) = ap
        .parts
        .last()
        .filter(|e| !e.is_empty() && !e.contains('*'))
    else {
        return Err(format!("'{}' should be rawtracepoint:event", ap.raw));
    };
    let attach = Attach::RawTracepoint {
        name: event.clone(),
    };
    Ok(Target::plain(
        format!("rawtracepoint:{event}"),
        format!("raw_tp/{event}"),
        attach,
        CtxKind::Args,
    ))
}

impl Target {
    /// A target without tracepoint fields or a function name.
    pub fn plain(name: String, section: String, attach: Attach, ctx: CtxKind) -> Target {
        Target {
            name,
            section,
            attach,
            fields: None,
            ctx,
            func: None,
        }
    }
}

/// Shell-style matching with `*` only.
pub fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            let Some(tail) = text.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len()).any(|i| tail.is_char_boundary(i) && glob(rest, &tail[i..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_stars() {
        assert!(glob("sys_enter_*", "sys_enter_openat"));
        assert!(glob("*open*", "sys_enter_openat"));
        assert!(!glob("sys_exit_*", "sys_enter_openat"));
        assert!(glob("*", ""));
    }

    #[test]
    fn short_providers_resolve() {
        assert_eq!(canonical_provider("t"), "tracepoint");
        assert_eq!(canonical_provider("kfunc"), "fentry");
        assert_eq!(canonical_provider("begin"), "BEGIN");
    }
}
