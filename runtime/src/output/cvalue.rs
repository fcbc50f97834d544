//! C structs and arrays copied from memory: their members decoded (bitfields included)
//! and printed as bpftrace prints them: `{ .a = 1, .b = [1,2] }` as values,
//! `{.a=1,.b=[1,2]}` in map keys, and `{ "a": 1, "b": [1,2] }` in JSON.

use ebpfc_stdlib::meta::{Bits, Member, Ty};

use super::decode::{read_u64, Datum, IntRule};
use super::symbols::Symbols;
use super::value::{join, join_bytes, json_fields};

/// Where a value is printed: map keys print structs compactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    Key,
    Value,
}

/// Decodes the members of a struct stored at `offset`.
pub(super) fn members(
    members: &[Member],
    bytes: &[u8],
    offset: usize,
    rule: IntRule,
    syms: &dyn Symbols,
) -> Datum {
    let fields = members.iter().map(|m| {
        let at = offset + m.offset as usize;
        let value = match m.bits {
            Some(bits) => bitfield(bits, &m.ty, bytes, at),
            None => Datum::decode(&m.ty, bytes, at, rule, syms),
        };
        (m.name.clone(), value)
    });
    Datum::Struct(fields.collect())
}

/// The bitfield `bits` of integer type `ty` starting at byte `at`.
fn bitfield(bits: Bits, ty: &Ty, bytes: &[u8], at: usize) -> Datum {
    let span = (bits.shift + bits.width).div_ceil(8) as usize;
    let raw = read_u64(bytes, at, span) >> bits.shift.min(63);
    // Shift the field to the top, then back down: arithmetically when it is signed.
    let up = 64 - bits.width.clamp(1, 64);
    match ty {
        Ty::Int { signed: true, .. } => Datum::Signed(((raw << up) as i64) >> up),
        _ => Datum::Unsigned((raw << up) >> up),
    }
}

/// Text of a struct's members: `{ .a = 1, .b = 2 }`, or `{.a=1,.b=2}` in a key.
pub(super) fn struct_text(fields: &[(String, Datum)], place: Place, out: &mut Vec<u8>) {
    let (open, sep, assign, close): (&[u8], &[u8], &[u8], &[u8]) = match place {
        Place::Key => (b"{", b",", b"=", b"}"),
        Place::Value => (b"{ ", b", ", b" = ", b" }"),
    };
    out.extend_from_slice(open);
    join_bytes(out, fields, sep, |(name, value), out| {
        out.push(b'.');
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(assign);
        value.text_bytes(place, out);
    });
    out.extend_from_slice(close);
}

/// Text of an array's elements: `[1,2,3]`.
pub(super) fn array_text(items: &[Datum], place: Place, out: &mut Vec<u8>) {
    out.push(b'[');
    join_bytes(out, items, b",", |item, out| item.text_bytes(place, out));
    out.push(b']');
}

/// JSON of a struct's members: `{ "a": 1, "b": 2 }`.
pub(super) fn struct_json(fields: &[(String, Datum)], out: &mut String) {
    out.push_str("{ ");
    json_fields(fields, out);
    out.push_str(" }");
}

/// JSON of an array's elements: `[1,2,3]`.
pub(super) fn array_json(items: &[Datum], out: &mut String) {
    out.push('[');
    join(out, items, ",", Datum::json);
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(shift: u32, width: u32, signed: bool, bytes: &[u8]) -> Datum {
        let ty = Ty::Int { size: 4, signed };
        bitfield(Bits { shift, width }, &ty, bytes, 0)
    }

    /// Unsigned and signed bitfields over the bytes `05 0f f0 ff`.
    #[test]
    fn bitfields_are_masked_and_sign_extended() {
        let bytes = [0x05, 0x0f, 0xf0, 0xff];
        assert_eq!(field(0, 3, false, &bytes), Datum::Unsigned(5));
        assert_eq!(field(3, 5, false, &bytes[..1]), Datum::Unsigned(0));
        assert_eq!(field(0, 4, true, &bytes[1..]), Datum::Signed(-1));
        // Bits 4..16 of 0xfff00f are 0xf00: -256 as a signed 12-bit number.
        assert_eq!(field(4, 12, true, &bytes[1..]), Datum::Signed(-256));
        assert_eq!(field(4, 4, false, &bytes[1..]), Datum::Unsigned(0));
    }

    #[test]
    fn keys_print_compactly() {
        let value = Datum::Struct(vec![
            ("a".into(), Datum::Signed(-1)),
            (
                "b".into(),
                Datum::Array(vec![Datum::Unsigned(1), Datum::Unsigned(2)]),
            ),
            ("c".into(), Datum::Str(b"x y".to_vec())),
        ]);
        let text = |place| {
            let mut out = Vec::new();
            value.text_bytes(place, &mut out);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(text(Place::Key), "{.a=-1,.b=[1,2],.c=x y}");
        assert_eq!(text(Place::Value), "{ .a = -1, .b = [1,2], .c = x y }");
        let mut json = String::new();
        value.json(&mut json);
        assert_eq!(json, r#"{ "a": -1, "b": [1,2], "c": "x y" }"#);
    }
}
