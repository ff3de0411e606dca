//! Exact rationals of any size for ranking scores.
//!
//! [`Ratio`] holds i128 parts, which is enough for one indicator value but
//! not for a ranking: a min-max score divides one difference of values by
//! another, and a total adds many such scores, so denominators multiply
//! (six min-max indicators over 20 agencies of 50 to 1,000 officials reach
//! about 10^45, past i128's 10^38). Two agencies tie only if their totals
//! are equal as rationals, so the arithmetic must not round.

use std::{cmp::Ordering, fmt};

use num_bigint::{BigInt, Sign};
use num_integer::Integer;
use num_traits::{One, Signed, Zero};
use serde::{Serialize, Serializer, ser::SerializeStruct};

use crate::catalogue::Ratio;

/// An exact rational `numerator / denominator`, reduced, with a positive
/// denominator, of unbounded size.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fraction {
    numerator: BigInt,
    denominator: BigInt,
}

impl Fraction {
    /// `None` when the denominator is zero.
    pub fn new(numerator: impl Into<BigInt>, denominator: impl Into<BigInt>) -> Option<Self> {
        let (n, d) = (numerator.into(), denominator.into());
        if d.is_zero() {
            return None;
        }
        let g = n.gcd(&d);
        let (mut n, mut d) = (n / &g, d / &g);
        if d.is_negative() {
            n = -n;
            d = -d;
        }
        Some(Self {
            numerator: n,
            denominator: d,
        })
    }

    pub fn zero() -> Self {
        Self::integer(0)
    }

    pub fn one() -> Self {
        Self::integer(1)
    }

    pub fn integer(n: i128) -> Self {
        Self {
            numerator: n.into(),
            denominator: BigInt::one(),
        }
    }

    pub fn numerator(&self) -> &BigInt {
        &self.numerator
    }

    pub fn denominator(&self) -> &BigInt {
        &self.denominator
    }

    pub fn plus(&self, other: &Self) -> Self {
        Self::new(
            &self.numerator * &other.denominator + &other.numerator * &self.denominator,
            &self.denominator * &other.denominator,
        )
        .expect("a product of positive denominators is positive")
    }

    pub fn minus(&self, other: &Self) -> Self {
        self.plus(&Self {
            numerator: -&other.numerator,
            denominator: other.denominator.clone(),
        })
    }

    pub fn times(&self, other: &Self) -> Self {
        Self::new(
            &self.numerator * &other.numerator,
            &self.denominator * &other.denominator,
        )
        .expect("a product of positive denominators is positive")
    }

    /// `None` when `other` is zero.
    pub fn divided_by(&self, other: &Self) -> Option<Self> {
        Self::new(
            &self.numerator * &other.denominator,
            &self.denominator * &other.numerator,
        )
    }

    pub fn is_zero(&self) -> bool {
        self.numerator.is_zero()
    }

    /// The value limited to 0..=1, where every score lives.
    pub fn clamp_unit(self) -> Self {
        if self.numerator.is_negative() {
            Self::zero()
        } else if self.numerator > self.denominator {
            Self::one()
        } else {
            self
        }
    }

    /// The same value as a [`Ratio`] when both parts fit i128.
    pub fn to_ratio(&self) -> Option<Ratio> {
        let n = i128::try_from(&self.numerator).ok()?;
        let d = i128::try_from(&self.denominator).ok()?;
        Ratio::new(n, d)
    }

    /// The value rounded half away from zero to `decimals` places, as text.
    pub fn display(&self, decimals: u8) -> String {
        let p = BigInt::from(10).pow(u32::from(decimals));
        let scaled: BigInt = self.numerator.abs() * &p * 2 + &self.denominator;
        let rounded: BigInt = scaled / (&self.denominator * 2);
        let sign = if self.numerator.sign() == Sign::Minus && !rounded.is_zero() {
            "-"
        } else {
            ""
        };
        if decimals == 0 {
            return format!("{sign}{rounded}");
        }
        let (whole, frac) = rounded.div_rem(&p);
        format!(
            "{sign}{whole}.{frac:0>w$}",
            frac = frac.to_string(),
            w = usize::from(decimals)
        )
    }

    /// For display only: ranks never compare floats.
    pub fn to_f64(&self) -> f64 {
        // Through correctly rounded decimal text, so a total with a
        // 60-digit denominator still converts without overflowing to inf/inf.
        self.display(20)
            .parse()
            .expect("display writes a decimal number")
    }
}

impl From<Ratio> for Fraction {
    fn from(r: Ratio) -> Self {
        Self::new(r.numerator, r.denominator).expect("a Ratio's denominator is not zero")
    }
}

impl Ord for Fraction {
    fn cmp(&self, other: &Self) -> Ordering {
        // Denominators are positive, so cross-multiplying keeps the order.
        (&self.numerator * &other.denominator).cmp(&(&other.numerator * &self.denominator))
    }
}

impl PartialOrd for Fraction {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Fraction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.denominator.is_one() {
            write!(f, "{}", self.numerator)
        } else {
            write!(f, "{}/{}", self.numerator, self.denominator)
        }
    }
}

/// `{"exact": "5/6", "value": 0.8333333333333334}`: the exact text lets an
/// agency check a tie; the number is for charts and spreadsheets.
impl Serialize for Fraction {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Fraction", 2)?;
        s.serialize_field("exact", &self.to_string())?;
        s.serialize_field("value", &self.to_f64())?;
        s.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(n: i128, d: i128) -> Fraction {
        Fraction::new(n, d).unwrap()
    }

    #[test]
    fn reduces_and_keeps_the_sign_on_top() {
        assert_eq!(f(2, -4).to_string(), "-1/2");
        assert_eq!(f(6, 3).to_string(), "2");
        assert!(Fraction::new(1, 0).is_none());
        assert_eq!(f(1, 3).plus(&f(1, 6)), f(1, 2));
        assert_eq!(f(1, 3).minus(&f(1, 2)), f(-1, 6));
        assert_eq!(f(2, 3).times(&f(3, 4)), f(1, 2));
        assert_eq!(f(1, 2).divided_by(&f(1, 4)), Some(Fraction::integer(2)));
        assert_eq!(f(1, 2).divided_by(&Fraction::zero()), None);
    }

    #[test]
    fn displays_rounded_half_away_from_zero() {
        assert_eq!(f(5, 6).display(4), "0.8333");
        assert_eq!(f(11, 12).display(4), "0.9167");
        assert_eq!(f(1, 8).display(2), "0.13");
        assert_eq!(f(-1, 8).display(2), "-0.13");
        assert_eq!(f(-1, 1000).display(2), "0.00");
        assert_eq!(f(3, 2).display(0), "2");
        assert_eq!(f(7, 1).display(1), "7.0");
        assert_eq!(f(2, 3).to_f64(), 2.0 / 3.0);
    }

    #[test]
    fn compares_past_i128() {
        // 10^40 + 1 over 10^40 is just above one; i128 cannot hold either part.
        let big = BigInt::from(10).pow(40);
        let above = Fraction::new(&big + 1, big.clone()).unwrap();
        assert!(above > Fraction::one());
        assert!(above.to_ratio().is_none());
        assert_eq!(above.clone().clamp_unit(), Fraction::one());
        assert_eq!(f(-1, 2).clamp_unit(), Fraction::zero());
        assert_eq!(f(1, 2).clamp_unit(), f(1, 2));
        assert_eq!(above.to_f64(), 1.0);
    }

    #[test]
    fn serialises_exact_and_decimal() {
        assert_eq!(
            serde_json::to_string(&f(1, 4)).unwrap(),
            r#"{"exact":"1/4","value":0.25}"#
        );
    }

    proptest::proptest! {
        #[test]
        fn order_agrees_with_ratio(a in -1_000_000i128..1_000_000, b in 1i128..10_000, c in -1_000_000i128..1_000_000, d in 1i128..10_000) {
            let (x, y) = (Ratio::new(a, b).unwrap(), Ratio::new(c, d).unwrap());
            proptest::prop_assert_eq!(Fraction::from(x).cmp(&Fraction::from(y)), x.compare(y));
            proptest::prop_assert_eq!(Fraction::from(x).to_ratio(), Some(x));
            proptest::prop_assert_eq!(Fraction::from(x).display(3), x.display(3));
        }
    }
}
