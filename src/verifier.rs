//! Verifier rejections as source diagnostics: when the object says which statement the
//! rejected instruction comes from, the error points there, with the verifier's own
//! reason and a hint for the limits users hit most; the raw log only with `-v`.

use codespan_reporting::diagnostic::{Diagnostic, Label};
use ebpfc_runtime::{Rejection, RuntimeError};

/// The rendered diagnostic for `err`, if it is a verifier rejection with a known
/// statement in `text` (named `name`).
pub fn render(err: &RuntimeError, name: &str, text: &str, verbose: bool) -> Option<String> {
    let RuntimeError::Verifier(rejection) = err else {
        return None;
    };
    let Rejection {
        probe,
        reason,
        log,
        message,
        spans,
        ..
    } = rejection.as_ref();
    // A span inside the text, without trailing blanks (a loop's head ends at its body).
    let in_text = |&(start, end): &(u32, u32)| {
        let range = start as usize..end as usize;
        let fits = range.start < range.end && range.end <= text.len();
        let text = text.get(range.clone()).filter(|_| fits)?;
        Some(range.start..range.start + text.trim_end().len())
    };
    let mut ranges = spans.iter().filter_map(in_text);
    let primary = Label::primary((), ranges.next()?);
    let mut labels = vec![primary.with_message(format!("rejected here: {message}"))];
    labels.extend(ranges.map(|r| Label::secondary((), r).with_message("and here")));
    let mut notes: Vec<String> = hint(message).into_iter().map(str::to_string).collect();
    if verbose {
        notes.push(format!("verifier log (last lines):\n{log}"));
    } else {
        notes.push("run with -v to see the end of the verifier log".to_string());
    }
    let diag = Diagnostic::error()
        .with_message(format!(
            "the kernel verifier rejected probe {probe}: {reason}"
        ))
        .with_labels(labels)
        .with_notes(notes);
    Some(ebpfc_parser::render(name, text, &[diag]))
}

/// Advice for the verifier messages whose usual cause in a program is known.
fn hint(message: &str) -> Option<&'static str> {
    let loops = [
        "too large",
        "infinite loop",
        "back-edge",
        "jump out of range",
    ];
    if loops.iter().any(|m| message.contains(m)) {
        return Some(
            "the verifier follows every path of a program, up to 1 million instructions: \
             a loop here may not end on some path, or the code is too long; give loops a \
             bound the verifier can see (`while ($i < 100)`, `for ($i : 0..100)`) and \
             keep `unroll` counts small",
        );
    }
    if message.contains("stack") {
        return Some(
            "eBPF programs have 512 bytes of stack; use fewer or shorter strings and tuples here",
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejection(spans: &[(u32, u32)], message: &str) -> RuntimeError {
        RuntimeError::Verifier(Box::new(Rejection {
            probe: "BEGIN".into(),
            program: "probe0".into(),
            reason: "no space left".into(),
            log: "1: (07) r3 += 1".into(),
            message: message.into(),
            spans: spans.to_vec(),
        }))
    }

    #[test]
    fn a_rejection_with_a_span_points_at_the_statement() {
        let text = "BEGIN { while (1) { $i++; } }";
        let err = rejection(
            &[(20, 24)],
            "BPF program is too large. Processed 1000001 insn",
        );
        let out = render(&err, "stdin", text, false).expect("rendered");
        assert!(out.contains("stdin:1:21"), "{out}");
        assert!(
            out.contains("^^^^ rejected here: BPF program is too large"),
            "{out}"
        );
        assert!(out.contains("give loops a bound"), "{out}");
        assert!(!out.contains("r3 += 1"), "{out}");
        let verbose = render(&err, "stdin", text, true).expect("rendered");
        assert!(verbose.contains("r3 += 1"), "{verbose}");
    }

    #[test]
    fn a_rejection_without_a_span_is_left_to_the_plain_error() {
        let err = rejection(&[], "R0 !read_ok");
        assert!(render(&err, "stdin", "BEGIN {}", false).is_none());
        let outside = rejection(&[(40, 50)], "R0 !read_ok");
        assert!(render(&outside, "stdin", "BEGIN {}", false).is_none());
    }
}
