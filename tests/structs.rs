//! C structs and arrays as values on the live kernel: `print()`ed, stored in maps, used
//! as keys and in tuples, in text and JSON, with bitfields and `char` arrays, read from
//! a `timespec` a workload passes to `nanosleep()`.

mod common;

use common::*;

/// A script struct over the 16 bytes of a `timespec`: bitfields in the second word.
const SCRIPT_STRUCT: &str =
    "struct ts { long s; unsigned int a:3; unsigned int b:5; int c:4; char name[4]; }";

/// Runs a thread named `name` that sleeps for 3845 ns (0xf05) once.
fn nanosleep_workload(name: &str) {
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(|| {
            let request = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0xf05,
            };
            unsafe { libc::nanosleep(&request, std::ptr::null_mut()) };
        })
        .expect("workload thread starts")
        .join()
        .unwrap();
}

/// Runs `body` as the action of a probe on the `clock_nanosleep()` call of a workload
/// thread named `ebpfcsleep{test}` (each test has its own `test` tag).
fn on_sleep(test: u32, args: &[&str], body: &str) -> String {
    let name = format!("ebpfcsleep{test}");
    let program = format!(
        "{SCRIPT_STRUCT}\ntracepoint:syscalls:sys_enter_clock_nanosleep /comm == \"{name}\"/ {{ {body} }}\n{READY}"
    );
    run_with_workload(args, &program, || nanosleep_workload(&name))
}

#[test]
fn structs_print_as_values_keys_and_tuple_fields() {
    if !kernel_available("structs_print_as_values_keys_and_tuple_fields") {
        return;
    }
    let out = on_sleep(
        1,
        &[],
        "print(*args->rqtp); print((1, *args->rqtp)); @k[*args->rqtp, 2] = count(); @v = *args->rqtp;",
    );
    assert_eq!(
        out,
        "{ .tv_sec = 0, .tv_nsec = 3845 }\n(1, { .tv_sec = 0, .tv_nsec = 3845 })\n\n\n\
         @armed: 1\n@k[{.tv_sec=0,.tv_nsec=3845}, 2]: 1\n@v: { .tv_sec = 0, .tv_nsec = 3845 }\n"
    );
}

#[test]
fn bitfields_and_char_arrays_of_script_structs() {
    if !kernel_available("bitfields_and_char_arrays_of_script_structs") {
        return;
    }
    // 0xf05: a = 0b101, b = 0, c = 0b1111 (-1 as a signed 4-bit field).
    let out = on_sleep(
        2,
        &[],
        "$t = *(struct ts *)args->rqtp; print($t); @c = $t.c; @v = $t; @a = @v.a; @m = @v.c;",
    );
    assert_eq!(
        out,
        "{ .s = 0, .a = 5, .b = 0, .c = -1, .name =  }\n\n\n\
         @a: 5\n@armed: 1\n@c: -1\n@m: -1\n@v: { .s = 0, .a = 5, .b = 0, .c = -1, .name =  }\n"
    );
}

#[test]
fn structs_and_arrays_in_json() {
    if !kernel_available("structs_and_arrays_in_json") {
        return;
    }
    // ebpfc itself has no signal pending: every word of the set is 0.
    let out = run(
        &["-f", "json"],
        "BEGIN { print(curtask->pending.signal); @k[curtask->pending.signal] = 1; @a = curtask->pending.signal.sig; exit(); }",
    );
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            r#"{"type": "attached_probes", "data": {"probes": 1}}"#,
            r#"{"type": "value", "data": { "sig": [0] }}"#,
            "",
            "",
            r#"{"type": "map", "data": {"@a": [0]}}"#,
            r#"{"type": "map", "data": {"@k": {"{.sig=[0]}": 1}}}"#,
        ]
    );
}

#[test]
fn arrays_print_element_by_element() {
    if !kernel_available("arrays_print_element_by_element") {
        return;
    }
    // `u8` arrays are arrays (only `char` ones are strings): the bytes of 3845 (0xf05).
    let out = on_sleep(
        3,
        &[],
        "$a = (struct in6_addr *)args->rqtp; print($a->in6_u.u6_addr8); @[$a->in6_u.u6_addr16] = 1; @w = $a->in6_u; @x = @w.u6_addr8[9];",
    );
    assert_eq!(
        out,
        "[0,0,0,0,0,0,0,0,5,15,0,0,0,0,0,0]\n\n\n@[[0,0,0,0,3845,0,0,0]]: 1\n@armed: 1\n\
         @w: { .u6_addr8 = [0,0,0,0,0,0,0,0,5,15,0,0,0,0,0,0], .u6_addr16 = [0,0,0,0,3845,0,0,0], .u6_addr32 = [0,0,3845,0] }\n@x: 15\n"
    );
}
