//! A rate limit per client address, for the one unauthenticated call that
//! writes: filing a registration request. `governor` keeps one GCRA cell per
//! address (a token bucket's behaviour without a timer or a float).

use std::{net::IpAddr, num::NonZeroU32, time::Duration};

use governor::{
    Quota, RateLimiter,
    clock::{Clock, DefaultClock},
    middleware::NoOpMiddleware,
    state::keyed::DefaultKeyedStateStore,
};

/// Addresses tracked before those back at a full burst are forgotten.
const MAX_TRACKED: usize = 10_000;

/// Allows `burst` requests per address at once, regained at `per_hour`.
pub struct RegistrationLimit<C: Clock = DefaultClock> {
    limiter: RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, C, NoOpMiddleware<C::Instant>>,
    clock: C,
}

impl RegistrationLimit {
    pub fn new(burst: u32, per_hour: u32) -> Self {
        Self::with_clock(burst, per_hour, DefaultClock::default())
    }
}

impl<C: Clock + Clone> RegistrationLimit<C> {
    fn with_clock(burst: u32, per_hour: u32, clock: C) -> Self {
        let positive = |n: u32| NonZeroU32::new(n.max(1)).expect("at least one");
        let quota = Quota::per_hour(positive(per_hour)).allow_burst(positive(burst));
        Self {
            limiter: RateLimiter::new(quota, DefaultKeyedStateStore::default(), clock.clone()),
            clock,
        }
    }

    /// Takes one request's worth for `addr`, or says how long to wait.
    pub fn check(&self, addr: IpAddr) -> Result<(), Duration> {
        if self.limiter.len() >= MAX_TRACKED {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(&addr)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

#[cfg(test)]
mod tests {
    use governor::clock::FakeRelativeClock;

    use super::*;

    #[test]
    fn bursts_then_refills_per_address() {
        let clock = FakeRelativeClock::default();
        let limiter = RegistrationLimit::with_clock(2, 3600, clock.clone());
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        assert!(limiter.check(a).is_ok());
        assert!(limiter.check(a).is_ok());
        let wait = limiter.check(a).unwrap_err();
        assert_eq!(wait.as_secs_f64().ceil() as u64, 1);
        assert!(
            limiter.check(b).is_ok(),
            "another address has its own allowance"
        );
        clock.advance(Duration::from_millis(1100));
        assert!(limiter.check(a).is_ok());
        clock.advance(Duration::from_millis(100));
        assert!(limiter.check(a).is_err());
        // Never more than the burst, however long the pause.
        clock.advance(Duration::from_secs(3600));
        assert!(limiter.check(a).is_ok());
        assert!(limiter.check(a).is_ok());
        assert!(limiter.check(a).is_err());
    }
}
