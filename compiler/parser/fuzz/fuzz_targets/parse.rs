//! Fuzzes the whole front end: any UTF-8 text must parse or fail with diagnostics that
//! render, without a panic, a hang or a stack overflow. Parsed programs are dumped.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|src: &str| {
    match ebpfc_parser::parse(src) {
        Ok(program) => {
            let _ = ebpfc_parser::dump(&program);
        }
        Err(diags) => {
            assert!(!diags.is_empty());
            let _ = ebpfc_parser::render("fuzz.bt", src, &diags);
        }
    }
});
