//! Reported values.

use std::fmt;

/// A raw count an agency reports: a whole number, never negative, and never
/// above the catalogue's ceiling ([`crate::catalogue::MAX_VALUE`]), so a
/// national sum cannot overflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Count(i64);

/// Why a count was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CountError {
    #[error("a count must be zero or more, got {0}")]
    Negative(i64),
    #[error("a count must be at most {max}, got {0}", max = crate::catalogue::MAX_VALUE)]
    TooLarge(i64),
}

impl Count {
    /// The largest count accepted.
    pub const MAX: i64 = crate::catalogue::MAX_VALUE;

    pub fn new(value: i64) -> Result<Self, CountError> {
        if value < 0 {
            Err(CountError::Negative(value))
        } else if value > Self::MAX {
            Err(CountError::TooLarge(value))
        } else {
            Ok(Self(value))
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_non_negative() {
        assert_eq!(Count::new(0).unwrap().get(), 0);
        assert_eq!(Count::new(120).unwrap().get(), 120);
        assert_eq!(Count::new(-1), Err(CountError::Negative(-1)));
        assert_eq!(Count::new(Count::MAX).unwrap().get(), 1_000_000_000_000);
        assert_eq!(
            Count::new(i64::MAX).unwrap_err().to_string(),
            "a count must be at most 1000000000000, got 9223372036854775807"
        );
    }
}
