//! Rate limits keyed by who asks (a client address, a client id), on
//! `governor`'s GCRA: one atomic word per key, a token bucket's behaviour
//! without a timer or a float.
//!
//! A cell can be given back. Login limits count failures, but whether a
//! login fails is known only after the Argon2 check the limit is there to
//! ration; so each attempt takes a cell before it is checked (concurrent
//! attempts cannot all slip past a limit that counts only what has already
//! failed) and a success gives it back.

use std::{hash::Hash, num::NonZeroU32, sync::Arc, time::Duration};

use governor::{
    Quota, RateLimiter,
    clock::{Clock, DefaultClock},
    middleware::NoOpMiddleware,
    nanos::Nanos,
    state::{
        StateStore,
        keyed::{DashMapStateStore, ShrinkableKeyedStateStore},
    },
};
use serde::Deserialize;

/// Keys tracked before those back at a full burst are forgotten.
const MAX_TRACKED: usize = 100_000;

/// How many requests a key may make at once (`burst`), and how many of
/// those it regains an hour (`per_hour`, evenly spread).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    pub burst: u32,
    pub per_hour: u32,
}

impl Rate {
    /// Most cells an hour: one a millisecond, the finest a limit needs.
    pub const MAX_PER_HOUR: u32 = 3_600_000;

    pub const fn new(burst: u32, per_hour: u32) -> Self {
        Self { burst, per_hour }
    }

    /// Records what is wrong with the setting named `name`.
    pub fn check(&self, name: &str, errors: &mut Vec<String>) {
        if self.burst == 0 {
            errors.push(format!("{name}.burst: must be positive"));
        }
        if self.per_hour == 0 || self.per_hour > Self::MAX_PER_HOUR {
            errors.push(format!(
                "{name}.per_hour: must be 1 to {}, got {}",
                Self::MAX_PER_HOUR,
                self.per_hour
            ));
        }
    }

    /// How long one cell takes to come back.
    pub fn interval(&self) -> Duration {
        Duration::from_secs(3600) / self.per_hour.max(1)
    }

    fn quota(&self) -> Quota {
        let positive = |n: u32| NonZeroU32::new(n.max(1)).expect("at least one");
        Quota::with_period(self.interval())
            .expect("a positive period")
            .allow_burst(positive(self.burst))
    }
}

/// A wait as the whole seconds a client is told (`Retry-After`): rounded
/// up, and never zero, which would invite an immediate retry.
pub fn whole_seconds(wait: Duration) -> u64 {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    seconds.max(1)
}

/// What a client over its registration allowance is told, by the gateway
/// at the edge and by the registry to whoever calls it directly.
pub const TOO_MANY_REGISTRATIONS: &str = "too many registration requests from this address";

/// A refusal: what was refused and when to come back, in the same whole
/// seconds `Retry-After` gives.
pub fn refused(what: &str, wait: Duration) -> crate::ServiceError {
    crate::ServiceError::RateLimited {
        message: format!("{what}; try again in {} seconds", whole_seconds(wait)),
        retry_after: wait,
    }
}

/// One GCRA cell per key, shared between the limiter (which takes cells)
/// and [`KeyedLimit::give_back`] (which returns them).
struct Cells<K: Hash + Eq + Clone>(Arc<DashMapStateStore<K>>);

impl<K: Hash + Eq + Clone> StateStore for Cells<K> {
    type Key = K;

    fn measure_and_replace<T, F, E>(&self, key: &K, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        StateStore::measure_and_replace(&*self.0, key, f)
    }
}

impl<K: Hash + Eq + Clone> ShrinkableKeyedStateStore<K> for Cells<K> {
    fn retain_recent(&self, drop_below: Nanos) {
        ShrinkableKeyedStateStore::retain_recent(&*self.0, drop_below);
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A [`Rate`] for each key.
pub struct KeyedLimit<K: Hash + Eq + Clone, C: Clock = DefaultClock> {
    limiter: RateLimiter<K, Cells<K>, C, NoOpMiddleware<C::Instant>>,
    cells: Arc<DashMapStateStore<K>>,
    interval: Nanos,
    clock: C,
}

impl<K: Hash + Eq + Clone> KeyedLimit<K> {
    pub fn new(rate: Rate) -> Self {
        Self::with_clock(rate, DefaultClock::default())
    }
}

impl<K: Hash + Eq + Clone, C: Clock + Clone> KeyedLimit<K, C> {
    /// A limit reading time from `clock` (a fake one in tests).
    pub fn with_clock(rate: Rate, clock: C) -> Self {
        let cells = Arc::new(DashMapStateStore::default());
        Self {
            limiter: RateLimiter::new(rate.quota(), Cells(cells.clone()), clock.clone()),
            cells,
            interval: rate.interval().into(),
            clock,
        }
    }

    /// Takes one cell for `key`, or says how long until one is free.
    pub fn take(&self, key: &K) -> Result<(), Duration> {
        if self.limiter.len() >= MAX_TRACKED {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Returns a cell [`Self::take`] took for `key`. GCRA keeps, per key,
    /// the time at which the bucket would be full again; a cell is one
    /// interval of it. Moving that time back past the present gives
    /// nothing more, since the limiter counts from the present at most.
    pub fn give_back(&self, key: &K) {
        let interval = self.interval;
        let _unknown_key: Result<(), ()> =
            StateStore::measure_and_replace(&*self.cells, key, |full_at| match full_at {
                Some(full_at) => Ok(((), full_at.saturating_sub(interval))),
                None => Err(()),
            });
    }
}

#[cfg(test)]
mod tests {
    use governor::clock::FakeRelativeClock;

    use super::*;

    fn ip(s: &str) -> std::net::IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn bursts_then_refills_per_key() {
        let clock = FakeRelativeClock::default();
        let limit = KeyedLimit::with_clock(Rate::new(2, 3600), clock.clone());
        let (a, b) = (ip("192.0.2.1"), ip("192.0.2.2"));
        assert!(limit.take(&a).is_ok());
        assert!(limit.take(&a).is_ok());
        let wait = limit.take(&a).unwrap_err();
        assert_eq!(whole_seconds(wait), 1);
        assert!(limit.take(&b).is_ok(), "another key has its own allowance");
        clock.advance(Duration::from_millis(1100));
        assert!(limit.take(&a).is_ok());
        clock.advance(Duration::from_millis(100));
        assert!(limit.take(&a).is_err());
        // Never more than the burst, however long the pause.
        clock.advance(Duration::from_secs(3600));
        assert!(limit.take(&a).is_ok());
        assert!(limit.take(&a).is_ok());
        assert!(limit.take(&a).is_err());
    }

    #[test]
    fn a_cell_given_back_can_be_taken_again_but_never_beyond_the_burst() {
        let clock = FakeRelativeClock::default();
        let limit = KeyedLimit::with_clock(Rate::new(3, 60), clock.clone());
        let key = "agency-1".to_owned();
        for _ in 0..3 {
            limit.take(&key).unwrap();
        }
        let wait = limit.take(&key).unwrap_err();
        assert_eq!(whole_seconds(wait), 60);
        limit.give_back(&key);
        limit.take(&key).unwrap();
        assert!(limit.take(&key).is_err());
        // Giving back more than was taken (or for a key never seen) does
        // not raise the burst.
        for _ in 0..10 {
            limit.give_back(&key);
        }
        limit.give_back(&"agency-2".to_owned());
        for _ in 0..3 {
            limit.take(&key).unwrap();
        }
        assert!(limit.take(&key).is_err());
        clock.advance(Duration::from_secs(60));
        limit.take(&key).unwrap();
        assert!(limit.take(&key).is_err());
    }

    #[test]
    fn waits_are_told_in_whole_seconds_never_zero() {
        assert_eq!(whole_seconds(Duration::ZERO), 1);
        assert_eq!(whole_seconds(Duration::from_millis(1)), 1);
        assert_eq!(whole_seconds(Duration::from_secs(360)), 360);
        assert_eq!(whole_seconds(Duration::from_millis(359_001)), 360);
        assert_eq!(
            refused("too many requests", Duration::from_millis(1500)).to_string(),
            "too many requests; try again in 2 seconds"
        );
    }

    #[test]
    fn rates_name_what_is_wrong() {
        let mut errors = Vec::new();
        Rate::new(0, 0).check("limits.login.per_address", &mut errors);
        Rate::new(1, Rate::MAX_PER_HOUR + 1).check("registration", &mut errors);
        Rate::new(5, 10).check("fine", &mut errors);
        assert_eq!(
            errors,
            [
                "limits.login.per_address.burst: must be positive",
                "limits.login.per_address.per_hour: must be 1 to 3600000, got 0",
                "registration.per_hour: must be 1 to 3600000, got 3600001",
            ]
        );
        assert_eq!(Rate::new(10, 10).interval(), Duration::from_secs(360));
    }
}
