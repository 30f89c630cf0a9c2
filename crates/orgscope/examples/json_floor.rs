//! The floor `orgscope eval` is measured against: parse each line of an NDJSON file into a
//! `serde_json::Value` and drop it, nothing else (bench-compare/run.sh).
//!
//! Usage: `cargo run --release -p orgscope --example json_floor FILE` (prints the line count).

use std::io::BufRead;

fn main() -> std::io::Result<()> {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: json_floor FILE");
        std::process::exit(2);
    };
    let mut input = std::io::BufReader::with_capacity(64 * 1024, std::fs::File::open(path)?);
    let (mut line, mut parsed, mut bad) = (Vec::new(), 0u64, 0u64);
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        match serde_json::from_slice::<serde_json::Value>(&line) {
            Ok(v) => {
                std::hint::black_box(v);
                parsed += 1;
            }
            Err(_) => bad += 1,
        }
    }
    println!("{parsed}");
    if bad > 0 {
        eprintln!("json_floor: {bad} lines are not JSON");
    }
    Ok(())
}
