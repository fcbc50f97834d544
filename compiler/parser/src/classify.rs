//! Token-stream rewrites that need lookahead: recognising the `(` that opens a type
//! (a cast `(uint32)x`, `(struct task_struct *)p`, or `sizeof(uint64)`) and rejecting
//! floating-point literals such as `1.5`.
//!
//! A parenthesised type is recognised without a symbol table, as C parsers do for
//! well-known names: `(T)` is a type when `T` is `struct/union/enum X`, a built-in or C
//! type name, has a `*` or `[]`, or is an unknown name directly followed by an operand
//! (`(u32)arg0`). Before an operator that may be prefix or binary, an unknown name is a
//! type only if it is spelled like a C typedef, `*_t` or `__*` (`(sector_t)-1`,
//! `(size_t)*$p`, `(__u32)&$x`), so `(pid) - 1` and a macro's `(x) * y` stay arithmetic.
//! Otherwise `(x)` stays a parenthesised expression.

use codespan_reporting::diagnostic::Diagnostic;

use crate::diagnostics::error;
use crate::lexer::Spanned;
use crate::token::Tok;

/// Type names that make `(name)` a cast wherever it appears.
const TYPE_NAMES: &[&str] = &[
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "string",
    "buffer", "inet", "void", "char", "short", "int", "long", "unsigned", "signed", "u8", "u16",
    "u32", "u64", "s8", "s16", "s32", "s64",
];

/// C keywords that may be combined into one type name (`unsigned long long`).
const C_WORDS: &[&str] = &["unsigned", "signed", "char", "short", "int", "long"];

/// What classification remembers about the token before the window.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Prev {
    /// A call name or control keyword: a `(` after it never opens a type.
    blocks_cast: bool,
    dot: bool,
}

/// Classifies the first token of `window` (the tokens after it are lookahead):
/// rewrites `(` to [`Tok::CastOpen`] where a type follows, and reports floats.
pub(crate) fn front(window: &mut [Spanned<'_>], prev: &mut Prev, diags: &mut Vec<Diagnostic<()>>) {
    let Some(first) = window.first() else {
        return;
    };
    match first.1 {
        Tok::LParen if !prev.blocks_cast && is_type_paren(window, 1) => window[0].1 = Tok::CastOpen,
        Tok::Int(_) if !prev.dot => check_float(window, diags),
        _ => {}
    }
    *prev = Prev {
        blocks_cast: matches!(
            window[0].1,
            Tok::Ident(_) | Tok::If | Tok::While | Tok::For | Tok::Unroll | Tok::Offsetof
        ),
        dot: window[0].1 == Tok::Dot,
    };
}

fn tok_at<'t, 'a>(tokens: &'t [Spanned<'a>], i: usize) -> Option<&'t Tok<'a>> {
    tokens.get(i).map(|t| &t.1)
}

/// Whether the tokens from `start` read `type )` and the type makes this a cast.
fn is_type_paren(tokens: &[Spanned<'_>], start: usize) -> bool {
    let Some((known, mut k)) = type_name(tokens, start) else {
        return false;
    };
    let mut stars = 0;
    while tok_at(tokens, k) == Some(&Tok::Star) {
        stars += 1;
        k += 1;
    }
    let array = array_suffix_len(tokens, k);
    k += array;
    if tok_at(tokens, k) != Some(&Tok::RParen) {
        return false;
    }
    known
        || stars > 0
        || array > 0
        || tok_at(tokens, k + 1).is_some_and(Tok::starts_operand)
        || (typedef_like(tokens, start) && before_prefix_operator(tokens, k + 1))
}

/// The length of `[N]` or `[]` at `k`, or 0.
fn array_suffix_len(tokens: &[Spanned<'_>], k: usize) -> usize {
    if tok_at(tokens, k) != Some(&Tok::LBracket) {
        return 0;
    }
    match (tok_at(tokens, k + 1), tok_at(tokens, k + 2)) {
        (Some(Tok::RBracket), _) => 2,
        (Some(Tok::Int(_)), Some(Tok::RBracket)) => 3,
        _ => 0,
    }
}

/// Whether the single name at `start` is spelled like a C typedef: `*_t` or `__*`.
fn typedef_like(tokens: &[Spanned<'_>], start: usize) -> bool {
    match tok_at(tokens, start) {
        Some(Tok::Ident(name)) => name.ends_with("_t") || name.starts_with("__"),
        _ => false,
    }
}

/// Whether the tokens at `k` read as a prefix operator applied to an operand: `-x`,
/// `*p` (not `* 2`), `&$x`, `&@m`, `++$x`, `--$x`.
fn before_prefix_operator(tokens: &[Spanned<'_>], k: usize) -> bool {
    let next = tok_at(tokens, k + 1);
    match tok_at(tokens, k) {
        Some(Tok::Minus | Tok::PlusPlus | Tok::MinusMinus) => true,
        Some(Tok::Star) => !matches!(next, Some(Tok::Int(_))),
        Some(Tok::Amp) => matches!(next, Some(Tok::Var(_) | Tok::Map(_))),
        _ => false,
    }
}

/// Reads a type name at `start`: whether it is certainly a type, and where it ends.
fn type_name(tokens: &[Spanned<'_>], start: usize) -> Option<(bool, usize)> {
    match tok_at(tokens, start)? {
        Tok::Struct | Tok::Union | Tok::Enum => {
            matches!(tok_at(tokens, start + 1), Some(Tok::Ident(_))).then_some((true, start + 2))
        }
        Tok::Ident(first) => {
            let words = tokens[start..]
                .iter()
                .take_while(|t| matches!(t.1, Tok::Ident(_)))
                .count();
            if words == 1 {
                return Some((TYPE_NAMES.contains(first), start + 1));
            }
            let all_c = tokens[start..start + words]
                .iter()
                .all(|t| matches!(t.1, Tok::Ident(w) if C_WORDS.contains(&w)));
            all_c.then_some((true, start + words))
        }
        _ => None,
    }
}

/// Reports `1.5`: an integer, `.` and an integer written without spaces (the caller
/// excludes the tuple index chain `t.0.1`).
fn check_float(window: &[Spanned<'_>], diags: &mut Vec<Diagnostic<()>>) {
    let [int, dot, frac, ..] = window else {
        return;
    };
    if dot.1 == Tok::Dot && matches!(frac.1, Tok::Int(_)) && int.2 == dot.0 && dot.2 == frac.0 {
        diags.push(
            error(
                "floating-point numbers are not supported",
                int.0..frac.2,
                "not an integer",
            )
            .with_notes(vec![
                "use integer arithmetic, e.g. scale to milli-units".to_string()
            ]),
        );
    }
}
