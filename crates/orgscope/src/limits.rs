//! Resource limits: how large a policy or a request may be before it is refused with a clear
//! error instead of costing unbounded time or memory. The policy-side checks are in
//! [`crate::check::limits`].

/// Every limit orgscope enforces. The defaults suit a gateway; each can be changed from the
/// crate (`Policy::from_source_with`, `Policy::from_file_with`) and from the CLI (`--max-*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of one policy file.
    pub max_policy_bytes: usize,
    /// Top-level declarations plus properties in one policy.
    pub max_declarations: usize,
    /// Links in the longest `inherit` chain (invoice_item → invoice → account is 2).
    pub max_inheritance_depth: usize,
    /// Steps the checker may spend looking for overlapping routes and endpoints in one policy
    /// (a step compares one path segment).
    pub max_overlap_steps: usize,
    /// Bytes of one request description (one NDJSON line or one document).
    pub max_request_bytes: usize,
    /// Nesting of arrays and objects in a request description.
    pub max_json_depth: usize,
    /// Bytes of one org header (all its values), unless the policy sets a smaller `max_length`.
    pub max_header_bytes: usize,
    /// Orgs named in one org header, unless the policy sets a smaller `max_items`.
    pub max_header_items: usize,
    /// Objects created by one request.
    pub max_objects: usize,
    /// Entities in one request description.
    pub max_request_entities: usize,
    /// Entities in one `--entities` file.
    pub max_file_entities: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

impl Limits {
    /// The defaults.
    pub const DEFAULT: Limits = Limits {
        max_policy_bytes: 16 << 20,
        max_declarations: 1_000_000,
        max_inheritance_depth: 32,
        max_overlap_steps: 5_000_000,
        max_request_bytes: 1 << 20,
        max_json_depth: 64,
        max_header_bytes: 8 << 10,
        max_header_items: 1_000,
        max_objects: 1_000,
        max_request_entities: 10_000,
        max_file_entities: 50_000_000,
    };
}

/// The deepest nesting of arrays and objects in JSON text, stopping early past `limit`.
/// Brackets inside strings do not count.
pub(crate) fn json_depth_exceeds(text: &[u8], limit: usize) -> bool {
    // Depth cannot exceed the number of opening brackets: count them first (a loop the
    // compiler vectorizes: `[` and `{` differ in one bit, so one compare finds both), and scan
    // properly only when that could be over the limit.
    // Counted in byte-wide lanes, 255 bytes at a time, so no lane overflows.
    let opening: usize = text
        .chunks(255)
        .map(|c| usize::from(c.iter().fold(0u8, |n, &b| n + u8::from(b | 0x20 == b'{'))))
        .sum();
    if opening <= limit {
        return false;
    }
    let mut depth = 0usize;
    for (_, b) in outside_strings(text) {
        match b {
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// The bytes of JSON text that are not inside a string (an opening quote is), with their
/// offsets.
pub(crate) fn outside_strings(text: &[u8]) -> impl Iterator<Item = (usize, u8)> + '_ {
    let (mut in_string, mut escaped) = (false, false);
    text.iter().enumerate().filter_map(move |(at, &b)| {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            return None;
        }
        in_string = b == b'"';
        Some((at, b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_depth_ignores_brackets_in_strings() {
        assert!(!json_depth_exceeds(br#"{"a": "[[[[[[", "b": [1]}"#, 2));
        assert!(json_depth_exceeds(br#"{"a": [[[1]]]}"#, 3));
        assert!(!json_depth_exceeds(br#"{"a": "\"[[[[" }"#, 1));
    }
}
