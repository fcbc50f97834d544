//! A bounded, deterministic mutation test of the parser (`harness = false`, so its
//! summary line shows in every `cargo test` run).
//!
//! The corpus is every `examples/*.bt` and every snapshot case. Each input is a corpus
//! file after one to four seeded mutations (tokens deleted, duplicated, swapped,
//! inserted or replaced; characters deleted, duplicated or inserted), plus a few
//! pathological inputs (10,000 nested parentheses, deep braces). Inputs are capped at
//! [`MAX_INPUT`] bytes: the parser is linear in its input, so the cap bounds the time
//! per input. Every input must parse or fail without a panic, on a thread with a small
//! stack; a parsed program must dump, and every diagnostic must point inside the source
//! and render. Failing inputs are written to `CARGO_TARGET_TMPDIR/mutation/`.

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// How many mutated inputs are parsed.
const MUTANTS: usize = 20_000;
/// The largest input parsed, in bytes.
const MAX_INPUT: usize = 16 * 1024;
/// The parser runs on a thread with this stack, the size of a libtest thread's.
const STACK: usize = 2 << 20;
/// At most this many failing inputs are kept and shown.
const KEEP: usize = 5;

/// Text inserted by mutations, besides tokens taken from the corpus itself.
const PIECES: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ";",
    ",",
    "/",
    ":",
    "?",
    "=",
    "==",
    "+=",
    "->",
    ".",
    "..",
    "\"",
    "'",
    "#",
    "#define X 1\n",
    "/*",
    "*/",
    "//",
    "\n",
    "$x",
    "@m",
    "@",
    "$1",
    "$#",
    "0x",
    "1e",
    "5ms",
    "1.5",
    "if",
    "else",
    "while",
    "for",
    "unroll",
    "let",
    "macro",
    "fn",
    "config",
    "struct",
    "return",
    "break",
    "sizeof",
    "offsetof",
    "(uint32)",
    "(struct x *)",
    "(sector_t)",
    "é",
    "\u{feff}",
    "\\",
    "`",
    "BEGIN",
    "kprobe:",
    "uprobe:/bin/x:f",
    "_",
    "0",
    "99999999999999999999999",
    "-",
    "*",
    "&",
    "!",
    "~",
    "++",
    "--",
    "name=",
    "()",
    "{ 1 }",
];

/// A small deterministic generator (xorshift64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// What running the inputs found.
#[derive(Default)]
struct Outcome {
    tried: usize,
    panics: usize,
    kept: Vec<(String, String)>,
}

fn main() {
    if filtered_out() {
        eprintln!("mutation: skipped (filtered out)");
        return;
    }
    let corpus = corpus();
    assert!(!corpus.is_empty(), "no corpus files found");
    let outcome = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || run(&corpus))
        .expect("spawn the mutation thread")
        .join()
        .expect("the mutation driver itself failed");
    eprintln!(
        "mutation: tried {} inputs, {} panics",
        outcome.tried, outcome.panics
    );
    if outcome.panics > 0 {
        report(&outcome.kept);
        std::process::exit(1);
    }
}

/// Whether `cargo test FILTER` names other tests only: like libtest, run when no
/// filter is given or one is part of this test's name.
fn filtered_out() -> bool {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let filters: Vec<&String> = args
        .iter()
        .enumerate()
        .filter(|(i, a)| !a.starts_with('-') && (*i == 0 || args[i - 1] != "--skip"))
        .map(|(_, a)| a)
        .collect();
    !filters.is_empty() && !filters.iter().any(|f| "mutation".contains(f.as_str()))
}

/// The text of every corpus file, in a fixed order.
fn corpus() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut paths = bt_files(&root.join("examples"));
    let cases = root.join("snapshot-tests/cases");
    for stage in std::fs::read_dir(&cases).into_iter().flatten().flatten() {
        paths.extend(bt_files(&stage.path()));
    }
    paths.sort();
    paths
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect()
}

fn bt_files(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir).into_iter().flatten().flatten();
    entries
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "bt"))
        .collect()
}

fn run(corpus: &[String]) -> Outcome {
    panic::set_hook(Box::new(|_| {}));
    let mut outcome = Outcome::default();
    for input in pathological() {
        check(&input, &mut outcome);
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let words: Vec<&str> = corpus.iter().flat_map(|s| tokens(s)).collect();
    for i in 0..MUTANTS {
        let mut input = corpus[i % corpus.len()].clone();
        for _ in 0..1 + rng.below(4) {
            input = mutate(&input, &words, &mut rng);
        }
        check(&input, &mut outcome);
    }
    let _ = panic::take_hook();
    outcome
}

/// Inputs that stress depth and length limits.
fn pathological() -> Vec<String> {
    vec![
        format!(
            "BEGIN {{ $x = {}1{}; }}",
            "(".repeat(10_000),
            ")".repeat(10_000)
        ),
        format!("BEGIN {}", "{".repeat(10_000)),
        format!("BEGIN {{ $x = {}1; }}", "-".repeat(10_000)),
        format!("BEGIN {{ @x{} }}", "[1".repeat(5_000)),
        format!(
            "BEGIN {{ $x = {{ {}1{} }}; }}",
            "{ ".repeat(3_000),
            " }".repeat(3_000)
        ),
        "BEGIN { if (1) { } else ".repeat(1_000),
    ]
}

/// Parses one input, counting it and keeping it if anything panicked.
fn check(input: &str, outcome: &mut Outcome) {
    let input = truncate(input, MAX_INPUT);
    outcome.tried += 1;
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| parse_and_verify(input))) {
        outcome.panics += 1;
        if outcome.kept.len() < KEEP {
            outcome
                .kept
                .push((input.to_string(), panic_message(&payload)));
        }
    }
}

/// Parses `src`; dumps the program, or checks and renders every diagnostic.
fn parse_and_verify(src: &str) {
    match ebpfc_parser::parse(src) {
        Ok(program) => {
            let _ = ebpfc_parser::dump(&program);
        }
        Err(diags) => {
            assert!(!diags.is_empty(), "a failed parse has no diagnostic");
            for label in diags.iter().flat_map(|d| &d.labels) {
                let r = &label.range;
                let inside = r.start <= r.end && r.end <= src.len();
                assert!(inside, "label {r:?} outside the source");
                let on_chars = src.is_char_boundary(r.start) && src.is_char_boundary(r.end);
                assert!(on_chars, "label {r:?} splits a character");
            }
            let text = ebpfc_parser::render("mutant.bt", src, &diags);
            assert!(text.contains("error"), "rendered without 'error':\n{text}");
        }
    }
}

/// Applies one random mutation.
fn mutate(src: &str, words: &[&str], rng: &mut Rng) -> String {
    let mut toks = tokens(src);
    if toks.is_empty() {
        toks.push("");
    }
    let at = rng.below(toks.len());
    let piece = if rng.below(2) == 0 {
        PIECES[rng.below(PIECES.len())]
    } else {
        words[rng.below(words.len())]
    };
    match rng.below(8) {
        0 => drop(toks.remove(at)),
        1 => toks.insert(at, toks[at]),
        2 => {
            let other = rng.below(toks.len());
            toks.swap(at, other);
        }
        3 => toks.insert(at, piece),
        4 => toks[at] = piece,
        _ => return mutate_chars(src, piece, rng),
    }
    toks.concat()
}

/// Deletes, duplicates or inserts characters at a random place.
fn mutate_chars(src: &str, piece: &str, rng: &mut Rng) -> String {
    let chars: Vec<char> = src.chars().collect();
    let at = rng.below(chars.len() + 1);
    let end = (at + 1 + rng.below(8)).min(chars.len());
    let (before, rest) = chars.split_at(at);
    let (span, after) = rest.split_at(end.max(at) - at);
    let middle: String = match rng.below(3) {
        0 => String::new(),
        1 => span.iter().chain(span).collect(),
        _ => format!("{piece}{}", span.iter().collect::<String>()),
    };
    before.iter().collect::<String>() + &middle + &after.iter().collect::<String>()
}

/// Splits text into rough tokens: words, strings, whitespace runs, single characters.
fn tokens(src: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = src;
    while let Some(c) = rest.chars().next() {
        let len = match c {
            '"' => rest[1..].find(['"', '\n']).map_or(rest.len(), |n| n + 2),
            c if c.is_whitespace() => run_len(rest, char::is_whitespace),
            c if is_word(c) => run_len(rest, is_word),
            c => c.len_utf8(),
        };
        let len = len.min(rest.len());
        out.push(&rest[..len]);
        rest = &rest[len..];
    }
    out
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '@')
}

fn run_len(s: &str, keep: impl Fn(char) -> bool) -> usize {
    s.find(|c| !keep(c)).unwrap_or(s.len())
}

fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn panic_message(payload: &Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panic".to_string())
}

/// Prints the kept failing inputs and saves them for reproduction.
fn report(kept: &[(String, String)]) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mutation");
    let _ = std::fs::create_dir_all(&dir);
    for (i, (input, message)) in kept.iter().enumerate() {
        let path = dir.join(format!("failure-{i}.bt"));
        let _ = std::fs::write(&path, input);
        eprintln!("--- {} panicked: {message}\n{input:?}", path.display());
    }
}
