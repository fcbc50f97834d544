//! Bytes 0x80 to 0xff written as escapes in string literals (`"\xff"`, `"\377"`): the
//! parser decodes them to private-use characters (a string literal is text), and the
//! compiler and runtime turn those back into the bytes when they build strings and
//! printf formats.

/// The character standing for byte `0x80 + n` is `RAW_BYTES + 0x80 + n`.
const RAW_BYTES: u32 = 0xF700;

/// The character that stands for byte `b` (at or above 0x80) in a decoded literal.
pub fn raw_byte_char(b: u8) -> char {
    char::from_u32(RAW_BYTES + u32::from(b)).unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// The bytes a decoded string literal stands for: its UTF-8, but for the characters
/// [`raw_byte_char`] gives, which are their bytes.
pub fn literal_bytes(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        match u32::from(c).checked_sub(RAW_BYTES) {
            Some(b @ 0x80..=0xff) => out.push(b as u8),
            _ => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_bytes_round_trip_and_text_stays_utf8() {
        let text: String = ['a', raw_byte_char(0xff), 'é', raw_byte_char(0x80)]
            .iter()
            .collect();
        assert_eq!(literal_bytes(&text), b"a\xff\xc3\xa9\x80");
    }
}
