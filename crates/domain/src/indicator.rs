//! Indicator answers (chỉ tiêu): a catalogue indicator over an area's
//! agencies for a period, from the exact totals of what they reported.
//!
//! The arithmetic lives here, apart from any database, so it can be tested
//! as a pure function: sums are exact integers, and a ratio is taken once,
//! from the totals, never as a mean of each agency's own ratio.

use chrono::NaiveDate;

use crate::{
    AdminUnitCode, IndicatorCode, PeriodCode,
    catalogue::{Exact, Indicator, NoValue, Totals},
};

/// One question for the aggregator: an indicator over an area for a period,
/// with the organisation tree as it stood on `as_of` (today when `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregateQuery {
    pub indicator: IndicatorCode,
    pub area: AdminUnitCode,
    pub period: PeriodCode,
    pub as_of: Option<NaiveDate>,
}

/// An indicator's value over an area, with the totals it came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Aggregate {
    /// `None` when nothing was reported, or the denominator is zero.
    pub value: Option<f64>,
    /// The numerator's total, in whole units.
    pub numerator: i64,
    /// 0 for an indicator without a denominator.
    pub denominator: i64,
    /// Agencies that reported any element the indicator reads.
    pub agencies_reporting: i64,
}

/// Why an aggregate cannot be given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AggregateError {
    /// A total is beyond what the API carries (a signed 64-bit integer).
    #[error("the {0} total is too large to report")]
    TooLarge(&'static str),
}

/// A total in whole units on the wire; decimals are dropped here only, the
/// value itself is computed from the exact totals.
fn whole(exact: Exact, name: &'static str) -> Result<i64, AggregateError> {
    let units = exact.value / 10i128.pow(u32::from(exact.scale));
    i64::try_from(units).map_err(|_| AggregateError::TooLarge(name))
}

/// `indicator` over `totals`: sum(numerator) / sum(denominator) × factor,
/// computed once and exactly; no value when nothing was reported or the
/// denominator is zero.
pub fn aggregate(
    indicator: &Indicator,
    totals: &Totals,
    agencies_reporting: i64,
) -> Result<Aggregate, AggregateError> {
    let part = |e: Option<&crate::catalogue::Expression>, name| match e {
        None => Ok(0),
        // Elements nobody reported count as nothing: a partial area still answers.
        Some(e) => e.evaluate(totals).map_or(Ok(0), |x| whole(x, name)),
    };
    let numerator = part(Some(&indicator.numerator), "numerator")?;
    let denominator = part(indicator.denominator.as_ref(), "denominator")?;
    let value = match indicator.evaluate(totals) {
        Ok(ratio) if agencies_reporting > 0 => Some(ratio.to_f64()),
        Ok(_) | Err(NoValue::Missing(_) | NoValue::ZeroDenominator) => None,
    };
    Ok(Aggregate {
        value,
        numerator,
        denominator,
        agencies_reporting,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::{Catalogue, DataElementCode, Value, value::Count};

    fn catalogue() -> Catalogue {
        crate::seed::catalogue().unwrap()
    }

    fn indicator<'a>(cat: &'a Catalogue, code: &str) -> &'a Indicator {
        cat.indicator(&IndicatorCode::parse(code).unwrap()).unwrap()
    }

    fn totals(rows: &[(&str, Value)]) -> Totals {
        let mut t = Totals::new();
        for (code, v) in rows {
            t.add(&DataElementCode::parse(code).unwrap(), v);
        }
        t
    }

    fn count(n: i64) -> Value {
        Value::Count(Count::new(n).unwrap())
    }

    #[test]
    fn a_ratio_is_the_sum_over_the_sum_not_a_mean_of_ratios() {
        // Agency A: 1 of 1 (100 %), agency B: 1 of 9 (11 %); the area has 2 of 10.
        let cat = catalogue();
        let t = totals(&[
            ("officials_with_computer", count(1)),
            ("officials", count(1)),
            ("officials_with_computer", count(1)),
            ("officials", count(9)),
        ]);
        let got = aggregate(indicator(&cat, "computer_equipment_rate"), &t, 2).unwrap();
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
    fn a_yes_no_share_counts_agencies() {
        let cat = catalogue();
        let t = totals(&[
            ("has_lan", Value::YesNo(true)),
            ("has_lan", Value::YesNo(false)),
            ("has_lan", Value::YesNo(true)),
            ("has_lan", Value::YesNo(true)),
        ]);
        let lan = cat
            .indicators()
            .iter()
            .find(|i| i.numerator.to_string() == "yes(has_lan)")
            .expect("a LAN share indicator in the seed");
        let got = aggregate(lan, &t, 4).unwrap();
        assert_eq!((got.numerator, got.denominator), (3, 4));
        assert_eq!(got.value, Some(75.0));
    }

    #[test]
    fn a_zero_denominator_or_nothing_reported_has_no_value() {
        let cat = catalogue();
        let rate = indicator(&cat, "computer_equipment_rate");
        let zero = totals(&[
            ("officials_with_computer", count(0)),
            ("officials", count(0)),
        ]);
        assert_eq!(aggregate(rate, &zero, 1).unwrap().value, None);
        let nothing = aggregate(rate, &Totals::new(), 0).unwrap();
        assert_eq!(
            (nothing.value, nothing.numerator, nothing.agencies_reporting),
            (None, 0, 0)
        );
    }

    proptest! {
        #[test]
        fn the_ratio_is_the_ratio_of_totals(
            rows in proptest::collection::vec((0i64..1_000_000, 1i64..1_000_000), 1..50),
        ) {
            let cat = catalogue();
            let mut t = Totals::new();
            for (n, d) in &rows {
                t.add(&DataElementCode::parse("officials_with_computer").unwrap(), &count(*n));
                t.add(&DataElementCode::parse("officials").unwrap(), &count(*d));
            }
            let (n, d): (i64, i64) = (rows.iter().map(|r| r.0).sum(), rows.iter().map(|r| r.1).sum());
            let got = aggregate(indicator(&cat, "computer_equipment_rate"), &t, rows.len() as i64).unwrap();
            prop_assert_eq!(got.numerator, n);
            prop_assert_eq!(got.denominator, d);
            let expected = n as f64 * 100.0 / d as f64;
            prop_assert!((got.value.unwrap() - expected).abs() <= expected.abs() * 1e-12);
        }
    }
}
