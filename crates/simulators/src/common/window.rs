//! A sliding-window counter: at most `limit` events in any `per`-long window. Strict, like
//! the vendors' own limits look from outside: a client must pace itself, not only react.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct SlidingWindow {
    pub limit: u32,
    pub per: Duration,
    events: Mutex<VecDeque<Instant>>,
}

impl SlidingWindow {
    pub fn new(limit: u32, per: Duration) -> SlidingWindow {
        SlidingWindow { limit, per, events: Mutex::new(VecDeque::new()) }
    }

    /// Records an event if the window has room; else how long until it will.
    pub fn try_acquire(&self, now: Instant) -> Result<(), Duration> {
        let mut ev = self.events.lock().unwrap();
        while ev.front().is_some_and(|t| now.duration_since(*t) >= self.per) {
            ev.pop_front();
        }
        if (ev.len() as u32) < self.limit {
            ev.push_back(now);
            Ok(())
        } else {
            let oldest = *ev.front().expect("a full window has events");
            Err(self.per.saturating_sub(now.duration_since(oldest)))
        }
    }

    /// Events left in the current window.
    pub fn remaining(&self, now: Instant) -> u32 {
        let ev = self.events.lock().unwrap();
        let live = ev.iter().filter(|t| now.duration_since(**t) < self.per).count() as u32;
        self.limit.saturating_sub(live)
    }

    pub fn reset(&self) {
        self.events.lock().unwrap().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_limit_in_any_window() {
        let w = SlidingWindow::new(2, Duration::from_secs(10));
        let t0 = Instant::now();
        assert!(w.try_acquire(t0).is_ok());
        assert!(w.try_acquire(t0 + Duration::from_secs(1)).is_ok());
        assert_eq!(w.try_acquire(t0 + Duration::from_secs(2)), Err(Duration::from_secs(8)));
        assert!(w.try_acquire(t0 + Duration::from_secs(10)).is_ok());
        assert_eq!(w.remaining(t0 + Duration::from_secs(10)), 0);
        assert_eq!(w.remaining(t0 + Duration::from_secs(11)), 1);
    }
}
