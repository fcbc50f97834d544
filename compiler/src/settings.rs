//! Program settings: the string size (`config = { max_strlen = N }`, or
//! `BPFTRACE_STRLEN` through the options), read before lowering; and, applied to the
//! learned maps, `config = { max_map_keys = N }` and map declarations
//! (`let @m = lruhash(100);`).

use crate::error::{error, warning, Diagnostics};

/// Default size of strings read with `str()`, as in bpftrace 0.17.
pub const STRING_SIZE: u32 = 64;
/// The largest string size `max_strlen` may ask for.
pub const MAX_STRING_SIZE: u32 = 1024;
use crate::lower::ModuleState;
use ebpfc_parser::ast::{self, Expr, ExprKind};

/// Applies `map_keys` (from the environment), then every `config` block and map
/// declaration of `program`, to `state.maps`.
pub fn apply(
    program: &ast::Program,
    map_keys: Option<u32>,
    state: &mut ModuleState,
    diags: &mut Diagnostics,
) {
    if let Some(n) = map_keys.filter(|n| *n > 0) {
        for sig in state.maps.values_mut() {
            sig.max_entries = n;
        }
    }
    for item in &program.items {
        if let ast::Item::Config(config) = item {
            for (key, value) in &config.entries {
                config_entry(&key.node, value, key.span, state, diags);
            }
        }
    }
    for item in &program.items {
        if let ast::Item::MapDecl(decl) = item {
            declare(decl, state, diags);
        }
    }
}

/// The size of strings `str()` reads: the program's `max_strlen`, else `from_env`,
/// else the default. A size outside 2..=MAX_STRING_SIZE is an error.
pub fn string_size(program: &ast::Program, from_env: Option<u32>, diags: &mut Diagnostics) -> u32 {
    let configured = program.items.iter().filter_map(|item| match item {
        ast::Item::Config(config) => Some(&config.entries),
        _ => None,
    });
    let entry = configured
        .flatten()
        .rfind(|(key, _)| key.node == "max_strlen");
    let size = match entry {
        Some((_, value)) => match positive(value) {
            Some(n) => n,
            None => {
                diags.push(error(
                    "max_strlen must be a positive integer",
                    value.span,
                    "here",
                ));
                return STRING_SIZE;
            }
        },
        None => from_env.unwrap_or(STRING_SIZE),
    };
    if !(2..=MAX_STRING_SIZE).contains(&size) {
        let msg = format!("the string size must be from 2 to {MAX_STRING_SIZE} bytes, not {size}");
        let span = entry.map(|(_, v)| v.span).unwrap_or_default();
        diags.push(error(msg, span, "string size"));
        return STRING_SIZE;
    }
    size
}

fn config_entry(
    key: &str,
    value: &Expr,
    span: ebpfc_parser::span::Span,
    state: &mut ModuleState,
    diags: &mut Diagnostics,
) {
    match (key, positive(value)) {
        ("max_map_keys", Some(n)) => {
            for sig in state.maps.values_mut() {
                sig.max_entries = n;
            }
        }
        ("max_map_keys", None) => diags.push(error(
            "max_map_keys must be a positive integer",
            value.span,
            "here",
        )),
        ("max_strlen", _) => {} // read before lowering: [`string_size`]
        _ => diags.push(warning(
            format!("config key '{key}' has no effect in ebpfc"),
            span,
            "ignored",
        )),
    }
}

fn declare(decl: &ast::MapDecl, state: &mut ModuleState, diags: &mut Diagnostics) {
    let lru = match decl.kind.node.as_str() {
        "hash" | "percpuhash" => false,
        "lruhash" | "percpulruhash" => true,
        other => {
            let msg = format!(
                "unknown map type '{other}': use hash, lruhash, percpuhash or percpulruhash"
            );
            diags.push(error(msg, decl.kind.span, "unknown map type"));
            return;
        }
    };
    let size = match decl.args.as_slice() {
        [] => None,
        [n] => match positive(n) {
            Some(n) => Some(n),
            None => {
                diags.push(error(
                    "a map's size must be a positive integer",
                    n.span,
                    "here",
                ));
                return;
            }
        },
        _ => {
            let msg = format!("{}() takes the number of keys", decl.kind.node);
            diags.push(error(msg, decl.span, "in this declaration"));
            return;
        }
    };
    match state.maps.get_mut(&decl.name.node) {
        Some(sig) => {
            sig.lru = lru;
            if let Some(n) = size {
                sig.max_entries = n;
            }
        }
        None => diags.push(warning(
            format!("map {} is declared but never used", decl.name.node),
            decl.name.span,
            "unused",
        )),
    }
}

fn positive(e: &Expr) -> Option<u32> {
    match &e.kind {
        ExprKind::Int { value, .. } => u32::try_from(*value).ok().filter(|n| *n > 0),
        _ => None,
    }
}
