//! Login rate limits: failed attempts are counted per account and per client address in a
//! sliding window. Kept in this process's memory — with several instances each has its own
//! counters (documented), which still caps guessing at a few tries per minute per instance.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Counters kept at most (accounts and addresses together).
const MAX_KEYS: usize = 100_000;

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

    /// Counts an attempt before its password is checked, so a burst of parallel guesses is
    /// counted as it arrives (check and count are one step under the lock). `Err` holds the
    /// seconds to wait when either counter is full; nothing is counted then.
    pub fn reserve(&self, account: &str, address: &str) -> Result<Attempt, u64> {
        let now = Instant::now();
        let keys = [(format!("u:{account}"), self.per_account), (format!("a:{address}"), self.per_address)];
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = None;
        for (key, limit) in &keys {
            if let Some(q) = map.get_mut(key) {
                while q.front().is_some_and(|t| now.duration_since(*t) > self.window) {
                    q.pop_front();
                }
                if q.len() >= *limit
                    && let Some(first) = q.front()
                {
                    let secs = self.window.saturating_sub(now.duration_since(*first)).as_secs().max(1);
                    wait = Some(wait.map_or(secs, |w: u64| w.max(secs)));
                }
            }
        }
        if let Some(w) = wait {
            return Err(w);
        }
        if map.len() > MAX_KEYS {
            // Bounded memory under a spray of names or addresses: forget what the window has
            // already forgotten, then address counters, then accounts not locked out; a lockout
            // goes only if there are more lockouts than room (each took five password checks).
            let (window, per_account) = (self.window, self.per_account);
            map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) <= window));
            if map.len() > MAX_KEYS {
                map.retain(|k, _| k.starts_with("u:"));
            }
            if map.len() > MAX_KEYS {
                map.retain(|_, q| q.len() >= per_account);
            }
            if map.len() > MAX_KEYS {
                map.clear();
            }
        }
        let [(account, _), (address, _)] = keys;
        for key in [&account, &address] {
            map.entry(key.clone()).or_default().push_back(now);
        }
        Ok(Attempt { account, address, at: now })
    }

    /// A correct password: the account's failures are forgotten and this attempt is refunded to
    /// the address. A wrong one needs no call: the reserved attempt stays counted.
    pub fn succeeded(&self, attempt: Attempt) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&attempt.account);
        if let Some(q) = map.get_mut(&attempt.address)
            && let Some(i) = q.iter().position(|t| *t == attempt.at)
        {
            q.remove(i);
        }
    }
}

impl LoginLimiter {
    /// An attempt whose password was never checked (the service was busy): it does not count.
    pub fn refund(&self, attempt: Attempt) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for key in [&attempt.account, &attempt.address] {
            if let Some(q) = map.get_mut(key)
                && let Some(i) = q.iter().position(|t| *t == attempt.at)
            {
                q.remove(i);
            }
        }
    }
}

/// One counted login attempt, refunded on success.
#[derive(Debug)]
pub struct Attempt {
    account: String,
    address: String,
    at: Instant,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_limited_after_its_failures_and_freed_by_success() {
        let l = LoginLimiter::new(Duration::from_secs(60), 3, 100);
        for _ in 0..3 {
            assert!(l.reserve("tech1", "1.2.3.4").is_ok());
        }
        assert!(l.reserve("tech1", "5.6.7.8").is_err(), "the account is limited from any address");
        let other = l.reserve("other", "5.6.7.8").expect("another account is free");
        l.succeeded(other);
        l.failures.lock().unwrap().remove("u:tech1");
        let ok = l.reserve("tech1", "5.6.7.8").expect("forgotten failures free the account");
        l.succeeded(ok);
        assert!(l.reserve("tech1", "5.6.7.8").is_ok());
    }

    #[test]
    fn an_address_is_limited_across_accounts() {
        let l = LoginLimiter::new(Duration::from_secs(60), 100, 2);
        l.reserve("a", "9.9.9.9").unwrap();
        l.reserve("b", "9.9.9.9").unwrap();
        assert!(l.reserve("c", "9.9.9.9").is_err());
        assert!(l.reserve("c", "1.1.1.1").is_ok());
    }

    #[test]
    fn parallel_guesses_are_counted_as_they_arrive_not_after_their_hash() {
        let l = std::sync::Arc::new(LoginLimiter::new(Duration::from_secs(60), 5, 1000));
        let admitted: usize = std::thread::scope(|s| {
            let handles: Vec<_> =
                (0..40).map(|_| s.spawn(|| l.reserve("victim", "7.7.7.7").is_ok() as usize)).collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(admitted, 5, "exactly the limit may reach the password check");
    }

    #[test]
    fn a_spray_of_addresses_does_not_wipe_an_account_lockout() {
        let l = LoginLimiter::new(Duration::from_secs(60), 3, 1000);
        for _ in 0..3 {
            l.reserve("victim", "1.1.1.1").unwrap();
        }
        for i in 0..=MAX_KEYS {
            let _ = l.reserve(&format!("spray{i}"), &format!("2001:db8::{i:x}"));
        }
        assert!(l.reserve("victim", "9.9.9.9").is_err(), "the victim's lockout survived the spray");
    }

    #[test]
    fn a_success_refunds_its_attempt_to_the_address() {
        let l = LoginLimiter::new(Duration::from_secs(60), 100, 2);
        for user in ["a", "b", "c"] {
            let attempt = l.reserve(user, "8.8.8.8").expect("successes do not use up the address");
            l.succeeded(attempt);
        }
    }
}
