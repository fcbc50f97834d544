//! Probe resolution and expansion: an attach point as written becomes one or more
//! concrete attach targets, each with its libbpf section name and the runtime's
//! [`Attach`] description. Wildcards expand against the tracefs event list
//! (tracepoints), the kernel's function list (kprobes, module [`ksyms`]) and a binary's
//! ELF symbols (uprobes, module [`elfsyms`]); uprobe targets may name a shared library
//! (module [`libs`]). USDT sites (their notes: module [`usdt`]), watchpoints, iterators
//! and `self:signal` probes are in module [`special`].
//!
//! A wildcard that matches nothing, or a kprobe/uprobe function that does not exist, is
//! skipped in a probe with several attach points as long as another one attaches
//! ([`expand_probe`]), as bpftrace does, so tools that list the names several kernel or
//! library versions use keep working. Alone, it is an error with a "did you mean" —
//! except a kernel function missing from the kernel's lists, which bpftrace tries
//! anyway after a warning, and so does ebpfc.

pub mod elfsyms;
pub mod ksyms;
pub mod libs;
mod params;
pub mod special;
pub mod usdt;

use crate::error::{error, warning, Diagnostics};
use crate::suggest::did_you_mean;
use crate::tracefs::{TpField, TraceFs};
use ebpfc_parser::ast::AttachPoint;
use ebpfc_stdlib::meta::Attach;

pub use params::substitute_params;

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
    /// A USDT site's arguments (`arg0`...), when its note's specs are understood.
    pub usdt_args: Option<Vec<usdt::UsdtArg>>,
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
    /// `struct pt_regs` at a USDT site: argument `N` is where [`Target::usdt_args`]
    /// says (a register, user memory at a register plus a displacement, or a constant).
    Usdt,
    /// A `struct bpf_iter__<target>` (iterators): `ctx->meta`, then the target's
    /// object (`ctx->task`, `ctx->file`...), NULL on the last call.
    Iter,
    /// `struct bpf_perf_event_data` (profile, interval, software, hardware and watchpoint
    /// probes): the interrupted registers (`reg()`), no arguments.
    Perf,
    /// Nothing readable (BEGIN/END, self:signal).
    None,
}

/// Why an attach point has no targets.
#[derive(Debug, Clone)]
pub struct ProbeError {
    pub message: String,
    /// The attach point is well formed but names nothing that exists here (a wildcard
    /// without matches, a kernel or library function that is absent).
    pub missing: bool,
    /// A kernel function absent from the kernel's lists is tried anyway when it is the
    /// probe's only attach point, with a warning, as bpftrace does: kernels differ in
    /// which functions exist (inlined, renamed, in a module not loaded), and tools name
    /// functions of other kernels.
    pub attempt: Option<Box<Target>>,
}

impl ProbeError {
    /// An attach point that names nothing existing.
    pub fn missing(message: impl Into<String>) -> Self {
        ProbeError {
            message: message.into(),
            missing: true,
            attempt: None,
        }
    }
}

impl From<String> for ProbeError {
    fn from(message: String) -> Self {
        ProbeError {
            message,
            missing: false,
            attempt: None,
        }
    }
}

/// Expands one attach point into its targets, or reports why it cannot attach.
pub fn expand(ap: &AttachPoint, tracefs: &TraceFs, diags: &mut Diagnostics) -> Vec<Target> {
    expand_probe(std::slice::from_ref(ap), tracefs, diags)
}

/// Expands every attach point of one probe. An attach point that names nothing existing
/// ([`ProbeError::missing`]) is skipped when another attach point of the probe has
/// targets; alone, it is an error, or a warning for a kernel function that is tried
/// anyway ([`ProbeError::attempt`]). Every other failure is an error.
pub fn expand_probe(
    attach: &[AttachPoint],
    tracefs: &TraceFs,
    diags: &mut Diagnostics,
) -> Vec<Target> {
    let results: Vec<_> = attach
        .iter()
        .map(|ap| (ap, expand_one(ap, tracefs)))
        .collect();
    let any = results
        .iter()
        .any(|(_, r)| r.as_ref().is_ok_and(|t| !t.is_empty()));
    let mut targets = Vec::new();
    for (ap, result) in results {
        match result {
            Ok(found) => targets.extend(found),
            Err(e) if e.missing && any => {}
            Err(ProbeError {
                message,
                attempt: Some(target),
                ..
            }) => {
                let message = format!("{message}; attaching to it will likely fail");
                diags.push(warning(message, ap.span, "in this probe"));
                targets.push(*target);
            }
            Err(e) => diags.push(error(e.message, ap.span, "in this probe")),
        }
    }
    targets
}

fn expand_one(ap: &AttachPoint, tracefs: &TraceFs) -> Result<Vec<Target>, ProbeError> {
    let provider = canonical_provider(&ap.provider);
    let one = |t: Result<Target, String>| t.map(|t| vec![t]).map_err(ProbeError::from);
    match provider {
        "BEGIN" | "END" => Ok(vec![begin_end(provider)]),
        "tracepoint" => tracepoints(ap, tracefs),
        "interval" => one(timer(ap, true)),
        "profile" => one(timer(ap, false)),
        "rawtracepoint" => one(raw_tracepoint(ap)),
        "software" => one(crate::probes_perf::software(ap)),
        "kprobe" | "kretprobe" => crate::probes_perf::kprobe(ap, provider == "kretprobe"),
        "uprobe" | "uretprobe" => crate::probes_perf::uprobe(ap, provider == "uretprobe"),
        "fentry" | "fexit" => one(crate::probes_perf::fentry(ap, provider == "fexit")),
        "usdt" => special::usdt(ap),
        "watchpoint" => one(special::watchpoint(ap)),
        "iter" => one(special::iter(ap)),
        "self" => one(special::self_signal(ap)),
        _ => Err(format!("probe type '{}' is not supported yet", ap.provider).into()),
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

fn tracepoints(ap: &AttachPoint, tracefs: &TraceFs) -> Result<Vec<Target>, ProbeError> {
    let [category, event] = ap.parts.as_slice() else {
        return Err(format!("'{}' should be tracepoint:category:event", ap.raw).into());
    };
    if !category.contains('*') && !event.contains('*') {
        return Ok(vec![tracepoint(category, event, tracefs)?]);
    }
    let events = tracefs.events();
    let matching: Vec<_> = events
        .iter()
        .filter(|(c, n)| glob(category, c) && glob(event, n))
        .collect();
    if matching.is_empty() {
        if let Some(problem) = tracefs.access_problem() {
            return Err(problem.into());
        }
        return Err(ProbeError::missing(format!(
            "no tracepoint matches '{}'",
            ap.raw
        )));
    }
    let targets: Result<Vec<Target>, String> = matching
        .into_iter()
        .map(|(c, n)| tracepoint(c, n, tracefs))
        .collect();
    Ok(targets?)
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
        usdt_args: None,
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
        CtxKind::Perf,
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
            usdt_args: None,
        }
    }
}

/// Shell-style matching with `*` only (any run of characters, `.` and `:` included), in
/// time proportional to the lengths' product whatever the pattern.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    // The last star seen and where in the text its run currently ends.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(c) if *c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    star = Some((sp, st + 1));
                    pi = sp + 1;
                    ti = st + 1;
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use codespan_reporting::diagnostic::Severity;

    #[test]
    fn glob_matches_stars() {
        assert!(glob("sys_enter_*", "sys_enter_openat"));
        assert!(glob("*open*", "sys_enter_openat"));
        assert!(!glob("sys_exit_*", "sys_enter_openat"));
        assert!(glob("*", ""));
        assert!(glob("lookup_fast.constprop.*", "lookup_fast.constprop.0"));
        assert!(glob("a*b*c", "aXbYbZc"));
        assert!(!glob("a*b*c", "aXbYbZ"));
        assert!(glob("*é*", "café"));
        let long = "a".repeat(200);
        assert!(!glob("*a*a*a*a*a*a*a*a*a*b", &long));
    }

    fn fixtures() -> TraceFs {
        TraceFs::at(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../snapshot-tests/fixtures/tracefs"
        ))
    }

    fn ap(text: &str) -> AttachPoint {
        let mut parts: Vec<String> = text.split(':').map(str::to_string).collect();
        AttachPoint {
            provider: parts.remove(0),
            parts,
            raw: text.to_string(),
            span: Default::default(),
        }
    }

    #[test]
    fn wildcards_without_matches_are_skipped_only_beside_other_targets() {
        let tracefs = fixtures();
        let mut diags = Diagnostics::default();
        let both = [
            ap("tracepoint:syscalls:sys_enter_read"),
            ap("tracepoint:syscalls:nothing_*"),
        ];
        let targets = expand_probe(&both, &tracefs, &mut diags);
        assert!(diags.is_empty());
        assert_eq!(targets.len(), 1);
        let alone = [ap("tracepoint:syscalls:nothing_*")];
        assert!(expand_probe(&alone, &tracefs, &mut diags).is_empty());
        assert!(diags.0[0].message.contains("tracepoint:syscalls:nothing_*"));
    }

    #[test]
    fn missing_exact_tracepoints_are_errors_even_beside_others() {
        let mut diags = Diagnostics::default();
        let both = [
            ap("tracepoint:syscalls:sys_enter_read"),
            ap("tracepoint:syscalls:sys_enter_raed"),
        ];
        expand_probe(&both, &fixtures(), &mut diags);
        assert_eq!(diags.0.len(), 1);
        assert!(diags.0[0].message.contains("did you mean sys_enter_read"));
    }

    #[test]
    fn absent_kernel_functions_warn_alone_and_are_skipped_beside_others() {
        if ksyms::KernelSymbols::system().is_none() {
            eprintln!("skipped: the kernel's function list is not readable here");
            return;
        }
        let mut diags = Diagnostics::default();
        let alone = [ap("kprobe:no_such_function_in_any_kernel")];
        assert_eq!(expand_probe(&alone, &fixtures(), &mut diags).len(), 1);
        assert!(!diags.is_empty());
        assert!(diags.0.iter().all(|d| d.severity == Severity::Warning));
        let mut diags = Diagnostics::default();
        let both = [ap("kprobe:no_such_function_in_any_kernel"), ap("BEGIN")];
        let targets = expand_probe(&both, &fixtures(), &mut diags);
        assert_eq!(targets.len(), 1);
        assert!(diags.is_empty());
    }

    #[test]
    fn short_providers_resolve() {
        assert_eq!(canonical_provider("t"), "tracepoint");
        assert_eq!(canonical_provider("kfunc"), "fentry");
        assert_eq!(canonical_provider("begin"), "BEGIN");
    }
}
