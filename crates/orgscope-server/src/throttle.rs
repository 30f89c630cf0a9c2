//! Warnings on stderr at most once a second per kind, so a store that is down (or a decision
//! log that cannot be written) costs one line a second, not one line per request.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// One kind of warning: the second it was last written in, and how many were held back since.
pub(crate) struct Throttle {
    last: AtomicU64,
    held: AtomicU64,
}

impl Throttle {
    pub(crate) const fn new() -> Throttle {
        Throttle {
            last: AtomicU64::new(0),
            held: AtomicU64::new(0),
        }
    }

    /// Writes `message` on stderr unless one of its kind was written this second; the first
    /// one of a later second says how many were held back.
    pub(crate) fn warn(&self, message: impl FnOnce() -> String) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        if let Some(held) = self.admit(now) {
            match held {
                0 => eprintln!("{}", message()),
                n => eprintln!("{} ({n} more like it held back)", message()),
            }
        }
    }

    /// Whether a warning at second `now` is written: `Some(held back since the last)`, or
    /// `None` when one was already written this second.
    fn admit(&self, now: u64) -> Option<u64> {
        let last = self.last.load(Ordering::Relaxed);
        if now > last
            && self
                .last
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            return Some(self.held.swap(0, Ordering::Relaxed));
        }
        self.held.fetch_add(1, Ordering::Relaxed);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::Throttle;

    #[test]
    fn one_warning_a_second_and_a_count_of_the_rest() {
        let t = Throttle::new();
        assert_eq!(t.admit(100), Some(0));
        for _ in 0..1000 {
            assert_eq!(t.admit(100), None);
        }
        assert_eq!(t.admit(101), Some(1000));
        assert_eq!(t.admit(101), None);
        // A clock that steps back writes nothing until it passes the last second written.
        assert_eq!(t.admit(99), None);
        assert_eq!(t.admit(102), Some(2));
    }

    #[test]
    fn racing_threads_write_once_a_second() {
        let t = Throttle::new();
        let written: u64 = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| s.spawn(|| (0..10_000).filter(|_| t.admit(7).is_some()).count() as u64))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(written, 1);
        assert_eq!(t.admit(8), Some(39_999));
    }
}
