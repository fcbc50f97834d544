//! Bytes 0x80 to 0xff that are not UTF-8, carried in text: escapes in string literals
//! (`"\xff"`, `"\377"`), which the parser decodes to private-use characters and the
//! compiler and runtime turn back into the bytes, and the bytes of strings the runtime
//! prints, which it renders as text with [`text_of`] and writes with [`literal_bytes`].

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

/// `bytes` as text: its UTF-8 as it is, every other byte as [`raw_byte_char`] (so
/// [`literal_bytes`] gives `bytes` back).
pub fn text_of(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        out.extend(chunk.invalid().iter().map(|b| raw_byte_char(*b)));
    }
    out
}

/// Whether `text` may hold a [`raw_byte_char`] (all start with the byte 0xef).
pub fn has_raw_bytes(text: &str) -> bool {
    text.as_bytes().contains(&0xef)
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
        let raw = b"x\xff\xc3\xa9\x80y";
        assert_eq!(literal_bytes(&text_of(raw)), raw);
        assert!(has_raw_bytes(&text_of(raw)) && !has_raw_bytes("abc"));
    }
}
