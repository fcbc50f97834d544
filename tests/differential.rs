//! Differential tests: the same program run through Debian's `bpftrace` (0.17) and through
//! `ebpfc` must print the same stdout (ignoring the `Attaching` line and trailing spaces).
//!
//! - `PROGRAMS`: self-contained one-line programs (BEGIN, END, interval), one raw string
//!   per line (`tests/backends.rs` reads this list too);
//! - `WITH_PARAMS`: programs run with positional parameters;
//! - `SCRIPTS`: programs spanning lines (preprocessor, C definitions, comments);
//! - `TRACED`: programs that trace a workload this test runs on a thread named
//!   `ebpfcdiff` (made unique per test process), pinned to one CPU so events arrive in
//!   order under both tools;
//! - `REJECTED`: programs both tools refuse (non-zero exit, nothing run).
//!
//! Maps are printed sorted by value; equal values would be printed in bpftrace's hash
//! order, so no program leaves two entries of a map with the same value. With the `llvm`
//! feature, ebpfc's side runs on both backends.

mod common;

use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

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
    r#"BEGIN { $t = (1, "two", 3); printf("%d %s %d\n", $t.0, $t.1, $t.2); exit(); }"#,
    r#"BEGIN { @t = (1, "x"); exit(); }"#,
    r#"BEGIN { @m[1, "a"] = (5, "v"); exit(); }"#,
    r#"BEGIN { printf("%d %d\n", strcontains("hello", "ell"), strcontains("hello", "z")); exit(); }"#,
    r#"BEGIN { $x = 0x10 | 0x01; $y = $x ^ 0xff; printf("%d %d %d %d\n", $x, $y, ~$x, !$x); exit(); }"#,
    r#"BEGIN { $x = 1 << 40; printf("%lu %ld %llu\n", $x, $x, $x >> 3); exit(); }"#,
    r#"BEGIN { printf("%p\n", 0); exit(); }"#,
    r#"BEGIN { @a = 1; @b = 2; if (@a == 1) { @c = 3; } else if (@b == 2) { @c = 4; } else { @c = 5; } exit(); }"#,
    r#"BEGIN { $x = (int8)300; $y = (uint16)-1; $z = (int32)0xffffffff; printf("%d %d %d\n", $x, $y, $z); exit(); }"#,
    r#"BEGIN { printf("%s\n", "tab\there \"q\" back\\slash"); exit(); }"#,
    r#"BEGIN { @x = 5; @x -= 2; @x *= 10; @x /= 3; @x %= 7; @x <<= 2; @x >>= 1; @x |= 1; @x &= 0xff; @x ^= 3; exit(); }"#,
    r#"BEGIN { @s[1] = sum(10); @s[2] = sum(5); @s[3] = sum(7); print(@s, 2); clear(@s); exit(); }"#,
    r#"BEGIN { @h[1] = hist(1); @h[2] = hist(100); @h[2] = hist(200); exit(); }"#,
    r#"BEGIN { @l[1] = lhist(1, 0, 10, 1); @l[1] = lhist(5, 0, 10, 1); exit(); }"#,
    r#"BEGIN { @a[1] = 1; @a[2] = 2; printf("%d\n", @a[3]); exit(); }"#,
    r#"BEGIN { @st[1] = stats(5); @st[2] = stats(1); @st[2] = stats(3); exit(); }"#,
    r#"BEGIN { printf("%d\n", pid > 0 && tid > 0 && cpu >= 0 && uid == 0 && gid == 0); exit(); }"#,
    r#"BEGIN { printf("%s\n", probe); exit(); }"#,
    r#"BEGIN { @x = count(); @y = count(); @y = count(); exit(); }"#,
    r#"BEGIN { $a = 10; $a++; $a--; --$a; printf("%d\n", $a); exit(); }"#,
    r#"BEGIN { printf("a\n"); exit(); printf("b\n"); }"#,
    r#"BEGIN { @x = 1; } END { printf("x=%d\n", @x); delete(@x); } interval:ms:10 { exit(); }"#,
    r#"BEGIN { $s = "abc"; $t = $s; @str[$t] = 1; exit(); }"#,
    r#"BEGIN { @m["k"] = "v"; printf("%s\n", @m["k"]); exit(); }"#,
    r#"BEGIN { print(5); print("str"); exit(); }"#,
    r#"BEGIN { print((1, "a")); exit(); }"#,
    r#"BEGIN { $x = 5; if ($x > 3) { printf("big\n") } exit() }"#,
    r#"BEGIN { unroll(3) { printf("u\n"); } exit(); }"#,
    r#"BEGIN { printf("%c%c%c\n", 98, 112, 102); exit(); }"#,
    r#"BEGIN { printf("%d\n", (int64)-1 < 0); printf("%d\n", (uint64)-1 > 0); exit(); }"#,
    r#"BEGIN { printf("%u\n", -1); exit(); }"#,
    r#"BEGIN { printf("%x %d\n", -1, 0xffffffffffffffff); exit(); }"#,
    r#"BEGIN { printf("%d %d %d %d\n", 100 / 7, 100 % 7, 0x7f & 0x0f, 0x10 | 0x01); exit(); }"#,
    r#"BEGIN { printf("%d %d %d\n", 1 << 10, 1024 >> 3, 5 ^ 3); exit(); }"#,
    r#"BEGIN { printf("%d %d %d %d %d %d\n", 1 < 2, 2 <= 2, 3 > 4, 4 >= 4, 5 == 5, 5 != 5); exit(); }"#,
    r#"BEGIN { printf("%d %d %d %d\n", 1 && 0, 1 || 0, !1, !0); exit(); }"#,
    r#"BEGIN { printf("%d %d\n", ~0, -(5)); exit(); }"#,
    r#"BEGIN { $x = 10; $x += 5; $x -= 3; $x *= 2; $x /= 4; $x %= 4; printf("%d\n", $x); exit(); }"#,
    r#"BEGIN { $x = 1; $x <<= 4; $x |= 3; $x &= 0x12; $x ^= 0xff; $x >>= 2; printf("%d\n", $x); exit(); }"#,
    r#"BEGIN { printf("%u %u %u\n", (uint8)257, (uint16)65537, (uint32)4294967297); exit(); }"#,
    r#"BEGIN { printf("%d %d %d\n", (int8)255, (int16)65535, (int32)4294967295); exit(); }"#,
    r#"BEGIN { printf("%x %X %o\n", 3735928559, 48879, 511); exit(); }"#,
    r#"BEGIN { printf("%lx %llx %lu %ld %lld\n", 255, 4096, 123456789012, -5, -123456789012); exit(); }"#,
    r#"BEGIN { printf("[%8d] [%-8d] [%08d]\n", 1234, 1234, 1234); exit(); }"#,
    r#"BEGIN { printf("[%10s] [%-10s] [%s]\n", "abc", "abc", ""); exit(); }"#,
    r#"BEGIN { printf("[%c] [%5c] [%-3c]\n", 65, 66, 67); exit(); }"#,
    r#"BEGIN { printf("100%%\n"); exit(); }"#,
    r#"BEGIN { printf("%d %s %d %s %d %s\n", 1, "a", 2, "b", 3, "c"); exit(); }"#,
    r#"BEGIN { printf("no newline"); exit(); }"#,
    r#"BEGIN { printf("%s\n", "esc: \\ \" \t|"); exit(); }"#,
    r#"BEGIN { printf("%d\n", 0x1F + 0X2a + 017); exit(); }"#,
    r#"BEGIN { $a = "foo"; $b = "foo"; $c = "bar"; printf("%d %d %d %d\n", $a == $b, $a == $c, $a != $c, $a != $b); exit(); }"#,
    r#"BEGIN { printf("%d %d %d\n", strncmp("abcdef", "abcxyz", 3), strncmp("abcdef", "abcxyz", 4), strncmp("a", "a", 10)); exit(); }"#,
    r#"BEGIN { if ("abc" == "abc") { printf("lit eq\n"); } exit(); }"#,
    r#"BEGIN { $x = 5; $s = $x > 3 ? "big" : "small"; printf("%s\n", $s); exit(); }"#,
    r#"BEGIN { $x = 0; if ($x) { printf("t\n"); } else { printf("f\n"); } exit(); }"#,
    r#"BEGIN { $x = 7; if ($x < 5) { printf("a\n"); } else if ($x < 10) { printf("b\n"); } else { printf("c\n"); } exit(); }"#,
    r#"BEGIN { $i = 0; while ($i < 5) { printf("%d ", $i); $i++; } printf("\n"); exit(); }"#,
    r#"BEGIN { $i = 0; unroll(4) { @u[$i] = $i * 10; $i++; } exit(); }"#,
    r#"BEGIN { $a = 0; $b = 1; $i = 0; while ($i < 20) { $t = $a + $b; $a = $b; $b = $t; $i++; } printf("%d\n", $a); exit(); }"#,
    r#"BEGIN { @m[1] = 100; @m[2] = 200; @m[1] += 5; @m[2]--; exit(); }"#,
    r#"BEGIN { @m["a"] = 1; @m["b"] = 2; @m["c"] = 3; delete(@m["b"]); exit(); }"#,
    r#"BEGIN { @m[1] = 1; @m[2] = 2; clear(@m); @n = 1; exit(); }"#,
    r#"BEGIN { @a[1] = 3; @a[2] = 1; @a[3] = 2; exit(); }"#,
    r#"BEGIN { @a[-1] = 5; @a[0] = 3; @a[1] = 4; exit(); }"#,
    r#"BEGIN { @c["x"] = count(); @c["x"] = count(); @c["y"] = count(); @c["z"] = count(); @c["z"] = count(); @c["z"] = count(); exit(); }"#,
    r#"BEGIN { @s["a"] = sum(10); @s["b"] = sum(-3); @s["a"] = sum(5); exit(); }"#,
    r#"BEGIN { @a["x"] = avg(1); @a["x"] = avg(2); @a["y"] = avg(10); exit(); }"#,
    r#"BEGIN { @a = avg(-10); @a = avg(-20); exit(); }"#,
    r#"BEGIN { @s = stats(-5); @s = stats(15); exit(); }"#,
    r#"BEGIN { @s = stats(0); exit(); }"#,
    r#"BEGIN { @h = hist(-100); @h = hist(-1); @h = hist(0); exit(); }"#,
    r#"BEGIN { @h = hist(1); @h = hist(2); @h = hist(3); @h = hist(4); @h = hist(8); @h = hist(16); @h = hist(32); exit(); }"#,
    r#"BEGIN { @h = hist(1023); @h = hist(1024); @h = hist(1048575); @h = hist(1073741824); exit(); }"#,
    r#"BEGIN { $i = 0; while ($i < 100) { @h = hist($i); $i++; } exit(); }"#,
    r#"BEGIN { $i = 0; while ($i < 50) { @l = lhist($i, 0, 50, 5); $i++; } exit(); }"#,
    r#"BEGIN { @l = lhist(0, 0, 10, 3); @l = lhist(9, 0, 10, 3); @l = lhist(10, 0, 10, 3); exit(); }"#,
    r#"BEGIN { @l = lhist(1500, 1000, 2000, 100); @l = lhist(999, 1000, 2000, 100); exit(); }"#,
    r#"BEGIN { @h["a"] = hist(5); @h["b"] = hist(5); @h["b"] = hist(50); exit(); }"#,
    r#"BEGIN { @l[1] = lhist(5, 0, 100, 10); @l[2] = lhist(15, 0, 100, 10); @l[2] = lhist(25, 0, 100, 10); exit(); }"#,
    r#"BEGIN { @m[1] = 1; @m[2] = 2; @m[3] = 3; @m[4] = 4; print(@m, 2); exit(); }"#,
    r#"BEGIN { @m[1] = 1000; @m[2] = 2000; print(@m, 0, 10); exit(); }"#,
    r#"BEGIN { @m[1] = 10; print(@m); @m[2] = 20; print(@m); exit(); }"#,
    r#"BEGIN { @h = hist(10); print(@h); exit(); }"#,
    r#"BEGIN { @s = stats(10); print(@s); exit(); }"#,
    r#"BEGIN { @ = count(); @ = count(); exit(); }"#,
    r#"BEGIN { @[1] = 1; @[2] = 2; exit(); }"#,
    r#"BEGIN { @t[1, 2, 3] = 6; @t[1, 2, 4] = 7; exit(); }"#,
    r#"BEGIN { @t["a", 1] = 1; @t["b", 2] = 2; exit(); }"#,
    r#"BEGIN { @t[1, "a", 2] = count(); exit(); }"#,
    r#"BEGIN { @t = (1, "two", 3); exit(); }"#,
    r#"BEGIN { @t[1] = (10, "x"); @t[2] = (20, "y"); exit(); }"#,
    r#"BEGIN { print((1, 2)); print(("a", 5, "b")); exit(); }"#,
    r#"BEGIN { print(123); print(-4); exit(); }"#,
    r#"BEGIN { @m[1] = "one"; @m[2] = "two"; exit(); }"#,
    r#"BEGIN { printf("%d\n", sizeof(int8) + sizeof(int16) + sizeof(int32) + sizeof(int64)); exit(); }"#,
    r#"BEGIN { printf("%d\n", sizeof(struct task_struct) > 1000); exit(); }"#,
    r#"BEGIN { printf("%d %d\n", curtask->pid == tid, curtask->tgid == pid); exit(); }"#,
    r#"BEGIN { printf("%d\n", ((struct task_struct *)curtask)->pid == tid); exit(); }"#,
    r#"BEGIN { printf("begin\n"); } END { printf("end\n"); } interval:ms:20 /@e == 0/ { @e = 1; printf("tick\n"); exit(); }"#,
    r#"END { printf("only end\n"); } interval:ms:10 { exit(); }"#,
    r#"BEGIN { @a = 1; exit(); } END { @b = 2; }"#,
    r#"BEGIN { printf("x\n"); exit(); } END { printf("y\n"); }"#,
    r#"interval:ms:10 /@n < 3/ { @n++; if (@n == 3) { printf("three\n"); exit(); } }"#,
    r#"interval:ms:10 /@c2 < 5/ { @c = count(); if (@c2++ >= 4) { exit(); } }"#,
    r#"BEGIN { $a = 1; $b = $a == 1 ? 2 : 3; $c = $b == 3 ? "x" : "y"; printf("%d %s\n", $b, $c); exit(); }"#,
    r#"BEGIN { printf("%d\n", (1 + 2) * (3 + 4) - 10 / 2 % 3); exit(); }"#,
    r#"BEGIN { printf("%d\n", 1 + 2 * 3 << 1 & 0xff | 1); exit(); }"#,
    r#"BEGIN { $x = -10; printf("%d %d\n", $x < 0, $x * $x); exit(); }"#,
    r#"BEGIN { $x = 9223372036854775807; printf("%ld\n", $x); exit(); }"#,
    r#"BEGIN { $x = 9223372036854775807; $x++; printf("%ld\n", $x); exit(); }"#,
    r#"BEGIN { printf("%lu\n", 18446744073709551615); exit(); }"#,
    r#"BEGIN { $k = 2; @m[$k] = $k * 100; @m[$k + 1] = 1; exit(); }"#,
    r#"BEGIN { @m["x"] = 1; @m["x"]++; @m["x"] += 10; exit(); }"#,
    r#"BEGIN { @m[1] = 5; $v = @m[1] + @m[9]; printf("%d\n", $v); exit(); }"#,
    r#"BEGIN { @m[1] = 5; if (@m[1] == 5) { printf("found\n"); } if (@m[2] == 0) { printf("absent\n"); } exit(); }"#,
    r#"BEGIN { @start = nsecs; if (nsecs >= @start) { printf("monotonic\n"); } delete(@start); exit(); }"#,
    r#"BEGIN { printf("%d %d\n", uid, gid); exit(); }"#,
    r#"BEGIN { @z = 1; @a = 2; @m = 3; exit(); }"#,
    r#"BEGIN { @long_map_name_here[1] = 1; @b[1] = 2; exit(); }"#,
    r#"BEGIN { printf("%s|%s\n", "a", "b"); printf("second\n"); printf("third %d\n", 3); exit(); }"#,
    r#"BEGIN { $x = 255; printf("%d %u %x\n", (int8)$x, (uint8)$x, (uint8)$x); exit(); }"#,
    r#"BEGIN { printf("%d\n", (int64)(int32)-1); exit(); }"#,
    r#"BEGIN { printf("%d %d\n", true + true, false || true); exit(); }"#,
    r#"BEGIN { $i = 0; while (1) { $i++; if ($i > 7) { break; } } printf("%d\n", $i); exit(); }"#,
    r#"BEGIN { $i = 10; while ($i > 0) { $i -= 3; } printf("%d\n", $i); exit(); }"#,
    r#"BEGIN { $s = 0; $i = 0; while ($i < 10) { $i++; if ($i == 3 || $i == 5) { continue; } $s += $i; } printf("%d\n", $s); exit(); }"#,
    r#"BEGIN { @h = hist(5); @h = hist(5); @h = hist(5); @h = hist(6); exit(); }"#,
    r#"BEGIN { @m[1] = count(); @m[2] = count(); @m[2] = count(); print(@m, 1); clear(@m); exit(); }"#,
    r#"BEGIN { printf("%-5d|%5s|%-5s|\n", 42, "ab", "cd"); exit(); }"#,
    r#"BEGIN { printf("%3d|%3d|%3d\n", 1, 22, 4444); exit(); }"#,
    r#"BEGIN { printf("%.3s|\n", "abcdef"); exit(); }"#,
    r#"BEGIN { printf("%5.2s|\n", "abc"); exit(); }"#,
    r#"BEGIN { printf("%hd %hhd\n", 70000, 300); exit(); }"#,
    r#"BEGIN { printf("%zd %zu\n", 5, 6); exit(); }"#,
    r#"BEGIN { printf("%s\n", strcontains("abcdef", "cde") ? "yes" : "no"); exit(); }"#,
    r#"BEGIN { $x = (uint64)1 << 63; printf("%lu %d\n", $x, $x > 0); exit(); }"#,
    r#"BEGIN { $x = (int64)1 << 63; printf("%ld %d\n", $x, $x < 0); exit(); }"#,
    r#"BEGIN { printf("%d\n", -1 > 0); exit(); }"#,
    r#"BEGIN { printf("%d\n", (uint32)-1 > 0); exit(); }"#,
    r#"BEGIN { $a = (uint32)5; $b = (uint32)7; printf("%u\n", $a - $b); exit(); }"#,
    r#"BEGIN { time("%Y\n"); exit(); }"#,
    r#"BEGIN { printf("%s %s %s\n", ntop(2, 0x0100007f), ntop(0), ntop(2, 0xffffffff)); exit(); }"#,
    r#"BEGIN { @[ntop(2, 0x0100007f)] = count(); exit(); }"#,
    r#"BEGIN { printf("%x %x %x\n", bswap((uint16)0x1234), bswap((uint32)0x12345678), bswap((uint64)0x0102030405060708)); exit(); }"#,
    r#"BEGIN { printf("%s\n", ksym(kaddr("vfs_read"))); exit(); }"#,
    r#"BEGIN { @[ksym(kaddr("vfs_write"))] = count(); exit(); }"#,
    r#"BEGIN { printf("%d\n", elapsed < 5000000000); exit(); }"#,
    r#"BEGIN { printf("%d\n", numaid >= 0); exit(); }"#,
    r#"BEGIN { printf("%d\n", sizeof(curtask->pid)); exit(); }"#,
    r#"BEGIN { $t = curtask; printf("%d\n", $t->pid == tid); exit(); }"#,
    r#"BEGIN { printf("%d\n", curtask->signal->nr_threads >= 1); exit(); }"#,
    r#"BEGIN { printf("%d\n", ((struct task_struct *)curtask)->mm->map_count > 0); exit(); }"#,
    r#"BEGIN { $p = (struct task_struct *)curtask; printf("%d\n", $p->cred->uid.val); exit(); }"#,
    r#"BEGIN { cat("/proc/sys/kernel/ostype"); exit(); }"#,
    r#"BEGIN { printf("%r\n", buf("abc", 3)); exit(); }"#,
    r#"BEGIN { @b = buf("hi", 2); exit(); }"#,
    r#"BEGIN { printf("%d\n", sizeof(struct file)); exit(); }"#,
    r#"struct Foo { int a; char b[4]; } BEGIN { printf("%d\n", sizeof(struct Foo)); exit(); }"#,
    r#"BEGIN { printf("%d\n", TASK_COMM_LEN); exit(); }"#,
    r#"BEGIN { @x = 0; @x = @x + 1; @x = @x + 1; printf("%d\n", @x); exit(); }"#,
    r#"BEGIN { exit(); } END { printf("%d\n", 42); }"#,
    r#"BEGIN { @x[1] = 1; @y[1] = @x[1]; exit(); }"#,
    r#"BEGIN { printf("%s\n", "x" == "y" ? "eq" : "ne"); exit(); }"#,
    r#"BEGIN { printf("%s\n", usym(0)); exit(); }"#,
    r#"BEGIN { printf("%s\n", ksym(0)); exit(); }"#,
    r#"BEGIN { @x = 1; print(@x, 1); exit(); }"#,
    r#"BEGIN { @h = hist(100); print(@h, 1); exit(); }"#,
    r#"BEGIN { @l = lhist(100, 0, 1000, 100); print(@l); exit(); }"#,
    r#"BEGIN { @a = avg(7); print(@a); @mn = min(3); print(@mn); exit(); }"#,
    r#"BEGIN { printf("%s\n", comm == "ebpfc" || comm == "bpftrace" ? "tracer" : "other"); exit(); }"#,
];

/// Programs and the positional parameters they run with.
const WITH_PARAMS: &[(&str, &[&str])] = &[
    (
        r#"BEGIN { printf("%d %s %d\n", $1, str($2), $#); exit(); }"#,
        &["42", "hello"],
    ),
    (
        r#"BEGIN { printf("%d\n", $1 + $2 * $3); exit(); }"#,
        &["3", "4", "5"],
    ),
    (
        r#"BEGIN { @[str($1)] = count(); @[str($2)] = count(); @[str($1)] = count(); exit(); }"#,
        &["alpha", "beta"],
    ),
    (
        r#"BEGIN { if ($# == 0) { printf("no parameters\n"); } exit(); }"#,
        &[],
    ),
    (
        r#"BEGIN { printf("%d %d\n", $1 > 10 ? 1 : 0, $2); exit(); }"#,
        &["11", "7"],
    ),
    (
        r#"BEGIN { $i = 0; while ($i < $1) { @sq[$i] = $i * $i; $i++; } exit(); }"#,
        &["5"],
    ),
];

/// Programs spanning several lines.
const SCRIPTS: &[&str] = &[
    "#define LIMIT 5\nBEGIN { printf(\"%d\\n\", LIMIT * 2); exit(); }",
    "#!/usr/bin/env bpftrace\nBEGIN { printf(\"shebang\\n\"); exit(); }",
    "/* block\n comment */ BEGIN { // line comment\n printf(\"c\\n\"); exit(); }",
    "enum color { RED, GREEN = 5, BLUE };\nBEGIN { printf(\"%d %d %d\\n\", RED, GREEN, BLUE); exit(); }",
    "struct point { int x; int y; char name[8]; }\nBEGIN { printf(\"%d\\n\", sizeof(struct point)); exit(); }",
    "BEGIN\n{\n\t@start = 1;\n}\n\ninterval:ms:20\n/@ticks < 2/\n{\n\t@ticks++;\n\tif (@ticks == 2) {\n\t\texit();\n\t}\n}\n\nEND\n{\n\tprintf(\"ticks %d\\n\", @ticks);\n\tdelete(@start);\n}\n",
    "BEGIN { @n = 5; @m = count(); @k[1] = 2; }\nEND { delete(@n); clear(@k); }\ninterval:ms:10 { exit(); }",
];

/// Programs tracing [`workload`]; each runs with [`READY`] appended.
const TRACED: &[&str] = &[
    r#"tracepoint:syscalls:sys_enter_openat /comm == "ebpfcdiff"/ { @[str(args->filename)] = count(); }"#,
    r#"tracepoint:syscalls:sys_exit_openat /comm == "ebpfcdiff"/ { @all = count(); if (args->ret < 0) { @err[- args->ret] = count(); } }"#,
    r#"tracepoint:syscalls:sys_enter_openat /comm == "ebpfcdiff"/ { printf("%s %d\n", str(args->filename), args->flags & 3); }"#,
    r#"tracepoint:syscalls:sys_enter_openat /comm == "ebpfcdiff"/ { printf("%s|\n", str(args->filename, 6)); }"#,
    r#"tracepoint:syscalls:sys_enter_write /comm == "ebpfcdiff"/ { @h = hist(args->count); @l = lhist(args->count, 0, 1200, 200); @s = stats(args->count); @mn = min(args->count); @mx = max(args->count); @a = avg(args->count); @sum = sum(args->count); @c = count(); }"#,
    r#"tracepoint:syscalls:sys_exit_read /comm == "ebpfcdiff"/ { printf("read %d\n", args->ret); }"#,
    r#"tracepoint:syscalls:sys_enter_write /comm == "ebpfcdiff"/ { printf("%d [%s]\n", args->count, str(args->buf, args->count)); }"#,
    r#"tracepoint:raw_syscalls:sys_enter /comm == "ebpfcdiff" && args->id == 110/ { @getppid = count(); }"#,
    r#"tracepoint:syscalls:sys_enter_kill /comm == "ebpfcdiff"/ { printf("kill self=%d sig=%d\n", args->pid == pid, args->sig); }"#,
    r#"tracepoint:syscalls:sys_enter_open* /comm == "ebpfcdiff"/ { @[probe] = count(); }"#,
    r#"uprobe:libc:getppid /comm == "ebpfcdiff"/ { @calls = count(); }"#,
    r#"uretprobe:libc:getppid /comm == "ebpfcdiff"/ { @parent[retval == curtask->real_parent->tgid] = count(); }"#,
    r#"uprobe:libc:usleep /comm == "ebpfcdiff"/ { printf("usleep(%d) in %s\n", arg0, func); }"#,
    r#"tracepoint:syscalls:sys_enter_openat /comm == "ebpfcdiff" && str(args->filename) == "/etc/hostname"/ { @hostname = count(); }"#,
    r#"tracepoint:syscalls:sys_enter_openat /strncmp(comm, "ebpfcdiff", 14) == 0/ { @[comm] = count(); }"#,
    r#"tracepoint:syscalls:sys_enter_getppid /comm == "ebpfcdiff"/ { @s[tid] = nsecs; } tracepoint:syscalls:sys_exit_getppid /comm == "ebpfcdiff" && @s[tid] != 0/ { @later[nsecs > @s[tid]] = count(); delete(@s[tid]); }"#,
    r#"tracepoint:syscalls:sys_enter_openat /comm == "ebpfcdiff"/ { @ids[tid == pid, curtask->pid == tid, curtask->tgid == pid] = count(); }"#,
    r#"tracepoint:syscalls:sys_enter_openat /comm == "ebpfcdiff"/ { printf("%s\n", curtask->comm); }"#,
    r#"tracepoint:syscalls:sys_enter_read /comm == "ebpfcdiff"/ { if (args->count < 10) { @size["small"] = sum(args->count); } else if (args->count < 1000) { @size["medium"] = sum(args->count); } else { @size["large"] = sum(args->count); } }"#,
    r#"tracepoint:syscalls:sys_enter_read /comm == "ebpfcdiff"/ { @r[args->count > 100 ? "big" : "small"] = sum(args->count); }"#,
    r#"tracepoint:syscalls:sys_enter_openat /comm == "ebpfcdiff"/ { @n++; if (@n == 4) { printf("fourth %s\n", str(args->filename)); exit(); } } END { delete(@n); }"#,
    r#"tracepoint:syscalls:sys_enter_write /comm == "ebpfcdiff"/ { @bytes[pid, comm] = sum(args->count); }"#,
    r#"tracepoint:syscalls:sys_exit_write /comm == "ebpfcdiff"/ { @w = hist(args->ret); print(args->ret); }"#,
    r#"tracepoint:syscalls:sys_enter_openat /comm == "ebpfcdiff"/ { @paths[str(args->filename)] = count(); } END { print(@paths, 2); clear(@paths); }"#,
    r#"tracepoint:syscalls:sys_enter_openat /comm == "ebpfcdiff"/ { @last = str(args->filename); }"#,
    r#"tracepoint:syscalls:sys_enter_read /comm == "ebpfcdiff"/ { @rd[tid] = args->count; } tracepoint:syscalls:sys_exit_read /@rd[tid] != 0/ { @match[@rd[tid] == args->ret] = count(); delete(@rd[tid]); }"#,
    r#"uprobe:libc:usleep /comm == "ebpfcdiff"/ { printf("%d %s\n", reg("di"), usym(reg("ip"))); }"#,
    r#"tracepoint:syscalls:sys_enter_write /comm == "ebpfcdiff"/ { printf("%r|\n", buf(args->buf, 5)); @b[buf(args->buf, 3)] = count(); }"#,
    r#"tracepoint:syscalls:sys_enter_openat /comm == "ebpfcdiff"/ { printf("%s %c %d %d\n", str(args->filename + 5), *(args->filename + 1), args->filename[1], sizeof(args->filename)); }"#,
    r#"tracepoint:syscalls:sys_enter_openat /comm == "ebpfcdiff"/ { printf("%s %s %d %s\n", curtask->group_leader->comm == comm ? "leader" : "thread", curtask->mm->owner->comm, curtask->cred->euid.val, str(curtask->fs->root.dentry->d_name.name)); }"#,
    r#"tracepoint:syscalls:sys_enter_openat /comm == "ebpfcdiff"/ { @[kstack(2)] = count(); }"#,
    r#"tracepoint:syscalls:sys_enter_openat /comm == "ebpfcdiff"/ { printf("%s %d %d\n", curtask->nsproxy->uts_ns->name.sysname, args->dfd, args->mode); }"#,
    r#"tracepoint:syscalls:sys_enter_openat /comm == "ebpfcdiff"/ { printf("%-20s|%20s|\n", str(args->filename), str(args->filename)); }"#,
    r#"uprobe:libc:open64 /comm == "ebpfcdiff"/ { printf("%s %d\n", str(arg0), arg1 & 3); }"#,
];

/// Programs both tools refuse.
const REJECTED: &[&str] = &[
    r#"BEGIN { printf("%s\n", func); exit(); }"#,
    r#"BEGIN { system("echo hi"); exit(); }"#,
    r#"BEGIN { $a = 1; $a = "str"; exit(); }"#,
    r#"BEGIN { $x = @nope; exit(); }"#,
    r#"BEGIN { printf("%d\n", "abc" < "abd"); exit(); }"#,
    r#"tracepoint:syscalls:sys_enter_nonexistent_xyz { exit(); }"#,
    r#"BEGIN { @x = count(); @x = 1; exit(); }"#,
    r#"BEGIN { printf("%d %d\n", 1); exit(); }"#,
    r#"BEGIN { printf("%d\n", "str"); exit(); }"#,
    r#"BEGIN { exit();"#,
    r#"BEGIN { @ = hist(); exit(); }"#,
    r#"BEGIN { $s = "a"; $t = $s + 1; exit(); }"#,
    r#"BEGIN { @m[1] = 1; @m["a"] = 2; exit(); }"#,
    r#"BEGIN { @x = lhist(1, 10, 0, 1); exit(); }"#,
    r#"uprobe:/nonexistent/bin:f { exit(); }"#,
    r#"BEGIN { unroll(0) { printf("x\n"); } exit(); }"#,
    r#"BEGIN { unroll(101) { printf("x\n"); } exit(); }"#,
    r#"BEGIN { break; }"#,
    r#"BEGIN { $t = (1, 2); printf("%d\n", $t.5); exit(); }"#,
    r#"BEGIN { printf("%d\n", args->x); exit(); }"#,
    r#"BEGIN { printf("%d\n", retval); exit(); }"#,
    r#"tracepoint:syscalls:sys_enter_openat { printf("%d\n", args->nofield); exit(); }"#,
    r#"BEGIN { @x = nofunc(1); exit(); }"#,
    r#"BEGIN { printf("%d\n", $undefined); exit(); }"#,
    r#"BEGIN { @x[1] = 1; @x[1, 2] = 2; exit(); }"#,
    r#"BEGIN { @h = hist(1); @h = 5; exit(); }"#,
    r#"BEGIN { printf("%d\n", curtask->nofield); exit(); }"#,
    r#"BEGIN { $x = 1 +; exit(); }"#,
    r#"BEGIN { exit(); } }"#,
    r#"BEGIN { strncmp("a", "b"); exit(); }"#,
    r#"BEGIN { @x = count(1); exit(); }"#,
    r#"BEGIN { @x = lhist(1, 0, 10); exit(); }"#,
    r#"BEGIN { printf(5); exit(); }"#,
    r#"BEGIN { $x = "a"; $x++; exit(); }"#,
    r#"BEGIN { if ("a") { exit(); } }"#,
    r#"BEGIN { print(@nope); exit(); }"#,
    r#"profile:hz:0 { exit(); }"#,
    r#"interval:xx:1 { exit(); }"#,
    r#"BEGIN { printf("%d\n", 1 ? "a" : 2); exit(); }"#,
    r#"BEGIN { @a = avg("x"); exit(); }"#,
];

/// The ebpfc backends compared with bpftrace.
fn backends() -> &'static [&'static str] {
    if cfg!(feature = "llvm") {
        &["bytecode", "llvm"]
    } else {
        &["bytecode"]
    }
}

/// Output without the `Attaching` line and trailing spaces.
fn normalized(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with("Attaching "))
        .map(|l| format!("{}\n", l.trim_end()))
        .collect()
}

/// Runs `run(case)` for every case on three threads; panics listing every failure.
fn for_each_case<T: Sync>(what: &str, cases: &[T], run: impl Fn(&T) -> Result<(), String> + Sync) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                while let Some(case) = cases.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if let Err(failure) = run(case) {
                        failures.lock().unwrap().push(failure);
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} {what} failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    eprintln!(
        "{} {what} print the same under bpftrace and ebpfc ({})",
        cases.len(),
        backends().join(", ")
    );
}

/// Runs `-e program params...` under bpftrace and under ebpfc on every backend.
fn compare(program: &str, params: &[&str]) -> Result<(), String> {
    let reference = Command::new("bpftrace")
        .args(["-e", program])
        .args(params)
        .output()
        .expect("bpftrace runs");
    if !reference.status.success() {
        return Err(format!(
            "bpftrace failed on {program}: {}",
            stderr(&reference)
        ));
    }
    let want = normalized(&stdout(&reference));
    for backend in backends() {
        let mut args = vec!["--backend", backend, "-e", program];
        args.extend_from_slice(params);
        let ours = ebpfc(&args);
        if !ours.status.success() {
            return Err(format!(
                "ebpfc ({backend}) failed on {program}: {}",
                stderr(&ours)
            ));
        }
        let got = normalized(&stdout(&ours));
        if want != got {
            return Err(format!(
                "{program} {params:?}\n--- bpftrace\n{want}--- ebpfc ({backend})\n{got}"
            ));
        }
    }
    Ok(())
}

fn differential_available(test: &str) -> bool {
    kernel_available(test) && tool_available(test, "bpftrace")
}

#[test]
fn programs_print_what_bpftrace_prints() {
    if !differential_available("programs_print_what_bpftrace_prints") {
        return;
    }
    for_each_case("programs", PROGRAMS, |p| compare(p, &[]));
}

#[test]
fn programs_with_parameters_print_what_bpftrace_prints() {
    if !differential_available("programs_with_parameters_print_what_bpftrace_prints") {
        return;
    }
    for_each_case("programs with parameters", WITH_PARAMS, |(p, params)| {
        compare(p, params)
    });
}

#[test]
fn scripts_print_what_bpftrace_prints() {
    if !differential_available("scripts_print_what_bpftrace_prints") {
        return;
    }
    for_each_case("scripts", SCRIPTS, |p| compare(p, &[]));
}

#[test]
fn programs_both_refuse_are_refused() {
    if !differential_available("programs_both_refuse_are_refused") {
        return;
    }
    for_each_case("refused programs", REJECTED, |program| {
        let reference = Command::new("bpftrace")
            .args(["-e", program])
            .output()
            .expect("bpftrace runs");
        if reference.status.success() {
            return Err(format!("bpftrace accepted {program}"));
        }
        let ours = ebpfc(&["-e", program]);
        let err = stderr(&ours);
        if ours.status.success() || !err.contains("error") {
            return Err(format!("ebpfc accepted {program}: {err}"));
        }
        Ok(())
    });
}

/// The workload thread's name, `ebpfcdiff` and this process's pid, so that runs of this
/// test in other processes are not traced; `TRACED` says `"ebpfcdiff"` for it.
fn worker() -> String {
    format!("ebpfcdiff{:05}", std::process::id() % 100_000)
}

/// What the `TRACED` programs see: a thread named [`worker`], pinned to the first CPU
/// of this process's set, opens /etc/hostname 4 times, a missing file 3 times,
/// /dev/zero twice and /dev/null once; writes 1, 10, 100 and 1000 bytes to /dev/null;
/// reads 7, 70, 700 and 7000 bytes from /dev/zero; calls getppid() 5 times,
/// usleep(1000) once and kill(itself, 0) twice.
fn workload() {
    std::thread::Builder::new()
        .name(worker())
        .spawn(|| {
            pin_to_one_cpu();
            for _ in 0..4 {
                drop(std::fs::File::open("/etc/hostname").unwrap());
            }
            for _ in 0..3 {
                assert!(std::fs::File::open("/nonexistent/ebpfc-diff").is_err());
            }
            drop(std::fs::File::open("/dev/zero").unwrap());
            let mut null = std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/null")
                .unwrap();
            let text = b"ebpfc-diff-write-".repeat(64);
            for size in [1, 10, 100, 1000] {
                null.write_all(&text[..size]).unwrap();
            }
            let mut zero = std::fs::File::open("/dev/zero").unwrap();
            for size in [7, 70, 700, 7000] {
                zero.read_exact(&mut vec![0; size]).unwrap();
            }
            unsafe {
                for _ in 0..5 {
                    libc::getppid();
                }
                libc::usleep(1000);
                for _ in 0..2 {
                    libc::kill(libc::getpid(), 0);
                }
            }
        })
        .unwrap()
        .join()
        .unwrap();
}

/// Keeps the calling thread on one CPU, so per-CPU event buffers keep its order.
fn pin_to_one_cpu() {
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        let size = std::mem::size_of::<libc::cpu_set_t>();
        assert_eq!(libc::sched_getaffinity(0, size, &mut set), 0);
        let first = (0..libc::CPU_SETSIZE as usize).find(|&c| libc::CPU_ISSET(c, &set));
        libc::CPU_ZERO(&mut set);
        libc::CPU_SET(first.expect("a CPU"), &mut set);
        assert_eq!(libc::sched_setaffinity(0, size, &set), 0);
    }
}

/// Runs `tool -e PROGRAM` with [`READY`] appended: runs [`workload`] once `ready` is
/// printed, then stops the run and returns the rest of stdout, normalized.
fn traced(tool: &[&str], program: &str) -> Result<String, String> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, Ordering::Relaxed);
    let stop = format!("ebpfcs{:05}_{run}", std::process::id() % 100_000);
    let program = format!("{program}\n{READY}")
        .replace("\"ebpfcstop\"", &format!("\"{stop}\""))
        .replace("\"ebpfcdiff\"", &format!("\"{}\"", worker()));
    let mut child = Command::new(tool[0])
        .args(&tool[1..])
        .args(["-e", &program])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tracer starts");
    let mut errors = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = errors.read_to_string(&mut text);
        text
    });
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while line != "ready\n" {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            let _ = child.wait();
            let err = errors.join().unwrap_or_default();
            return Err(format!("{tool:?} never got ready on {program}: {err}"));
        }
    }
    workload();
    open_workload(&stop, "/etc/hostname", 1).join().unwrap();
    let mut rest = String::new();
    reader.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    let err = errors.join().unwrap_or_default();
    if !status.success() {
        return Err(format!("{tool:?} failed on {program}: {err}"));
    }
    Ok(normalized(&rest))
}

#[test]
fn traced_programs_print_what_bpftrace_prints() {
    if !differential_available("traced_programs_print_what_bpftrace_prints") {
        return;
    }
    let ebpfc = env!("CARGO_BIN_EXE_ebpfc");
    let mut failures = Vec::new();
    for program in TRACED {
        let want = match traced(&["bpftrace"], program) {
            Ok(want) => want,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        for backend in backends() {
            match traced(&[ebpfc, "--backend", backend], program) {
                Ok(got) if got == want => {}
                Ok(got) => failures.push(format!(
                    "{program}\n--- bpftrace\n{want}--- ebpfc ({backend})\n{got}"
                )),
                Err(e) => failures.push(e),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} traced programs failed:\n{}",
        failures.len(),
        TRACED.len(),
        failures.join("\n")
    );
    eprintln!(
        "{} traced programs print the same under bpftrace and ebpfc",
        TRACED.len()
    );
}
