//! Real scripts: Debian's bpftrace tools (when installed) must all parse, and a large
//! generated script must parse quickly.

use super::{ok, render};
use crate::parse;

#[test]
fn installed_bpftrace_tools_parse() {
    let Ok(dir) = std::fs::read_dir("/usr/sbin") else {
        return;
    };
    let mut failures = Vec::new();
    let mut count = 0;
    for entry in dir.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "bt") {
            continue;
        }
        let Ok(src) = std::fs::read_to_string(&path) else {
            continue;
        };
        count += 1;
        if let Err(diags) = parse(&src) {
            failures.push(render(&path.display().to_string(), &src, &diags));
        }
    }
    if count == 0 {
        eprintln!("no /usr/sbin/*.bt found (apt-get install bpftrace): skipping");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A script of about `lines` lines using most of the language.
pub(super) fn big_script(lines: usize) -> String {
    let mut src = String::from("#include <linux/sched.h>\nconfig = { max_map_keys = 1000 }\n");
    let mut i = 0;
    while src.lines().count() < lines {
        src.push_str(&format!(
            "tracepoint:syscalls:sys_enter_read{i}, kprobe:vfs_read{i}+0x10 /pid == {i} && comm != \"x\"/\n{{\n\
             \t$task = (struct task_struct *)curtask;\n\
             \t@bytes[comm, pid] = sum(args->count * 2 + (uint64)$task->mm->rss / 1024);\n\
             \tif ($task->pid > 100 || @start[tid] != 0) {{ @lat = hist((nsecs - @start[tid]) / 1000); }}\n\
             \telse {{ printf(\"%s %d\\n\", comm, {i}ms); }}\n\
             \t$x = $1 > 0 ? $x + 1 : 0; $x <<= 2; @c[$x % 7]++;\n\
             }}\n"
        ));
        i += 1;
    }
    src
}

#[test]
fn a_thousand_line_script_parses() {
    let src = big_script(1000);
    assert!(src.lines().count() >= 1000);
    let program = ok(&src);
    assert!(program.items.len() > 100);
}
