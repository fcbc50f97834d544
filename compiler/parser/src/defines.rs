//! Object-like macros of `#define NAME text` lines, as the C preprocessor bpftrace
//! runs applies them: after the line, every identifier `NAME` stands for the tokens of
//! `text` (a number, a string, an expression, other macros), until `#undef NAME`.
//! Macros with parameters are not expanded (bpftrace 0.17 does not either). A quoted
//! `#include "file.h"` (a path from the current directory, or absolute, else found in
//! an include directory, `-I`) adds the macros of that file; so does `<file.h>` found
//! in an include directory; other `<system>` headers are known by their values instead
//! (`ebpfc_stdlib::constants`), and kernel headers need not be installed (their types
//! come from BTF); any other file that cannot be found is reported. `#if`/`#ifdef`/`#ifndef`/`#elif`/`#else`/`#endif`
//! choose which lines count; [`Defines::enabled`] says whether the text at hand does.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use logos::Logos;

use crate::token::Tok;

/// Expansion stops this deep, so a macro that names itself through others ends; so do
/// nested includes.
const MAX_DEPTH: usize = 32;

/// The macros defined so far, and the conditionals open.
#[derive(Default)]
pub(crate) struct Defines<'a> {
    map: HashMap<&'a str, Macro<'a>>,
    conds: Vec<Cond>,
    /// Where includes are looked for (`-I`), in order.
    dirs: Vec<PathBuf>,
    /// Includes not found since [`Defines::take_missing`] was last called.
    missing: Vec<String>,
}

/// Headers the preprocessor provides itself (as bpftrace's clang does), found even
/// where no C headers are installed.
const BUILTIN_HEADERS: &[&str] = &[
    "stddef.h",
    "stdarg.h",
    "stdbool.h",
    "stdint.h",
    "limits.h",
    "float.h",
    "__stddef_max_align_t.h",
    "clang_workarounds.h",
];

/// A macro: its text (for `#if`) and its tokens.
struct Macro<'a> {
    text: &'a str,
    tokens: Vec<Tok<'a>>,
}

/// One open `#if` group: whether its current branch is read, and whether one of its
/// branches was (or the group is inside a branch that is not read).
#[derive(Clone, Copy)]
struct Cond {
    active: bool,
    taken: bool,
}

impl<'a> Defines<'a> {
    /// The macros of `includes` (`--include`), with `dirs` searched for every include.
    pub(crate) fn with(options: &crate::Preprocess) -> Self {
        let mut defines = Defines {
            dirs: options.include_dirs.clone(),
            ..Defines::default()
        };
        for name in &options.includes {
            let name = name.to_string_lossy();
            match defines.find(&name, true) {
                Some(path) => defines.read(&path, 0),
                None => defines
                    .missing
                    .push(format!("cannot find the file to include: {name}")),
            }
        }
        defines
    }

    /// Takes note of a `#` line: `#define NAME text`, `#undef NAME` or
    /// `#include "file"`.
    pub(crate) fn line(&mut self, line: &'a str) {
        self.line_at(line, 0);
    }

    fn line_at(&mut self, line: &'a str, depth: usize) {
        let Some(rest) = line.trim_start().strip_prefix('#') else {
            return;
        };
        let rest = rest.trim_start();
        let (directive, rest) = rest.split_at(rest.find([' ', '\t']).unwrap_or(rest.len()));
        let rest = rest.trim_start();
        if self.conditional(directive, rest) || !self.enabled() {
            return;
        }
        if directive == "include" {
            return self.include(rest, depth);
        }
        let name_len = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        let (name, body) = rest.split_at(name_len);
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            return;
        }
        match directive {
            "undef" => {
                self.map.remove(name);
            }
            // `#define f(x) ...` has parameters: not an object-like macro.
            "define" if !body.starts_with('(') => {
                let tokens = Tok::lexer(body).filter_map(Result::ok).collect();
                let text = body.trim();
                self.map.insert(name, Macro { text, tokens });
            }
            _ => {}
        }
    }

    /// The problems met since the last call: includes whose file was not found.
    pub(crate) fn take_missing(&mut self) -> Vec<String> {
        std::mem::take(&mut self.missing)
    }

    /// The macros of the file an include names (the file's text lives as long as the
    /// program's tokens). A system header found only in the system's folders is known
    /// by its values instead; a file found nowhere is a problem to report.
    fn include(&mut self, target: &str, depth: usize) {
        let (quoted, name) = match target.chars().next() {
            Some('"') => (true, target[1..].split('"').next()),
            Some('<') => (false, target[1..].split('>').next()),
            _ => return,
        };
        let Some(name) = name.filter(|n| !n.is_empty()) else {
            return;
        };
        match self.find(name, quoted) {
            Some(path) => self.read(&path, depth),
            None if system_header(name) => {}
            None => self
                .missing
                .push(format!("cannot find the file to include: {target}")),
        }
    }

    /// The file `name` names: a quoted name is first a path of its own, then (as
    /// every name) looked for in each include directory.
    fn find(&self, name: &str, quoted: bool) -> Option<PathBuf> {
        let here = quoted.then(|| PathBuf::from(name));
        here.into_iter()
            .chain(self.dirs.iter().map(|d| d.join(name)))
            .find(|p| p.is_file())
    }

    fn read(&mut self, path: &Path, depth: usize) {
        if depth >= MAX_DEPTH {
            return;
        }
        let Ok(text) = std::fs::read_to_string(path) else {
            return;
        };
        let text: &'a str = Box::leak(text.into_boxed_str());
        for line in text.lines().filter(|l| l.trim_start().starts_with('#')) {
            self.line_at(line, depth + 1);
        }
    }

    /// Whether the text at hand is in the branches of every open conditional.
    pub(crate) fn enabled(&self) -> bool {
        self.conds.iter().all(|c| c.active)
    }

    /// Handles a conditional directive; false for any other.
    fn conditional(&mut self, directive: &str, rest: &str) -> bool {
        let outer = |conds: &[Cond]| conds.iter().all(|c| c.active);
        match directive {
            "if" | "ifdef" | "ifndef" => {
                let active = self.enabled()
                    && match directive {
                        "if" => self.condition(rest),
                        "ifdef" => self.contains(rest.trim()),
                        _ => !self.contains(rest.trim()),
                    };
                let taken = active || !self.enabled();
                self.conds.push(Cond { active, taken });
            }
            "elif" | "else" => {
                let Some((top, enclosing)) = self.conds.split_last() else {
                    return true;
                };
                let open = !top.taken && outer(enclosing);
                let active = open && (directive == "else" || self.condition(rest));
                if let Some(top) = self.conds.last_mut() {
                    *top = Cond {
                        active,
                        taken: top.taken || active,
                    };
                }
            }
            "endif" => {
                self.conds.pop();
            }
            _ => return false,
        }
        true
    }

    /// Whether an `#if` expression is true: `defined(NAME)` and macros replaced, other
    /// names read as 0, as C's preprocessor does.
    fn condition(&self, text: &str) -> bool {
        let expanded = self.substitute(text, 0);
        crate::cconst::eval(&expanded, &|_| Some(0)).is_some_and(|v| v != 0)
    }

    fn substitute(&self, text: &str, depth: usize) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find(|c: char| c.is_ascii_alphabetic() || c == '_') {
            out.push_str(&rest[..start]);
            let len = rest[start..]
                .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                .unwrap_or(rest.len() - start);
            let word = &rest[start..start + len];
            rest = &rest[start + len..];
            if word == "defined" {
                let inner = rest.trim_start().trim_start_matches('(').trim_start();
                let n = inner
                    .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                    .unwrap_or(inner.len());
                out.push_str(if self.contains(&inner[..n]) { "1" } else { "0" });
                rest = inner[n..].trim_start();
                rest = rest.strip_prefix(')').unwrap_or(rest);
            } else {
                match self.map.get(word) {
                    Some(m) if depth < MAX_DEPTH => {
                        out.push('(');
                        out.push_str(&self.substitute(m.text, depth + 1));
                        out.push(')');
                    }
                    _ => out.push_str(word),
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// Whether `name` is a macro.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    /// The tokens `name` stands for, with the macros among them expanded in turn (but
    /// not a macro inside its own expansion).
    pub(crate) fn expand(&self, name: &'a str) -> Vec<Tok<'a>> {
        let mut out = Vec::new();
        self.expand_into(name, &mut vec![name], &mut out);
        out
    }

    fn expand_into(&self, name: &str, active: &mut Vec<&'a str>, out: &mut Vec<Tok<'a>>) {
        for tok in self.map.get(name).into_iter().flat_map(|m| &m.tokens) {
            match tok {
                Tok::Ident(inner)
                    if self.contains(inner)
                        && !active.contains(inner)
                        && active.len() < MAX_DEPTH =>
                {
                    active.push(inner);
                    self.expand_into(inner, active, out);
                    active.pop();
                }
                other => out.push(other.clone()),
            }
        }
    }
}

/// Folders of the kernel's headers: their types come from BTF, so they need not be
/// installed.
const KERNEL_HEADER_DIRS: &[&str] = &[
    "linux/",
    "net/",
    "uapi/",
    "asm/",
    "asm-generic/",
    "trace/",
    "scsi/",
    "sound/",
    "crypto/",
    "kvm/",
    "xen/",
    "rdma/",
    "video/",
    "drm/",
    "media/",
    "keys/",
    "vdso/",
];

/// Whether `name` is a header of the kernel's, the system's (installed), or the
/// preprocessor's own.
fn system_header(name: &str) -> bool {
    if BUILTIN_HEADERS.contains(&name) || KERNEL_HEADER_DIRS.iter().any(|d| name.starts_with(d)) {
        return true;
    }
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let modules = Path::new("/lib/modules").join(release.trim());
    let multiarch = format!("/usr/include/{}-linux-gnu", std::env::consts::ARCH);
    let dirs = [
        PathBuf::from("/usr/local/include"),
        PathBuf::from("/usr/include"),
        PathBuf::from(multiarch),
        modules.join("build/include"),
        modules.join("source/include"),
        modules.join("build/arch/x86/include"),
        modules.join("build/arch/x86/include/generated"),
    ];
    dirs.iter().any(|d| d.join(name).is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defines(lines: &[&'static str]) -> Defines<'static> {
        let mut d = Defines::default();
        for line in lines {
            d.line(line);
        }
        d
    }

    #[test]
    fn macros_expand_to_their_tokens_and_other_macros() {
        let d = defines(&[
            "#define KB 1024",
            "#define MB (KB * KB)",
            "# define S \"x\"",
        ]);
        assert_eq!(
            d.expand("KB"),
            [Tok::Int(crate::token::IntLit {
                value: 1024,
                suffix: None
            })]
        );
        assert_eq!(d.expand("MB").len(), 5);
        assert_eq!(d.expand("S"), [Tok::Str("x".to_string())]);
    }

    #[test]
    fn quoted_includes_add_their_macros() {
        let dir = std::env::temp_dir().join(format!("ebpfc-defines-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let header = dir.join("common.h");
        std::fs::write(&header, "#define LIMIT 99\nint x;\n#define NAME \"n\"\n").unwrap();
        let line: &'static str = Box::leak(format!("#include \"{}\"", header.display()).into());
        let mut d = defines(&[
            line,
            "#include <linux/errno.h>",
            "#include <net/sock.h>",
            "#include <stddef.h>",
            "#include \"/nonexistent.h\"",
            "#include <nonexistent/header.h>",
        ]);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(d.contains("LIMIT") && d.contains("NAME") && !d.contains("x"));
        assert_eq!(
            d.take_missing(),
            [
                "cannot find the file to include: \"/nonexistent.h\"",
                "cannot find the file to include: <nonexistent/header.h>"
            ]
        );
    }

    #[test]
    fn conditionals_choose_the_lines() {
        let d = defines(&[
            "#define DEBUG 1",
            "#define LEVEL 3",
            "#ifdef DEBUG",
            "#define MODE 1",
            "#else",
            "#define MODE 2",
            "#endif",
            "#if LEVEL > 2 && defined(DEBUG)",
            "#define VERBOSE 1",
            "#elif LEVEL > 1",
            "#define VERBOSE 2",
            "#endif",
            "#ifndef DEBUG",
            "#if 1",
            "#define HIDDEN 1",
            "#endif",
            "#else",
            "#define SHOWN 1",
            "#endif",
        ]);
        let value = |n| match d.expand(n).as_slice() {
            [Tok::Int(i)] => i.value,
            _ => 0,
        };
        assert_eq!((value("MODE"), value("VERBOSE")), (1, 1));
        assert!(!d.contains("HIDDEN") && d.contains("SHOWN") && d.enabled());
    }

    #[test]
    fn undef_parameters_and_self_reference() {
        let d = defines(&[
            "#define A 1",
            "#undef A",
            "#define F(x) x",
            "#define L L + 1",
        ]);
        assert!(!d.contains("A") && !d.contains("F"));
        assert_eq!(d.expand("L").len(), 3);
    }
}
