//! The intake's cost under each JSON parser (issue 13): reads request descriptions into
//! `orgscope::Request` with serde_json, sonic-rs and simd-json (`bench_compare::parsers`).
//!
//! Usage:
//! - `json_intake time INPUT [ROUNDS]`: wall time per description, the parsers interleaved
//!   (their order rotated each round); prints each round and the median ratios to serde_json.
//! - `json_intake count PARSER INPUT N`: reads N descriptions with one parser, for callgrind
//!   (run twice with different N and divide the difference).
//!
//! INPUT is `seed` (the benchmark's seed query, `a_query`) or an NDJSON file (`gen_ndjson`'s mix).

use bench_compare::parsers::{Parser, Scratch};
use bench_compare::{zuora, World};
use std::hint::black_box;
use std::time::Instant;

const USAGE: &str = "usage: json_intake time INPUT [ROUNDS] | json_intake count PARSER INPUT N";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args[..] {
        ["time", input] => time(&docs(input), 9),
        ["time", input, rounds] => time(&docs(input), rounds.parse().expect(USAGE)),
        ["count", parser, input, n] => {
            let parser = Parser::named(parser).expect("parser: serde_json, sonic-rs or simd-json");
            let docs = docs(input);
            let n: usize = n.parse().expect(USAGE);
            let mut scratch = Scratch::default();
            for doc in docs.iter().cycle().take(n) {
                parse(parser, doc, &mut scratch);
            }
            println!("{n}");
        }
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    }
}

/// The descriptions to read: the seed query, or each line of a file.
fn docs(input: &str) -> Vec<Vec<u8>> {
    if input == "seed" {
        return vec![World::zuora().orgscope_json(&zuora::query()).into_bytes()];
    }
    let text = std::fs::read(input).expect("the NDJSON file");
    text.split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

/// One description read and dropped; every one of them must be valid.
fn parse(parser: Parser, doc: &[u8], scratch: &mut Scratch) {
    match parser.request(black_box(doc), scratch) {
        Ok(r) => drop(black_box(r)),
        Err(e) => panic!("{} refused a benchmark description: {e}", parser.name()),
    }
}

/// Nanoseconds per description for each parser, `rounds` times, interleaved.
fn time(docs: &[Vec<u8>], rounds: usize) {
    // At least 20,000 descriptions a turn, so that one turn lasts some milliseconds.
    let per_turn = docs.len().max(20_000);
    let mut scratch = Scratch::default();
    let mut ns: Vec<[f64; 3]> = Vec::new();
    for round in 0..rounds {
        let mut row = [0.0; 3];
        for k in 0..Parser::ALL.len() {
            let i = (round + k) % Parser::ALL.len();
            let start = Instant::now();
            for doc in docs.iter().cycle().take(per_turn) {
                parse(Parser::ALL[i], doc, &mut scratch);
            }
            row[i] = start.elapsed().as_nanos() as f64 / per_turn as f64;
        }
        println!(
            "round {round}: {}",
            Parser::ALL
                .iter()
                .zip(row)
                .map(|(p, t)| format!("{} {t:.0} ns", p.name()))
                .collect::<Vec<_>>()
                .join(", ")
        );
        ns.push(row);
    }
    for (i, p) in Parser::ALL.iter().enumerate().skip(1) {
        let mut ratios: Vec<f64> = ns.iter().map(|r| r[i] / r[0]).collect();
        ratios.sort_by(f64::total_cmp);
        println!(
            "{} / serde_json: median {:.3}, range {:.3}-{:.3} ({rounds} rounds)",
            p.name(),
            ratios[ratios.len() / 2],
            ratios[0],
            ratios[ratios.len() - 1]
        );
    }
}
