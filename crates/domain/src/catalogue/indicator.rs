//! Indicators (chỉ số): values computed from data-element totals, e.g. the
//! share of officials with a computer = officials_with_computer / officials × 100.

use std::{cmp::Ordering, fmt};

use serde::{Deserialize, Serialize};

use super::{
    aggregate::Totals,
    element::{Category, ValueType},
    expr::{Exact, Expression},
};
use crate::{DataElementCode, FieldErrors, IndicatorCode, VnName};

/// An indicator as written in a catalogue file, before any check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIndicator {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub name_en: Option<String>,
    #[serde(default)]
    pub description: String,
    pub numerator: String,
    #[serde(default)]
    pub denominator: Option<String>,
    /// 100 for a percentage, 1 for a ratio or a plain total.
    #[serde(default = "one")]
    pub factor: i64,
    /// Decimals shown.
    #[serde(default)]
    pub decimals: u8,
    #[serde(default)]
    pub unit: String,
    pub category: String,
    #[serde(default = "yes")]
    pub higher_is_better: bool,
}

fn one() -> i64 {
    1
}

fn yes() -> bool {
    true
}

/// Largest factor accepted: more than a percentage or per-mille needs is a typo.
pub const MAX_FACTOR: i64 = 1_000_000;

/// Most decimals an indicator may show.
pub const MAX_DISPLAY_DECIMALS: u8 = 6;

/// A checked indicator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Indicator {
    pub code: IndicatorCode,
    pub name: VnName,
    pub name_en: Option<VnName>,
    pub description: String,
    pub numerator: Expression,
    pub denominator: Option<Expression>,
    pub factor: i64,
    pub decimals: u8,
    pub unit: String,
    pub category: Category,
    pub higher_is_better: bool,
}

/// Why an indicator has no value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", content = "elements", rename_all = "snake_case")]
pub enum NoValue {
    /// No report gave these elements.
    Missing(Vec<DataElementCode>),
    /// The denominator sums to zero (e.g. no documents sent).
    ZeroDenominator,
}

impl fmt::Display for NoValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing(codes) => {
                let codes: Vec<&str> = codes.iter().map(DataElementCode::as_str).collect();
                write!(f, "no value: missing {}", codes.join(", "))
            }
            Self::ZeroDenominator => f.write_str("no value: the denominator is zero"),
        }
    }
}

/// An exact rational value `numerator / denominator`, reduced, with a
/// positive denominator. Floating point only when asked (`to_f64`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Ratio {
    pub numerator: i128,
    pub denominator: i128,
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    a = a.abs();
    b = b.abs();
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Ratio {
    /// `None` when the denominator is zero.
    pub fn new(numerator: i128, denominator: i128) -> Option<Self> {
        if denominator == 0 {
            return None;
        }
        let g = gcd(numerator, denominator).max(1);
        let sign = if denominator < 0 { -1 } else { 1 };
        Some(Self {
            numerator: sign * numerator / g,
            denominator: sign * denominator / g,
        })
    }

    pub fn integer(n: i128) -> Self {
        Self {
            numerator: n,
            denominator: 1,
        }
    }

    /// An exact decimal as a ratio.
    pub fn from_exact(e: Exact) -> Self {
        Self::new(e.value, 10i128.pow(u32::from(e.scale))).expect("a power of ten is not zero")
    }

    pub fn to_f64(self) -> f64 {
        self.numerator as f64 / self.denominator as f64
    }

    /// Exact comparison (cross-multiplied; f64 only past 10^38).
    pub fn compare(self, other: Ratio) -> Ordering {
        match (
            self.numerator.checked_mul(other.denominator),
            other.numerator.checked_mul(self.denominator),
        ) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => self.to_f64().total_cmp(&other.to_f64()),
        }
    }

    /// `self - other`, exactly when it fits, else through f64.
    pub fn minus(self, other: Ratio) -> Ratio {
        let exact = (|| {
            let n = self
                .numerator
                .checked_mul(other.denominator)?
                .checked_sub(other.numerator.checked_mul(self.denominator)?)?;
            Ratio::new(n, self.denominator.checked_mul(other.denominator)?)
        })();
        exact.unwrap_or_else(|| {
            let d = self.to_f64() - other.to_f64();
            Ratio::new((d * 1e6).round() as i128, 1_000_000).expect("non-zero")
        })
    }

    /// The value rounded half away from zero to `decimals` places, as text.
    pub fn display(self, decimals: u8) -> String {
        let p = 10i128.pow(u32::from(decimals));
        let scaled = self.numerator.unsigned_abs() * p.unsigned_abs();
        let d = self.denominator.unsigned_abs();
        let rounded = (scaled + d / 2) / d;
        let sign = if self.numerator < 0 && rounded != 0 {
            "-"
        } else {
            ""
        };
        if decimals == 0 {
            return format!("{sign}{rounded}");
        }
        let p = p.unsigned_abs();
        format!(
            "{sign}{}.{:0w$}",
            rounded / p,
            rounded % p,
            w = usize::from(decimals)
        )
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.denominator == 1 {
            write!(f, "{}", self.numerator)
        } else {
            write!(f, "{}/{}", self.numerator, self.denominator)
        }
    }
}

impl Indicator {
    pub(crate) fn build(
        raw: &RawIndicator,
        path: &str,
        lookup: &impl Fn(&DataElementCode) -> Option<ValueType>,
        errors: &mut FieldErrors,
    ) -> Option<Self> {
        let code = errors.check(format!("{path}.code"), IndicatorCode::parse(&raw.code));
        let name = errors.check(format!("{path}.name"), VnName::parse(&raw.name));
        let description = errors.check(
            format!("{path}.description"),
            crate::text::free_text(&raw.description),
        );
        let name_en = match &raw.name_en {
            Some(n) => errors
                .check(format!("{path}.name_en"), VnName::parse(n))
                .map(Some),
            None => Some(None),
        };
        let numerator = errors.check(
            format!("{path}.numerator"),
            Expression::parse(&raw.numerator, lookup),
        );
        let denominator = match &raw.denominator {
            Some(d) => errors
                .check(format!("{path}.denominator"), Expression::parse(d, lookup))
                .map(Some),
            None => Some(None),
        };
        if !(1..=MAX_FACTOR).contains(&raw.factor) {
            errors.push(
                format!("{path}.factor"),
                format!("must be 1 to {MAX_FACTOR}: 100 for a percentage, 1 for a ratio"),
            );
        }
        if raw.decimals > MAX_DISPLAY_DECIMALS {
            errors.push(
                format!("{path}.decimals"),
                format!("must be 0 to {MAX_DISPLAY_DECIMALS}"),
            );
        }
        let category = errors.check(format!("{path}.category"), Category::parse(&raw.category));
        Some(Self {
            code: code?,
            name: name?,
            name_en: name_en?,
            description: description?,
            numerator: numerator?,
            denominator: denominator?,
            factor: raw.factor,
            decimals: raw.decimals,
            unit: raw.unit.trim().to_owned(),
            category: category?,
            higher_is_better: raw.higher_is_better,
        })
    }

    /// The data elements the indicator reads.
    pub fn elements(&self) -> impl Iterator<Item = &DataElementCode> {
        self.numerator
            .elements()
            .chain(self.denominator.iter().flat_map(Expression::elements))
    }

    /// num / den × factor from the totals, computed once and exactly.
    pub fn evaluate(&self, totals: &Totals) -> Result<Ratio, NoValue> {
        let num = self.numerator.evaluate(totals);
        let den = self.denominator.as_ref().map(|d| d.evaluate(totals));
        let mut missing = Vec::new();
        if let Err(m) = &num {
            missing.extend(m.iter().cloned());
        }
        if let Some(Err(m)) = &den {
            missing.extend(
                m.iter()
                    .filter(|c| !missing.contains(c))
                    .cloned()
                    .collect::<Vec<_>>(),
            );
        }
        if !missing.is_empty() {
            return Err(NoValue::Missing(missing));
        }
        let num = Ratio::from_exact(num.expect("checked above"));
        let value = match den {
            None => num,
            Some(den) => {
                let den = Ratio::from_exact(den.expect("checked above"));
                // (a/b) / (c/d) = a·d / (b·c); sums stay below 10^25, factors and
                // scales below 10^13, so the products fit i128 (≈ 1.7 × 10^38).
                Ratio::new(
                    num.numerator * den.denominator,
                    num.denominator * den.numerator,
                )
                .ok_or(NoValue::ZeroDenominator)?
            }
        };
        Ok(
            Ratio::new(value.numerator * i128::from(self.factor), value.denominator)
                .expect("denominator stays non-zero"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::element::Value;
    use crate::value::Count;
    use proptest::prelude::*;

    fn lookup(code: &DataElementCode) -> Option<ValueType> {
        match code.as_str() {
            "officials" | "officials_with_computer" | "computers" => Some(ValueType::Count),
            "has_lan" => Some(ValueType::YesNo),
            _ => None,
        }
    }

    fn raw(num: &str, den: Option<&str>, factor: i64) -> RawIndicator {
        RawIndicator {
            code: "computer_equipment_rate".into(),
            name: "Tỷ lệ cán bộ, công chức, viên chức được trang bị máy vi tính".into(),
            name_en: None,
            description: String::new(),
            numerator: num.into(),
            denominator: den.map(Into::into),
            factor,
            decimals: 1,
            unit: "%".into(),
            category: "technical_infrastructure".into(),
            higher_is_better: true,
        }
    }

    fn build(r: &RawIndicator) -> Result<Indicator, FieldErrors> {
        let mut errors = FieldErrors::new();
        let i = Indicator::build(r, "indicators[3]", &lookup, &mut errors);
        if errors.is_empty() {
            Ok(i.unwrap())
        } else {
            Err(errors)
        }
    }

    fn c(s: &str) -> DataElementCode {
        DataElementCode::parse(s).unwrap()
    }

    fn count(n: i64) -> Value {
        Value::Count(Count::new(n).unwrap())
    }

    #[test]
    fn a_share_is_summed_then_divided_never_averaged() {
        let ind = build(&raw("officials_with_computer", Some("officials"), 100)).unwrap();
        // Agency A: 1 of 1 (100%); agency B: 1 of 3 (33%). Mean of shares would be 66.7%.
        let mut t = Totals::new();
        for (o, w) in [(1, 1), (3, 1)] {
            t.add(&c("officials"), &count(o));
            t.add(&c("officials_with_computer"), &count(w));
        }
        let v = ind.evaluate(&t).unwrap();
        assert_eq!(v, Ratio::new(50, 1).unwrap());
        assert_eq!(v.display(1), "50.0");
    }

    #[test]
    fn ratio_and_yes_no_shares() {
        let ind = build(&raw("computers", Some("officials"), 1)).unwrap();
        let mut t = Totals::new();
        t.add(&c("computers"), &count(9));
        t.add(&c("officials"), &count(10));
        assert_eq!(ind.evaluate(&t).unwrap().display(2), "0.90");
        let ind = build(&raw("yes(has_lan)", Some("answered(has_lan)"), 100)).unwrap();
        let mut t = Totals::new();
        for b in [true, true, false] {
            t.add(&c("has_lan"), &Value::YesNo(b));
        }
        assert_eq!(ind.evaluate(&t).unwrap().display(1), "66.7");
    }

    #[test]
    fn no_value_instead_of_panic() {
        let ind = build(&raw("officials_with_computer", Some("officials"), 100)).unwrap();
        let mut t = Totals::new();
        t.add(&c("officials"), &count(0));
        t.add(&c("officials_with_computer"), &count(0));
        assert_eq!(ind.evaluate(&t), Err(NoValue::ZeroDenominator));
        assert_eq!(
            ind.evaluate(&Totals::new()),
            Err(NoValue::Missing(vec![
                c("officials_with_computer"),
                c("officials")
            ]))
        );
    }

    #[test]
    fn errors_name_the_field() {
        let err = build(&raw("officials + nope", Some("has_lan"), 0)).unwrap_err();
        let fields: Vec<&str> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "indicators[3].numerator",
                "indicators[3].denominator",
                "indicators[3].factor"
            ]
        );
        assert!(err.0[0].message.contains("`nope`"));
        assert!(err.0[1].message.contains("yes(has_lan)"));
    }

    #[test]
    fn ratios_display_and_compare() {
        let r = Ratio::new(2, 3).unwrap();
        assert_eq!(r.display(2), "0.67");
        assert_eq!(Ratio::new(-1, 2).unwrap().display(0), "-1");
        assert_eq!(
            Ratio::new(1, -2).unwrap(),
            Ratio {
                numerator: -1,
                denominator: 2
            }
        );
        assert_eq!(r.compare(Ratio::new(4, 6).unwrap()), Ordering::Equal);
        assert_eq!(r.minus(Ratio::integer(1)), Ratio::new(-1, 3).unwrap());
        assert!(Ratio::new(1, 0).is_none());
    }

    proptest! {
        #[test]
        fn pooled_share_lies_between_agency_shares(
            agencies in proptest::collection::vec((1i64..10_000, 0i64..10_000), 1..20)
        ) {
            let ind = build(&raw("officials_with_computer", Some("officials"), 100)).unwrap();
            let mut t = Totals::new();
            let (mut lo, mut hi) = (f64::MAX, f64::MIN);
            for (o, w) in &agencies {
                let w = w % (o + 1);
                t.add(&c("officials"), &count(*o));
                t.add(&c("officials_with_computer"), &count(w));
                let share = w as f64 / *o as f64 * 100.0;
                lo = lo.min(share);
                hi = hi.max(share);
            }
            let v = ind.evaluate(&t).unwrap().to_f64();
            prop_assert!(v >= lo - 1e-9 && v <= hi + 1e-9);
        }

        #[test]
        fn huge_national_sums_do_not_overflow(n in 1usize..50) {
            let ind = build(&raw("officials_with_computer", Some("officials"), 100)).unwrap();
            let mut t = Totals::new();
            for _ in 0..n {
                t.add(&c("officials"), &count(crate::catalogue::MAX_VALUE));
                t.add(&c("officials_with_computer"), &count(crate::catalogue::MAX_VALUE));
            }
            prop_assert_eq!(ind.evaluate(&t).unwrap(), Ratio::integer(100));
        }
    }
}
