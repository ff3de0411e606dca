//! A token bucket per client address, for the one unauthenticated call that
//! writes: filing a registration request.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

/// Buckets kept before full ones are forgotten.
const MAX_TRACKED: usize = 10_000;

/// Allows `burst` requests per address at once, refilled at `per_hour`.
pub struct RateLimiter {
    burst: f64,
    per_sec: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    pub fn new(burst: u32, per_hour: u32) -> Self {
        Self {
            burst: f64::from(burst.max(1)),
            per_sec: f64::from(per_hour.max(1)) / 3600.0,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request's worth for `addr`, or says how long to wait.
    pub fn check(&self, addr: IpAddr) -> Result<(), Duration> {
        self.check_at(addr, Instant::now())
    }

    fn check_at(&self, addr: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_TRACKED {
            let (burst, per_sec) = (self.burst, self.per_sec);
            buckets.retain(|_, b| Self::refilled(*b, now, burst, per_sec) < burst);
        }
        let bucket = buckets.entry(addr).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let tokens = Self::refilled(*bucket, now, self.burst, self.per_sec);
        if tokens >= 1.0 {
            *bucket = Bucket {
                tokens: tokens - 1.0,
                at: now,
            };
            Ok(())
        } else {
            *bucket = Bucket { tokens, at: now };
            Err(Duration::from_secs_f64((1.0 - tokens) / self.per_sec))
        }
    }

    fn refilled(b: Bucket, now: Instant, burst: f64, per_sec: f64) -> f64 {
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        (b.tokens + elapsed * per_sec).min(burst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_refills_per_address() {
        let limiter = RateLimiter::new(2, 3600);
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let t0 = Instant::now();
        assert!(limiter.check_at(a, t0).is_ok());
        assert!(limiter.check_at(a, t0).is_ok());
        let wait = limiter.check_at(a, t0).unwrap_err();
        assert_eq!(wait.as_secs(), 1);
        assert!(
            limiter.check_at(b, t0).is_ok(),
            "another address has its own bucket"
        );
        assert!(
            limiter
                .check_at(a, t0 + Duration::from_millis(1100))
                .is_ok()
        );
        assert!(
            limiter
                .check_at(a, t0 + Duration::from_millis(1200))
                .is_err()
        );
        // Never more than the burst, however long the pause.
        let later = t0 + Duration::from_secs(3600);
        assert!(limiter.check_at(a, later).is_ok());
        assert!(limiter.check_at(a, later).is_ok());
        assert!(limiter.check_at(a, later).is_err());
    }
}
