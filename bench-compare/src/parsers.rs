//! The request intake's visitors driven by three JSON parsers, for issue 13's parser question.
//!
//! Each reads one description into an [`orgscope::Request`] (owned strings; the engine's
//! borrowed `Request<Str>` is crate-private) through the same `Deserialize` impls, so any
//! difference in cost or in what is accepted is the parser's.

use orgscope::Request;

/// A JSON parser the intake could use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parser {
    /// `serde_json::from_str`, what the intake uses.
    SerdeJson,
    /// `sonic_rs::from_str`.
    SonicRs,
    /// `simd_json::serde::from_slice_with_buffers` on a copy (it rewrites its input in place),
    /// its buffers kept from one description to the next.
    SimdJson,
}

impl Parser {
    /// All of them, serde_json first.
    pub const ALL: [Parser; 3] = [Parser::SerdeJson, Parser::SonicRs, Parser::SimdJson];

    /// Its crate's name.
    pub fn name(self) -> &'static str {
        match self {
            Parser::SerdeJson => "serde_json",
            Parser::SonicRs => "sonic-rs",
            Parser::SimdJson => "simd-json",
        }
    }

    /// The parser named `name`.
    pub fn named(name: &str) -> Option<Parser> {
        Parser::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Reads `bytes` as the intake does once its checks have passed: one UTF-8 check of the
    /// whole text, then the parser (simd-json checks UTF-8 itself, on a copy in `scratch`).
    pub fn request(self, bytes: &[u8], scratch: &mut Scratch) -> Result<Request, String> {
        let text = || std::str::from_utf8(bytes).map_err(|e| e.to_string());
        match self {
            Parser::SerdeJson => serde_json::from_str(text()?).map_err(|e| e.to_string()),
            Parser::SonicRs => sonic_rs::from_str(text()?).map_err(|e| e.to_string()),
            Parser::SimdJson => {
                scratch.text.clear();
                scratch.text.extend_from_slice(bytes);
                simd_json::serde::from_slice_with_buffers(&mut scratch.text, &mut scratch.buffers)
                    .map_err(|e| e.to_string())
            }
        }
    }

    /// Whether the parser alone accepts `bytes` as one JSON document (its own UTF-8 check, no
    /// visitor of ours): for the cases the intake refuses before any parser sees them.
    pub fn accepts_raw(self, bytes: &[u8]) -> bool {
        use serde::de::IgnoredAny;
        match self {
            Parser::SerdeJson => serde_json::from_slice::<IgnoredAny>(bytes).is_ok(),
            Parser::SonicRs => sonic_rs::from_slice::<IgnoredAny>(bytes).is_ok(),
            Parser::SimdJson => {
                simd_json::serde::from_slice::<IgnoredAny>(&mut bytes.to_vec()).is_ok()
            }
        }
    }
}

/// What simd-json keeps from one description to the next: its copy of the text, its buffers.
#[derive(Default)]
pub struct Scratch {
    text: Vec<u8>,
    buffers: simd_json::Buffers,
}
