//! Preparing the host before any BPF object is touched: the privilege check, the
//! locked-memory limit and the tracefs mount.
//!
//! Invariant: [`check_privileges`] runs before the first bpf(2) call, so a user without
//! the needed capabilities gets one error naming them instead of a kernel EPERM later.

use std::ffi::CString;
use std::path::Path;

use ebpfc_stdlib::meta::{Attach, Metadata};

use crate::error::{io_words, RuntimeError};
use crate::sys;

const CAP_SYS_ADMIN: u32 = 21;
const CAP_PERFMON: u32 = 38;
const CAP_BPF: u32 = 39;

/// Where tracefs is expected (and mounted when missing).
pub(crate) const TRACEFS: &str = "/sys/kernel/tracing";

/// Fails with [`RuntimeError::MissingPrivilege`] unless the process may load and attach
/// tracing programs: CAP_SYS_ADMIN, or both CAP_BPF and CAP_PERFMON.
pub(crate) fn check_privileges() -> Result<(), RuntimeError> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let missing = match parse_cap_eff(&status) {
        Some(caps) => missing_capabilities(caps),
        None if sys::effective_uid() == 0 => None,
        None => Some("root (or CAP_BPF and CAP_PERFMON)".to_string()),
    };
    match missing {
        Some(missing) => Err(RuntimeError::MissingPrivilege { missing }),
        None => Ok(()),
    }
}

/// The capabilities missing from an effective set, in words, or `None` if it suffices.
pub(crate) fn missing_capabilities(cap_eff: u64) -> Option<String> {
    let has = |cap: u32| cap_eff & (1u64 << cap) != 0;
    if has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON)) {
        return None;
    }
    let missing: Vec<&str> = [(CAP_BPF, "CAP_BPF"), (CAP_PERFMON, "CAP_PERFMON")]
        .into_iter()
        .filter(|(cap, _)| !has(*cap))
        .map(|(_, name)| name)
        .collect();
    Some(missing.join(" and "))
}

/// The `CapEff:` mask of a `/proc/<pid>/status` file.
fn parse_cap_eff(status: &str) -> Option<u64> {
    let line = status.lines().find_map(|l| l.strip_prefix("CapEff:"))?;
    u64::from_str_radix(line.trim(), 16).ok()
}

/// Raises the locked-memory limit and mounts tracefs when some probe needs it.
pub(crate) fn prepare_host(meta: &Metadata) -> Result<(), RuntimeError> {
    sys::raise_memlock_limit();
    if meta.probes.iter().any(|p| needs_tracefs(&p.attach)) {
        ensure_tracefs(Path::new(TRACEFS))?;
    }
    Ok(())
}

/// Probes whose attachment reads tracefs (tracepoint ids, or probe events on kernels
/// without the kprobe/uprobe PMUs).
fn needs_tracefs(attach: &Attach) -> bool {
    matches!(
        attach,
        Attach::Tracepoint { .. } | Attach::Kprobe { .. } | Attach::Uprobe { .. }
    )
}

/// Mounts tracefs at `dir` unless `dir/events` already exists.
pub(crate) fn ensure_tracefs(dir: &Path) -> Result<(), RuntimeError> {
    if dir.join("events").is_dir() {
        return Ok(());
    }
    let fail = |reason: String| RuntimeError::Tracefs {
        path: dir.display().to_string(),
        reason,
    };
    let target = CString::new(dir.as_os_str().as_encoded_bytes())
        .map_err(|_| fail("the path contains a NUL byte".to_string()))?;
    sys::mount_tracefs(&target).map_err(|e| fail(io_words(&e)))?;
    if dir.join("events").is_dir() {
        Ok(())
    } else {
        Err(fail(
            "the mount succeeded but has no `events` directory".to_string(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_capabilities_suffice() {
        assert_eq!(missing_capabilities(0x1ff_feff_ffff), None);
    }

    #[test]
    fn sys_admin_alone_suffices() {
        assert_eq!(missing_capabilities(1 << CAP_SYS_ADMIN), None);
    }

    #[test]
    fn missing_capabilities_are_named() {
        assert_eq!(
            missing_capabilities(0).as_deref(),
            Some("CAP_BPF and CAP_PERFMON")
        );
        assert_eq!(
            missing_capabilities(1 << CAP_BPF).as_deref(),
            Some("CAP_PERFMON")
        );
    }

    #[test]
    fn cap_eff_is_parsed_from_status() {
        let status = "Name:\tx\nCapPrm:\t0000000000000001\nCapEff:\t000001fffeffffff\n";
        assert_eq!(parse_cap_eff(status), Some(0x1ff_feff_ffff));
        assert_eq!(parse_cap_eff("Name: x\n"), None);
    }

    #[test]
    fn the_privilege_check_follows_the_effective_capabilities() {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let caps = parse_cap_eff(&status).unwrap();
        match (check_privileges(), missing_capabilities(caps)) {
            (Ok(()), None) => {}
            (Err(err), Some(missing)) => assert!(err.to_string().contains(&missing), "{err}"),
            (result, missing) => panic!("check {result:?} disagrees with {missing:?}"),
        }
    }

    #[test]
    fn existing_tracefs_is_left_alone() {
        let dir = std::env::temp_dir().join(format!("ebpfc-tracefs-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("events")).unwrap();
        assert!(ensure_tracefs(&dir).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
