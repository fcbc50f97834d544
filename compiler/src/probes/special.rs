//! Probe kinds that are neither kernel functions nor tracepoints: USDT sites
//! (`usdt:/path:[provider:]name`, wildcards over the binary's notes, module
//! [`super::usdt`]), hardware watchpoints (`watchpoint:0xADDR:LEN:MODE`), BPF iterators
//! (`iter:task`) and signals to ebpfc itself (`self:signal:SIGUSR1`).

use super::libs::resolve_binary;
use super::usdt::{sites_of_file, UsdtSite};
use super::{glob, CtxKind, ProbeError, Target};
use crate::suggest::did_you_mean;
use ebpfc_parser::ast::AttachPoint;
use ebpfc_stdlib::meta::Attach;

/// Iterator targets (`bpf_iter_<target>` in the kernel).
pub const ITER_TARGETS: [&str; 12] = [
    "bpf_link",
    "bpf_map",
    "bpf_prog",
    "cgroup",
    "ksym",
    "netlink",
    "task",
    "task_file",
    "task_vma",
    "tcp",
    "udp",
    "unix",
];

/// Signals a `self:signal` probe may wait for (SIGINT and SIGTERM end the run).
pub const SIGNALS: [(&str, i32); 8] = [
    ("SIGHUP", 1),
    ("SIGUSR1", 10),
    ("SIGUSR2", 12),
    ("SIGALRM", 14),
    ("SIGCONT", 18),
    ("SIGWINCH", 28),
    ("SIGPWR", 30),
    ("SIGTTIN", 21),
];

/// `usdt:/path:probe` or `usdt:/path:provider:probe`, `*` allowed in both names.
pub fn usdt(ap: &AttachPoint) -> Result<Vec<Target>, ProbeError> {
    let (path, pattern) = match ap.parts.as_slice() {
        [path, name] => (path, name.clone()),
        [path, provider, name] => (path, format!("{provider}:{name}")),
        _ => {
            let msg = format!(
                "'{}' should be usdt:/path/to/binary:[provider:]probe",
                ap.raw
            );
            return Err(msg.into());
        }
    };
    let binary = resolve_binary(path)?;
    let sites = sites_of_file(&binary.path)?;
    let matching: Vec<&UsdtSite> = sites.iter().filter(|s| site_matches(s, &pattern)).collect();
    if matching.is_empty() {
        let names = sites.iter().map(|s| s.name.as_str());
        let hint = did_you_mean(pattern.rsplit(':').next().unwrap_or_default(), names)
            .map(|s| format!(" (did you mean {s}?)"))
            .unwrap_or_default();
        return Err(ProbeError::missing(format!(
            "no USDT probe of {} matches '{pattern}'{hint}",
            binary.path
        )));
    }
    Ok(matching
        .into_iter()
        .map(|site| usdt_target(&binary.path, site))
        .collect())
}

/// Whether a site matches `name` (any provider) or `provider:name`.
pub fn site_matches(site: &UsdtSite, pattern: &str) -> bool {
    match pattern.split_once(':') {
        Some((provider, name)) => glob(provider, &site.provider) && glob(name, &site.name),
        None => glob(pattern, &site.name),
    }
}

fn usdt_target(path: &str, site: &UsdtSite) -> Target {
    let attach = Attach::Usdt {
        path: path.to_string(),
        provider: site.provider.clone(),
        name: site.name.clone(),
        offset: site.offset,
        semaphore: site.semaphore,
    };
    let mut target = Target::plain(
        format!("usdt:{path}:{}:{}", site.provider, site.name),
        "uprobe".to_string(),
        attach,
        CtxKind::Usdt,
    );
    target.func = Some(site.name.clone());
    target.usdt_args = site.args();
    target
}

/// `watchpoint:0xADDR:LEN:MODE`: LEN 1, 2, 4 or 8; MODE of `r`, `w`, `x` (`x` alone,
/// with length 8), e.g. `rw`.
pub fn watchpoint(ap: &AttachPoint) -> Result<Target, String> {
    let [address, length, mode] = ap.parts.as_slice() else {
        return Err(format!(
            "'{}' should be watchpoint:0xADDRESS:LENGTH:MODE",
            ap.raw
        ));
    };
    let address = address
        .strip_prefix("0x")
        .and_then(|hex| u64::from_str_radix(hex, 16).ok())
        .or_else(|| address.parse().ok())
        .ok_or_else(|| format!("'{address}' is not an address (e.g. 0x7ffd1000)"))?;
    let length: u8 = length
        .parse()
        .ok()
        .filter(|l| [1, 2, 4, 8].contains(l))
        .ok_or_else(|| format!("watchpoint length '{length}' should be 1, 2, 4 or 8"))?;
    let valid_mode = !mode.is_empty()
        && mode.chars().all(|c| "rwx".contains(c))
        && (mode == "x" || !mode.contains('x'));
    if !valid_mode {
        return Err(format!("watchpoint mode '{mode}' should be r, w, rw or x"));
    }
    if mode == "x" && length != 8 {
        return Err("an x (execute) watchpoint needs length 8".to_string());
    }
    if address % u64::from(length) != 0 {
        return Err(format!(
            "watchpoint address 0x{address:x} is not aligned to its length {length}"
        ));
    }
    let mut canonical: String = "rwx".chars().filter(|c| mode.contains(*c)).collect();
    if canonical.is_empty() {
        canonical = mode.clone();
    }
    let attach = Attach::Watchpoint {
        address,
        length,
        mode: canonical.clone(),
    };
    Ok(Target::plain(
        format!("watchpoint:0x{address:x}:{length}:{canonical}"),
        "perf_event".to_string(),
        attach,
        CtxKind::Perf,
    ))
}

/// `iter:task`, `iter:task_file`, ...
pub fn iter(ap: &AttachPoint) -> Result<Target, String> {
    let [target] = ap.parts.as_slice() else {
        return Err(format!(
            "'{}' should be iter:TARGET, e.g. iter:task",
            ap.raw
        ));
    };
    if !ITER_TARGETS.contains(&target.as_str()) {
        let hint = did_you_mean(target, ITER_TARGETS)
            .map(|s| format!(" (did you mean {s}?)"))
            .unwrap_or_default();
        return Err(format!("unknown iterator '{target}'{hint}"));
    }
    let attach = Attach::Iter {
        target: target.clone(),
    };
    Ok(Target::plain(
        format!("iter:{target}"),
        format!("iter/{target}"),
        attach,
        CtxKind::Iter,
    ))
}

/// `self:signal:SIGUSR1` (also `USR1` or the number).
pub fn self_signal(ap: &AttachPoint) -> Result<Target, String> {
    let [kind, signal] = ap.parts.as_slice() else {
        return Err(format!("'{}' should be self:signal:SIGUSR1", ap.raw));
    };
    if kind != "signal" {
        return Err(format!("unknown self probe '{kind}' (self:signal:SIGUSR1)"));
    }
    let upper = signal.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    let found = SIGNALS
        .iter()
        .find(|(n, number)| *n == name || signal.parse() == Ok(*number));
    let Some((name, number)) = found else {
        let hint = did_you_mean(&name, SIGNALS.iter().map(|(n, _)| *n))
            .map(|s| format!(" (did you mean {s}?)"))
            .unwrap_or_default();
        return Err(format!(
            "self:signal cannot wait for '{signal}'{hint}: use one of SIGUSR1, SIGUSR2, \
             SIGHUP, SIGALRM, SIGCONT, SIGWINCH, SIGPWR, SIGTTIN"
        ));
    };
    Ok(Target::plain(
        format!("self:signal:{name}"),
        format!("raw_tp/ebpfc_signal_{}", name.to_ascii_lowercase()),
        Attach::Signal { signal: *number },
        CtxKind::None,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ap(provider: &str, parts: &[&str]) -> AttachPoint {
        let parts: Vec<String> = parts.iter().map(|s| s.to_string()).collect();
        AttachPoint {
            provider: provider.into(),
            raw: format!("{provider}:{}", parts.join(":")),
            parts,
            span: Default::default(),
        }
    }

    #[test]
    fn watchpoints_parse_and_check_alignment() {
        let t = watchpoint(&ap("watchpoint", &["0x1000", "8", "wr"])).unwrap();
        assert_eq!(t.name, "watchpoint:0x1000:8:rw");
        assert_eq!(
            t.attach,
            Attach::Watchpoint {
                address: 0x1000,
                length: 8,
                mode: "rw".into()
            }
        );
        let err = |parts: &[&str]| watchpoint(&ap("w", parts)).unwrap_err();
        assert!(err(&["0x1001", "4", "w"]).contains("aligned"));
        assert!(err(&["0x1000", "3", "w"]).contains("1, 2, 4 or 8"));
        assert!(err(&["0x1000", "8", "rx"]).contains("mode"));
        assert!(err(&["0x1000", "4", "x"]).contains("length 8"));
        assert!(err(&["nope", "8", "w"]).contains("not an address"));
    }

    #[test]
    fn iterators_and_signals_resolve() {
        let t = iter(&ap("iter", &["task_file"])).unwrap();
        assert_eq!(t.section, "iter/task_file");
        assert!(iter(&ap("iter", &["task_flie"]))
            .unwrap_err()
            .contains("did you mean task_file?"));
        let s = self_signal(&ap("self", &["signal", "usr1"])).unwrap();
        assert_eq!(s.attach, Attach::Signal { signal: 10 });
        assert_eq!(s.name, "self:signal:SIGUSR1");
        assert_eq!(s.section, "raw_tp/ebpfc_signal_sigusr1");
        assert!(self_signal(&ap("self", &["signal", "SIGINT"])).is_err());
        assert!(self_signal(&ap("self", &["sig", "SIGUSR1"])).is_err());
    }

    #[test]
    fn usdt_patterns_match_provider_and_name() {
        let site = UsdtSite {
            provider: "python".into(),
            name: "function__entry".into(),
            offset: 0,
            semaphore: None,
            args_spec: String::new(),
        };
        assert!(site_matches(&site, "function__entry"));
        assert!(site_matches(&site, "python:function__*"));
        assert!(site_matches(&site, "*:*"));
        assert!(!site_matches(&site, "ruby:function__entry"));
        assert!(!site_matches(&site, "line"));
    }

    #[test]
    fn usdt_in_a_binary_without_notes_is_missing() {
        let exe = std::env::current_exe().unwrap();
        let err = usdt(&ap("usdt", &[exe.to_str().unwrap(), "x"])).unwrap_err();
        assert!(err.missing, "{}", err.message);
        assert!(usdt(&ap("usdt", &["/no/such/file", "x"])).is_err());
    }
}
