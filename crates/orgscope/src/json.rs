//! JSON string bytes scanned eight at a time, for the request reader and the decision writer.

/// The index of the first byte in `bytes` that a JSON string cannot hold as itself: a control
/// character, `"` or `\\`. A byte-wise loop was most of the cost of writing a decision and of
/// reading a request, their strings being mostly plain.
pub(crate) fn first_special(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = ONES << 7;
    // A high bit set where a byte of `x` is below `n` (n ≤ 128): exact for the lowest such
    // byte (a borrow only carries upwards, so a false mark has a true one below it).
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH;
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let Ok(word) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        let x = u64::from_le_bytes(word);
        let marks = below(x, 0x20)
            | below(x ^ (ONES * u64::from(b'"')), 1)
            | below(x ^ (ONES * u64::from(b'\\')), 1);
        if marks != 0 {
            return Some(at + marks.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    (chunks.remainder().iter())
        .position(|&b| b < 0x20 || b == b'"' || b == b'\\')
        .map(|i| at + i)
}

#[cfg(test)]
mod tests {
    use super::first_special;

    proptest::proptest! {
        #[test]
        fn first_special_is_where_serde_json_escapes_first(s in "[a-zé ]{0,20}([\\x00-\\x1f\\x7f\"\\\\]|)[a-z\\u{2028}\"\\\\ ]{0,20}") {
            let first = s.char_indices().find(|(_, c)| serde_json::to_string(&c.to_string()).unwrap() != format!("\"{c}\""));
            proptest::prop_assert_eq!(first_special(s.as_bytes()), first.map(|(i, _)| i));
        }
    }
}
