//! Differential tests: deterministic programs run through Debian's `bpftrace` and
//! through `ebpfc` must print the same stdout (ignoring the `Attaching` line and
//! trailing spaces).

mod common;

use common::*;
use std::process::Command;

/// Programs whose output both tools compute the same way.
const PROGRAMS: &[&str] = &[
    r#"BEGIN { @c = count(); @s = sum(5); @s = sum(7); @mn = min(3); @mx = max(9); @a = avg(3); @a = avg(4); exit(); }"#,
    r#"BEGIN { @lat = hist(-1); @lat = hist(2); @lat = hist(3); @lat = hist(7); @lat = hist(20); @lat = hist(5000); exit(); }"#,
    r#"BEGIN { @l = lhist(5, 0, 100, 10); @l = lhist(55, 0, 100, 10); @l = lhist(150, 0, 100, 10); exit(); }"#,
    r#"BEGIN { @m["b"] = 2; @m["a"] = 3; @t[1, "x"] = 5; @t[2, "y"] = 1; @k[7] = count(); exit(); }"#,
    r#"BEGIN { printf("%d %s %5d|%-5s|%x %u %c\n", 5, "str", 42, "ab", 255, 7, 65); exit(); }"#,
    r#"BEGIN { @s = stats(2); @s = stats(4); @x[1] = hist(3); @x[2] = hist(100); @e = 5; exit(); }"#,
    r#"BEGIN { printf("hi\n"); @a = 1; } END { printf("end\n"); } interval:ms:100 { exit(); }"#,
    r#"BEGIN { $x = 10; $y = 3; printf("%d %d %d %d %d\n", $x + $y, $x - $y, $x * $y, $x / $y, $x % $y); exit(); }"#,
    r#"BEGIN { @s["x"] = "hello"; @s["y"] = "abc"; exit(); }"#,
    r#"BEGIN { @a[1] = 10; @a[2] = 5; @a[3] = 7; @b = @a[1] + @a[2]; exit(); }"#,
    r#"BEGIN { if (1 < 2 && 3 > 2) { printf("yes\n"); } else { printf("no\n"); } exit(); }"#,
    r#"BEGIN { $s = "abc"; if ($s == "abc") { printf("eq\n"); } if ($s != "abd") { printf("ne\n"); } exit(); }"#,
    r#"BEGIN { @x = 1; @x++; @x += 5; @y = -3; exit(); }"#,
    r#"BEGIN { printf("%5s|%-8d|%08x|%c%c\n", "ab", 42, 255, 72, 105); exit(); }"#,
    r#"BEGIN { @h = hist(0); @h = hist(1); @h = hist(1024); @h = hist(1048576); exit(); }"#,
    r#"BEGIN { @l = lhist(-5, 0, 10, 2); @l = lhist(3, 0, 10, 2); @l = lhist(10, 0, 10, 2); exit(); }"#,
    r#"BEGIN { @c[1, 2] = count(); @c[1, 2] = count(); @c[3, 4] = count(); exit(); }"#,
    r#"BEGIN { @mn = min(-5); @mn = min(3); @mx = max(7); @mx = max(2); exit(); }"#,
    r#"BEGIN { $a = 5; $b = $a > 3 ? 100 : 200; printf("%d\n", $b); exit(); }"#,
    r#"BEGIN { @a = avg(10); @a = avg(3); @s = sum(-4); @s = sum(10); exit(); }"#,
    r#"BEGIN { $i = 0; $t = 0; while ($i < 10) { $t += $i * $i; $i++; } printf("%d %d\n", $i, $t); exit(); }"#,
    r#"BEGIN { $i = 0; while ($i < 100) { $i++; if ($i == 5) { break; } } printf("%d\n", $i); exit(); }"#,
    r#"BEGIN { $i = 0; $s = 0; while ($i < 10) { $i++; if ($i % 2 == 0) { continue; } $s += $i; } printf("%d\n", $s); exit(); }"#,
    r#"BEGIN { $x = 1; unroll(5) { $x = $x * 2; } printf("%d\n", $x); exit(); }"#,
    r#"BEGIN { @a[1] = 1; @a[2] = 2; @a[3] = 3; delete(@a[2]); exit(); }"#,
    r#"BEGIN { $x = 5; $y = $x++; $z = ++$x; printf("%d %d %d\n", $x, $y, $z); exit(); }"#,
    r#"BEGIN { @c = 0; @c++; @c++; @d = @c++; exit(); }"#,
    r#"BEGIN { @start[1] = 100; @start[2] = 200; $d = 250 - @start[2]; @lat = hist($d); delete(@start[2]); exit(); }"#,
];

/// stdout without the `Attaching` line and trailing spaces.
fn normalized(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter(|l| !l.starts_with("Attaching "))
        .map(|l| format!("{}\n", l.trim_end()))
        .collect()
}

#[test]
fn ebpfc_prints_what_bpftrace_prints() {
    if !kernel_available("ebpfc_prints_what_bpftrace_prints")
        || !tool_available("differential", "bpftrace")
    {
        return;
    }
    let mut failures = Vec::new();
    for program in PROGRAMS {
        let reference = Command::new("bpftrace")
            .args(["-e", program])
            .output()
            .expect("bpftrace runs");
        assert!(
            reference.status.success(),
            "bpftrace failed on {program}: {}",
            stderr(&reference)
        );
        let ours = ebpfc(&["-e", program]);
        assert!(
            ours.status.success(),
            "ebpfc failed on {program}: {}",
            stderr(&ours)
        );
        let (want, got) = (normalized(&reference.stdout), normalized(&ours.stdout));
        if want != got {
            failures.push(format!("{program}\n--- bpftrace\n{want}--- ebpfc\n{got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} programs differ:\n{}",
        failures.len(),
        PROGRAMS.len(),
        failures.join("\n")
    );
    eprintln!(
        "{} programs print the same under bpftrace and ebpfc",
        PROGRAMS.len()
    );
}
