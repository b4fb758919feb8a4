//! Login rate limits: failed attempts are counted per account and per client address in a
//! sliding window. Kept in this process's memory — with several instances each has its own
//! counters (documented), which still caps guessing at a few tries per minute per instance.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct LoginLimiter {
    window: Duration,
    per_account: usize,
    per_address: usize,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginLimiter {
    pub fn new(window: Duration, per_account: usize, per_address: usize) -> Self {
        LoginLimiter { window, per_account, per_address, failures: Mutex::new(HashMap::new()) }
    }

    /// Seconds to wait when either counter is full, else `None`.
    pub fn check(&self, account: &str, address: &str) -> Option<u64> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = None;
        for (key, limit) in
            [(format!("u:{account}"), self.per_account), (format!("a:{address}"), self.per_address)]
        {
            if let Some(q) = map.get_mut(&key) {
                while q.front().is_some_and(|t| now.duration_since(*t) > self.window) {
                    q.pop_front();
                }
                if q.len() >= limit
                    && let Some(first) = q.front()
                {
                    let secs = self.window.saturating_sub(now.duration_since(*first)).as_secs().max(1);
                    wait = Some(wait.map_or(secs, |w: u64| w.max(secs)));
                }
            }
        }
        wait
    }

    pub fn record_failure(&self, account: &str, address: &str) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            // Bounded memory under a spray of random names: forget the oldest picture entirely.
            map.clear();
        }
        for key in [format!("u:{account}"), format!("a:{address}")] {
            map.entry(key).or_default().push_back(now);
        }
    }

    pub fn record_success(&self, account: &str) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(&format!("u:{account}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_limited_after_its_failures_and_freed_by_success() {
        let l = LoginLimiter::new(Duration::from_secs(60), 3, 100);
        for _ in 0..3 {
            assert!(l.check("tech1", "1.2.3.4").is_none());
            l.record_failure("tech1", "1.2.3.4");
        }
        assert!(l.check("tech1", "5.6.7.8").is_some(), "the account is limited from any address");
        assert!(l.check("other", "5.6.7.8").is_none());
        l.record_success("tech1");
        assert!(l.check("tech1", "5.6.7.8").is_none());
    }

    #[test]
    fn an_address_is_limited_across_accounts() {
        let l = LoginLimiter::new(Duration::from_secs(60), 100, 2);
        l.record_failure("a", "9.9.9.9");
        l.record_failure("b", "9.9.9.9");
        assert!(l.check("c", "9.9.9.9").is_some());
        assert!(l.check("c", "1.1.1.1").is_none());
    }
}
