//! Indicators (chỉ tiêu): a data-element total over an area's agencies, or
//! the ratio of two such totals, times a factor (100 for a percentage).
//!
//! The arithmetic lives here, apart from any database, so it can be tested
//! as a pure function: sums are exact integers, and a ratio is taken once,
//! from the totals, never as a mean of each agency's own ratio.

use chrono::NaiveDate;

use crate::{AdminUnitCode, Count, DataElementCode, IndicatorCode, PeriodCode};

/// How an indicator is computed, from the catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorFormula {
    pub numerator: DataElementCode,
    /// `None` for an indicator that is a plain total.
    pub denominator: Option<DataElementCode>,
    pub factor: f64,
}

/// One question for the aggregator: an indicator over an area for a period,
/// with the organisation tree as it stood on `as_of` (today when `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregateQuery {
    pub indicator: IndicatorCode,
    pub area: AdminUnitCode,
    pub period: PeriodCode,
    pub as_of: Option<NaiveDate>,
}

/// The exact sum of one data element over the agencies that reported it.
/// Summed in `i128`: even `u32::MAX` agencies reporting `i64::MAX` each fit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Total {
    pub sum: i128,
    pub agencies: u64,
}

impl Total {
    /// The total of one value per reporting agency.
    pub fn of(values: impl IntoIterator<Item = Count>) -> Self {
        values
            .into_iter()
            .fold(Self::default(), |total, count| Self {
                sum: total.sum + i128::from(count.get()),
                agencies: total.agencies + 1,
            })
    }
}

/// An indicator's value over an area, with the totals it came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Aggregate {
    /// `None` when nothing was reported, or the denominator is zero.
    pub value: Option<f64>,
    pub numerator: i64,
    /// 0 for an indicator without a denominator.
    pub denominator: i64,
    /// Agencies that reported the denominator (the numerator for a plain total).
    pub agencies_reporting: i64,
}

/// Why an aggregate cannot be given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AggregateError {
    /// A total is beyond what the API carries (a signed 64-bit integer).
    #[error("the {0} total is too large to report")]
    TooLarge(&'static str),
    /// The factor or the ratio times the factor is not a finite number.
    #[error("the indicator value is not a finite number")]
    NotFinite,
}

/// Computes an indicator from its totals: the sum of numerators over the sum
/// of denominators, times `factor`; a plain total times `factor` when there
/// is no denominator.
pub fn aggregate(
    numerator: Total,
    denominator: Option<Total>,
    factor: f64,
) -> Result<Aggregate, AggregateError> {
    let wire =
        |total: Total, name| i64::try_from(total.sum).map_err(|_| AggregateError::TooLarge(name));
    let agencies = |total: Total| {
        i64::try_from(total.agencies).map_err(|_| AggregateError::TooLarge("agency"))
    };
    let num = wire(numerator, "numerator")?;
    let (value, den, reporting) = match denominator {
        Some(d) => {
            let den = wire(d, "denominator")?;
            // The same f64 steps as ever, so stored answers do not move by a bit.
            let value = (den > 0).then(|| num as f64 / den as f64 * factor);
            (value, den, agencies(d)?)
        }
        None if numerator.agencies > 0 => (Some(num as f64 * factor), 0, agencies(numerator)?),
        None => (None, 0, 0),
    };
    if value.is_some_and(|v| !v.is_finite()) {
        return Err(AggregateError::NotFinite);
    }
    Ok(Aggregate {
        value,
        numerator: num,
        denominator: den,
        agencies_reporting: reporting,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn counts(values: &[i64]) -> Vec<Count> {
        values.iter().map(|v| Count::new(*v).unwrap()).collect()
    }

    #[test]
    fn a_ratio_is_the_sum_over_the_sum_not_a_mean_of_ratios() {
        // Agency A: 1 of 1 (100 %), agency B: 1 of 9 (11 %); the province has 2 of 10.
        let num = Total::of(counts(&[1, 1]));
        let den = Total::of(counts(&[1, 9]));
        let got = aggregate(num, Some(den), 100.0).unwrap();
        assert_eq!(
            got,
            Aggregate {
                value: Some(20.0),
                numerator: 2,
                denominator: 10,
                agencies_reporting: 2,
            }
        );
    }

    #[test]
    fn a_zero_denominator_or_nothing_reported_has_no_value() {
        let zero = aggregate(
            Total::of(counts(&[0])),
            Some(Total::of(counts(&[0]))),
            100.0,
        );
        assert_eq!(zero.unwrap().value, None);
        let nothing = aggregate(Total::default(), Some(Total::default()), 100.0).unwrap();
        assert_eq!((nothing.value, nothing.agencies_reporting), (None, 0));
        let plain = aggregate(Total::default(), None, 1.0).unwrap();
        assert_eq!((plain.value, plain.agencies_reporting), (None, 0));
    }

    #[test]
    fn a_plain_total_counts_the_numerator_agencies() {
        let got = aggregate(Total::of(counts(&[3, 4])), None, 1.0).unwrap();
        assert_eq!(
            got,
            Aggregate {
                value: Some(7.0),
                numerator: 7,
                denominator: 0,
                agencies_reporting: 2,
            }
        );
    }

    #[test]
    fn totals_beyond_the_wire_are_errors_not_wrapped() {
        // Counts are capped at input (Count::MAX), so a sum past i64 needs
        // millions of agencies at the cap: build that total directly.
        let huge = Total {
            sum: i128::from(i64::MAX) + 1,
            agencies: 9_223_373,
        };
        assert_eq!(
            aggregate(huge, None, 1.0),
            Err(AggregateError::TooLarge("numerator"))
        );
        assert_eq!(
            aggregate(Total::of(counts(&[1])), Some(huge), 1.0),
            Err(AggregateError::TooLarge("denominator"))
        );
        assert_eq!(
            aggregate(Total::of(counts(&[1])), None, f64::INFINITY),
            Err(AggregateError::NotFinite)
        );
    }

    proptest! {
        #[test]
        fn the_ratio_is_the_ratio_of_totals(
            rows in proptest::collection::vec((0i64..1_000_000, 1i64..1_000_000), 1..50),
            factor in prop_oneof![Just(1.0), Just(100.0), Just(1000.0)],
        ) {
            let num = Total::of(rows.iter().map(|(n, _)| Count::new(*n).unwrap()));
            let den = Total::of(rows.iter().map(|(_, d)| Count::new(*d).unwrap()));
            let (n, d): (i64, i64) = (rows.iter().map(|r| r.0).sum(), rows.iter().map(|r| r.1).sum());
            let got = aggregate(num, Some(den), factor).unwrap();
            prop_assert_eq!(got.numerator, n);
            prop_assert_eq!(got.denominator, d);
            prop_assert_eq!(got.agencies_reporting, rows.len() as i64);
            prop_assert_eq!(got.value, Some(n as f64 / d as f64 * factor));
        }

        #[test]
        fn any_counts_give_a_value_or_an_error_never_a_panic(
            nums in proptest::collection::vec(0i64..=Count::MAX, 0..8),
            dens in proptest::option::of(proptest::collection::vec(0i64..=Count::MAX, 0..8)),
            factor in any::<f64>(),
        ) {
            let num = Total::of(counts(&nums));
            let den = dens.as_deref().map(|d| Total::of(counts(d)));
            match aggregate(num, den, factor) {
                Ok(got) => {
                    prop_assert_eq!(i128::from(got.numerator), num.sum);
                    prop_assert!(got.value.is_none_or(f64::is_finite));
                }
                Err(AggregateError::TooLarge(_)) => prop_assert!(
                    num.sum > i128::from(i64::MAX)
                        || den.is_some_and(|d| d.sum > i128::from(i64::MAX))
                ),
                Err(AggregateError::NotFinite) => prop_assert!(!factor.is_finite() || factor.abs() > 1e280),
            }
        }
    }
}
