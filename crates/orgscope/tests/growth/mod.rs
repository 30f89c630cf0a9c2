//! Tells linear growth from quadratic by timing two sizes 4× apart, robustly on a shared machine.
//!
//! Used by the `#[ignore]`d scaling tier of the engine's and the CLI's tests (`.ci/run` runs it
//! in release, one test at a time). Linear work costs 4× at 4× the input, n log n about 4.6×,
//! quadratic 16×; the bar is their geometric midpoint, 8×, so that neither a noisy machine nor a
//! real regression lands within a factor of 2 of it. The sizes are timed interleaved (a burst of
//! load from a neighbour hits both) and the fastest run of each counts. A ratio over the bar is
//! measured again, twice: noise rarely repeats, a quadratic cost always does.

use std::time::{Duration, Instant};

/// Runs `f` once and returns its result with how long it took.
pub fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

/// Fails when the cost `measure(4 * n)` reports is more than 8× the cost of `measure(n)` in
/// three attempts of five interleaved rounds each.
pub fn assert_linear(what: &str, n: usize, measure: impl FnMut(usize) -> Duration) {
    if let Err(ratios) = linear(what, n, measure) {
        panic!("{what} grows superlinearly: {ratios} for 4× the input");
    }
}

/// The check of [`assert_linear`]: `Err` lists the three ratios over the bar.
pub fn linear(
    what: &str,
    n: usize,
    mut measure: impl FnMut(usize) -> Duration,
) -> Result<(), String> {
    let mut ratios = Vec::new();
    for _ in 0..3 {
        let (mut small, mut large) = (Duration::MAX, Duration::MAX);
        for _ in 0..5 {
            small = small.min(measure(n));
            large = large.min(measure(4 * n));
        }
        let ratio = large.as_secs_f64() / small.as_secs_f64().max(1e-9);
        eprintln!(
            "{what}: {n} in {small:?}, {} in {large:?}: {ratio:.2}×",
            4 * n
        );
        if ratio <= 8.0 {
            return Ok(());
        }
        ratios.push(format!("{ratio:.2}×"));
    }
    Err(ratios.join(", "))
}
