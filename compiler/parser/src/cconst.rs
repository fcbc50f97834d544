//! C integer constant expressions as they appear in script definitions (enumerator
//! values such as `1 << 3` or `A | B`, array lengths): integers in C's notations, names
//! already defined, parentheses, unary `- ~ !` and the binary operators (`&&` and `||`
//! included) with C's precedence. Arithmetic is 64-bit and wraps; division by zero is not a constant.

/// The value of `text`, reading names through `name`; `None` if it is not a constant
/// expression.
pub fn eval(text: &str, name: &dyn Fn(&str) -> Option<i64>) -> Option<i64> {
    let tokens = tokenize(text)?;
    let mut p = Parser {
        tokens,
        at: 0,
        name,
    };
    let value = p.binary(0)?;
    (p.at == p.tokens.len()).then_some(value)
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Int(i64),
    Name(String),
    Op(&'static str),
}

/// Operators, longest first so that `<<` is not read as `<`.
const OPS: [&str; 22] = [
    "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "<", ">", "+", "-", "*", "/", "%", "&", "|",
    "^", "~", "!", "(", ")",
];

fn tokenize(text: &str) -> Option<Vec<Token>> {
    let mut out = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let word: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !word.is_empty() {
            out.push(if word.starts_with(|c: char| c.is_ascii_digit()) {
                Token::Int(int_literal(&word)?)
            } else {
                Token::Name(word.clone())
            });
            rest = &rest[word.len()..];
        } else {
            let op = OPS.iter().find(|op| rest.starts_with(**op))?;
            out.push(Token::Op(op));
            rest = &rest[op.len()..];
        }
        rest = rest.trim_start();
    }
    Some(out)
}

/// A decimal, hex or octal integer with optional C suffixes (`u`, `l`).
pub fn int_literal(text: &str) -> Option<i64> {
    let digits = text.trim_end_matches(['u', 'U', 'l', 'L']);
    let value = if let Some(hex) = digits.strip_prefix("0x").or(digits.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        u64::from_str_radix(&digits[1..], 8).ok()?
    } else {
        digits.parse().ok()?
    };
    Some(value as i64)
}

/// Binary operators by precedence level, loosest first.
const LEVELS: [&[&str]; 10] = [
    &["||"],
    &["&&"],
    &["|"],
    &["^"],
    &["&"],
    &["==", "!="],
    &["<", ">", "<=", ">="],
    &["<<", ">>"],
    &["+", "-"],
    &["*", "/", "%"],
];

struct Parser<'a> {
    tokens: Vec<Token>,
    at: usize,
    name: &'a dyn Fn(&str) -> Option<i64>,
}

impl Parser<'_> {
    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn peek_op(&self) -> Option<&'static str> {
        match self.tokens.get(self.at) {
            Some(Token::Op(op)) => Some(op),
            _ => None,
        }
    }

    fn binary(&mut self, level: usize) -> Option<i64> {
        let Some(ops) = LEVELS.get(level) else {
            return self.unary();
        };
        let mut lhs = self.binary(level + 1)?;
        while let Some(op) = self.peek_op().filter(|op| ops.contains(op)) {
            self.at += 1;
            let rhs = self.binary(level + 1)?;
            lhs = apply(op, lhs, rhs)?;
        }
        Some(lhs)
    }

    fn unary(&mut self) -> Option<i64> {
        match self.next()? {
            Token::Int(v) => Some(v),
            Token::Name(n) => (self.name)(&n),
            Token::Op("-") => Some(self.unary()?.wrapping_neg()),
            Token::Op("+") => self.unary(),
            Token::Op("~") => Some(!self.unary()?),
            Token::Op("!") => Some(i64::from(self.unary()? == 0)),
            Token::Op("(") => {
                let v = self.binary(0)?;
                (self.next()? == Token::Op(")")).then_some(v)
            }
            Token::Op(_) => None,
        }
    }
}

fn apply(op: &str, a: i64, b: i64) -> Option<i64> {
    Some(match op {
        "||" => i64::from(a != 0 || b != 0),
        "&&" => i64::from(a != 0 && b != 0),
        "|" => a | b,
        "^" => a ^ b,
        "&" => a & b,
        "==" => i64::from(a == b),
        "!=" => i64::from(a != b),
        "<" => i64::from(a < b),
        ">" => i64::from(a > b),
        "<=" => i64::from(a <= b),
        ">=" => i64::from(a >= b),
        "<<" => a.wrapping_shl(u32::try_from(b).ok()?),
        ">>" => a.wrapping_shr(u32::try_from(b).ok()?),
        "+" => a.wrapping_add(b),
        "-" => a.wrapping_sub(b),
        "*" => a.wrapping_mul(b),
        "/" => a.checked_div(b)?,
        "%" => a.checked_rem(b)?,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> Option<i64> {
        eval(text, &|n| (n == "A").then_some(4))
    }

    #[test]
    fn operators_follow_c_precedence() {
        assert_eq!(value("1 << 2 | 1"), Some(5));
        assert_eq!(value("1 + 2 * 3 - 4 / 2"), Some(5));
        assert_eq!(value("(1 + 2) * 3"), Some(9));
        assert_eq!(value("-A + ~0"), Some(-5));
        assert_eq!(value("0x10 | 010 | 3u"), Some(27));
        assert_eq!(value("A == 4 && 1"), Some(1));
        assert_eq!(value("0 || A < 3"), Some(0));
        assert_eq!(value("B"), None);
        assert_eq!(value("1 / 0"), None);
        assert_eq!(value("(1"), None);
        assert_eq!(value("1 2"), None);
    }
}
