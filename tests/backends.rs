//! The LLVM backend against the direct one on the live kernel: the same program, run with
//! `--backend llvm` and `--backend bytecode`, must print the same stdout. Covers BPF's
//! signed arithmetic, every aggregation, a tracepoint on a controlled workload, loops over
//! maps, every program of `tests/differential.rs` and every example (loaded with
//! `--dry-run`).
//! Without the `llvm` feature, `--backend llvm` must explain how to build it.

mod common;

#[cfg(not(feature = "llvm"))]
#[test]
fn llvm_backend_explains_how_to_build_it() {
    let dir = tempfile::tempdir().unwrap();
    let object = dir.path().join("x.o");
    let out = common::ebpfc(&[
        "--backend",
        "llvm",
        "--emit-elf",
        object.to_str().unwrap(),
        "-e",
        "BEGIN { exit(); }",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = common::stderr(&out);
    assert!(err.contains("cargo build --features llvm"), "{err}");
    let out = common::ebpfc(&["--dump", "llvm", "-e", "BEGIN { exit(); }"]);
    assert!(common::stderr(&out).contains("--features llvm"));
}

#[cfg(feature = "llvm")]
mod llvm {
    use super::common::*;

    /// stdout of `ebpfc --backend BACKEND ARGS...`, which must succeed.
    fn run(backend: &str, args: &[&str]) -> String {
        let mut all = vec!["--backend", backend];
        all.extend_from_slice(args);
        let out = ebpfc(&all);
        assert!(
            out.status.success(),
            "--backend {backend} {args:?}: {}",
            stderr(&out)
        );
        stdout(&out)
    }

    /// Runs `program` on both backends; returns the direct backend's output after checking
    /// that the LLVM backend printed the same.
    fn same_on_both(program: &str) -> String {
        let direct = run("bytecode", &["-e", program]);
        let llvm = run("llvm", &["-e", program]);
        assert_eq!(llvm, direct, "outputs differ for {program}");
        direct
    }

    #[test]
    fn signed_arithmetic_matches() {
        if !kernel_available("signed_arithmetic_matches") {
            return;
        }
        let out = same_on_both(
            r#"BEGIN { $x = -7; printf("%d %d %d %d %u\n", $x / 2, $x % 3, $x >> 1, $x & 0xff, (uint8)$x); exit(); }"#,
        );
        // Division is unsigned, as in bpftrace 0.17; %d prints the low 32 bits.
        assert!(out.starts_with("-4 0 -4 249 249\n"), "{out}");
    }

    #[test]
    fn division_by_zero_and_wide_shifts_match() {
        if !kernel_available("division_by_zero_and_wide_shifts_match") {
            return;
        }
        let out = same_on_both(
            r#"BEGIN { $z = 0; $x = 9; $s = 65; printf("%d %d %d %d\n", $x / $z, $x % $z, $x << $s, -$x / $s); exit(); }"#,
        );
        assert!(out.starts_with("0 9 18 -264305680\n"), "{out}");
        let out = same_on_both(
            r#"BEGIN { $x = (uint32)-9; printf("%u %d\n", $x << 65, $x >> 66); exit(); }"#,
        );
        assert!(out.starts_with("4294967278 1073741821\n"), "{out}");
    }

    #[test]
    fn aggregations_match() {
        if !kernel_available("aggregations_match") {
            return;
        }
        let out = same_on_both(
            "BEGIN { @c = count(); @s = sum(5); @mn = min(3); @mx = max(9); @a = avg(3); @st = stats(2); exit(); }",
        );
        assert!(out.contains("@c: 1\n") && out.contains("@mx: 9\n"), "{out}");
    }

    #[test]
    fn tracepoint_with_string_keys_matches() {
        if !kernel_available("tracepoint_with_string_keys_matches") {
            return;
        }
        let program = format!(
            r#"tracepoint:syscalls:sys_enter_openat /comm == "ebpfcllvm"/ {{ @f[str(args->filename)] = count(); @h[str(args->filename)] = sum(2); }}
{READY}"#
        );
        let workload = || {
            open_workload("ebpfcllvm", "/etc/hostname", 12)
                .join()
                .unwrap()
        };
        let direct = run_with_workload(&["--backend", "bytecode"], &program, workload);
        let llvm = run_with_workload(&["--backend", "llvm"], &program, workload);
        assert_eq!(llvm, direct);
        assert!(llvm.contains("@f[/etc/hostname]: 12\n"), "{llvm}");
        assert!(llvm.contains("@h[/etc/hostname]: 24\n"), "{llvm}");
    }

    #[test]
    fn probe_sharing_stack_bytes_matches() {
        if !kernel_available("probe_sharing_stack_bytes_matches") {
            return;
        }
        // Seven string keys need more stack than eBPF has unless their buffers share
        // bytes. There is no predicate, so only the lines of a path no one else opens
        // are compared.
        let maps = ["a", "b", "c", "d", "e", "f", "g"];
        let body: String = maps
            .iter()
            .map(|m| format!("@{m}[str(args->filename)] = count(); "))
            .collect();
        let program = format!("tracepoint:syscalls:sys_enter_openat {{ {body}}}\n{READY}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ebpfc-shared-frame");
        std::fs::write(&path, "x").unwrap();
        let path: &'static str = Box::leak(path.to_string_lossy().into_owned().into_boxed_str());
        let lines = |backend: &str| {
            let out = run_with_workload(&["--backend", backend], &program, || {
                open_workload("ebpfcframe", path, 9).join().unwrap()
            });
            let mine: Vec<String> = out
                .lines()
                .filter(|l| l.contains(path))
                .map(str::to_string)
                .collect();
            mine
        };
        let direct = lines("bytecode");
        let want: Vec<String> = maps.iter().map(|m| format!("@{m}[{path}]: 9")).collect();
        assert_eq!(direct, want);
        assert_eq!(lines("llvm"), want);
    }

    #[test]
    fn map_loops_match() {
        if !kernel_available("map_loops_match") {
            return;
        }
        // Hash maps iterate in no fixed order: only order-free results are printed.
        let out = same_on_both(
            r#"BEGIN { @m[1] = 1; @m[2] = 2; @m[3] = 3; @m[4] = 4; @s["ab"] = 7; @t[2, "b"] = "v"; $odd = 0; $n = 0; $pairs = 0; $name = "-"; for ($kv : @m) { if ($kv.0 % 2 == 0) { continue; } $odd += $kv.1; } for ($kv : @m) { $n++; if ($n == 3) { break; } } for ($a : @m) { for ($b : @m) { if ($a.0 < $b.0) { $pairs++; } } } for ($kv : @t) { $name = $kv.1; printf("%d %s\n", $kv.0.0, $kv.0.1); } for ($kv : @s) { printf("%s %d\n", $kv.0, $kv.1); } printf("%d %d %d %s %d\n", $odd, $n, $pairs, $name, len(@m)); exit(); }"#,
        );
        assert!(out.starts_with("2 b\nab 7\n4 3 6 v 4\n"), "{out}");
        let stopped = same_on_both(
            r#"BEGIN { @m[1] = 1; @m[2] = 2; for ($kv : @m) { if ($kv.0 == 2) { printf("stop\n"); exit(); } } printf("after\n"); }"#,
        );
        assert!(stopped.starts_with("stop\n\n\n"), "{stopped}");
    }

    #[test]
    fn strlen_offsetof_and_addresses_match() {
        if !kernel_available("strlen_offsetof_and_addresses_match") {
            return;
        }
        let out = same_on_both(
            r#"struct S { int a; long b; } BEGIN { $t = curtask; $p = &$t->pid; printf("%d %d %d %d %d\n", strlen("hello"), strlen(comm), offsetof(struct S, b), *$p == pid, ncpus > 0); exit(); }"#,
        );
        assert_eq!(out, "5 5 8 1 1\n\n\n");
    }

    #[test]
    fn llvm_objects_with_loops_load_in_bpftool() {
        if !kernel_available("llvm_objects_with_loops_load_in_bpftool")
            || !tool_available("llvm_objects_with_loops_load_in_bpftool", "bpftool")
        {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let object = dir.path().join("loops.o");
        let path = object.to_str().unwrap();
        let program = r#"BEGIN { @m[1] = 2; $t = 0; for ($kv : @m) { $t += $kv.1; } printf("%d %d\n", $t, len(@m)); exit(); }"#;
        run("llvm", &["--emit-elf", path, "-e", program]);
        let load = bpftool_loadall(&object, "llvmloops");
        assert!(load.status.success(), "bpftool: {}", stderr(&load));
        let out = ebpfc(&[path]);
        assert_eq!(stdout(&out), "2 1\n\n\n@m[1]: 2\n", "{}", stderr(&out));
    }

    /// The `PROGRAMS` list of `tests/differential.rs`.
    fn differential_programs() -> Vec<&'static str> {
        program_list(include_str!("differential/programs.txt"))
    }

    #[test]
    fn differential_programs_match() {
        if !kernel_available("differential_programs_match") {
            return;
        }
        let programs = differential_programs();
        assert!(programs.len() >= 20, "{programs:?}");
        let mut failures = Vec::new();
        for program in &programs {
            let direct = run("bytecode", &["-e", program]);
            let llvm = run("llvm", &["-e", program]);
            if llvm != direct {
                failures.push(format!("{program}\n--- bytecode\n{direct}--- llvm\n{llvm}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        eprintln!(
            "{} programs print the same on both backends",
            programs.len()
        );
    }

    #[test]
    fn every_example_loads_on_llvm() {
        if !kernel_available("every_example_loads_on_llvm") {
            return;
        }
        for file in bt_files("examples") {
            run("llvm", &["--dry-run", file.to_str().unwrap()]);
        }
    }

    #[test]
    fn dump_llvm_prints_the_ir() {
        let out = ebpfc(&["--dump", "llvm", "-e", "BEGIN { @x = 1; exit(); }"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let ir = stdout(&out);
        assert!(
            ir.contains("define ") && ir.contains("section \".maps\""),
            "{ir}"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.ll");
        let out = ebpfc(&[
            "--emit-llvm",
            path.to_str().unwrap(),
            "-e",
            "BEGIN { exit(); }",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(std::fs::read_to_string(path).unwrap().contains("define "));
    }
}
