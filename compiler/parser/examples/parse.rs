//! Parses the files named on the command line and prints each AST dump, or the
//! rendered diagnostics. `-t` prints only timing and a pass/fail line per file.

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let timing = args.iter().any(|a| a == "-t");
    let mut failed = false;
    for path in args.iter().filter(|a| *a != "-t") {
        let src = match std::fs::read_to_string(path) {
            Ok(src) => src,
            Err(e) => {
                eprintln!("{path}: {e}");
                failed = true;
                continue;
            }
        };
        let start = Instant::now();
        let result = ebpfc_parser::parse(&src);
        let elapsed = start.elapsed();
        match (&result, timing) {
            (Ok(_), true) => println!("ok   {path} ({elapsed:?})"),
            (Ok(program), false) => print!("{}", ebpfc_parser::dump(program)),
            (Err(diags), _) => {
                failed = true;
                print!("{}", ebpfc_parser::render(path, &src, diags));
            }
        }
    }
    std::process::exit(i32::from(failed));
}
