//! Aggregation of reported values: counts and decimals sum; a yes/no element
//! becomes (agencies answering yes, agencies answering). Indicators are then
//! computed once from these totals, never as a mean of per-agency percentages.

use std::collections::BTreeMap;

use serde::Serialize;

use super::element::Value;
use crate::DataElementCode;

/// The running total of one data element over many reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Aggregate {
    /// Sum of counts, or of scaled decimals (at the element's scale). i128
    /// so no sum of values below `MAX_VALUE` can ever overflow.
    Sum(i128),
    /// Number of reports answering yes, and number answering at all.
    YesNo { yes: i64, answered: i64 },
}

impl Aggregate {
    fn of(value: &Value) -> Self {
        match value {
            Value::YesNo(b) => Self::YesNo {
                yes: i64::from(*b),
                answered: 1,
            },
            v => Self::Sum(i128::from(v.as_integer())),
        }
    }

    /// Adds `other` when both are of the same kind; returns false otherwise.
    fn absorb(&mut self, other: Aggregate) -> bool {
        match (self, other) {
            (Self::Sum(a), Self::Sum(b)) => *a += b,
            (
                Self::YesNo { yes, answered },
                Self::YesNo {
                    yes: y,
                    answered: n,
                },
            ) => {
                *yes += y;
                *answered += n;
            }
            _ => return false,
        }
        true
    }
}

/// Per-element totals over a set of reports: the only input indicators and
/// validation rules read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals(BTreeMap<DataElementCode, Aggregate>);

impl Totals {
    pub fn new() -> Self {
        Self::default()
    }

    /// Totals of one report: each value on its own.
    pub fn of_report<'a>(
        values: impl IntoIterator<Item = (&'a DataElementCode, &'a Value)>,
    ) -> Self {
        let mut t = Self::new();
        for (code, value) in values {
            t.add(code, value);
        }
        t
    }

    /// Adds one checked value. A value of another kind than the element's
    /// earlier ones is ignored: values come from `check_value`, so this only
    /// happens if a catalogue changed an element's type, and mixing would be wrong.
    pub fn add(&mut self, code: &DataElementCode, value: &Value) {
        let new = Aggregate::of(value);
        match self.0.get_mut(code) {
            Some(agg) => {
                agg.absorb(new);
            }
            None => {
                self.0.insert(code.clone(), new);
            }
        }
    }

    /// Adds every total of `other` (e.g. districts into the province).
    pub fn merge(&mut self, other: &Totals) {
        for (code, agg) in &other.0 {
            match self.0.get_mut(code) {
                Some(mine) => {
                    mine.absorb(*agg);
                }
                None => {
                    self.0.insert(code.clone(), *agg);
                }
            }
        }
    }

    /// Sets one element's total, summed elsewhere (aggregation sums columns
    /// of stored integers without building a value for each).
    pub fn insert(&mut self, code: DataElementCode, total: Aggregate) {
        self.0.insert(code, total);
    }

    pub fn get(&self, code: &DataElementCode) -> Option<&Aggregate> {
        self.0.get(code)
    }

    pub fn contains(&self, code: &DataElementCode) -> bool {
        self.0.contains_key(code)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&DataElementCode, &Aggregate)> {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Count;

    #[test]
    fn counts_sum_and_answers_tally() {
        let a = DataElementCode::parse("computers").unwrap();
        let l = DataElementCode::parse("has_lan").unwrap();
        let mut t = Totals::new();
        t.add(&a, &Value::Count(Count::new(10).unwrap()));
        t.add(&a, &Value::Count(Count::new(5).unwrap()));
        t.add(&l, &Value::YesNo(true));
        t.add(&l, &Value::YesNo(false));
        t.add(&l, &Value::YesNo(true));
        assert_eq!(t.get(&a), Some(&Aggregate::Sum(15)));
        assert_eq!(
            t.get(&l),
            Some(&Aggregate::YesNo {
                yes: 2,
                answered: 3
            })
        );
        t.add(&a, &Value::YesNo(true));
        assert_eq!(t.get(&a), Some(&Aggregate::Sum(15)));
        let mut u = Totals::new();
        u.add(&a, &Value::Count(Count::new(1).unwrap()));
        u.merge(&t);
        assert_eq!(u.get(&a), Some(&Aggregate::Sum(16)));
        assert_eq!(
            u.get(&l),
            Some(&Aggregate::YesNo {
                yes: 2,
                answered: 3
            })
        );
    }
}
