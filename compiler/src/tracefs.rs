//! Tracepoint knowledge from a tracefs tree: the list of events and each event's
//! `format` file, parsed into typed fields. The root is a parameter so tests can point
//! at committed fixtures instead of the live kernel.

use crate::types::Type;
use std::path::{Path, PathBuf};

/// One field of a tracepoint record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TpField {
    pub name: String,
    pub offset: u32,
    pub ty: FieldType,
    /// The C type as the format file spells it (`const char *`, `struct foo *`).
    pub ctype: String,
}

/// How a field is stored in the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldType {
    /// A scalar read directly from the record.
    Scalar(Type),
    /// An inline `char name[N]` array.
    CharArray(u32),
    /// `__data_loc char[]`: a u32 whose low 16 bits give the string's offset.
    DataLoc,
    /// An inline array of integers (`unsigned long args[6]`): `args->f[i]` reads one.
    Array { elem: Type, len: u32 },
}

/// Where tracepoint information comes from.
#[derive(Debug, Clone)]
pub struct TraceFs {
    root: PathBuf,
}

impl TraceFs {
    /// The live kernel's tracefs (`/sys/kernel/tracing`, or the debugfs path).
    pub fn system() -> Self {
        let primary = Path::new("/sys/kernel/tracing");
        let debugfs = Path::new("/sys/kernel/debug/tracing");
        let root = if !primary.join("events").exists() && debugfs.join("events").exists() {
            debugfs
        } else {
            primary
        };
        TraceFs {
            root: root.to_path_buf(),
        }
    }

    /// A tracefs-shaped directory (tests use committed fixtures).
    pub fn at(root: impl Into<PathBuf>) -> Self {
        TraceFs { root: root.into() }
    }

    /// Why tracepoint formats cannot be read at all, if they cannot.
    pub fn access_problem(&self) -> Option<String> {
        let events = self.root.join("events");
        match std::fs::read_dir(&events) {
            Ok(_) => None,
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Some(format!(
                "cannot read tracepoint formats in {}: permission denied (ebpfc needs root)",
                events.display()
            )),
            Err(_) => Some(format!("tracefs is not mounted at {}", self.root.display())),
        }
    }

    /// Every `category:name` the kernel offers.
    pub fn events(&self) -> Vec<(String, String)> {
        let text = std::fs::read_to_string(self.root.join("available_events")).unwrap_or_default();
        text.lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(c, n)| (c.to_string(), n.to_string()))
            .collect()
    }

    /// The parsed fields of one tracepoint, or `None` if it does not exist.
    pub fn fields(&self, category: &str, name: &str) -> Option<Vec<TpField>> {
        if !is_plain_name(category) || !is_plain_name(name) {
            return None;
        }
        let path = self
            .root
            .join("events")
            .join(category)
            .join(name)
            .join("format");
        let text = std::fs::read_to_string(path).ok()?;
        Some(parse_format(&text))
    }
}

fn is_plain_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Parses the `field:` lines of a tracepoint `format` file, skipping `common_*` fields.
pub fn parse_format(text: &str) -> Vec<TpField> {
    text.lines()
        .filter_map(parse_field_line)
        .filter(|f| !f.name.starts_with("common_"))
        .collect()
}

fn parse_field_line(line: &str) -> Option<TpField> {
    let mut decl = None;
    let (mut offset, mut size, mut signed) = (None, None, false);
    for part in line.trim().split(';') {
        let (key, value) = part.trim().split_once(':')?;
        match key {
            "field" => decl = Some(value.trim().to_string()),
            "offset" => offset = value.trim().parse::<u32>().ok(),
            "size" => size = value.trim().parse::<u32>().ok(),
            "signed" => signed = value.trim() == "1",
            _ => {}
        }
        if size.is_some() && offset.is_some() && decl.is_some() && key == "signed" {
            break;
        }
    }
    let decl = decl?;
    let (ctype, name, array) = split_declaration(&decl)?;
    let ty = field_type(&ctype, array, size?, signed);
    Some(TpField {
        name,
        offset: offset?,
        ty,
        ctype,
    })
}

/// Splits `const char * filename` / `char prev_comm[16]` into (type text, name, array len).
fn split_declaration(decl: &str) -> Option<(String, String, Option<u32>)> {
    let decl = decl.trim_end();
    let (head, array) = match decl.rfind('[').filter(|_| decl.ends_with(']')) {
        Some(i) => {
            let len = decl[i + 1..decl.len() - 1].trim();
            (&decl[..i], Some(len.parse::<u32>().unwrap_or(0)))
        }
        None => (decl, None),
    };
    let head = head.trim();
    let split = head.rfind([' ', '*'])?;
    let name = head[split + 1..].trim().to_string();
    Some((head[..split + 1].trim().to_string(), name, array))
}

fn field_type(ctype: &str, array: Option<u32>, size: u32, signed: bool) -> FieldType {
    if ctype.starts_with("__data_loc") {
        return FieldType::DataLoc;
    }
    let is_char = ctype.trim_start_matches("const ").trim() == "char";
    match array {
        // `char[N]` and arrays of bytes (`__u8 daddr[4]`) are read as their bytes.
        Some(len) if is_char || len == size => return FieldType::CharArray(size),
        Some(len) if len > 0 && matches!(size / len, 2 | 4 | 8) && size.is_multiple_of(len) => {
            let elem = Type::Int {
                size: (size / len) as u8,
                signed,
            };
            return FieldType::Array { elem, len };
        }
        Some(_) => return FieldType::Scalar(Type::U64),
        None => {}
    }
    if ctype.contains('*') {
        return FieldType::Scalar(pointer_type(ctype));
    }
    let size = match size {
        1 | 2 | 4 | 8 => size as u8,
        _ => 8,
    };
    FieldType::Scalar(Type::Int { size, signed })
}

/// The type of a pointer field such as `const char *const * argv`: one pointer level a
/// `*`, down to the integer type named before the first (`char`, `int`...; other
/// types are read as 64-bit integers).
fn pointer_type(ctype: &str) -> Type {
    let base: Vec<&str> = ctype[..ctype.find('*').unwrap_or(ctype.len())]
        .split_whitespace()
        .filter(|w| !matches!(*w, "const" | "volatile"))
        .collect();
    let mut ty = crate::types::int_type_named(&base.join(" ")).unwrap_or(Type::U64);
    for _ in 0..ctype.matches('*').count() {
        ty = Type::Ptr {
            pointee: Box::new(ty),
            user: false,
        };
    }
    ty
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPENAT: &str = "name: sys_enter_openat\nformat:\n\
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n\
\tfield:const char * filename;\toffset:24;\tsize:8;\tsigned:0;\n\
\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;\n\
\tfield:__data_loc char[] name;\toffset:8;\tsize:4;\tsigned:0;\n";

    #[test]
    fn parses_fields_and_skips_common_ones() {
        let fields = parse_format(OPENAT);
        let names: Vec<_> = fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["__syscall_nr", "filename", "prev_comm", "name"]);
        assert_eq!(
            fields[0].ty,
            FieldType::Scalar(Type::Int {
                size: 4,
                signed: true
            })
        );
        assert!(matches!(fields[1].ty, FieldType::Scalar(Type::Ptr { .. })));
        assert_eq!(fields[1].offset, 24);
        assert_eq!(fields[2].ty, FieldType::CharArray(16));
        assert_eq!(fields[3].ty, FieldType::DataLoc);
    }

    #[test]
    fn pointer_fields_keep_every_level() {
        let fields = parse_format(
            "\tfield:const char *const * argv;\toffset:24;\tsize:8;\tsigned:0;\n\
             \tfield:int * upeer_addrlen;\toffset:32;\tsize:8;\tsigned:0;\n",
        );
        let char_ptr = Type::Ptr {
            pointee: Box::new(Type::Int {
                size: 1,
                signed: true,
            }),
            user: false,
        };
        let argv = Type::Ptr {
            pointee: Box::new(char_ptr),
            user: false,
        };
        assert_eq!(fields[0].ty, FieldType::Scalar(argv));
        let int_ptr = Type::Ptr {
            pointee: Box::new(Type::Int {
                size: 4,
                signed: true,
            }),
            user: false,
        };
        assert_eq!(fields[1].ty, FieldType::Scalar(int_ptr));
    }

    #[test]
    fn byte_arrays_are_read_as_bytes() {
        let fields = parse_format(
            "\tfield:__u8 daddr[4];\toffset:36;\tsize:4;\tsigned:0;\n\
             \tfield:__u32 ids[2];\toffset:40;\tsize:8;\tsigned:0;\n",
        );
        assert_eq!(fields[0].ty, FieldType::CharArray(4));
        assert_ne!(fields[1].ty, FieldType::CharArray(8));
    }
}
