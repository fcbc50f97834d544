//! Flags and the compile → dump/emit/run sequence behind them.

use clap::{Parser, ValueEnum};
use ebpfc_codegen::Backend;
use ebpfc_compiler::error::CompileError;
use ebpfc_compiler::tracefs::TraceFs;
use ebpfc_runtime::output::OutputFormat;
use ebpfc_runtime::PausedChild;
use std::fmt;
use std::path::PathBuf;

/// Compile and run bpftrace programs.
#[derive(Parser, Debug)]
#[command(name = "ebpfc", version, about)]
pub struct Args {
    /// Program text to run instead of a file.
    #[arg(short = 'e', value_name = "PROGRAM")]
    pub program: Option<String>,
    /// Script file, `-` for stdin, or an object written by --emit-elf; then $1, $2...
    #[arg(value_name = "FILE")]
    pub file: Option<String>,
    /// Positional parameters ($1, $2, ...).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub params: Vec<String>,
    /// Write the compiled ELF object to OUT and exit.
    #[arg(long, value_name = "OUT")]
    pub emit_elf: Option<PathBuf>,
    /// Write the LLVM IR (after optimization) to FILE and exit; needs the `llvm` feature.
    #[arg(long, value_name = "FILE")]
    pub emit_llvm: Option<PathBuf>,
    /// Print one compiler stage and exit.
    #[arg(long, value_enum)]
    pub dump: Option<Stage>,
    /// Parse and type-check only.
    #[arg(long)]
    pub check: bool,
    /// Output format.
    #[arg(short = 'f', value_enum, default_value = "text")]
    pub format: Format,
    /// Quiet: do not print the "Attaching" line.
    #[arg(short = 'q')]
    pub quiet: bool,
    /// Output buffering: `line` writes each event as it arrives (as bpftrace does, so
    /// output interleaves with a -c command's in order), `full` only when the buffer
    /// fills or the program waits, `none` as `line`.
    #[arg(short = 'B', value_enum, default_value = "line")]
    pub buffering: Buffering,
    /// Load and attach every probe, then exit.
    #[arg(long)]
    pub dry_run: bool,
    /// Run COMMAND (split into words as a shell does, quotes kept together) once probes
    /// are attached; `cpid` is its pid and the program ends when it exits.
    #[arg(short = 'c', value_name = "COMMAND")]
    pub command: Option<String>,
    /// Write output to FILE instead of stdout.
    #[arg(short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Trace process PID: uprobes fire only in it, and the program ends when it exits.
    #[arg(short = 'p', value_name = "PID")]
    pub pid: Option<u32>,
    /// List the probes matching FILE as a pattern (every kernel probe without one).
    #[arg(short = 'l')]
    pub list: bool,
    /// With -l: show each probe's arguments; when the verifier rejects a program,
    /// show the end of its log.
    #[arg(short = 'v')]
    pub verbose: bool,
    /// Code generator.
    #[arg(long, value_enum, default_value = "bytecode")]
    pub backend: BackendArg,
    /// Allow actions that change the system: system(), signal(), override().
    #[arg(long = "unsafe")]
    pub allow_unsafe: bool,
    /// Do not print the compiler's warnings.
    #[arg(long)]
    pub no_warnings: bool,
    /// bpftrace's `-k`/`-kk` (warn when a helper fails), accepted for compatibility:
    /// ebpfc always reports the helper failures it checks (full maps, lost events).
    #[arg(short = 'k', action = clap::ArgAction::Count)]
    pub helper_errors: u8,
    /// Read kernel types from this BTF file (raw BTF or an ELF with a .BTF section)
    /// instead of /sys/kernel/btf/vmlinux.
    #[arg(long, value_name = "FILE")]
    pub btf: Option<PathBuf>,
    /// Look for included files in DIR too (may be repeated).
    #[arg(short = 'I', value_name = "DIR")]
    pub include_dirs: Vec<PathBuf>,
    /// Read FILE's macros before the program (may be repeated).
    #[arg(long = "include", value_name = "FILE")]
    pub includes: Vec<PathBuf>,
    /// Accepted for bpftrace's command lines: USDT semaphores are always set.
    #[arg(long, hide = true)]
    pub usdt_file_activation: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Stage {
    Ast,
    /// Every expression with its type.
    Typed,
    Ir,
    Asm,
    Llvm,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Buffering {
    None,
    Line,
    Full,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum BackendArg {
    Bytecode,
    Llvm,
}

/// Why a run failed, already rendered for the terminal.
pub struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    fn user(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            code: 1,
        }
    }

    pub fn exit_code(&self) -> u8 {
        self.code
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msg = self.message.trim_end();
        writeln!(f, "{msg}")
    }
}

/// Source text and the name diagnostics show for it.
struct Source {
    name: String,
    text: String,
}

/// Runs the command; returns the process exit code.
pub fn run(args: &Args) -> Result<u8, Failure> {
    if args.list {
        return crate::list::run(args.file.as_deref(), args.verbose).map_err(Failure::user);
    }
    if let Some(object) = read_object(args)? {
        return execute(args, &object, None, None);
    }
    let source = read_source(args)?;
    let preprocess = ebpfc_parser::Preprocess {
        include_dirs: args.include_dirs.clone(),
        includes: args.includes.clone(),
    };
    let program = ebpfc_parser::parse_with(&source.text, &preprocess)
        .map_err(|d| Failure::user(ebpfc_parser::render(&source.name, &source.text, &d)))?;
    if let Some(Stage::Ast) = args.dump {
        print!("{}", ebpfc_parser::dump(&program));
        return Ok(0);
    }
    // Without tracefs (or the privilege to mount it) tracepoints are reported missing.
    let _ = ebpfc_runtime::mount_tracefs();
    let runs =
        !args.check && args.dump.is_none() && args.emit_elf.is_none() && args.emit_llvm.is_none();
    if runs {
        ebpfc_runtime::check_privileges().map_err(|e| Failure::user(format!("error: {e}")))?;
    }
    let mut child = match (&args.command, runs) {
        (Some(cmd), true) => {
            Some(PausedChild::spawn(cmd).map_err(|e| Failure::user(format!("error: {e}")))?)
        }
        _ => None,
    };
    let options = ebpfc_compiler::Options {
        cpid: child.as_ref().map(PausedChild::pid),
        params: positional_params(args),
        btf: match &args.btf {
            Some(path) => ebpfc_compiler::ctypes::BtfChoice::File(path.clone()),
            None => ebpfc_compiler::ctypes::BtfChoice::System,
        },
        record_types: matches!(args.dump, Some(Stage::Typed)),
        check_only: args.check,
        allow_unsafe: args.allow_unsafe,
        source: Some((source.name.clone(), source.text.clone())),
        str_size: env_number(&["BPFTRACE_MAX_STRLEN", "BPFTRACE_STRLEN"])?,
        map_keys: env_number(&["BPFTRACE_MAX_MAP_KEYS", "BPFTRACE_MAP_KEYS_MAX"])?,
    };
    let module = ebpfc_compiler::compile_with(&program, &TraceFs::system(), &options)
        .map_err(|e| compile_failure(e, &source))?;
    if !module.warnings.is_empty() && !args.no_warnings {
        let text = ebpfc_parser::render(&source.name, &source.text, &module.warnings.0);
        eprint!("{text}");
    }
    if args.check {
        return Ok(0);
    }
    match args.dump {
        Some(Stage::Typed) => {
            print!(
                "{}",
                ebpfc_compiler::typed_dump::dump(&module, &source.text)
            );
            return Ok(0);
        }
        Some(Stage::Ir) => {
            print!("{}", ebpfc_compiler::ir_dump::dump(&module));
            return Ok(0);
        }
        Some(Stage::Asm) => {
            print!(
                "{}",
                ebpfc_codegen::disassemble(&module).map_err(codegen_failure)?
            );
            return Ok(0);
        }
        Some(Stage::Llvm) => {
            print!(
                "{}",
                ebpfc_codegen::emit_llvm_ir(&module).map_err(codegen_failure)?
            );
            return Ok(0);
        }
        _ => {}
    }
    if let Some(out) = &args.emit_llvm {
        let ir = ebpfc_codegen::emit_llvm_ir(&module).map_err(codegen_failure)?;
        std::fs::write(out, ir)
            .map_err(|e| Failure::user(format!("error: cannot write {}: {e}", out.display())))?;
        if args.emit_elf.is_none() {
            return Ok(0);
        }
    }
    let backend = match args.backend {
        BackendArg::Bytecode => Backend::Bytecode,
        BackendArg::Llvm => Backend::Llvm,
    };
    let object = ebpfc_codegen::emit(&module, backend).map_err(codegen_failure)?;
    if let Some(out) = &args.emit_elf {
        std::fs::write(out, &object)
            .map_err(|e| Failure::user(format!("error: cannot write {}: {e}", out.display())))?;
        return Ok(0);
    }
    execute(args, &object, child.as_mut(), Some(&source))
}

fn compile_failure(err: CompileError, source: &Source) -> Failure {
    match err {
        CompileError::User(d) => {
            Failure::user(ebpfc_parser::render(&source.name, &source.text, &d.0))
        }
        CompileError::Bug(bug) => Failure {
            message: format!("{bug}\nthis is a bug in ebpfc"),
            code: 2,
        },
    }
}

fn codegen_failure(err: ebpfc_codegen::CodegenError) -> Failure {
    match err {
        ebpfc_codegen::CodegenError::User(m) => Failure::user(format!("error: {m}")),
        bug => Failure {
            message: format!("{bug}\nthis is a bug in ebpfc"),
            code: 2,
        },
    }
}

/// Runs `object`; a verifier rejection points into `source` when it is known.
fn execute(
    args: &Args,
    object: &[u8],
    child: Option<&mut PausedChild>,
    source: Option<&Source>,
) -> Result<u8, Failure> {
    let opts = ebpfc_runtime::RunOptions {
        format: match args.format {
            Format::Text => OutputFormat::Text,
            Format::Json => OutputFormat::Json,
        },
        quiet: args.quiet,
        flush_each_event: args.buffering != Buffering::Full,
        dry_run: args.dry_run,
        pid: args.pid,
        dump_blank_lines_to_stdout: args.output.is_some(),
        cat_bytes_max: env_number(&["BPFTRACE_MAX_CAT_BYTES", "BPFTRACE_CAT_BYTES_MAX"])?,
    };
    let mut out: Box<dyn std::io::Write> =
        match &args.output {
            Some(path) => Box::new(std::fs::File::create(path).map_err(|e| {
                Failure::user(format!("error: cannot write {}: {e}", path.display()))
            })?),
            None => Box::new(std::io::stdout()),
        };
    let result = match child {
        Some(c) => ebpfc_runtime::run_with_child(object, &opts, c, &mut out),
        None => ebpfc_runtime::run(object, &opts, &mut out),
    };
    let code = result.map_err(|e| {
        let at_source =
            source.and_then(|s| crate::verifier::render(&e, &s.name, &s.text, args.verbose));
        Failure::user(at_source.unwrap_or_else(|| format!("error: {e}")))
    })?;
    Ok(u8::try_from(code.clamp(0, 255)).unwrap_or(1))
}

/// The number the first of bpftrace's environment variables `names` that is set asks
/// for (the string size: `BPFTRACE_MAX_STRLEN`, or 0.17's `BPFTRACE_STRLEN`; map
/// sizes: `BPFTRACE_MAP_KEYS_MAX`...).
fn env_number<T: std::str::FromStr>(names: &[&str]) -> Result<Option<T>, Failure> {
    for name in names {
        if let Ok(value) = std::env::var(name) {
            return value.trim().parse().map(Some).map_err(|_| {
                Failure::user(format!(
                    "error: {name} must be a positive number, not '{value}'"
                ))
            });
        }
    }
    Ok(None)
}

/// `$1`, `$2`...: with `-e`, the first positional argument is a parameter, not a FILE.
fn positional_params(args: &Args) -> Vec<String> {
    match (&args.program, &args.file) {
        (Some(_), Some(first)) => std::iter::once(first.clone())
            .chain(args.params.iter().cloned())
            .collect(),
        _ => args.params.clone(),
    }
}

/// The object named by FILE, if FILE is an ELF file.
fn read_object(args: &Args) -> Result<Option<Vec<u8>>, Failure> {
    let Some(path) = args.file.as_deref().filter(|_| args.program.is_none()) else {
        return Ok(None);
    };
    if path == "-" {
        return Ok(None);
    }
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::user(format!("error: cannot read {path}: {e}")))?;
    Ok(bytes.starts_with(b"\x7fELF").then_some(bytes))
}

fn read_source(args: &Args) -> Result<Source, Failure> {
    if let Some(text) = &args.program {
        return Ok(Source {
            name: "<stdin>".into(),
            text: text.clone(),
        });
    }
    match args.file.as_deref() {
        None => Err(Failure::user(
            "error: no program given; use -e 'PROGRAM' or a FILE (see --help)",
        )),
        Some("-") => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map_err(|e| Failure::user(format!("error: cannot read stdin: {e}")))?;
            Ok(Source {
                name: "<stdin>".into(),
                text,
            })
        }
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Failure::user(format!("error: cannot read {path}: {e}")))?;
            Ok(Source {
                name: path.to_string(),
                text,
            })
        }
    }
}
