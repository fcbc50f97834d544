//! The abstract syntax tree. Every node carries the [`Span`] of the source it came from;
//! nothing here knows about types, BTF or kernels.

pub use crate::span::Span;

/// A whole script.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    pub items: Vec<Item>,
    pub span: Span,
}

/// A top-level item, in source order.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `#include <...>` / `#define ...` lines, kept verbatim.
    Preprocessor(Spanned<String>),
    /// `struct foo { ... }`, `union`, `enum`: C definitions kept verbatim for now.
    CDefinition(Spanned<String>),
    /// `config = { key = value; ... }`
    Config(Config),
    /// `macro name($a, @b, c) { ... }`
    Macro(Macro),
    /// `fn name($a: type, ...): type { ... }`
    Function(Function),
    /// `let @m = hash(N);`
    MapDecl(MapDecl),
    Probe(Probe),
}

/// A value with its source span.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    pub node: T,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub entries: Vec<(Spanned<String>, Expr)>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Macro {
    pub name: Spanned<String>,
    /// Parameter names as written (`$x`, `@m`, or a bare identifier).
    pub params: Vec<Spanned<String>>,
    pub body: Block,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    pub name: Spanned<String>,
    pub params: Vec<(Spanned<String>, TypeExpr)>,
    pub ret: Option<TypeExpr>,
    pub body: Block,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MapDecl {
    /// `@name`
    pub name: Spanned<String>,
    /// The map type constructor, e.g. `hash`, `lruhash`, `percpuhash`.
    pub kind: Spanned<String>,
    pub args: Vec<Expr>,
    pub span: Span,
}

/// `probe, probe /pred/ { body }`
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub attach: Vec<AttachPoint>,
    pub predicate: Option<Expr>,
    pub body: Block,
    pub span: Span,
}

/// One attach point as written: `provider:part:part...`, e.g.
/// `tracepoint:syscalls:sys_enter_*` has provider `tracepoint` and parts
/// `["syscalls", "sys_enter_*"]`; `BEGIN` has provider `BEGIN` and no parts;
/// `uprobe:/bin/bash:readline+0x10` has parts `["/bin/bash", "readline+0x10"]`.
/// The provider is kept as written (short aliases are resolved by the compiler).
#[derive(Debug, Clone, PartialEq)]
pub struct AttachPoint {
    pub provider: String,
    pub parts: Vec<String>,
    /// The whole attach point text as written.
    pub raw: String,
    pub span: Span,
}

/// `{ stmt; stmt; }`
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StmtKind {
    /// An expression evaluated for its effect (calls, `$x++`, ...).
    Expr(Expr),
    /// `let $x[: type] [= e];`
    Let {
        var: Spanned<String>,
        ty: Option<TypeExpr>,
        value: Option<Expr>,
    },
    /// `target = value` or compound `target op= value`; `op` is `None` for `=`.
    /// The target is a `Variable`, `Map`, field access or other lvalue expression, or
    /// `Ident("_")` for `_ = value` (evaluate and discard).
    Assign {
        target: Expr,
        op: Option<BinOp>,
        value: Expr,
    },
    /// `if (c) { } else if (c) { } else { }`
    If {
        cond: Expr,
        then: Block,
        otherwise: Option<Block>,
    },
    /// `while (c) { }`
    While {
        cond: Expr,
        body: Block,
    },
    /// `unroll(N) { }`
    Unroll {
        count: Expr,
        body: Block,
    },
    /// `for ($x : @map) { }` or `for ($i : a..b) { }`
    For {
        var: Spanned<String>,
        iter: ForIter,
        body: Block,
    },
    Break,
    Continue,
    /// `return [e];`
    Return(Option<Expr>),
    /// A nested `{ }` block.
    Block(Block),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ForIter {
    Map(Expr),
    Range(Expr, Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// An integer literal; `suffix` keeps C/duration suffixes as written (`u`, `ul`, `ms`...)
    /// after the value was already scaled for durations (5ms = 5_000_000).
    Int {
        value: u64,
        suffix: Option<String>,
    },
    /// A string literal with escapes decoded.
    Str(String),
    Bool(bool),
    /// `$name`
    Variable(String),
    /// `$1`, `$2`, ...
    Positional(u32),
    /// `$#`
    PositionalCount,
    /// A bare identifier: builtin variable (`pid`, `comm`, `args`, `arg0`...) or an
    /// identifier argument (`BPF_ANY`, a macro's bare parameter).
    Ident(String),
    /// `@name[keys]` or `@name` (no keys) or `@` / `@[keys]` (name is `@`).
    Map {
        name: String,
        keys: Vec<Expr>,
    },
    /// `name(args)`
    Call {
        name: Spanned<String>,
        args: Vec<Expr>,
    },
    Unary {
        op: UnaryOp,
        expr: Box<Expr>,
    },
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `++x`, `x++`, `--x`, `x--`
    IncDec {
        target: Box<Expr>,
        increment: bool,
        prefix: bool,
    },
    /// `c ? a : b`; `a ?: b` has `then: None`.
    Ternary {
        cond: Box<Expr>,
        then: Option<Box<Expr>>,
        otherwise: Box<Expr>,
    },
    /// `if (c) { a } else { b }` used as an expression.
    IfExpr {
        cond: Box<Expr>,
        then: Block,
        otherwise: Block,
    },
    /// `e.field` or `e->field` (`arrow`).
    Field {
        expr: Box<Expr>,
        field: Spanned<String>,
        arrow: bool,
    },
    /// `e.0`
    TupleIndex {
        expr: Box<Expr>,
        index: u32,
    },
    /// `e[i]`
    Index {
        expr: Box<Expr>,
        index: Box<Expr>,
    },
    /// `(type)e`
    Cast {
        ty: TypeExpr,
        expr: Box<Expr>,
    },
    /// `(a, b, ...)`
    Tuple(Vec<Expr>),
    /// `(x = 1, y = 2)`
    Record(Vec<(Spanned<String>, Expr)>),
    /// `sizeof(type)` / `sizeof(expr)`
    SizeOf(Box<SizeOfArg>),
    /// `offsetof(type, field.field)`
    OffsetOf {
        ty: TypeExpr,
        fields: Vec<Spanned<String>>,
    },
    /// `{ stmts; expr }` block expression: its value is the last statement, an
    /// expression statement.
    Block(Block),
}

#[derive(Debug, Clone, PartialEq)]
pub enum SizeOfArg {
    Type(TypeExpr),
    Expr(Expr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    /// `-e`
    Neg,
    /// `!e`
    Not,
    /// `~e`
    BitNot,
    /// `*e`
    Deref,
    /// `&e`
    AddrOf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    LogAnd,
    LogOr,
}

/// A type as written in a cast, `let`, or signature.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeExpr {
    pub kind: TypeKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TypeKind {
    /// `int8`, `uint64`, `bool`, `string`, `inet`, `void`, C names (`int`, `unsigned long`,
    /// `char`), or a typedef name: kept as written, resolved by the compiler.
    Named(String),
    /// `struct task_struct`, `union u`, `enum e`: keyword and name.
    Tagged { keyword: String, name: String },
    /// `T *`
    Pointer(Box<TypeExpr>),
    /// `T[N]`, `string[N]`, `buffer[N]`; `T[]` (size left to the compiler) has N = 0.
    Array(Box<TypeExpr>, u64),
    /// `(T, U, ...)`; `()` is the empty tuple.
    Tuple(Vec<TypeExpr>),
}

impl BinOp {
    /// The operator as written in source.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::BitAnd => "&",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
            BinOp::Shl => "<<",
            BinOp::Shr => ">>",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::LogAnd => "&&",
            BinOp::LogOr => "||",
        }
    }
}
