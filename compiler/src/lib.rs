//! The ebpfc compiler: AST to typed IR, checked against kernel types.
//!
//! The pipeline, in order:
//! 1. [`probes::expand`]: attach points become concrete targets (wildcards expanded);
//! 2. [`lower`] (learning pass): every map's signature is learned from its assignments;
//! 3. [`lower`] (emitting pass): each probe target becomes an IR function, type errors
//!    are collected;
//! 4. the module gets its map definitions and the runtime metadata.

pub mod btf;
pub mod builder;
pub mod cdecl;
pub mod ctypes;
pub mod error;
pub mod helpers;
pub mod hidden_maps;
pub mod ir;
pub mod ir_dump;
pub mod listing;
pub mod lower;
pub mod probes;
pub mod probes_perf;
pub mod settings;
pub mod suggest;
pub mod tracefs;
pub mod typed_dump;
pub mod types;

use ebpfc_parser::ast;
use ebpfc_stdlib::meta;
use error::{CompileError, Diagnostics};
use ir::{MapId, Module};
use lower::{Lower, ModuleState};
use probes::Target;
use tracefs::TraceFs;

pub use hidden_maps::{LOST_NAME, RINGBUF_NAME};

/// Inputs that come from the command line rather than the source.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The pid of the command started with `-c` (the `cpid` builtin).
    pub cpid: Option<u32>,
    /// Positional parameters: `$1` is `params[0]`.
    pub params: Vec<String>,
    /// Which BTF describes the kernel's types.
    pub btf: ctypes::BtfChoice,
    /// Record every expression's type in [`Module::typed`] (for `--dump typed`).
    pub record_types: bool,
    /// Only checking: what depends on the running kernel (symbol addresses) is a
    /// warning rather than an error.
    pub check_only: bool,
    /// `--unsafe`: allow `system`, `signal` and `override`.
    pub allow_unsafe: bool,
    /// The source's name and text, for locations printed while the program runs
    /// (`errorf()`); without it they are byte offsets.
    pub source: Option<(String, String)>,
    /// The size of strings `str()` reads (`BPFTRACE_STRLEN`); the default when `None`.
    /// The program's `config = { max_strlen = N }` takes precedence.
    pub str_size: Option<u32>,
    /// The number of keys maps hold (`BPFTRACE_MAP_KEYS_MAX`); bpftrace's 4096 when
    /// `None`. The program's `max_map_keys` and map declarations take precedence.
    pub map_keys: Option<u32>,
}

/// Compiles a parsed program to IR, using `tracefs` for tracepoint formats.
pub fn compile(program: &ast::Program, tracefs: &TraceFs) -> Result<Module, CompileError> {
    compile_with(program, tracefs, &Options::default())
}

/// [`compile`] with command-line inputs.
pub fn compile_with(
    program: &ast::Program,
    tracefs: &TraceFs,
    options: &Options,
) -> Result<Module, CompileError> {
    let mut diags = Diagnostics::default();
    let probes = expand_probes(program, tracefs, &options.params, &mut diags);
    if diags.has_errors() {
        return Err(diags.into());
    }
    let mut state = ModuleState {
        learning: true,
        cpid: options.cpid,
        check_only: options.check_only,
        allow_unsafe: options.allow_unsafe,
        source: options.source.clone(),
        params: options.params.clone(),
        types: script_types(program, options, &mut diags),
        str_size: settings::string_size(program, options.str_size, &mut diags),
        callables: std::sync::Arc::new(callables(program)),
        ..Default::default()
    };
    if diags.has_errors() {
        return Err(diags.into());
    }
    lower_all(&probes, &mut state);
    for (i, sig) in state.maps.values_mut().enumerate() {
        sig.id = MapId(i as u32);
    }
    hidden_maps::assign_ids(&mut state);
    settings::apply(program, options.map_keys, &mut state, &mut diags);
    if diags.has_errors() {
        return Err(diags.into());
    }
    state.formats.clear();
    state.strings.clear();
    state.learning = false;
    state.diags = diags;
    state.typed = options.record_types.then(Vec::new);
    let functions = lower_all(&probes, &mut state);
    if state.diags.has_errors() {
        return Err(std::mem::take(&mut state.diags).into());
    }
    Ok(assemble(functions, &probes, state))
}

/// The program's macros and functions by name.
fn callables(program: &ast::Program) -> lower::Callables {
    let mut out = lower::Callables::default();
    for item in &program.items {
        match item {
            ast::Item::Macro(m) => {
                out.macros.insert(m.name.node.clone(), m.clone());
            }
            ast::Item::Function(f) => {
                out.functions.insert(f.name.node.clone(), f.clone());
            }
            _ => {}
        }
    }
    out
}

/// The type environment with the script's own C definitions (the parser has applied
/// its `#define`s already).
fn script_types(
    program: &ast::Program,
    options: &Options,
    diags: &mut Diagnostics,
) -> ctypes::TypeEnv {
    let mut types = ctypes::TypeEnv::new(options.btf.clone());
    let definitions: Vec<_> = program
        .items
        .iter()
        .filter_map(|item| match item {
            ast::Item::CDefinition(text) => Some(text),
            _ => None,
        })
        .collect();
    let texts: Vec<&str> = definitions.iter().map(|t| t.node.as_str()).collect();
    for (i, msg) in types.define_all(&texts) {
        diags.push(error::error(msg, definitions[i].span, "in this definition"));
    }
    types
}

/// Every probe block with its expanded targets.
fn expand_probes<'p>(
    program: &'p ast::Program,
    tracefs: &TraceFs,
    params: &[String],
    diags: &mut Diagnostics,
) -> Vec<(&'p ast::Probe, Vec<Target>)> {
    let mut out = Vec::new();
    for item in &program.items {
        if let ast::Item::Probe(probe) = item {
            let attach = probes::substitute_params(&probe.attach, params, diags);
            let targets = probes::expand_probe(&attach, tracefs, diags);
            out.push((probe, targets));
        }
    }
    if out.is_empty() && !diags.has_errors() {
        diags.push(error::error(
            "the program has no probes",
            program.span,
            "nothing to attach",
        ));
    }
    out
}

fn lower_all(probes: &[(&ast::Probe, Vec<Target>)], state: &mut ModuleState) -> Vec<ir::Function> {
    let mut functions = Vec::new();
    for (probe, targets) in probes {
        for target in targets {
            state.function = functions.len();
            let mut lower = Lower::new(state, target);
            lower.probe(probe);
            let name = format!("probe{}", functions.len());
            functions.push(lower.finish(name, target.section.clone()));
        }
    }
    functions
}

fn assemble(
    functions: Vec<ir::Function>,
    probes: &[(&ast::Probe, Vec<Target>)],
    state: ModuleState,
) -> Module {
    let (mut maps, map_infos) = lower::map_defs(&state);
    maps.extend(hidden_maps::definitions(&state));
    let name_if = |used: bool, name: &str| used.then(|| name.to_string());
    let ringbuf = name_if(state.uses_ringbuf, hidden_maps::RINGBUF_NAME);
    let lost_events = name_if(state.uses_ringbuf, hidden_maps::LOST_NAME);
    let targets = probes.iter().flat_map(|(_, targets)| targets);
    let probes = functions
        .iter()
        .zip(targets)
        .map(|(f, t)| meta::Probe {
            program: f.name.clone(),
            name: t.name.clone(),
            attach: t.attach.clone(),
            lines: Vec::new(),
            loops: Vec::new(),
        })
        .collect();
    let meta = meta::Metadata {
        version: meta::VERSION,
        probes,
        maps: map_infos,
        formats: state.formats,
        ringbuf,
        strings: state.strings,
        lost_events,
        stack_map: name_if(state.uses_stacks, hidden_maps::STACKS_NAME),
        start_time: name_if(state.uses_start, hidden_maps::START_NAME),
        dropped_updates: name_if(state.uses_dropped, hidden_maps::DROPPED_NAME),
    };
    Module {
        functions,
        maps,
        meta,
        typed: state.typed.unwrap_or_default(),
        warnings: state.diags,
    }
}
