//! The tokens the grammar consumes, and their names in diagnostics.
//!
//! Tokens borrow from the source where they can; literals are already decoded
//! (integers scaled, string escapes resolved) and attach points already split.

use codespan_reporting::diagnostic::Diagnostic;
use logos::Logos;

use crate::ast::{AttachPoint, BinOp};
use crate::lexer::{block_comment, int_literal, positional, string_literal};

/// An integer literal after decoding: the value (durations scaled to ns) and the
/// suffix as written, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntLit<'a> {
    pub value: u64,
    pub suffix: Option<&'a str>,
}

/// One token of the ebpfc language.
#[derive(Logos, Debug, Clone, PartialEq)]
#[logos(extras = Vec<Diagnostic<()>>)]
#[logos(skip r"[ \t\r\n\x0b\x0c]+")]
#[logos(skip r"//[^\n]*")]
#[logos(skip(r"/\*", callback = block_comment))]
pub enum Tok<'a> {
    #[regex("[A-Za-z_][A-Za-z0-9_]*", |lex| lex.slice())]
    Ident(&'a str),
    /// `$name`, with the `$`.
    #[regex(r"\$[A-Za-z_][A-Za-z0-9_]*", |lex| lex.slice())]
    Var(&'a str),
    /// `@name` or `@`, with the `@`.
    #[regex("@[A-Za-z_][A-Za-z0-9_]*", |lex| lex.slice())]
    #[token("@", |lex| lex.slice())]
    Map(&'a str),
    /// `$1`
    #[regex(r"\$[0-9]+", positional)]
    Positional(u32),
    /// `$#`
    #[token("$#")]
    PositionalCount,
    #[regex("[0-9][0-9A-Za-z_]*", int_literal)]
    Int(IntLit<'a>),
    #[token("\"", string_literal)]
    Str(String),
    /// One attach point of a probe header, already split.
    Attach(Box<AttachPoint>),
    /// A `#...` line at the top level, verbatim.
    Preproc(&'a str),
    /// A C `struct`/`union`/`enum` definition at the top level, verbatim.
    CDef(&'a str),

    #[token("if")]
    If,
    #[token("else")]
    Else,
    #[token("while")]
    While,
    #[token("unroll")]
    Unroll,
    #[token("for")]
    For,
    #[token("break")]
    Break,
    #[token("continue")]
    Continue,
    #[token("return")]
    Return,
    #[token("let")]
    Let,
    #[token("macro")]
    Macro,
    #[token("fn")]
    Fn,
    #[token("config")]
    Config,
    #[token("sizeof")]
    Sizeof,
    #[token("offsetof")]
    Offsetof,
    #[token("true")]
    True,
    #[token("false")]
    False,
    #[token("struct")]
    Struct,
    #[token("union")]
    Union,
    #[token("enum")]
    Enum,

    #[token("(")]
    LParen,
    /// A `(` that opens a cast or a parenthesised type: `(uint32)`, `(struct x *)`.
    CastOpen,
    #[token(")")]
    RParen,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token("[")]
    LBracket,
    /// A `[` directly after a map name: `@m[`.
    MapOpen,
    #[token("]")]
    RBracket,
    #[token(",")]
    Comma,
    #[token(";")]
    Semi,
    #[token(":")]
    Colon,
    #[token("?")]
    Question,
    #[token(".")]
    Dot,
    #[token("..")]
    DotDot,
    #[token("->")]
    Arrow,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,
    /// The `/` that closes a probe predicate (the last `/` before the body's `{`).
    EndPred,
    #[token("%")]
    Percent,
    #[token("&")]
    Amp,
    #[token("|")]
    Pipe,
    #[token("^")]
    Caret,
    #[token("~")]
    Tilde,
    #[token("!")]
    Bang,
    #[token("<")]
    Lt,
    #[token(">")]
    Gt,
    #[token("<=")]
    Le,
    #[token(">=")]
    Ge,
    #[token("==")]
    EqEq,
    #[token("!=")]
    Ne,
    #[token("&&")]
    AndAnd,
    #[token("||")]
    OrOr,
    #[token("<<")]
    Shl,
    #[token(">>")]
    Shr,
    #[token("=")]
    Assign,
    /// `+=`, `<<=`, ...: the operator applied.
    #[token("+=", |_| BinOp::Add)]
    #[token("-=", |_| BinOp::Sub)]
    #[token("*=", |_| BinOp::Mul)]
    #[token("/=", |_| BinOp::Div)]
    #[token("%=", |_| BinOp::Mod)]
    #[token("&=", |_| BinOp::BitAnd)]
    #[token("|=", |_| BinOp::BitOr)]
    #[token("^=", |_| BinOp::BitXor)]
    #[token("<<=", |_| BinOp::Shl)]
    #[token(">>=", |_| BinOp::Shr)]
    OpAssign(BinOp),
    #[token("++")]
    PlusPlus,
    #[token("--")]
    MinusMinus,
}

impl Tok<'_> {
    /// How the token reads in a message: `'('`, `identifier 'pid'`, ...
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("identifier '{s}'"),
            Tok::Var(s) | Tok::Map(s) => format!("'{s}'"),
            Tok::Positional(n) => format!("'${n}'"),
            Tok::Int(_) => "an integer".to_string(),
            Tok::Str(_) => "a string".to_string(),
            Tok::Attach(a) => format!("attach point '{}'", a.raw),
            Tok::Preproc(_) => "a preprocessor line".to_string(),
            Tok::CDef(_) => "a C definition".to_string(),
            Tok::OpAssign(op) => format!("'{}='", op.symbol()),
            other => format!("'{}'", other.symbol().unwrap_or("?")),
        }
    }

    /// The fixed spelling of keywords and punctuation.
    pub fn symbol(&self) -> Option<&'static str> {
        Some(match self {
            Tok::PositionalCount => "$#",
            Tok::If => "if",
            Tok::Else => "else",
            Tok::While => "while",
            Tok::Unroll => "unroll",
            Tok::For => "for",
            Tok::Break => "break",
            Tok::Continue => "continue",
            Tok::Return => "return",
            Tok::Let => "let",
            Tok::Macro => "macro",
            Tok::Fn => "fn",
            Tok::Config => "config",
            Tok::Sizeof => "sizeof",
            Tok::Offsetof => "offsetof",
            Tok::True => "true",
            Tok::False => "false",
            Tok::Struct => "struct",
            Tok::Union => "union",
            Tok::Enum => "enum",
            _ => return self.punct(),
        })
    }

    fn punct(&self) -> Option<&'static str> {
        Some(match self {
            Tok::LParen | Tok::CastOpen => "(",
            Tok::RParen => ")",
            Tok::LBrace => "{",
            Tok::RBrace => "}",
            Tok::LBracket | Tok::MapOpen => "[",
            Tok::RBracket => "]",
            Tok::Comma => ",",
            Tok::Semi => ";",
            Tok::Colon => ":",
            Tok::Question => "?",
            Tok::Dot => ".",
            Tok::DotDot => "..",
            Tok::Arrow => "->",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star => "*",
            Tok::Slash | Tok::EndPred => "/",
            Tok::Percent => "%",
            Tok::Amp => "&",
            Tok::Pipe => "|",
            Tok::Caret => "^",
            Tok::Tilde => "~",
            Tok::Bang => "!",
            Tok::Lt => "<",
            Tok::Gt => ">",
            Tok::Le => "<=",
            Tok::Ge => ">=",
            Tok::EqEq => "==",
            Tok::Ne => "!=",
            Tok::AndAnd => "&&",
            Tok::OrOr => "||",
            Tok::Shl => "<<",
            Tok::Shr => ">>",
            Tok::Assign => "=",
            Tok::PlusPlus => "++",
            Tok::MinusMinus => "--",
            _ => return None,
        })
    }

    /// True for tokens that can begin an operand (used to recognise casts).
    pub fn starts_operand(&self) -> bool {
        matches!(
            self,
            Tok::Ident(_)
                | Tok::Var(_)
                | Tok::Map(_)
                | Tok::Positional(_)
                | Tok::PositionalCount
                | Tok::Int(_)
                | Tok::Str(_)
                | Tok::True
                | Tok::False
                | Tok::Sizeof
                | Tok::Offsetof
                | Tok::LParen
                | Tok::CastOpen
                | Tok::Bang
                | Tok::Tilde
        )
    }
}
