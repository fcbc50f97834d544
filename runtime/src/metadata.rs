//! Reading the `.ebpfc` metadata section out of an ELF object.
//!
//! Invariant: a [`Metadata`] returned here has the supported schema version; whether
//! the programs and maps it names exist is checked where they are opened.

use ebpfc_stdlib::meta::{Metadata, SECTION};
use object::{Object, ObjectSection};

use crate::error::RuntimeError;

/// Parses `elf` and decodes its `.ebpfc` section.
pub fn read_metadata(elf: &[u8]) -> Result<Metadata, RuntimeError> {
    let file = object::File::parse(elf)
        .map_err(|e| RuntimeError::NotAnObject(format!("cannot parse the ELF file: {e}")))?;
    let section = file.section_by_name(SECTION).ok_or_else(|| {
        RuntimeError::NotAnObject(format!(
            "the object has no `{SECTION}` section (was it produced by ebpfc?)"
        ))
    })?;
    let bytes = section
        .data()
        .map_err(|e| RuntimeError::NotAnObject(format!("cannot read `{SECTION}`: {e}")))?;
    Metadata::from_bytes(bytes).map_err(RuntimeError::Metadata)
}

#[cfg(test)]
mod tests {
    use ebpfc_stdlib::meta::{Attach, Probe, VERSION};
    use object::write::Object as WriteObject;
    use object::{Architecture, BinaryFormat, Endianness, SectionKind};

    use super::*;

    fn elf_with_section(name: &str, data: &[u8]) -> Vec<u8> {
        let mut obj = WriteObject::new(BinaryFormat::Elf, Architecture::Bpf, Endianness::Little);
        let id = obj.add_section(Vec::new(), name.as_bytes().to_vec(), SectionKind::Metadata);
        obj.append_section_data(id, data, 1);
        obj.write().unwrap()
    }

    fn sample() -> Metadata {
        Metadata {
            version: VERSION,
            probes: vec![Probe {
                program: "p0".into(),
                name: "BEGIN".into(),
                attach: Attach::Begin,
                lines: Vec::new(),
                loops: Vec::new(),
            }],
            ..Default::default()
        }
    }

    #[test]
    fn reads_the_metadata_section() {
        let meta = sample();
        let elf = elf_with_section(SECTION, &meta.to_bytes());
        assert_eq!(read_metadata(&elf).unwrap(), meta);
    }

    #[test]
    fn rejects_non_elf_input() {
        let err = read_metadata(b"#!/bin/sh\n").unwrap_err();
        assert!(matches!(err, RuntimeError::NotAnObject(_)), "{err}");
    }

    #[test]
    fn rejects_objects_without_the_section() {
        let elf = elf_with_section(".text", &[0; 8]);
        assert!(read_metadata(&elf)
            .unwrap_err()
            .to_string()
            .contains(".ebpfc"));
    }

    #[test]
    fn rejects_other_schema_versions() {
        let meta = Metadata {
            version: VERSION + 1,
            ..sample()
        };
        let elf = elf_with_section(SECTION, &meta.to_bytes());
        assert!(matches!(
            read_metadata(&elf),
            Err(RuntimeError::Metadata(_))
        ));
    }
}
