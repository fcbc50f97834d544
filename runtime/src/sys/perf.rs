//! perf_event_open(2) for the perf events ebpfc attaches programs to itself (tracepoints,
//! uprobes at file offsets with a reference counter, hardware breakpoints), the
//! `BPF_LINK_CREATE` that attaches a loaded program to one, and the release of events
//! whose programs are gone.
//!
//! Why not aya here: closing a tracepoint or uprobe perf event makes the kernel wait
//! for two RCU grace periods under a global mutex (`perf_trace_event_unreg` →
//! `tracepoint_synchronize_unregister`), tens of milliseconds per event, one event after
//! the other. aya closes the event with its link. Holding the event's fd apart from the
//! link lets a run detach every program at once (closing the links is fast) and pay for
//! the events' release after its output is written ([`release_in_background`]).
//!
//! Invariant: every fd returned is owned; an attr handed to the kernel is a fully
//! initialised `repr(C)` `perf_event_attr` whose size field says how long it is, and
//! any pointer in it (the uprobe path) outlives the call.

use std::ffi::CStr;
use std::io;
use std::mem::size_of;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

const BPF_LINK_CREATE: u32 = 28;
const BPF_PERF_EVENT: u32 = 41;
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 1 << 3;
/// `_IO('$', 1)`.
const PERF_EVENT_IOC_DISABLE: libc::c_ulong = 0x2401;

/// `perf_event_attr.type` of tracepoints.
pub(crate) const PERF_TYPE_TRACEPOINT: u32 = 2;
/// `perf_event_attr.type` of hardware breakpoints.
pub(crate) const PERF_TYPE_BREAKPOINT: u32 = 5;

/// `struct perf_event_attr` up to `sig_data` (`PERF_ATTR_SIZE_VER7`, 128 bytes).
#[repr(C)]
#[derive(Default)]
struct PerfEventAttr {
    kind: u32,
    size: u32,
    config: u64,
    sample_period: u64,
    sample_type: u64,
    read_format: u64,
    flags: u64,
    wakeup_events: u32,
    bp_type: u32,
    /// `bp_addr`, `uprobe_path` or `config1`.
    config1: u64,
    /// `bp_len`, `probe_offset` or `config2`.
    config2: u64,
    branch_sample_type: u64,
    sample_regs_user: u64,
    sample_stack_user: u32,
    clockid: i32,
    sample_regs_intr: u64,
    aux_watermark: u32,
    sample_max_stack: u16,
    reserved_2: u16,
    aux_sample_size: u32,
    reserved_3: u32,
    sig_data: u64,
}

/// One perf event to open.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PerfSpec<'a> {
    pub kind: u32,
    pub config: u64,
    /// `bp_type` of breakpoints.
    pub bp_type: u32,
    /// `bp_addr` of breakpoints, or the uprobe path (see `path`).
    pub config1: u64,
    /// `bp_len` of breakpoints, the file offset of uprobes.
    pub config2: u64,
    /// The uprobe's binary; its address becomes `config1`.
    pub path: Option<&'a CStr>,
    /// `-1` for every process.
    pub pid: i32,
    /// `-1` for every CPU (needs a pid).
    pub cpu: i32,
}

/// Opens the perf event `spec` describes, sampling every event, with close-on-exec.
pub(crate) fn perf_event_open(spec: &PerfSpec<'_>) -> io::Result<OwnedFd> {
    let attr = PerfEventAttr {
        kind: spec.kind,
        size: size_of::<PerfEventAttr>() as u32,
        config: spec.config,
        sample_period: 1,
        wakeup_events: 1,
        bp_type: spec.bp_type,
        config1: spec.path.map_or(spec.config1, |p| p.as_ptr() as u64),
        config2: spec.config2,
        ..Default::default()
    };
    // SAFETY: `attr` is a live, fully initialised perf_event_attr whose `size` is its
    // exact length; the path it may point to is borrowed for the whole call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            &attr as *const PerfEventAttr,
            spec.pid,
            spec.cpu,
            -1 as RawFd,
            PERF_FLAG_FD_CLOEXEC,
        )
    };
    owned(ret)
}

/// The `link_create` member of `union bpf_attr` for perf events.
#[repr(C)]
#[derive(Default)]
struct LinkCreateAttr {
    prog_fd: u32,
    target_fd: u32,
    attach_type: u32,
    flags: u32,
    bpf_cookie: u64,
}

/// Attaches the loaded program `prog` to the perf event `event` with a BPF link; the
/// program is detached when the returned link fd is closed.
pub(crate) fn link_perf_event(prog: BorrowedFd<'_>, event: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    let mut attr = LinkCreateAttr {
        prog_fd: prog.as_raw_fd() as u32,
        target_fd: event.as_raw_fd() as u32,
        attach_type: BPF_PERF_EVENT,
        ..Default::default()
    };
    // SAFETY: `attr` is a live, initialised prefix of `union bpf_attr` and its exact
    // size is passed; it holds no pointers.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_LINK_CREATE,
            &mut attr as *mut LinkCreateAttr,
            size_of::<LinkCreateAttr>() as libc::c_uint,
        )
    };
    owned(ret)
}

/// Stops a perf event from counting (best effort: it is about to be released).
pub(crate) fn disable(event: BorrowedFd<'_>) {
    // SAFETY: PERF_EVENT_IOC_DISABLE takes no argument and only acts on the fd.
    unsafe { libc::ioctl(event.as_raw_fd(), PERF_EVENT_IOC_DISABLE as _, 0) };
}

fn owned(ret: libc::c_long) -> io::Result<OwnedFd> {
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the syscall returned a new file descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(ret as RawFd) })
}

/// The pause between two releases: each release holds the kernel's trace event mutex
/// for its grace periods, and attachments of a run started meanwhile need that mutex
/// too; the pause lets them take many turns at once.
const RELEASE_PAUSE_NS: libc::c_long = 5_000_000;

/// Closes `fds` in a detached process so that this one need not wait for the kernel's
/// slow release of each event: a child forks a grandchild and exits at once; the
/// grandchild (in its own session, its other fds closed, so it holds no pipe or
/// terminal of the caller) closes the events one by one and exits. This process closes
/// its own copies, which is fast since the grandchild still holds the events. Where
/// fork fails, the events are closed here.
pub(crate) fn release_in_background(fds: Vec<OwnedFd>) {
    if fds.is_empty() {
        return;
    }
    let mut keep: Vec<RawFd> = fds.iter().map(AsRawFd::as_raw_fd).collect();
    keep.sort_unstable();
    // SAFETY: between fork and _exit the children only make async-signal-safe system
    // calls (fork, setsid, close_range, close, prctl, nanosleep, _exit) on data prepared before the
    // fork (`keep`), so the other threads' state is never touched.
    unsafe {
        let child = libc::fork();
        if child == 0 {
            if libc::fork() == 0 {
                libc::setsid();
                close_all_but(&keep);
                libc::prctl(libc::PR_SET_NAME, c"ebpfc-release".as_ptr());
                let pause = libc::timespec {
                    tv_sec: 0,
                    tv_nsec: RELEASE_PAUSE_NS,
                };
                for &fd in &keep {
                    libc::close(fd);
                    libc::nanosleep(&pause, std::ptr::null_mut());
                }
            }
            libc::_exit(0);
        }
        if child > 0 {
            let mut status = 0;
            libc::waitpid(child, &mut status, 0);
        }
    }
    drop(fds);
}

/// Closes every fd except those in `keep` (sorted).
///
/// # Safety
/// Only for a freshly forked child: it closes fds other code may think it owns.
unsafe fn close_all_but(keep: &[RawFd]) {
    let mut from: libc::c_uint = 0;
    for &fd in keep {
        let fd = fd as libc::c_uint;
        if fd > from {
            // SAFETY: close_range only closes descriptors of this (forked) process.
            unsafe { libc::syscall(libc::SYS_close_range, from, fd - 1, 0) };
        }
        from = fd + 1;
    }
    // SAFETY: as above.
    unsafe { libc::syscall(libc::SYS_close_range, from, libc::c_uint::MAX, 0) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_attr_has_the_ver7_size() {
        assert_eq!(size_of::<PerfEventAttr>(), 128);
        assert_eq!(size_of::<LinkCreateAttr>(), 24);
    }

    #[test]
    fn released_fds_are_closed_here() {
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let fd = OwnedFd::from(a);
        release_in_background(vec![fd]);
        // The peer sees end of file once both processes closed their copies.
        b.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let mut buf = [0u8; 1];
        let n = std::io::Read::read(&mut &b, &mut buf).unwrap();
        assert_eq!(n, 0);
    }
}
