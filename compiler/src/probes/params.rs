//! Positional parameters inside attach points (`interval:ms:$1`, `uprobe:$1:main`):
//! each `$N` is replaced by the Nth parameter's text before the probe is resolved.

use crate::error::{error, Diagnostics};
use ebpfc_parser::ast::AttachPoint;

/// `attach` with every `$N` in its text replaced; a missing parameter is an error.
pub fn substitute_params(
    attach: &[AttachPoint],
    params: &[String],
    diags: &mut Diagnostics,
) -> Vec<AttachPoint> {
    attach
        .iter()
        .map(|ap| match substitute(&ap.raw, params) {
            Ok(raw) if raw == ap.raw => ap.clone(),
            Ok(_) => AttachPoint {
                provider: ap.provider.clone(),
                parts: ap
                    .parts
                    .iter()
                    .map(|p| substitute(p, params).unwrap_or_default())
                    .collect(),
                raw: substitute(&ap.raw, params).unwrap_or_default(),
                span: ap.span,
            },
            Err(n) => {
                let msg = format!(
                    "'{}' uses ${n}, but {} positional parameter(s) were given",
                    ap.raw,
                    params.len()
                );
                diags.push(error(msg, ap.span, "missing parameter"));
                ap.clone()
            }
        })
        .collect()
}

/// `text` with each `$N` replaced by `params[N - 1]`, or the first N that is missing.
fn substitute(text: &str, params: &[String]) -> Result<String, usize> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let digits = rest[at + 1..]
            .find(|c: char| !c.is_ascii_digit())
            .map_or(rest.len() - at - 1, |n| n);
        if digits == 0 {
            out.push('$');
            rest = &rest[at + 1..];
            continue;
        }
        let n: usize = rest[at + 1..at + 1 + digits].parse().map_err(|_| 0usize)?;
        let value = n.checked_sub(1).and_then(|i| params.get(i)).ok_or(n)?;
        out.push_str(value);
        rest = &rest[at + 1 + digits..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::substitute;

    #[test]
    fn parameters_replace_their_numbers() {
        let params = ["100".to_string(), "/bin/bash".to_string()];
        assert_eq!(
            substitute("interval:ms:$1", &params),
            Ok("interval:ms:100".into())
        );
        assert_eq!(
            substitute("uprobe:$2:main", &params),
            Ok("uprobe:/bin/bash:main".into())
        );
        assert_eq!(
            substitute("kprobe:vfs_read", &params),
            Ok("kprobe:vfs_read".into())
        );
        assert_eq!(substitute("interval:ms:$3", &params), Err(3));
        assert_eq!(substitute("interval:ms:$0", &params), Err(0));
    }
}
