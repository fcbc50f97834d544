//! The catalogue of builtin variables, functions and aggregations: their names, how many
//! arguments they take, which need `--unsafe`, the probe kinds they may be used in and
//! the BPF helpers their code calls. The type checker reads it for arity checks, unsafe
//! gating, probe-kind checks and "did you mean" suggestions; a compiler test holds the
//! helpers each builtin's code calls to the ones listed here.

/// What a function call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Gives a value (`str`, `ntop`, `kstack`...).
    Value,
    /// Does something (`printf`, `exit`, `cat`...).
    Action,
    /// An aggregation, only as `@m[k] = f(...)`.
    Aggregation,
    /// Acts on a map (`delete`, `clear`, `print`...).
    Map,
}

/// The probe kinds a builtin may be used in, by their long names (`kprobe`, `BEGIN`...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probes {
    Any,
    Only(&'static [&'static str]),
}

impl Probes {
    /// Whether a probe of kind `kind` may use the builtin.
    pub fn allow(&self, kind: &str) -> bool {
        match self {
            Probes::Any => true,
            Probes::Only(kinds) => kinds.contains(&kind),
        }
    }
}

/// A builtin function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Function {
    pub name: &'static str,
    /// Fewest and most arguments.
    pub args: (usize, usize),
    pub kind: Kind,
    /// Changes the system: allowed only with `--unsafe`.
    pub unsafe_action: bool,
    pub probes: Probes,
    /// The BPF helpers (by their kernel names, without `bpf_`) its code may call,
    /// besides the map and ring buffer helpers every program uses ([`PLUMBING`]).
    pub helpers: &'static [&'static str],
}

/// A builtin variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variable {
    pub name: &'static str,
    pub probes: Probes,
    /// As [`Function::helpers`].
    pub helpers: &'static [&'static str],
}

/// Helpers any builtin's code may call: map access and event output.
pub const PLUMBING: &[&str] = &[
    "map_lookup_elem",
    "map_update_elem",
    "map_delete_elem",
    "ringbuf_output",
];

const fn f(name: &'static str, min: usize, max: usize, kind: Kind) -> Function {
    Function {
        name,
        args: (min, max),
        kind,
        unsafe_action: false,
        probes: Probes::Any,
        helpers: &[],
    }
}

const fn unsafe_fn(name: &'static str, min: usize, max: usize) -> Function {
    Function {
        unsafe_action: true,
        ..f(name, min, max, Kind::Action)
    }
}

impl Function {
    /// The same function, calling `helpers`.
    const fn calls(self, helpers: &'static [&'static str]) -> Function {
        Function { helpers, ..self }
    }

    /// The same function, allowed only in probes of `kinds`.
    const fn only_in(self, kinds: &'static [&'static str]) -> Function {
        Function {
            probes: Probes::Only(kinds),
            ..self
        }
    }
}

const fn v(name: &'static str, helpers: &'static [&'static str]) -> Variable {
    Variable {
        name,
        probes: Probes::Any,
        helpers,
    }
}

const fn v_in(
    name: &'static str,
    kinds: &'static [&'static str],
    helpers: &'static [&'static str],
) -> Variable {
    Variable {
        name,
        probes: Probes::Only(kinds),
        helpers,
    }
}

/// The most arguments `printf`-like functions take.
const MAX_FORMAT_ARGS: usize = 64;
/// The most key parts a map entry has.
const MAX_KEYS: usize = 16;

/// Reading kernel or user memory.
const READ: &[&str] = &["probe_read_kernel", "probe_read_user"];
/// Reading NUL-terminated strings from kernel or user memory.
const READ_STR: &[&str] = &["probe_read_kernel_str", "probe_read_user_str"];
/// Reading strings and bytes.
const READ_ANY: &[&str] = &[
    "probe_read_kernel",
    "probe_read_user",
    "probe_read_kernel_str",
    "probe_read_user_str",
];
/// Probes whose context holds the interrupted registers.
const REGISTERS: &[&str] = &[
    "kprobe",
    "kretprobe",
    "uprobe",
    "uretprobe",
    "usdt",
    "profile",
    "interval",
    "software",
    "hardware",
    "watchpoint",
];
/// Probes on a function's entry or return with its arguments in registers.
const CALL_SITES: &[&str] = &["kprobe", "kretprobe", "uprobe", "uretprobe", "usdt"];
/// Probes with numbered arguments (`arg0`...): not the return probes, whose argument
/// registers are gone by then.
const WITH_ARGS: &[&str] = &[
    "kprobe",
    "uprobe",
    "usdt",
    "fentry",
    "fexit",
    "rawtracepoint",
];
/// Probes on a function (`func`).
const FUNCTIONS_PROBED: &[&str] = &[
    "kprobe",
    "kretprobe",
    "uprobe",
    "uretprobe",
    "usdt",
    "fentry",
    "fexit",
];
/// Probes on a function's return (`retval`).
const RETURNS: &[&str] = &["kretprobe", "uretprobe", "fexit"];
/// Probes in user space (`uaddr`).
const USER_PROBES: &[&str] = &["uprobe", "uretprobe", "usdt"];
/// Taking a stack.
const STACKS: &[&str] = &["get_stackid", "get_current_pid_tgid"];
/// `pid` and `tid`, in ebpfc's PID namespace or the initial one.
const NAMESPACED_IDS: &[&str] = &["get_current_pid_tgid", "get_ns_current_pid_tgid"];
/// Aggregating into a per-CPU map.
const AGGREGATE: &[&str] = &["map_lookup_elem", "map_update_elem"];

use Kind::{Action, Aggregation, Map, Value};

/// Every builtin function.
pub const FUNCTIONS: &[Function] = &[
    f("printf", 1, MAX_FORMAT_ARGS, Action),
    f("errorf", 1, MAX_FORMAT_ARGS, Action),
    f("warnf", 1, MAX_FORMAT_ARGS, Action),
    f("debugf", 1, 4, Action).calls(&["trace_printk"]),
    f("print", 1, 3, Map),
    f("time", 0, 1, Action),
    f("strftime", 2, 2, Value),
    f("join", 1, 2, Action).calls(READ_ANY),
    f("str", 1, 2, Value).calls(READ_STR),
    f("buf", 1, 2, Value).calls(READ),
    f("strncmp", 3, 3, Value),
    f("strcontains", 2, 2, Value),
    f("strlen", 1, 1, Value),
    f("ksym", 1, 1, Value),
    f("usym", 1, 1, Value).calls(&["get_current_pid_tgid"]),
    f("kaddr", 1, 1, Value),
    f("uaddr", 1, 1, Value).only_in(USER_PROBES),
    f("ntop", 1, 2, Value),
    f("pton", 1, 1, Value),
    f("kstack", 0, 2, Value).calls(STACKS),
    f("ustack", 0, 2, Value).calls(STACKS),
    f("cgroupid", 1, 1, Value),
    f("cgroup_path", 1, 2, Value),
    f("strerror", 1, 1, Value),
    f("macaddr", 1, 1, Value).calls(READ),
    f("path", 1, 1, Value)
        .only_in(&["fentry", "fexit", "iter"])
        .calls(&["d_path"]),
    f("reg", 1, 1, Value).only_in(REGISTERS),
    f("uptr", 1, 1, Value),
    f("kptr", 1, 1, Value),
    f("bswap", 1, 1, Value),
    f("cat", 1, MAX_FORMAT_ARGS, Action),
    f("exit", 0, 1, Action),
    f("unwatch", 1, 1, Action),
    f("has_key", 1, MAX_KEYS + 1, Map),
    f("len", 1, 1, Value).calls(&["for_each_map_elem"]),
    f("delete", 1, MAX_KEYS + 1, Map),
    f("clear", 1, 1, Map),
    f("zero", 1, 1, Map),
    unsafe_fn("system", 1, MAX_FORMAT_ARGS),
    unsafe_fn("signal", 1, 1).calls(&["send_signal"]),
    unsafe_fn("override", 1, 1)
        .only_in(&["kprobe"])
        .calls(&["override_return"]),
    f("count", 0, 0, Aggregation).calls(AGGREGATE),
    f("sum", 1, 1, Aggregation).calls(AGGREGATE),
    f("avg", 1, 1, Aggregation).calls(AGGREGATE),
    f("min", 1, 1, Aggregation).calls(AGGREGATE),
    f("max", 1, 1, Aggregation).calls(AGGREGATE),
    f("stats", 1, 1, Aggregation).calls(AGGREGATE),
    f("hist", 1, 2, Aggregation).calls(AGGREGATE),
    f("lhist", 4, 4, Aggregation).calls(AGGREGATE),
];

/// Every builtin variable (`argN` and `sargN` stand for `arg0`, `arg1`, ...; the
/// entries `arg0` and `sarg0` describe them all).
pub const VARIABLES: &[Variable] = &[
    v("pid", NAMESPACED_IDS),
    v("tid", NAMESPACED_IDS),
    v("ppid", &["get_current_task", "probe_read_kernel"]),
    v("pcomm", &["get_current_task", "probe_read_kernel"]),
    v("usermode", &[]),
    v("probetype", &[]),
    v("has_cpid", &[]),
    v("uid", &["get_current_uid_gid"]),
    v("gid", &["get_current_uid_gid"]),
    v("username", &["get_current_uid_gid"]),
    v("comm", &["get_current_comm"]),
    v(
        "nsecs",
        &["ktime_get_ns", "ktime_get_boot_ns", "ktime_get_tai_ns"],
    ),
    v("elapsed", &["ktime_get_ns"]),
    v("cpu", &["get_smp_processor_id"]),
    v("ncpus", &[]),
    v("numaid", &["get_numa_node_id"]),
    v("jiffies", &["jiffies64"]),
    v("rand", &["get_prandom_u32"]),
    v("cgroup", &["get_current_cgroup_id"]),
    v("curtask", &["get_current_task"]),
    v_in("ctx", &["iter"], &[]),
    v("cpid", &[]),
    v_in("retval", RETURNS, &[]),
    v_in("func", FUNCTIONS_PROBED, &[]),
    v("probe", &[]),
    v("args", &[]),
    v("kstack", STACKS),
    v("ustack", STACKS),
    v_in("arg0", WITH_ARGS, READ),
    v_in("sarg0", CALL_SITES, READ),
];

/// The builtin function called `name`.
pub fn function(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

/// The builtin variable called `name` (`arg3` is described by `arg0`, `sarg2` by
/// `sarg0`).
pub fn variable(name: &str) -> Option<&'static Variable> {
    let numbered = |prefix: &str| {
        name.strip_prefix(prefix)
            .is_some_and(|n| n.parse::<u8>().is_ok())
    };
    let entry = if numbered("sarg") {
        "sarg0"
    } else if numbered("arg") {
        "arg0"
    } else {
        name
    };
    VARIABLES.iter().find(|v| v.name == entry)
}

/// Whether `name` is a builtin variable (including any `argN` / `sargN`).
pub fn is_variable(name: &str) -> bool {
    variable(name).is_some()
}

/// The names of the builtin variables, for suggestions.
pub fn variable_names() -> impl Iterator<Item = &'static str> {
    VARIABLES.iter().map(|v| v.name)
}

/// Why a builtin may not be used in a probe of kind `kind`, if it may not.
pub fn probe_kind_error(name: &str, probes: &Probes, kind: &str) -> Option<String> {
    let Probes::Only(kinds) = probes else {
        return None;
    };
    if kinds.contains(&kind) {
        return None;
    }
    Some(format!(
        "{name} can only be used in {} probes, not in {kind} probes",
        kinds.join(", ")
    ))
}

impl Function {
    /// Why `given` arguments do not fit, if they do not.
    pub fn arity_error(&self, given: usize) -> Option<String> {
        let (lo, hi) = self.args;
        if (lo..=hi).contains(&given) {
            return None;
        }
        let want = match (lo, hi) {
            (lo, hi) if lo == hi => lo.to_string(),
            (lo, hi) if hi >= MAX_KEYS => format!("at least {lo}"),
            (lo, hi) => format!("{lo} to {hi}"),
        };
        Some(format!(
            "{}() takes {want} argument(s), got {given}",
            self.name
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_arities_checked() {
        for (i, a) in FUNCTIONS.iter().enumerate() {
            assert!(
                FUNCTIONS[i + 1..].iter().all(|b| b.name != a.name),
                "{}",
                a.name
            );
        }
        let lhist = function("lhist").unwrap();
        assert_eq!(lhist.arity_error(4), None);
        assert_eq!(
            lhist.arity_error(2).as_deref(),
            Some("lhist() takes 4 argument(s), got 2")
        );
        assert!(function("system").unwrap().unsafe_action);
        assert!(is_variable("arg7") && is_variable("sarg1") && !is_variable("argx"));
        assert_eq!(variable("arg5").map(|v| v.name), Some("arg0"));
    }

    #[test]
    fn probe_kinds_restrict_some_builtins() {
        let reg = function("reg").unwrap();
        assert!(reg.probes.allow("profile") && reg.probes.allow("uprobe"));
        assert!(!reg.probes.allow("tracepoint"));
        let retval = variable("retval").unwrap();
        assert_eq!(
            probe_kind_error("retval", &retval.probes, "kprobe").as_deref(),
            Some("retval can only be used in kretprobe, uretprobe, fexit probes, not in kprobe probes")
        );
        assert_eq!(
            probe_kind_error("pid", &variable("pid").unwrap().probes, "BEGIN"),
            None
        );
    }
}
