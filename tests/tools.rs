//! Every tool in `stdlib/tools/` runs on this kernel against a workload it must see.
//!
//! A test copies the tool with one probe appended that prints a marker once the probes
//! before it are attached, starts it, runs the workload (threads with known names, a
//! child with a known pid), stops the tool with SIGINT as Ctrl-C would, and looks for
//! the exact rows the workload produces. With the `llvm` feature every tool runs on
//! both backends. A tool without a test here fails `every_tool_has_a_workload_test`.

mod common;

use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

/// The tools with a workload test below.
const TESTED: &[&str] = &[
    "bashreadline",
    "biolatency",
    "execsnoop",
    "killsnoop",
    "opensnoop",
    "pidpersec",
    "runqlat",
    "statsnoop",
    "syscount",
    "tcplife",
    "threadsnoop",
    "vfsstat",
];

const READY: &str = "ebpfc-tool-ready";

fn tool_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("stdlib/tools/{name}.bt"))
}

fn tool_names() -> Vec<String> {
    bt_files("stdlib/tools")
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect()
}

/// The backends every tool runs on.
fn backends() -> &'static [&'static str] {
    if cfg!(feature = "llvm") {
        &["bytecode", "llvm"]
    } else {
        &["bytecode"]
    }
}

/// A running tool: its stdout arrives line by line on `lines`.
struct Tool {
    name: String,
    child: Child,
    lines: Receiver<String>,
    /// Everything printed since the probes were attached, one `\n` after each line.
    out: String,
    err: std::thread::JoinHandle<String>,
    _dir: tempfile::TempDir,
}

impl Tool {
    /// Starts `stdlib/tools/NAME.bt` on `backend` and waits until its probes are attached.
    fn start(name: &str, backend: &str) -> Tool {
        let source = std::fs::read_to_string(tool_path(name)).expect("tool exists");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("{name}.bt"));
        let ready = format!(
            "\ninterval:ms:50 /@ebpfc_ready == 0/ {{ @ebpfc_ready = 1; printf(\"{READY}\\n\"); }}\n"
        );
        std::fs::write(&path, source + &ready).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_ebpfc"))
            .args(["--backend", backend])
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ebpfc starts");
        let (send, lines) = channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let mut stderr = child.stderr.take().unwrap();
        let err = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let mut tool = Tool {
            name: format!("{name} ({backend})"),
            child,
            lines,
            out: String::new(),
            err,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !tool.out.lines().any(|l| l == READY) {
            if !tool.next_line(deadline) {
                let _ = tool.child.kill();
                let _ = tool.child.wait();
                let err = tool.err.join().unwrap_or_default();
                panic!("{} never attached:\n{}\n{err}", tool.name, tool.out);
            }
        }
        tool.out.clear();
        tool
    }

    /// Receives one line before `deadline`; false when none came.
    fn next_line(&mut self, deadline: Instant) -> bool {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.lines.recv_timeout(left) {
            Ok(line) => {
                self.out.push_str(&line);
                self.out.push('\n');
                true
            }
            Err(_) => false,
        }
    }

    /// Reads lines until `done` holds for the output so far, for at most ten seconds.
    /// `done` is asked after each batch of lines, at most fifty times a second, so a
    /// tool printing every event on a busy machine cannot keep this loop spinning.
    fn wait_for(&mut self, done: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done(&self.out) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
            while let Ok(line) = self.lines.try_recv() {
                self.out.push_str(&line);
                self.out.push('\n');
            }
        }
    }

    /// Stops the tool with SIGINT and returns everything it printed after attaching.
    fn stop(mut self) -> String {
        let pid = self.child.id() as libc::pid_t;
        assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.next_line(deadline) {}
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("{} did not exit on SIGINT", self.name);
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let err = self.err.join().unwrap_or_default();
        let out = self.out;
        assert!(status.success(), "{} failed: {err}\n{out}", self.name);
        out
    }
}

/// Runs `check(output)` for `tool` on every backend, with `workload` run while it traces
/// and `until` saying when the lines the check needs have arrived.
fn traced(
    test: &str,
    tool: &str,
    workload: impl Fn() -> Vec<String>,
    until: impl Fn(&str, &[String]) -> bool,
    check: impl Fn(&str, &[String]),
) {
    if !kernel_available(test) {
        return;
    }
    for backend in backends() {
        let mut running = Tool::start(tool, backend);
        let facts = workload();
        running.wait_for(|out| until(out, &facts));
        let out = running.stop();
        check(&out, &facts);
    }
}

/// Runs `body` on a thread named `name` (its `comm`) and returns what it returns.
fn on_thread<T: Send + 'static>(name: &str, body: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(body)
        .unwrap()
        .join()
        .unwrap()
}

/// The first line whose whitespace-separated fields satisfy `want`.
fn row(out: &str, want: impl Fn(&[&str]) -> bool) -> Option<&str> {
    out.lines()
        .find(|l| want(&l.split_whitespace().collect::<Vec<_>>()))
}

/// The value of the map entry printed as `KEY: N`, summed over every time it is printed.
fn total(out: &str, key: &str) -> u64 {
    let prefix = format!("{key}: ");
    out.lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(|n| n.trim().parse::<u64>().expect("a count"))
        .sum()
}

/// `name` followed by this process's pid, for a thread whose count must not include
/// the same test running in another process.
fn unique(name: &str) -> String {
    format!("{name}{:05}", std::process::id() % 100_000)
}

fn me() -> String {
    std::process::id().to_string()
}

#[test]
fn every_tool_has_a_workload_test() {
    assert_eq!(tool_names(), TESTED);
}

#[test]
fn every_tool_says_what_it_does_and_compiles() {
    for name in tool_names() {
        let path = tool_path(&name);
        let text = std::fs::read_to_string(&path).unwrap();
        let first = text.lines().next().unwrap_or_default();
        assert!(
            first.starts_with(&format!("// {name}: ")),
            "{name}.bt must open with `// {name}: what it does`"
        );
        let out = ebpfc(&["--check", path.to_str().unwrap()]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
    }
}

#[test]
fn opensnoop_shows_fd_errno_and_path() {
    let workload = || {
        on_thread("ebpfcopen", || {
            drop(std::fs::File::open("/etc/hostname").unwrap());
            assert!(std::fs::File::open("/nonexistent/ebpfc-opensnoop").is_err());
        });
        vec![]
    };
    let ok = |f: &[&str]| {
        f.len() == 5
            && f[0] == me()
            && f[1] == "ebpfcopen"
            && f[3] == "0"
            && f[4] == "/etc/hostname"
            && f[2].parse::<u32>().is_ok()
    };
    let failed = |f: &[&str]| {
        f == [
            &me(),
            "ebpfcopen",
            "-1",
            "2",
            "/nonexistent/ebpfc-opensnoop",
        ]
    };
    traced(
        "opensnoop_shows_fd_errno_and_path",
        "opensnoop",
        workload,
        |out, _| row(out, ok).is_some() && row(out, failed).is_some(),
        |out, _| {
            assert!(row(out, ok).is_some(), "no open of /etc/hostname:\n{out}");
            assert!(row(out, failed).is_some(), "no failed open:\n{out}");
        },
    );
}

#[test]
fn execsnoop_shows_pid_parent_and_argv() {
    let workload = || {
        let child = Command::new("/bin/echo")
            .args(["ebpfc-execsnoop", "marker"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let id = child.id().to_string();
        child.wait_with_output().unwrap();
        vec![id]
    };
    /// `TIME(ms) PID PPID ARGS...` for the child, whose parent is this process.
    fn exec(out: &str, child: &[String]) -> bool {
        let argv = ["/bin/echo", "ebpfc-execsnoop", "marker"];
        row(out, |f| {
            f.len() == 6 && f[1] == child[0] && f[2] == me() && f[3..] == argv
        })
        .is_some()
    }
    traced(
        "execsnoop_shows_pid_parent_and_argv",
        "execsnoop",
        workload,
        exec,
        |out, child| assert!(exec(out, child), "no exec of pid {}:\n{out}", child[0]),
    );
}

#[test]
fn syscount_counts_by_number_and_process() {
    const CALLS: u64 = 100_000;
    let workload = || {
        on_thread(&unique("ebpfcsys"), || {
            for _ in 0..CALLS {
                unsafe { libc::getppid() };
            }
        });
        vec![]
    };
    traced(
        "syscount_counts_by_number_and_process",
        "syscount",
        workload,
        |_, _| true,
        |out, _| {
            assert!(out.contains("Top 10 processes:"), "{out}");
            let by_name = total(out, &format!("@process[{}]", unique("ebpfcsys")));
            assert!((CALLS..CALLS + 100).contains(&by_name), "{by_name}:\n{out}");
            let by_number = total(out, &format!("@syscall[{}]", libc::SYS_getppid));
            assert!(by_number >= CALLS, "{by_number}:\n{out}");
        },
    );
}

#[test]
fn runqlat_histograms_wakeups() {
    let workload = || {
        on_thread("ebpfcsleep", || {
            for _ in 0..50 {
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        vec![]
    };
    traced(
        "runqlat_histograms_wakeups",
        "runqlat",
        workload,
        |_, _| true,
        |out, _| {
            let hist = out.split_once("@usecs: \n").map(|(_, h)| h);
            let hist = hist.unwrap_or_else(|| panic!("no @usecs histogram:\n{out}"));
            let counted: u64 = hist
                .lines()
                .take_while(|l| l.starts_with('['))
                .filter_map(|l| l.split('|').next()?.split_whitespace().last())
                .map(|n| n.parse::<u64>().unwrap())
                .sum();
            assert!(counted >= 50, "{counted} wakeups:\n{out}");
        },
    );
}

#[test]
fn killsnoop_shows_signal_target_and_result() {
    let workload = || {
        on_thread("ebpfckill", || {
            let pid = std::process::id() as libc::pid_t;
            let tid = unsafe { libc::gettid() };
            assert_eq!(unsafe { libc::kill(pid, 0) }, 0);
            assert_eq!(unsafe { libc::kill(0x3fff_ffff, 0) }, -1);
            assert_eq!(unsafe { libc::syscall(libc::SYS_tgkill, pid, tid, 0) }, 0);
            vec![tid.to_string()]
        })
    };
    fn sent(out: &str, tpid: &str, result: &str) -> bool {
        row(out, |f| {
            f.len() == 6 && f[1..] == [&me(), "ebpfckill", "0", tpid, result]
        })
        .is_some()
    }
    fn all(out: &str, facts: &[String]) -> bool {
        sent(out, &me(), "0") && sent(out, "1073741823", "-3") && sent(out, &facts[0], "0")
    }
    traced(
        "killsnoop_shows_signal_target_and_result",
        "killsnoop",
        workload,
        all,
        |out, facts| assert!(all(out, facts), "tid {}:\n{out}", facts[0]),
    );
}

#[test]
fn statsnoop_shows_errno_and_path() {
    let workload = || {
        on_thread("ebpfcstat", || {
            std::fs::metadata("/etc/hostname").unwrap();
            assert!(std::fs::metadata("/nonexistent/ebpfc-statsnoop").is_err());
        });
        vec![]
    };
    let found = |out: &str| {
        row(out, |f| f == [&me(), "ebpfcstat", "0", "/etc/hostname"]).is_some()
            && row(out, |f| {
                f == [&me(), "ebpfcstat", "2", "/nonexistent/ebpfc-statsnoop"]
            })
            .is_some()
    };
    traced(
        "statsnoop_shows_errno_and_path",
        "statsnoop",
        workload,
        |out, _| found(out),
        |out, _| assert!(found(out), "{out}"),
    );
}

#[test]
fn vfsstat_counts_syscalls_each_second() {
    const SYNCS: u64 = 25;
    const KEY: &str = "@[tracepoint:syscalls:sys_enter_fdatasync]";
    let workload = || {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let mut file = std::fs::File::create(dir.path().join("vfsstat")).unwrap();
        for _ in 0..SYNCS {
            file.write_all(b"x").unwrap();
            file.sync_data().unwrap();
        }
        vec![]
    };
    traced(
        "vfsstat_counts_syscalls_each_second",
        "vfsstat",
        workload,
        |out, _| total(out, KEY) >= SYNCS,
        |out, _| {
            assert!(total(out, KEY) >= SYNCS, "{out}");
            let clock = |l: &str| {
                l.len() == 8
                    && l.split(':')
                        .all(|p| p.len() == 2 && p.parse::<u8>().is_ok())
            };
            assert!(out.lines().any(clock), "no time() line:\n{out}");
        },
    );
}

#[test]
fn pidpersec_counts_forks_and_parents() {
    let workload = || {
        on_thread(&unique("ebpfcfork"), || {
            for _ in 0..20 {
                Command::new("/bin/true").status().unwrap();
            }
        });
        vec![]
    };
    traced(
        "pidpersec_counts_forks_and_parents",
        "pidpersec",
        workload,
        |_, _| true,
        |out, _| {
            let parent = format!("@parent[{}]", unique("ebpfcfork"));
            assert_eq!(total(out, &parent), 20, "{out}");
            assert!(total(out, "@forks") >= 20, "{out}");
        },
    );
}

#[test]
fn threadsnoop_names_the_creator() {
    let workload = || {
        on_thread("ebpfcthread", || {
            std::thread::spawn(|| ()).join().unwrap();
        });
        vec![]
    };
    let created = |f: &[&str]| f.len() >= 4 && f[1] == me() && f[2] == "ebpfcthread";
    traced(
        "threadsnoop_names_the_creator",
        "threadsnoop",
        workload,
        |out, _| row(out, created).is_some(),
        |out, _| assert!(row(out, created).is_some(), "{out}"),
    );
}

#[test]
fn bashreadline_shows_typed_commands() {
    if !tool_available("bashreadline_shows_typed_commands", "/bin/bash") {
        return;
    }
    let workload = || {
        let mut bash = Command::new("/bin/bash")
            .args(["--norc", "--noprofile", "-i"])
            .env("HISTFILE", "/dev/null")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let id = bash.id().to_string();
        let mut input = bash.stdin.take().unwrap();
        input
            .write_all(b"echo ebpfc-readline-marker\nexit\n")
            .unwrap();
        drop(input);
        bash.wait().unwrap();
        vec![id]
    };
    /// `TIME PID COMMAND` for the line typed into that bash.
    fn typed(out: &str, bash: &[String]) -> bool {
        let line = [bash[0].as_str(), "echo", "ebpfc-readline-marker"];
        row(out, |f| f.len() == 4 && f[1..] == line).is_some()
    }
    traced(
        "bashreadline_shows_typed_commands",
        "bashreadline",
        workload,
        typed,
        |out, bash| assert!(typed(out, bash), "bash {}:\n{out}", bash[0]),
    );
}

#[test]
fn tcplife_shows_both_ends_of_a_connection() {
    let workload = || {
        on_thread("ebpfctcp", || {
            use std::net::{TcpListener, TcpStream};
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let server_port = listener.local_addr().unwrap().port();
            let mut client = TcpStream::connect(("127.0.0.1", server_port)).unwrap();
            let client_port = client.local_addr().unwrap().port();
            let (mut server, _) = listener.accept().unwrap();
            client.write_all(&[b'x'; 100]).unwrap();
            let mut got = [0u8; 100];
            server.read_exact(&mut got).unwrap();
            drop(client);
            assert_eq!(server.read(&mut got).unwrap(), 0);
            drop(server);
            vec![client_port.to_string(), server_port.to_string()]
        })
    };
    /// A row `PID COMM LADDR LPORT RADDR RPORT TX_B RX_B MS` of this thread's connection
    /// seen from `local`, which sent (or received) the 100 bytes.
    fn end(out: &str, local: &str, remote: &str, sent: bool) -> bool {
        let ours = [&me(), "ebpfctcp", "127.0.0.1", local, "127.0.0.1", remote];
        let column = if sent { 6 } else { 7 };
        row(out, |f| {
            f.len() == 9 && f[..6] == ours && f[column].parse::<u64>().is_ok_and(|b| b >= 100)
        })
        .is_some()
    }
    fn both(out: &str, ports: &[String]) -> bool {
        end(out, &ports[0], &ports[1], true) && end(out, &ports[1], &ports[0], false)
    }
    traced(
        "tcplife_shows_both_ends_of_a_connection",
        "tcplife",
        workload,
        both,
        |out, ports| assert!(both(out, ports), "ports {ports:?}:\n{out}"),
    );
}

#[test]
fn biolatency_histograms_direct_writes() {
    const WRITES: u64 = 8;
    let workload = || {
        use std::os::unix::fs::OpenOptionsExt;
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .custom_flags(libc::O_DIRECT | libc::O_DSYNC)
            .open(dir.path().join("biolatency"))
            .unwrap();
        let layout = std::alloc::Layout::from_size_align(4096, 4096).unwrap();
        let block = unsafe { std::alloc::alloc_zeroed(layout) };
        let data = unsafe { std::slice::from_raw_parts(block, 4096) };
        for _ in 0..WRITES {
            file.write_all(data).unwrap();
        }
        unsafe { std::alloc::dealloc(block, layout) };
        vec![]
    };
    traced(
        "biolatency_histograms_direct_writes",
        "biolatency",
        workload,
        |_, _| true,
        |out, _| {
            assert!(out.contains("@usecs: \n["), "no latency histogram:\n{out}");
            let writes: u64 = out
                .lines()
                .filter_map(|l| l.strip_prefix("@io[")?.split_once("]: "))
                .filter(|(rwbs, _)| rwbs.contains('W'))
                .map(|(_, n)| n.parse::<u64>().unwrap())
                .sum();
            assert!(writes >= WRITES, "{writes} writes:\n{out}");
        },
    );
}
