//! Reported values.

use std::fmt;

/// A raw count an agency reports: a whole number, never negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Count(i64);

/// Why a count was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a count must be zero or more, got {0}")]
pub struct NegativeCount(pub i64);

impl Count {
    pub fn new(value: i64) -> Result<Self, NegativeCount> {
        if value < 0 {
            Err(NegativeCount(value))
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
        assert_eq!(Count::new(-1), Err(NegativeCount(-1)));
    }
}
