//! The one seam for raw system calls and `unsafe` code: the bpf(2) map commands used to
//! read maps byte for byte, poll(2), mount(2), setrlimit(2), geteuid(2) and the
//! SIGINT/SIGTERM handlers.
//!
//! Invariants: every buffer handed to the kernel is sized from what the kernel itself
//! reported (`BPF_OBJ_GET_INFO_BY_FD`) so the safe wrappers cannot be made to write out of
//! bounds; every other module of the crate is free of `unsafe`.

use std::ffi::CStr;
use std::io;
use std::mem::size_of;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

const BPF_MAP_LOOKUP_ELEM: u32 = 1;
const BPF_MAP_GET_NEXT_KEY: u32 = 4;
const BPF_OBJ_GET_INFO_BY_FD: u32 = 15;

const BPF_MAP_TYPE_PERCPU_HASH: u32 = 5;
const BPF_MAP_TYPE_PERCPU_ARRAY: u32 = 6;
const BPF_MAP_TYPE_LRU_PERCPU_HASH: u32 = 10;
const BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE: u32 = 21;

/// The `BPF_MAP_*_ELEM` / `BPF_MAP_GET_NEXT_KEY` member of `union bpf_attr`.
#[repr(C)]
#[derive(Default)]
struct MapElemAttr {
    map_fd: u32,
    _pad: u32,
    key: u64,
    value_or_next_key: u64,
    flags: u64,
}

/// The `info` member of `union bpf_attr` (`BPF_OBJ_GET_INFO_BY_FD`).
#[repr(C)]
#[derive(Default)]
struct InfoAttr {
    bpf_fd: u32,
    info_len: u32,
    info: u64,
}

/// The leading fields of `struct bpf_map_info`; the kernel fills at most `info_len` bytes.
#[repr(C)]
#[derive(Default)]
struct MapInfoPrefix {
    map_type: u32,
    id: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
}

/// Issues one bpf(2) command with `attr` as a prefix of `union bpf_attr`.
fn sys_bpf<T>(cmd: u32, attr: &mut T) -> io::Result<libc::c_long> {
    let size = size_of::<T>() as libc::c_uint;
    // SAFETY: `attr` is a live, initialised `repr(C)` prefix of `union bpf_attr` and its
    // exact size is passed, so the kernel reads and writes only inside it. Pointers inside
    // `attr` are set by the callers below to buffers of the sizes the kernel expects.
    let ret = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr as *mut T, size) };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// The shape of a map as the kernel reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MapShape {
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
}

impl MapShape {
    /// Whether lookups return one value per possible CPU.
    pub fn per_cpu(&self) -> bool {
        matches!(
            self.map_type,
            BPF_MAP_TYPE_PERCPU_HASH
                | BPF_MAP_TYPE_PERCPU_ARRAY
                | BPF_MAP_TYPE_LRU_PERCPU_HASH
                | BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE
        )
    }
}

/// Asks the kernel for the type and sizes of the map behind `fd`.
pub(crate) fn map_shape(fd: BorrowedFd<'_>) -> io::Result<MapShape> {
    let mut info = MapInfoPrefix::default();
    let mut attr = InfoAttr {
        bpf_fd: fd.as_raw_fd() as u32,
        info_len: size_of::<MapInfoPrefix>() as u32,
        info: &mut info as *mut MapInfoPrefix as u64,
    };
    sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &mut attr)?;
    Ok(MapShape {
        map_type: info.map_type,
        key_size: info.key_size,
        value_size: info.value_size,
        max_entries: info.max_entries,
    })
}

/// Byte-level reader of one map, with buffer sizes taken from the kernel.
pub(crate) struct MapReader<'a> {
    fd: BorrowedFd<'a>,
    shape: MapShape,
    /// Bytes one lookup writes: `value_size`, or `round_up(value_size, 8) * possible CPUs`.
    value_len: usize,
}

impl<'a> MapReader<'a> {
    /// Describes the map behind `fd`; `possible_cpus` is only used for per-CPU maps.
    pub fn new(fd: BorrowedFd<'a>, possible_cpus: usize) -> io::Result<Self> {
        let shape = map_shape(fd)?;
        let value_len = if shape.per_cpu() {
            per_cpu_stride(shape.value_size) * possible_cpus.max(1)
        } else {
            shape.value_size as usize
        };
        Ok(Self {
            fd,
            shape,
            value_len,
        })
    }

    pub fn shape(&self) -> MapShape {
        self.shape
    }

    /// The key following `prev` (the first key when `None`), or `None` at the end.
    pub fn next_key(&self, prev: Option<&[u8]>) -> io::Result<Option<Vec<u8>>> {
        let key_size = self.shape.key_size as usize;
        if prev.is_some_and(|k| k.len() != key_size) {
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        }
        let mut next = vec![0u8; key_size];
        let mut attr = MapElemAttr {
            map_fd: self.fd.as_raw_fd() as u32,
            key: prev.map_or(0, |k| k.as_ptr() as u64),
            value_or_next_key: next.as_mut_ptr() as u64,
            ..Default::default()
        };
        match sys_bpf(BPF_MAP_GET_NEXT_KEY, &mut attr) {
            Ok(_) => Ok(Some(next)),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The raw value stored under `key` (all CPUs concatenated for per-CPU maps), or
    /// `None` when the key is absent.
    pub fn lookup(&self, key: &[u8]) -> io::Result<Option<Vec<u8>>> {
        if key.len() != self.shape.key_size as usize {
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        }
        let mut value = vec![0u8; self.value_len];
        let mut attr = MapElemAttr {
            map_fd: self.fd.as_raw_fd() as u32,
            key: key.as_ptr() as u64,
            value_or_next_key: value.as_mut_ptr() as u64,
            ..Default::default()
        };
        match sys_bpf(BPF_MAP_LOOKUP_ELEM, &mut attr) {
            Ok(_) => Ok(Some(value)),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Bytes between two CPUs' values in a per-CPU lookup buffer.
pub(crate) fn per_cpu_stride(value_size: u32) -> usize {
    (value_size as usize).div_ceil(8) * 8
}

/// Blocks until `fd` is readable, a signal arrives or `timeout_ms` passes; with no fd it
/// only sleeps (interruptibly).
pub(crate) fn wait_readable(fd: Option<BorrowedFd<'_>>, timeout_ms: i32) -> io::Result<()> {
    let mut pfd = libc::pollfd {
        fd: fd.map_or(-1, |fd| fd.as_raw_fd()),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: `pfd` is one valid pollfd and the count passed is 1; a negative fd is
    // ignored by poll(2).
    let ret = unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
    if ret < 0 {
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINTR) {
            return Err(err);
        }
    }
    Ok(())
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
    pub fn install() -> io::Result<Self> {
        STOP_REQUESTED.store(false, Ordering::SeqCst);
        let mut guard = Self {
            previous: Vec::new(),
        };
        for signal in [libc::SIGINT, libc::SIGTERM] {
            let old = set_handler(signal, on_stop_signal as *const () as libc::sighandler_t)?;
            guard.previous.push((signal, old));
        }
        Ok(guard)
    }
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
/// returns the previous action.
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

/// Map creation and updates, used only by tests to build maps to read back.
#[cfg(test)]
pub(crate) mod testing {
    use std::io;
    use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

    use super::{sys_bpf, MapElemAttr};

    const BPF_MAP_CREATE: u32 = 0;
    const BPF_MAP_UPDATE_ELEM: u32 = 2;

    #[repr(C)]
    #[derive(Default)]
    struct CreateAttr {
        map_type: u32,
        key_size: u32,
        value_size: u32,
        max_entries: u32,
        map_flags: u32,
    }

    pub(crate) fn map_create(
        map_type: u32,
        key_size: u32,
        value_size: u32,
        max_entries: u32,
    ) -> io::Result<OwnedFd> {
        let mut attr = CreateAttr {
            map_type,
            key_size,
            value_size,
            max_entries,
            map_flags: 0,
        };
        let fd = sys_bpf(BPF_MAP_CREATE, &mut attr)?;
        // SAFETY: BPF_MAP_CREATE returned a new file descriptor that nothing else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
    }

    /// `value` must hold the map's full value (all CPUs for per-CPU maps); the kernel
    /// only reads from it, so a short buffer is reported as an error, not read past.
    pub(crate) fn map_update(fd: BorrowedFd<'_>, key: &[u8], value: &[u8]) -> io::Result<()> {
        let shape = super::map_shape(fd)?;
        let possible = aya::util::nr_cpus().map_err(|(_, e)| e)?;
        let needed = if shape.per_cpu() {
            super::per_cpu_stride(shape.value_size) * possible
        } else {
            shape.value_size as usize
        };
        if key.len() != shape.key_size as usize || value.len() < needed {
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        }
        let mut attr = MapElemAttr {
            map_fd: fd.as_raw_fd() as u32,
            key: key.as_ptr() as u64,
            value_or_next_key: value.as_ptr() as u64,
            ..Default::default()
        };
        sys_bpf(BPF_MAP_UPDATE_ELEM, &mut attr).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_cpu_values_are_eight_byte_aligned() {
        assert_eq!(per_cpu_stride(1), 8);
        assert_eq!(per_cpu_stride(8), 8);
        assert_eq!(per_cpu_stride(12), 16);
        assert_eq!(per_cpu_stride(0), 0);
    }

    #[test]
    fn per_cpu_map_types_are_recognised() {
        let shape = |map_type| MapShape {
            map_type,
            key_size: 8,
            value_size: 8,
            max_entries: 1,
        };
        assert!(shape(BPF_MAP_TYPE_PERCPU_HASH).per_cpu());
        assert!(shape(BPF_MAP_TYPE_LRU_PERCPU_HASH).per_cpu());
        assert!(!shape(1).per_cpu());
        assert!(!shape(2).per_cpu());
    }

    #[test]
    fn waiting_without_fd_times_out() {
        let start = std::time::Instant::now();
        wait_readable(None, 20).unwrap();
        assert!(start.elapsed() >= std::time::Duration::from_millis(15));
    }
}

/// Spawns `argv` behind a gate: a shell that waits for a line on the returned pipe
/// end, then `exec`s the command in place (same pid), so probes can attach before the
/// command runs. `argv[0]` must already be resolved to an existing file.
pub(crate) fn spawn_paused(argv: &[String]) -> io::Result<(std::process::Child, std::fs::File)> {
    use std::os::unix::process::CommandExt;
    const GATE_FD: libc::c_int = 3;
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` is a valid array of two ints for pipe2 to fill.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded, so both descriptors are open and owned only here.
    let (read_end, write_end) =
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let gate = read_end.as_raw_fd();
    let mut command = std::process::Command::new("/bin/sh");
    command
        .args(["-c", "read -r _ <&3; exec 3<&-; exec \"$0\" \"$@\""])
        .args(argv);
    // SAFETY: the closure only calls dup2(2) and fcntl(2), which are async-signal-safe.
    // The gate ends up as fd 3 without close-on-exec (dup2 onto itself keeps the flag,
    // so that case clears it), and the shell inherits it.
    unsafe {
        command.pre_exec(move || {
            let ok = if gate == GATE_FD {
                libc::fcntl(GATE_FD, libc::F_SETFD, 0) != -1
            } else {
                libc::dup2(gate, GATE_FD) != -1
            };
            if ok {
                Ok(())
            } else {
                Err(io::Error::last_os_error())
            }
        });
    }
    let child = command.spawn()?;
    drop(read_end);
    Ok((child, std::fs::File::from(write_end)))
}
