//! Kernel acceptance of the written object: libbpf (through `bpftool prog loadall`) and aya
//! both load every program past the verifier, the kernel accepts the `.BTF` section as it is,
//! and `bpftool btf dump` reads it.
//!
//! These tests skip with a loud message when not root or when `bpftool` is missing, and fail
//! instead when `EBPFC_REQUIRE_KERNEL=1`.

mod common;
mod kernel;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use aya::programs::Program;
use aya::Ebpf;
use common::{sample_spec, HASH_MAP, RINGBUF};
use ebpfc_codegen::elf::write_object;
use kernel::is_root;
use object::{Object, ObjectSection};

const BPFTOOL_PATHS: &[&str] = &["/usr/sbin/bpftool", "/usr/bin/bpftool", "/sbin/bpftool"];

/// `Some(bpftool)` when the test can run; `None` after announcing a skip.
fn kernel_env(test: &str, need_root: bool) -> Option<PathBuf> {
    let bpftool = BPFTOOL_PATHS.iter().map(PathBuf::from).find(|p| p.exists());
    let reason = match (&bpftool, need_root && !is_root()) {
        (None, _) => "bpftool not found",
        (_, true) => "not running as root",
        (Some(_), false) => return bpftool,
    };
    if std::env::var("EBPFC_REQUIRE_KERNEL").as_deref() == Ok("1") {
        panic!("{test}: {reason}, and EBPFC_REQUIRE_KERNEL=1");
    }
    // Written to the real stderr, past the test harness's capture, so a skip is always seen.
    let banner = format!(
        "\n*** SKIPPED {test}: {reason} (set EBPFC_REQUIRE_KERNEL=1 to fail instead) ***\n"
    );
    let _ = std::io::stderr().write_all(banner.as_bytes());
    None
}

fn object_file() -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new().suffix(".o").tempfile().unwrap();
    file.write_all(&write_object(&sample_spec()).unwrap())
        .unwrap();
    file
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("command runs");
    eprintln!("$ {cmd:?}\n{}", String::from_utf8_lossy(&out.stdout));
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    out
}

/// Removes a bpffs pin directory when dropped.
struct PinDir(PathBuf);

impl Drop for PinDir {
    fn drop(&mut self) {
        if self.0.exists() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn pinned_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("pin directory exists")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn libbpf_loads_every_program() {
    let Some(bpftool) = kernel_env("libbpf_loads_every_program", true) else {
        return;
    };
    let file = object_file();
    let pins = PinDir(PathBuf::from(format!(
        "/sys/fs/bpf/ebpfc_test_{}",
        std::process::id()
    )));
    let out = run(Command::new(&bpftool)
        .args(["prog", "loadall"])
        .arg(file.path())
        .arg(&pins.0));
    assert!(out.status.success(), "bpftool prog loadall failed");
    // libbpf announces, at info level, that it leaves `.ebpfc` alone; anything else it says is
    // a warning about the object (for example the kernel rejecting its BTF).
    let stderr = String::from_utf8_lossy(&out.stderr);
    let complaints: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter(|l| !(l.contains("skipping unrecognized data section") && l.ends_with(" .ebpfc")))
        .collect();
    assert!(complaints.is_empty(), "libbpf complained: {complaints:#?}");
    let want = ["probe_begin", "probe_openat", "probe_tick", "probe_tock"];
    assert_eq!(pinned_names(&pins.0), want);

    let pinned = pins.0.join("probe_openat");
    let out = run(Command::new(&bpftool)
        .args(["prog", "show", "pinned"])
        .arg(pinned));
    let show = String::from_utf8_lossy(&out.stdout);
    assert!(
        show.contains("tracepoint") && show.contains("name probe_openat"),
        "{show}"
    );
}

#[test]
fn bpftool_dumps_the_btf() {
    let Some(bpftool) = kernel_env("bpftool_dumps_the_btf", false) else {
        return;
    };
    let file = object_file();
    let out = run(Command::new(&bpftool)
        .args(["btf", "dump", "file"])
        .arg(file.path()));
    assert!(out.status.success(), "bpftool btf dump failed");
    let dump = String::from_utf8_lossy(&out.stdout);
    let expected = [
        "[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED",
        "ARRAY '(anon)' type_id=1 index_type_id=1 nr_elems=27",
        "ARRAY '(anon)' type_id=1 index_type_id=1 nr_elems=262144",
        "STRUCT '(anon)' size=24 vlen=3",
        "STRUCT '(anon)' size=40 vlen=5",
        "'key_size' type_id=",
        "'map_flags' type_id=",
        &format!("VAR '{RINGBUF}' type_id="),
        &format!("VAR '{HASH_MAP}' type_id="),
        "DATASEC '.maps' size=64 vlen=2",
        "offset=0 size=24",
        "offset=24 size=40",
        "FUNC_PROTO '(anon)' ret_type_id=1 vlen=1",
        "'ctx' type_id=",
        "FUNC 'probe_begin' type_id=",
        "linkage=global",
    ];
    for line in expected {
        assert!(dump.contains(line), "missing {line:?} in:\n{dump}");
    }
}

/// `BPF_BTF_LOAD`: the kernel's answer (fd or errno, verifier log) for a BTF blob.
fn kernel_btf_load(btf: &[u8]) -> Result<(), (std::io::Error, String)> {
    /// The `BPF_BTF_LOAD` member of `union bpf_attr`.
    #[repr(C)]
    struct BtfLoadAttr {
        btf: u64,
        btf_log_buf: u64,
        btf_size: u32,
        btf_log_size: u32,
        btf_log_level: u32,
    }
    const BPF_BTF_LOAD: libc::c_long = 18;
    let mut log = vec![0u8; 64 * 1024];
    let attr = BtfLoadAttr {
        btf: btf.as_ptr() as u64,
        btf_log_buf: log.as_mut_ptr() as u64,
        btf_size: btf.len() as u32,
        btf_log_size: log.len() as u32,
        btf_log_level: 1,
    };
    let size = std::mem::size_of::<BtfLoadAttr>();
    // SAFETY: `attr` points at live buffers of the sizes it states for the whole call.
    let fd = unsafe { libc::syscall(libc::SYS_bpf, BPF_BTF_LOAD, &attr, size) };
    if fd < 0 {
        let err = std::io::Error::last_os_error();
        let text = String::from_utf8_lossy(&log);
        return Err((err, text.trim_end_matches('\0').to_owned()));
    }
    // SAFETY: the syscall returned a new file descriptor that nothing else owns.
    unsafe { libc::close(fd as libc::c_int) };
    Ok(())
}

#[test]
fn kernel_accepts_the_btf() {
    if kernel_env("kernel_accepts_the_btf", true).is_none() {
        return;
    }
    let bytes = write_object(&sample_spec()).unwrap();
    let file = object::read::File::parse(&*bytes).unwrap();
    let btf = file.section_by_name(".BTF").unwrap().data().unwrap();
    if let Err((err, log)) = kernel_btf_load(btf) {
        panic!("BPF_BTF_LOAD rejected the BTF: {err}\n{log}");
    }
}

#[test]
fn aya_loads_every_program() {
    if kernel_env("aya_loads_every_program", true).is_none() {
        return;
    }
    let bytes = write_object(&sample_spec()).unwrap();
    let mut ebpf = Ebpf::load(&bytes).expect("aya creates the maps and loads the BTF");
    assert!(ebpf.map(HASH_MAP).is_some() && ebpf.map(RINGBUF).is_some());
    let mut loaded = Vec::new();
    for (name, program) in ebpf.programs_mut() {
        let result = match program {
            Program::RawTracePoint(p) => p.load(),
            Program::TracePoint(p) => p.load(),
            Program::PerfEvent(p) => p.load(),
            other => panic!("{name}: unexpected program type {:?}", other.prog_type()),
        };
        result.unwrap_or_else(|e| panic!("{name}: {e:?}"));
        loaded.push(name.to_owned());
    }
    loaded.sort();
    assert_eq!(
        loaded,
        ["probe_begin", "probe_openat", "probe_tick", "probe_tock"]
    );
}
