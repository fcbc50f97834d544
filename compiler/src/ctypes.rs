//! The type environment: C types a program names (in casts, tracepoint formats, probe
//! arguments, struct definitions) resolved to language [`Type`]s, against kernel BTF and
//! the script's own definitions, and struct members looked up with suggestions.
//!
//! Kernel BTF is opened on the first question that needs it, so a program that names
//! no kernel type never reads it.

use crate::btf::{CType, FuncSig, IntEncoding, KernelTypes, Param};
use crate::cdecl::{self, Decl, StructDecl};
use crate::suggest::did_you_mean;
use crate::types::{Origin, StructRef, Type};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

/// Pointers followed when converting one kernel type (`int ***` stops there).
const MAX_POINTER_DEPTH: usize = 6;

/// Which BTF describes the kernel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum BtfChoice {
    /// `/sys/kernel/btf/vmlinux` and module BTF.
    #[default]
    System,
    /// A BTF file (raw or an ELF with `.BTF`), from `--btf`.
    File(PathBuf),
}

/// One member of a struct as the type checker sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub offset_bits: u32,
    /// Width of a bitfield; 0 for ordinary members.
    pub bits: u32,
    pub ty: Type,
}

/// A struct the script defines, laid out.
#[derive(Debug, Clone)]
struct ScriptStruct {
    name: String,
    size: u32,
    align: u32,
    members: Vec<(String, Member)>,
}

/// Kernel and script types, resolved on demand.
#[derive(Default)]
pub struct TypeEnv {
    choice: BtfChoice,
    btf: OnceLock<Result<KernelTypes, String>>,
    script: Vec<ScriptStruct>,
    constants: HashMap<String, i64>,
}

impl TypeEnv {
    pub fn new(choice: BtfChoice) -> Self {
        TypeEnv {
            choice,
            ..Default::default()
        }
    }

    /// The kernel's types, opened on first use.
    pub fn btf(&self) -> Result<&KernelTypes, String> {
        let opened = self.btf.get_or_init(|| match &self.choice {
            BtfChoice::System => KernelTypes::system().map_err(|e| {
                format!("kernel BTF is not available ({e}); give a BTF file with --btf FILE")
            }),
            BtfChoice::File(path) => KernelTypes::from_file(path)
                .map_err(|e| format!("cannot read BTF from {}: {e}", path.display())),
        });
        opened.as_ref().map_err(Clone::clone)
    }

    /// Adds a script's `struct`/`union`/`enum` definition.
    pub fn define(&mut self, text: &str) -> Result<(), String> {
        self.define_all(&[text])
            .pop()
            .map_or(Ok(()), |(_, e)| Err(e))
    }

    /// Adds a script's definitions, which may name each other in any order (a struct
    /// pointing to itself or to one defined later): every struct is named first, then
    /// laid out twice, so pointers to later structs know their sizes. Returns the
    /// problems, with the index of the definition each is in.
    pub fn define_all(&mut self, texts: &[&str]) -> Vec<(usize, String)> {
        let mut problems = Vec::new();
        let mut structs = Vec::new();
        for (i, text) in texts.iter().enumerate() {
            match cdecl::parse_definition(text) {
                Ok(Decl::Enum(values)) => self.constants.extend(values),
                Ok(Decl::Struct(decl)) => {
                    let name = format!("{} {}", decl.keyword, decl.name);
                    if self.script.iter().any(|s| s.name == name) {
                        problems.push((i, format!("{name} is defined twice")));
                        continue;
                    }
                    structs.push((i, self.script.len(), decl));
                    self.script.push(ScriptStruct {
                        name,
                        size: 0,
                        align: 1,
                        members: Vec::new(),
                    });
                }
                Err(e) => problems.push((i, e)),
            }
        }
        for pass in 0..2 {
            for (i, slot, decl) in &structs {
                match self.lay_out(decl) {
                    Ok(laid) => self.script[*slot] = laid,
                    Err(e) if pass == 1 => problems.push((*i, e)),
                    Err(_) => {}
                }
            }
        }
        problems.sort_by_key(|(i, _)| *i);
        problems
    }

    /// The value of a named constant: the script's own, a kernel enumerator, or a
    /// well-known header macro.
    pub fn constant(&self, name: &str) -> Option<i64> {
        if let Some(v) = self.constants.get(name) {
            return Some(*v);
        }
        let kernel = self
            .btf()
            .ok()
            .and_then(|btf| btf.enum_constant(name).ok()?);
        if let Some((_, value)) = kernel {
            return Some(value as i64);
        }
        ebpfc_stdlib::constants::lookup(name)
    }

    /// `struct NAME` / `union NAME` / `enum NAME`: the script's definition first.
    pub fn tagged(&self, keyword: &str, name: &str) -> Result<Type, String> {
        let full = format!("{keyword} {name}");
        if let Some(i) = self.script.iter().position(|s| s.name == full) {
            let (size, align) = (self.script[i].size, self.script[i].align);
            return Ok(Type::Struct(StructRef {
                name: full,
                size,
                align,
                origin: Origin::Script(i),
            }));
        }
        let btf = self.btf()?;
        let found = match keyword {
            "struct" => btf.struct_named(name),
            "union" => btf.union_named(name),
            _ => {
                let e = btf.enum_named(name).map_err(|e| e.to_string())?;
                return e
                    .map(|e| int_of(e.size, e.signed))
                    .ok_or_else(|| format!("unknown type '{full}'"));
            }
        };
        match found.map_err(|e| e.to_string())? {
            Some(agg) => Ok(Type::Struct(StructRef {
                name: full,
                size: agg.size,
                align: crate::types::natural_align(agg.size),
                origin: Origin::Btf(agg.id),
            })),
            None => {
                let near = btf.struct_name_near(name).ok().flatten();
                let hint = near.map(|n| format!("; did you mean 'struct {n}'?"));
                Err(format!("unknown type '{full}'{}", hint.unwrap_or_default()))
            }
        }
    }

    /// A type written as C text: `const struct sock *`, `unsigned long`, `pid_t`.
    pub fn c_text(&self, text: &str) -> Result<Type, String> {
        let pointers = text.matches('*').count();
        let words: Vec<&str> = text
            .split(|c: char| c.is_whitespace() || c == '*')
            .filter(|w| !w.is_empty() && !is_qualifier(w))
            .collect();
        let base = match words.as_slice() {
            [kw @ ("struct" | "union" | "enum"), name] => self.tagged(kw, name)?,
            [] => return Err(format!("cannot read the type '{text}'")),
            words => self.named(&words.join(" "))?,
        };
        Ok((0..pointers).fold(base, |t, _| Type::Ptr {
            pointee: Box::new(t),
            user: false,
        }))
    }

    /// A type by plain name: a language or C integer name, `void`, or a kernel typedef.
    pub fn named(&self, name: &str) -> Result<Type, String> {
        if name == "void" {
            return Ok(Type::Void);
        }
        if let Some(t) = crate::types::int_type_named(name) {
            return Ok(t);
        }
        let btf = self.btf()?;
        match btf.typedef_named(name).map_err(|e| e.to_string())? {
            Some(t) => self.from_btf(&t.ty),
            None => Err(format!("unknown type '{name}'")),
        }
    }

    /// A kernel type as a language type.
    pub fn from_btf(&self, c: &CType) -> Result<Type, String> {
        self.convert(c, 0)
    }

    fn convert(&self, c: &CType, depth: usize) -> Result<Type, String> {
        Ok(match c {
            CType::Int {
                size: 1,
                encoding: IntEncoding::Char,
                ..
            } => int_of(1, true),
            CType::Int { size, signed, .. } => match size {
                1 | 2 | 4 | 8 => int_of(*size, *signed),
                n => bytes(*n),
            },
            CType::Enum(e) => int_of(e.size, e.signed),
            CType::Float { size } => bytes(*size),
            CType::Void | CType::Func(_) => Type::Void,
            CType::Ptr(to) => {
                let pointee = if depth >= MAX_POINTER_DEPTH {
                    Type::Void
                } else {
                    let btf = self.btf()?;
                    let target = btf.resolve(*to).map_err(|e| e.to_string())?;
                    self.convert(&target, depth + 1)?
                };
                Type::Ptr {
                    pointee: Box::new(pointee),
                    user: false,
                }
            }
            CType::Array { elem, len } => Type::Array {
                elem: Box::new(self.convert(elem, depth)?),
                len: *len,
            },
            CType::Struct(a) | CType::Union(a) => {
                let keyword = if matches!(c, CType::Union(_)) {
                    "union"
                } else {
                    "struct"
                };
                let name = a.name.as_deref().unwrap_or("(anonymous)");
                Type::Struct(StructRef {
                    name: format!("{keyword} {name}"),
                    size: a.size,
                    align: crate::types::natural_align(a.size),
                    origin: Origin::Btf(a.id),
                })
            }
            CType::Fwd { name, union } => {
                let keyword = if *union { "union" } else { "struct" };
                self.tagged(keyword, name).unwrap_or(Type::Void)
            }
        })
    }

    /// Member `name` of struct `s`, or an error naming the struct with a suggestion.
    pub fn member(&self, s: &StructRef, name: &str) -> Result<Member, String> {
        let (found, names) = match s.origin {
            Origin::Script(i) => {
                let members = &self.script[i].members;
                let found = members.iter().find(|(n, _)| n == name).map(|m| m.1.clone());
                (found, members.iter().map(|(n, _)| n.clone()).collect())
            }
            Origin::Btf(id) => self.btf_member(id, s, name)?,
        };
        found.ok_or_else(|| {
            let hint = did_you_mean(name, names.iter().map(String::as_str));
            let hint = hint.map(|h| format!("; did you mean '{h}'?"));
            format!(
                "{} has no field '{name}'{}",
                s.name,
                hint.unwrap_or_default()
            )
        })
    }

    /// Every member of struct `s` reachable by name, in order (members of anonymous
    /// structs and unions included, at their offsets from `s`).
    pub fn members(&self, s: &StructRef) -> Result<Vec<(String, Member)>, String> {
        let id = match s.origin {
            Origin::Script(i) => return Ok(self.script[i].members.clone()),
            Origin::Btf(id) => id,
        };
        let btf = self.btf()?;
        let agg = match btf.resolve(id).map_err(|e| e.to_string())? {
            CType::Struct(a) | CType::Union(a) => a,
            _ => return Err(format!("{} is not a struct", s.name)),
        };
        let fields = btf.fields(&agg).map_err(|e| e.to_string())?;
        fields
            .into_iter()
            .map(|f| {
                let member = Member {
                    offset_bits: f.offset_bits,
                    bits: f.bitfield_size,
                    ty: self.from_btf(&f.ty)?,
                };
                Ok((f.name, member))
            })
            .collect()
    }

    fn btf_member(
        &self,
        id: crate::btf::TypeId,
        s: &StructRef,
        name: &str,
    ) -> Result<(Option<Member>, Vec<String>), String> {
        let btf = self.btf()?;
        let agg = match btf.resolve(id).map_err(|e| e.to_string())? {
            CType::Struct(a) | CType::Union(a) => a,
            _ => return Err(format!("{} is not a struct", s.name)),
        };
        if let Some(f) = btf.field(&agg, name).map_err(|e| e.to_string())? {
            let member = Member {
                offset_bits: f.offset_bits,
                bits: f.bitfield_size,
                ty: self.from_btf(&f.ty)?,
            };
            return Ok((Some(member), Vec::new()));
        }
        Ok((None, btf.field_names(&agg).map_err(|e| e.to_string())?))
    }

    /// The parameters (name, type) and return type of kernel function `name`.
    pub fn function(&self, name: &str) -> Result<(Vec<(String, Type)>, Type), String> {
        let btf = self.btf()?;
        let sig: FuncSig = btf
            .func_named(name)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("the kernel's BTF has no function '{name}'"))?;
        let params = self.params(&sig.params)?;
        Ok((params, self.from_btf(&sig.ret)?))
    }

    /// The arguments (name, type) of raw tracepoint `name`.
    pub fn raw_tracepoint(&self, name: &str) -> Result<Vec<(String, Type)>, String> {
        let btf = self.btf()?;
        let params = btf
            .raw_tp_args(name)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("the kernel's BTF does not describe raw tracepoint '{name}'"))?;
        self.params(&params)
    }

    fn params(&self, params: &[Param]) -> Result<Vec<(String, Type)>, String> {
        params
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let name = p.name.clone().unwrap_or_else(|| format!("arg{i}"));
                Ok((name, self.from_btf(&p.ty)?))
            })
            .collect()
    }

    /// Lays out a script struct with C's natural alignment.
    fn lay_out(&self, decl: &StructDecl) -> Result<ScriptStruct, String> {
        let union = decl.keyword == "union";
        let (mut cursor, mut size, mut align) = (0u32, 0u32, 1u32);
        let mut members = Vec::new();
        for m in &decl.members {
            let mut ty = self.c_text(&m.ty)?;
            if let Some(len) = m.array {
                ty = Type::Array {
                    elem: Box::new(ty),
                    len,
                };
            }
            let unit = ty.size().max(1) * 8;
            let a = ty.align().max(1);
            align = align.max(a);
            let offset = match m.bits {
                Some(bits) if cursor % unit + bits <= unit => cursor,
                _ => cursor.div_ceil(a * 8) * a * 8,
            };
            let width = m.bits.unwrap_or(ty.size() * 8);
            let offset = if union { 0 } else { offset };
            cursor = offset + width;
            size = size.max(cursor.div_ceil(8));
            let member = Member {
                offset_bits: offset,
                bits: m.bits.unwrap_or(0),
                ty,
            };
            members.push((m.name.clone(), member));
        }
        Ok(ScriptStruct {
            name: format!("{} {}", decl.keyword, decl.name),
            size: size.div_ceil(align) * align,
            align,
            members,
        })
    }
}

fn is_qualifier(word: &str) -> bool {
    matches!(
        word,
        "const" | "volatile" | "restrict" | "__user" | "__rcu" | "__percpu" | "__iomem"
    )
}

fn int_of(size: u32, signed: bool) -> Type {
    Type::Int {
        size: size as u8,
        signed,
    }
}

/// An opaque value of `n` bytes (128-bit integers, floats).
fn bytes(n: u32) -> Type {
    Type::Array {
        elem: Box::new(Type::Int {
            size: 1,
            signed: false,
        }),
        len: n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> TypeEnv {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vmlinux.btf");
        TypeEnv::new(BtfChoice::File(path.into()))
    }

    #[test]
    fn resolves_kernel_chains() {
        let env = fixture();
        let Type::Ptr { pointee, .. } = env.c_text("const struct task_struct *").unwrap() else {
            panic!("not a pointer")
        };
        let Type::Struct(task) = *pointee else {
            panic!("not a struct")
        };
        let parent = env.member(&task, "real_parent").unwrap();
        assert!(matches!(parent.ty, Type::Ptr { .. }));
        let err = env.member(&task, "pidd").unwrap_err();
        assert!(
            err.contains("struct task_struct") && err.contains("'pid'"),
            "{err}"
        );
        assert_eq!(
            env.member(&task, "comm").unwrap().ty.to_string(),
            "int8[16]"
        );
    }

    #[test]
    fn lays_out_script_structs_over_kernel_types() {
        let mut env = fixture();
        env.define("struct q { struct load_weight load; unsigned long w; unsigned int n, m; u8 a:3, b:2; };")
            .unwrap();
        let Type::Struct(q) = env.tagged("struct", "q").unwrap() else {
            panic!("not a struct")
        };
        let offsets: Vec<u32> = ["load", "w", "n", "m", "a", "b"]
            .iter()
            .map(|f| env.member(&q, f).unwrap().offset_bits)
            .collect();
        assert_eq!(offsets, [0, 128, 192, 224, 256, 259]);
        assert_eq!(q.size, 40);
        assert!(env
            .tagged("struct", "task_strct")
            .unwrap_err()
            .contains("task_struct"));
    }
}
