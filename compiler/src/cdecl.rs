//! The C a script may carry: `struct`/`union`/`enum` definitions and `#define NAME value`
//! lines, read into declarations. Member types stay as text here; the type environment
//! ([`crate::ctypes`]) resolves them and lays the struct out.
//!
//! Only what tracing scripts write is understood: members are `type name;`,
//! `type a, *b, c[4];` or bitfields `type name : bits;`. Anything else is an error
//! naming the text it could not read.

/// A struct or union the script defines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructDecl {
    /// `struct` or `union`.
    pub keyword: String,
    pub name: String,
    pub members: Vec<MemberDecl>,
}

/// One member of a script struct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberDecl {
    pub name: String,
    /// The type as written, pointer stars included (`struct load_weight`, `char *`).
    pub ty: String,
    /// `Some(n)` for an array member `name[n]`.
    pub array: Option<u32>,
    /// `Some(bits)` for a bitfield.
    pub bits: Option<u32>,
}

/// What one C definition item declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decl {
    Struct(StructDecl),
    /// Enumerators of an enum, with their values.
    Enum(Vec<(String, i64)>),
}

/// Reads one `struct|union|enum name { ... };` definition.
pub fn parse_definition(text: &str) -> Result<Decl, String> {
    let text = strip_comments(text);
    let open = text.find('{').ok_or("expected '{' in the definition")?;
    let close = text
        .rfind('}')
        .ok_or("expected '}' to end the definition")?;
    let head: Vec<&str> = text[..open].split_whitespace().collect();
    let body = &text[open + 1..close];
    match head.as_slice() {
        ["enum", ..] => parse_enum(body).map(Decl::Enum),
        [keyword @ ("struct" | "union"), name] => Ok(Decl::Struct(StructDecl {
            keyword: keyword.to_string(),
            name: name.to_string(),
            members: parse_members(body)?,
        })),
        _ => Err(format!("cannot read the definition '{}'", head.join(" "))),
    }
}

fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("/*").into_iter().chain(rest.find("//")).min() {
        out.push_str(&rest[..i]);
        let end = if rest[i..].starts_with("/*") {
            rest[i..].find("*/").map_or(rest.len(), |e| i + e + 2)
        } else {
            rest[i..].find('\n').map_or(rest.len(), |e| i + e)
        };
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn parse_members(body: &str) -> Result<Vec<MemberDecl>, String> {
    let mut out = Vec::new();
    for decl in body.split(';').map(str::trim).filter(|d| !d.is_empty()) {
        if decl.contains('{') || decl.contains('(') {
            return Err(format!("cannot read the member '{decl}'"));
        }
        let mut parts = decl.split(',');
        let first = parts.next().unwrap_or_default();
        let (base, first_declarator) = split_base(first)?;
        out.push(declarator(&base, first_declarator)?);
        for d in parts {
            out.push(declarator(&base, d)?);
        }
    }
    Ok(out)
}

/// Splits `unsigned int *a` into the base type `unsigned int` and the declarator `*a`.
fn split_base(decl: &str) -> Result<(String, &str), String> {
    let head = decl.split(':').next().unwrap_or(decl);
    let head = head.split('[').next().unwrap_or(head).trim_end();
    let name_start = head
        .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    if name_start == 0 {
        return Err(format!("cannot read the member '{}'", decl.trim()));
    }
    let base = head[..name_start].trim_end_matches(['*', ' ', '\t', '\n']);
    let stars_start = base.len();
    Ok((base.trim().to_string(), &decl[stars_start..]))
}

fn declarator(base: &str, d: &str) -> Result<MemberDecl, String> {
    let (d, bits) = match d.split_once(':') {
        Some((d, bits)) => (d, Some(parse_u32(bits)?)),
        None => (d, None),
    };
    let (d, array) = match d.split_once('[') {
        Some((d, len)) => (d, Some(parse_u32(len.trim_end().trim_end_matches(']'))?)),
        None => (d, None),
    };
    let d = d.trim();
    let stars = d
        .chars()
        .take_while(|c| *c == '*' || c.is_whitespace())
        .count();
    let name = d[stars..].trim();
    let valid = !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_');
    if !valid {
        return Err(format!("cannot read the member name '{d}'"));
    }
    let pointers = d[..stars].matches('*').count();
    let ty = format!("{base}{}", " *".repeat(pointers));
    Ok(MemberDecl {
        name: name.to_string(),
        ty,
        array,
        bits,
    })
}

fn parse_enum(body: &str) -> Result<Vec<(String, i64)>, String> {
    let mut next = 0i64;
    let mut out = Vec::new();
    for item in body.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (name, value) = match item.split_once('=') {
            Some((name, value)) => {
                let known = |n: &str| out.iter().find(|(k, _)| k == n).map(|(_, v)| *v);
                let value = ebpfc_parser::cconst::eval(value, &known).ok_or_else(|| {
                    format!("cannot read the enumerator value '{}'", value.trim())
                })?;
                (name.trim(), value)
            }
            None => (item, next),
        };
        out.push((name.to_string(), value));
        next = value.wrapping_add(1);
    }
    Ok(out)
}

fn parse_u32(text: &str) -> Result<u32, String> {
    parse_int(text.trim())
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| format!("expected a size, found '{}'", text.trim()))
}

/// An integer constant expression without names (`16`, `0x10`, `4 * 8`).
fn parse_int(text: &str) -> Option<i64> {
    ebpfc_parser::cconst::eval(text, &|_| None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_struct_members() {
        let text = "struct cfs_rq {\n\tstruct load_weight load; // w\n\
                    unsigned long runnable_weight;\n\tunsigned int nr_running, *h;\n\
                    char comm[16]; u32 flag : 3;\n};";
        let Decl::Struct(s) = parse_definition(text).unwrap() else {
            panic!("not a struct")
        };
        assert_eq!(s.name, "cfs_rq");
        let got: Vec<_> = s
            .members
            .iter()
            .map(|m| (m.name.as_str(), m.ty.as_str(), m.array, m.bits))
            .collect();
        assert_eq!(
            got,
            [
                ("load", "struct load_weight", None, None),
                ("runnable_weight", "unsigned long", None, None),
                ("nr_running", "unsigned int", None, None),
                ("h", "unsigned int *", None, None),
                ("comm", "char", Some(16), None),
                ("flag", "u32", None, Some(3)),
            ]
        );
    }

    #[test]
    fn reads_enums() {
        let Decl::Enum(e) = parse_definition("enum { A, B = 0x10, C };").unwrap() else {
            panic!("not an enum")
        };
        assert_eq!(e, [("A".into(), 0), ("B".into(), 16), ("C".into(), 17)]);
        assert!(parse_definition("struct x { int (*f)(void); };").is_err());
    }
}
