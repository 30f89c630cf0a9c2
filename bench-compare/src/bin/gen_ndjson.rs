//! Writes an NDJSON batch for `orgscope eval`: the agreement requests of the Zuora policy
//! (allows and denies, queries and creates) cycled, each with its own `id`.
//!
//! Usage: `gen_ndjson LINES OUT_FILE`

use bench_compare::{zuora, World};
use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let lines: u64 = args
        .next()
        .and_then(|s| s.replace('_', "").parse().ok())
        .expect("usage: gen_ndjson LINES OUT_FILE");
    let out = args.next().expect("usage: gen_ndjson LINES OUT_FILE");
    let world = World::zuora();
    // Each request without its leading `{`, so that `{"id":N,` can be put in front.
    let bodies: Vec<String> = zuora::agreement()
        .iter()
        .map(|s| world.orgscope_json(s)[1..].to_string())
        .collect();
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(&out)?);
    for i in 0..lines {
        let body = &bodies[(i % bodies.len() as u64) as usize];
        writeln!(w, "{{\"id\":{i},{body}")?;
    }
    w.flush()
}
