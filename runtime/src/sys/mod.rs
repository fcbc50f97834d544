//! The one seam for raw system calls and `unsafe` code: the bpf(2) map commands
//! ([`bpf`]), strftime(3) and clock_gettime(2) ([`time`]), poll(2), pidfd_open(2),
//! mount(2), setrlimit(2), geteuid(2), the SIGINT/SIGTERM handlers and those of
//! `self:signal` probes, the paused `-c` child, and perf_event_open(2) with the BPF
//! links on perf events ([`perf`]).
//!
//! Invariant: every other module of the crate is free of `unsafe`.

mod bpf;
pub(crate) mod perf;
mod time;

#[cfg(test)]
pub(crate) use bpf::testing;
pub(crate) use bpf::{per_cpu_stride, RawMap};
pub(crate) use time::{monotonic_ns, Calendar};

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Blocks until one of `fds` is readable, a signal arrives or `timeout_ms` passes; with
/// no fd it only sleeps (interruptibly).
pub(crate) fn wait_readable(fds: &[BorrowedFd<'_>], timeout_ms: i32) -> io::Result<()> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|fd| libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    // SAFETY: `pfds` holds exactly `pfds.len()` valid pollfd structs (a dangling but
    // unread pointer when empty).
    let ret = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, timeout_ms) };
    if ret < 0 {
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINTR) {
            return Err(err);
        }
    }
    Ok(())
}

/// A process watched through a pidfd (pidfd_open(2)): it becomes readable when the
/// process exits.
pub(crate) struct ProcessWatch {
    fd: OwnedFd,
}

impl ProcessWatch {
    /// Starts watching `pid`; fails with ESRCH when no such process exists.
    pub fn open(pid: u32) -> io::Result<Self> {
        let pid =
            libc::pid_t::try_from(pid).map_err(|_| io::Error::from_raw_os_error(libc::ESRCH))?;
        // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
        let ret = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if ret < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: pidfd_open returned a new file descriptor that nothing else owns.
        Ok(Self {
            fd: unsafe { OwnedFd::from_raw_fd(ret as i32) },
        })
    }

    /// Whether the process has exited (a zombie counts as exited).
    pub fn exited(&self) -> bool {
        let mut pfd = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: `pfd` is one valid pollfd and the count passed is 1.
        let ret = unsafe { libc::poll(&mut pfd, 1, 0) };
        ret > 0 && pfd.revents & libc::POLLIN != 0
    }

    /// The pidfd, to wait on together with other fds.
    pub fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// `mount -t tracefs tracefs <target>`.
pub(crate) fn mount_tracefs(target: &CStr) -> io::Result<()> {
    let fstype = c"tracefs";
    // SAFETY: all strings are NUL-terminated and outlive the call; data is NULL.
    let ret = unsafe {
        libc::mount(
            fstype.as_ptr(),
            target.as_ptr(),
            fstype.as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if ret == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Raises RLIMIT_MEMLOCK to infinity, or else as far as the hard limit allows. Best
/// effort: kernels since 5.11 charge BPF memory to the cgroup instead.
pub(crate) fn raise_memlock_limit() {
    let infinite = libc::rlimit {
        rlim_cur: libc::RLIM_INFINITY,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: setrlimit/getrlimit read or write exactly one valid `rlimit`.
    unsafe {
        if libc::setrlimit(libc::RLIMIT_MEMLOCK, &infinite) == 0 {
            return;
        }
        let mut current = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut current) == 0 {
            current.rlim_cur = current.rlim_max;
            libc::setrlimit(libc::RLIMIT_MEMLOCK, &current);
        }
    }
}

/// The effective user id of this process.
pub(crate) fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Set by the SIGINT/SIGTERM handler; cleared when a [`SignalGuard`] is installed.
static STOP_REQUESTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stop_signal(_signal: libc::c_int) {
    STOP_REQUESTED.store(true, Ordering::SeqCst);
}

/// Whether SIGINT or SIGTERM arrived since the handlers were installed.
pub(crate) fn stop_requested() -> bool {
    STOP_REQUESTED.load(Ordering::SeqCst)
}

/// SIGINT/SIGTERM handlers that only set a flag; the previous handlers come back on drop.
pub(crate) struct SignalGuard {
    previous: Vec<(libc::c_int, libc::sigaction)>,
}

impl SignalGuard {
    /// Installs the SIGINT/SIGTERM handlers, and handlers that mark `probes` (signal
    /// numbers of `self:signal` probes, 1 to 63) pending for [`take_pending_signals`].
    pub fn install(probes: &[i32]) -> io::Result<Self> {
        STOP_REQUESTED.store(false, Ordering::SeqCst);
        PENDING_SIGNALS.store(0, Ordering::SeqCst);
        let mut guard = Self {
            previous: Vec::new(),
        };
        for signal in [libc::SIGINT, libc::SIGTERM] {
            let old = set_handler(signal, on_stop_signal as *const () as libc::sighandler_t)?;
            guard.previous.push((signal, old));
        }
        for &signal in probes {
            if !(1..64).contains(&signal) || guard.previous.iter().any(|(s, _)| *s == signal) {
                continue;
            }
            let old = set_handler(signal, on_probe_signal as *const () as libc::sighandler_t)?;
            guard.previous.push((signal, old));
        }
        Ok(guard)
    }
}

/// Signals of `self:signal` probes received and not yet taken, one bit per number.
static PENDING_SIGNALS: AtomicU64 = AtomicU64::new(0);

extern "C" fn on_probe_signal(signal: libc::c_int) {
    if (1..64).contains(&signal) {
        PENDING_SIGNALS.fetch_or(1 << signal, Ordering::SeqCst);
    }
}

/// The signal numbers received for `self:signal` probes since the last call, ascending.
pub(crate) fn take_pending_signals() -> Vec<i32> {
    let bits = PENDING_SIGNALS.swap(0, Ordering::SeqCst);
    (1..64).filter(|s| bits & (1 << s) != 0).collect()
}

impl Drop for SignalGuard {
    fn drop(&mut self) {
        for (signal, old) in &self.previous {
            // SAFETY: `old` is the action sigaction(2) returned for this signal.
            unsafe { libc::sigaction(*signal, old, std::ptr::null_mut()) };
        }
    }
}

/// Installs `handler` for `signal` without SA_RESTART (so poll(2) is interrupted) and
/// returns the previous action. Handlers only store to atomics.
fn set_handler(signal: libc::c_int, handler: libc::sighandler_t) -> io::Result<libc::sigaction> {
    // SAFETY: sigaction structs are plain data for which all-zero is valid; the handler
    // only stores to an atomic, which is async-signal-safe.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = handler;
        libc::sigemptyset(&mut action.sa_mask);
        let mut old: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(signal, &action, &mut old) != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(old)
    }
}

/// Forks `argv` behind a gate: the child blocks reading 8 bytes from the returned
/// pipe's other end, closes it and execs the command, so probes attach before the
/// command runs and see what bpftrace's child does after the release (the read's
/// return, one `close`, the `execve`). `argv[0]` must already be resolved to an existing
/// file. A child whose gate closes unopened, or whose exec fails, exits with 127.
/// Returns the child's pid.
pub(crate) fn spawn_paused(argv: &[String]) -> io::Result<(libc::pid_t, std::fs::File)> {
    use std::ffi::CString;
    let words: Vec<CString> = argv
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<Result<_, _>>()
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let mut pointers: Vec<*const libc::c_char> = words.iter().map(|w| w.as_ptr()).collect();
    pointers.push(std::ptr::null());
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` is a valid array of two ints for pipe2 to fill.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded, so both descriptors are open and owned only here.
    let (read_end, write_end) =
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: after fork the child calls only async-signal-safe functions (read, close,
    // execv, _exit) on memory prepared before the fork.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        // SAFETY: as above; the child never returns from this block.
        unsafe {
            // Without its own copy of the write end, the read ends if ebpfc goes.
            libc::close(write_end.as_raw_fd());
            let gate = read_end.as_raw_fd();
            let mut word = [0u8; 8];
            let got = libc::read(gate, word.as_mut_ptr().cast(), word.len());
            libc::close(gate);
            if got == word.len() as isize {
                libc::execv(pointers[0], pointers.as_ptr());
            }
            libc::_exit(127);
        }
    }
    drop(read_end);
    Ok((pid, std::fs::File::from(write_end)))
}

/// The exit code of child `pid` once it has exited (reaping it), waiting for it when
/// `block`; `None` while it runs. A child killed by a signal reports 128 + the signal.
pub(crate) fn wait_child(pid: libc::pid_t, block: bool) -> io::Result<Option<i32>> {
    let mut status = 0;
    let flags = if block { 0 } else { libc::WNOHANG };
    // SAFETY: `status` is a valid int for waitpid to fill.
    let got = unsafe { libc::waitpid(pid, &mut status, flags) };
    match got {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(None),
        _ if libc::WIFEXITED(status) => Ok(Some(libc::WEXITSTATUS(status))),
        _ => Ok(Some(128 + libc::WTERMSIG(status))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_without_fd_times_out() {
        let start = std::time::Instant::now();
        wait_readable(&[], 20).unwrap();
        assert!(start.elapsed() >= std::time::Duration::from_millis(15));
    }

    #[test]
    fn a_process_watch_sees_the_exit() {
        let mut child = std::process::Command::new("sleep")
            .arg("0.2")
            .spawn()
            .unwrap();
        let watch = ProcessWatch::open(child.id()).unwrap();
        assert!(!watch.exited());
        wait_readable(&[watch.as_fd()], 5000).unwrap();
        assert!(watch.exited());
        child.wait().unwrap();
    }

    #[test]
    fn watching_a_missing_process_fails_with_esrch() {
        let err = ProcessWatch::open(i32::MAX as u32).err().unwrap();
        assert_eq!(err.raw_os_error(), Some(libc::ESRCH));
    }
}
