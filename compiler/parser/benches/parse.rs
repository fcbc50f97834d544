//! Parser benchmark (`cargo bench -p ebpfc-parser`): times `parse` on a generated
//! 1,000-line script, on the repository's examples and on Debian's bpftrace tools
//! (`/usr/sbin/*.bt`, when installed), and prints, over [`RUNS`] runs per input, the
//! median CPU time of the parsing thread (what the parser costs, whatever else the
//! machine runs), the median and fastest wall time, and the CPU time per 1,000 lines.
//! Freeing the tree is not timed. It only measures; nothing here passes or fails.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

/// Timed runs per input.
const RUNS: usize = 51;

fn main() {
    let mut inputs = vec![("generated, 1000 lines".to_string(), generated(1000))];
    inputs.push(("generated, 10000 lines".to_string(), generated(10_000)));
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    inputs.push(("examples/*.bt (all)".to_string(), concat_dir(&examples)));
    let tools = concat_dir(Path::new("/usr/sbin"));
    if !tools.is_empty() {
        inputs.push(("/usr/sbin/*.bt (all)".to_string(), tools));
    }
    println!(
        "{:<24} {:>7} {:>6} {:>10} {:>10} {:>10} {:>10}",
        "input", "bytes", "lines", "cpu median", "wall med.", "wall min", "cpu/1k l."
    );
    for (name, src) in &inputs {
        row(name, src);
    }
}

/// Times one input and prints its row.
fn row(name: &str, src: &str) {
    assert!(ebpfc_parser::parse(src).is_ok(), "{name} does not parse");
    let (mut cpu, mut wall): (Vec<Duration>, Vec<Duration>) = (0..RUNS).map(|_| time(src)).unzip();
    cpu.sort();
    wall.sort();
    let lines = src.lines().count();
    let per_k = cpu[RUNS / 2] * 1000 / lines as u32;
    println!(
        "{name:<24} {:>7} {lines:>6} {:>10.3?} {:>10.3?} {:>10.3?} {per_k:>10.3?}",
        src.len(),
        cpu[RUNS / 2],
        wall[RUNS / 2],
        wall[0],
    );
}

/// The thread CPU time and the wall time of one parse of `src`.
fn time(src: &str) -> (Duration, Duration) {
    let (cpu, wall) = (thread_cpu_time(), Instant::now());
    let program = black_box(ebpfc_parser::parse(black_box(src)));
    let times = (thread_cpu_time() - cpu, wall.elapsed());
    drop(program);
    times
}

/// `struct timespec` of the C library on 64-bit Linux.
#[repr(C)]
struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

/// `CLOCK_THREAD_CPUTIME_ID` on Linux.
const CLOCK_THREAD_CPUTIME_ID: i32 = 3;

extern "C" {
    fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
}

/// CPU time consumed by the calling thread.
fn thread_cpu_time() -> Duration {
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Every `.bt` file of `dir`, each parsed separately before being joined, in name
/// order. Files that do not parse on their own are left out.
fn concat_dir(dir: &Path) -> String {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "bt"))
        .collect();
    paths.sort();
    let texts = paths.iter().filter_map(|p| std::fs::read_to_string(p).ok());
    let parsed = texts.filter(|t| ebpfc_parser::parse(t).is_ok());
    parsed
        .map(|t| t.replace("#!", "//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A script of at least `lines` lines using most of the language.
fn generated(lines: usize) -> String {
    let mut src = String::from("#include <linux/sched.h>\nconfig = { max_map_keys = 1000 }\n");
    let mut count = 2;
    let mut i = 0;
    while count < lines {
        let block = probe(i);
        count += block.lines().count();
        src.push_str(&block);
        i += 1;
    }
    src
}

fn probe(i: usize) -> String {
    format!(
        "tracepoint:syscalls:sys_enter_read{i}, kprobe:vfs_read{i}+0x10 /pid == {i} && comm != \"x\"/\n{{\n\
         \t$task = (struct task_struct *)curtask;\n\
         \t@bytes[comm, pid] = sum(args->count * 2 + (uint64)$task->mm->rss / 1024);\n\
         \tif ($task->pid > 100 || @start[tid] != 0) {{ @lat = hist((nsecs - @start[tid]) / 1000); }}\n\
         \telse {{ printf(\"%s %d\\n\", comm, {i}ms); }}\n\
         \t$x = $1 > 0 ? $x + 1 : 0; $x <<= 2; @c[$x % 7]++;\n\
         \tfor ($kv : @bytes) {{ let $v: uint64 = {{ $kv.1 }}; @t = stats($v); }}\n\
         }}\n"
    )
}
