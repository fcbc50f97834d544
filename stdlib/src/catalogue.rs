//! The catalogue of builtin variables, functions and aggregations: their names, how many
//! arguments they take, and which need `--unsafe`. The type checker reads it for arity
//! checks, unsafe gating and "did you mean" suggestions; the helpers each one calls are
//! chosen where it is lowered.

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

/// A builtin function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Function {
    pub name: &'static str,
    /// Fewest and most arguments.
    pub args: (usize, usize),
    pub kind: Kind,
    /// Changes the system: allowed only with `--unsafe`.
    pub unsafe_action: bool,
}

const fn f(name: &'static str, min: usize, max: usize, kind: Kind) -> Function {
    Function {
        name,
        args: (min, max),
        kind,
        unsafe_action: false,
    }
}

const fn unsafe_fn(name: &'static str, min: usize, max: usize) -> Function {
    Function {
        name,
        args: (min, max),
        kind: Kind::Action,
        unsafe_action: true,
    }
}

/// The most arguments `printf`-like functions take.
const MAX_FORMAT_ARGS: usize = 64;
/// The most key parts a map entry has.
const MAX_KEYS: usize = 16;

use Kind::{Action, Aggregation, Map, Value};

/// Every builtin function.
pub const FUNCTIONS: &[Function] = &[
    f("printf", 1, MAX_FORMAT_ARGS, Action),
    f("print", 1, 3, Map),
    f("time", 0, 1, Action),
    f("strftime", 2, 2, Value),
    f("join", 1, 2, Action),
    f("str", 1, 2, Value),
    f("buf", 1, 2, Value),
    f("strncmp", 3, 3, Value),
    f("strcontains", 2, 2, Value),
    f("ksym", 1, 1, Value),
    f("usym", 1, 1, Value),
    f("kaddr", 1, 1, Value),
    f("uaddr", 1, 1, Value),
    f("ntop", 1, 2, Value),
    f("pton", 1, 1, Value),
    f("kstack", 0, 2, Value),
    f("ustack", 0, 2, Value),
    f("cgroupid", 1, 1, Value),
    f("cgroup_path", 1, 2, Value),
    f("strerror", 1, 1, Value),
    f("macaddr", 1, 1, Value),
    f("reg", 1, 1, Value),
    f("uptr", 1, 1, Value),
    f("kptr", 1, 1, Value),
    f("bswap", 1, 1, Value),
    f("cat", 1, 1, Action),
    f("exit", 0, 1, Action),
    f("has_key", 1, MAX_KEYS + 1, Map),
    f("len", 1, 1, Value),
    f("delete", 1, MAX_KEYS + 1, Map),
    f("clear", 1, 1, Map),
    f("zero", 1, 1, Map),
    unsafe_fn("system", 1, MAX_FORMAT_ARGS),
    unsafe_fn("signal", 1, 1),
    unsafe_fn("override", 1, 1),
    f("count", 0, 0, Aggregation),
    f("sum", 1, 1, Aggregation),
    f("avg", 1, 1, Aggregation),
    f("min", 1, 1, Aggregation),
    f("max", 1, 1, Aggregation),
    f("stats", 1, 1, Aggregation),
    f("hist", 1, 1, Aggregation),
    f("lhist", 4, 4, Aggregation),
];

/// Every builtin variable (`argN` and `sargN` stand for `arg0`, `arg1`, ...).
pub const VARIABLES: &[&str] = &[
    "pid", "tid", "uid", "gid", "comm", "nsecs", "elapsed", "cpu", "numaid", "jiffies", "rand",
    "cgroup", "curtask", "ctx", "cpid", "username", "retval", "func", "probe", "args", "kstack",
    "ustack", "arg0", "arg1", "arg2", "arg3", "arg4", "arg5", "sarg0", "sarg1", "sarg2",
];

/// The builtin function called `name`.
pub fn function(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

/// Whether `name` is a builtin variable (including any `argN` / `sargN`).
pub fn is_variable(name: &str) -> bool {
    let numbered = name.strip_prefix("sarg").or(name.strip_prefix("arg"));
    VARIABLES.contains(&name) || numbered.is_some_and(|n| n.parse::<u8>().is_ok())
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
    }
}
