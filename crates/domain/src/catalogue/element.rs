//! Data elements (chỉ tiêu thu thập): the raw figures an agency reports, and
//! the values it may enter for each.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{DataElementCode, VnName, value::Count};

/// Largest value any count (or scaled decimal) may take, whatever its own bound.
///
/// Why 10^12: the largest sum chiso forms is national, over about 15,000
/// agencies × 12 monthly reports × 10 years = 1.8 × 10^6 values. At 10^12
/// each that is 1.8 × 10^18, below i64::MAX ≈ 9.22 × 10^18, so even a store
/// that sums in a signed 64-bit column cannot overflow; chiso itself sums in
/// i128. No real count (documents, computers, staff) comes near 10^12.
pub const MAX_VALUE: i64 = 1_000_000_000_000;

/// Most decimals a decimal element may keep. [`MAX_VALUE`] bounds the
/// stored scaled integer, so the ceiling's arithmetic holds for decimals too
/// (a 2-decimal element tops out at 10^10).
pub const MAX_DECIMALS: u8 = 6;

/// Which part of IT application an element or indicator measures (the
/// groups of the provincial plans and of Decree 64/2007).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Hạ tầng kỹ thuật.
    TechnicalInfrastructure,
    /// Ứng dụng CNTT trong nội bộ cơ quan nhà nước.
    InternalUse,
    /// Ứng dụng CNTT phục vụ người dân và doanh nghiệp.
    OnlineServices,
    /// Nguồn nhân lực CNTT.
    HumanResources,
    /// An toàn thông tin.
    InformationSecurity,
}

impl Category {
    pub const ALL: [Category; 5] = [
        Self::TechnicalInfrastructure,
        Self::InternalUse,
        Self::OnlineServices,
        Self::HumanResources,
        Self::InformationSecurity,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::TechnicalInfrastructure => "technical_infrastructure",
            Self::InternalUse => "internal_use",
            Self::OnlineServices => "online_services",
            Self::HumanResources => "human_resources",
            Self::InformationSecurity => "information_security",
        }
    }

    /// The Vietnamese heading used in the plans.
    pub fn name_vi(self) -> &'static str {
        match self {
            Self::TechnicalInfrastructure => "Hạ tầng kỹ thuật",
            Self::InternalUse => "Ứng dụng CNTT trong nội bộ cơ quan nhà nước",
            Self::OnlineServices => "Ứng dụng CNTT phục vụ người dân và doanh nghiệp",
            Self::HumanResources => "Nguồn nhân lực CNTT",
            Self::InformationSecurity => "An toàn thông tin",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == raw.trim())
            .ok_or_else(|| {
                format!(
                    "`{raw}` is not a category: technical_infrastructure, internal_use, online_services, human_resources or information_security"
                )
            })
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of value an element takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ValueType {
    /// A whole number, zero or more.
    Count,
    /// A number, zero or more, with at most `decimals` digits after the point.
    Decimal { decimals: u8 },
    /// Có / không.
    YesNo,
}

impl ValueType {
    /// Counts and decimals sum; yes/no answers are counted instead.
    pub fn is_numeric(self) -> bool {
        !matches!(self, Self::YesNo)
    }

    /// Digits after the point in the stored integer (0 for counts).
    pub fn scale(self) -> u8 {
        match self {
            Self::Decimal { decimals } => decimals,
            _ => 0,
        }
    }

    /// The value a stored integer ([`Value::as_integer`]) stands for under
    /// this type; `None` for what no value of the type is stored as.
    pub fn value_of(self, stored: i64) -> Option<Value> {
        match self {
            Self::Count => Count::new(stored).ok().map(Value::Count),
            Self::Decimal { decimals } => Decimal::new(stored, decimals).map(Value::Decimal),
            Self::YesNo => match stored {
                0 => Some(Value::YesNo(false)),
                1 => Some(Value::YesNo(true)),
                _ => None,
            },
        }
    }
}

/// How an element's values for finer periods make one for a coarser period
/// (months into a quarter, quarters into a year).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodRule {
    /// A flow (documents sent, meetings held): the periods add up.
    Sum,
    /// A stock (computers, services offered) or a yes/no state: the latest
    /// period reported stands for the whole.
    Last,
}

impl PeriodRule {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sum => "sum",
            Self::Last => "last",
        }
    }

    /// The rule an element of this type follows unless it says otherwise.
    pub fn default_for(value_type: ValueType) -> Self {
        match value_type {
            ValueType::YesNo => Self::Last,
            _ => Self::Sum,
        }
    }
}

/// A non-negative decimal stored exactly as `scaled / 10^decimals`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Decimal {
    scaled: i64,
    decimals: u8,
}

impl Decimal {
    /// `scaled / 10^decimals`; `None` when negative or `decimals` is above [`MAX_DECIMALS`].
    pub fn new(scaled: i64, decimals: u8) -> Option<Self> {
        (scaled >= 0 && decimals <= MAX_DECIMALS).then_some(Self { scaled, decimals })
    }

    pub fn scaled(self) -> i64 {
        self.scaled
    }

    pub fn decimals(self) -> u8 {
        self.decimals
    }

    /// Parses `12`, `12.5` or `.5` at the given number of decimals (fewer
    /// digits are padded, trailing zeros beyond them ignored). A dot is the
    /// only separator: `1.234` would be a thousand in Vietnamese notation, so
    /// a comma is refused rather than guessed at.
    fn parse(raw: &str, decimals: u8) -> Result<Self, DecimalError> {
        let s = raw.trim();
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        if s.is_empty()
            || (whole.is_empty() && frac.is_empty())
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(DecimalError::Malformed);
        }
        let frac = frac.trim_end_matches('0');
        if frac.len() > usize::from(decimals) {
            return Err(DecimalError::TooManyDecimals);
        }
        // Too many digits overflow here and are reported as too large.
        let digits = format!("{whole}{frac:0<width$}", width = usize::from(decimals));
        let digits = digits.trim_start_matches('0');
        if digits.is_empty() {
            return Ok(Self {
                scaled: 0,
                decimals,
            });
        }
        if digits.len() > 18 {
            return Err(DecimalError::TooLarge);
        }
        let scaled: i64 = digits.parse().map_err(|_| DecimalError::Malformed)?;
        Ok(Self { scaled, decimals })
    }
}

enum DecimalError {
    Malformed,
    TooManyDecimals,
    TooLarge,
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.decimals == 0 {
            return write!(f, "{}", self.scaled);
        }
        let p = 10i64.pow(u32::from(self.decimals));
        write!(
            f,
            "{}.{:0width$}",
            self.scaled / p,
            self.scaled % p,
            width = usize::from(self.decimals)
        )
    }
}

/// One checked value of one data element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "ValueRepr", into = "ValueRepr")]
pub enum Value {
    Count(Count),
    Decimal(Decimal),
    YesNo(bool),
}

/// Wire form of [`Value`]; decoding re-checks non-negativity and decimals.
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
enum ValueRepr {
    Count(i64),
    Decimal { scaled: i64, decimals: u8 },
    YesNo(bool),
}

impl From<Value> for ValueRepr {
    fn from(v: Value) -> Self {
        match v {
            Value::Count(c) => Self::Count(c.get()),
            Value::Decimal(d) => Self::Decimal {
                scaled: d.scaled,
                decimals: d.decimals,
            },
            Value::YesNo(b) => Self::YesNo(b),
        }
    }
}

impl TryFrom<ValueRepr> for Value {
    type Error = String;
    fn try_from(r: ValueRepr) -> Result<Self, Self::Error> {
        match r {
            ValueRepr::Count(n) => Count::new(n).map(Value::Count).map_err(|e| e.to_string()),
            ValueRepr::Decimal { scaled, decimals } => Decimal::new(scaled, decimals)
                .map(Value::Decimal)
                .ok_or_else(|| {
                    format!("a decimal must be zero or more with at most {MAX_DECIMALS} decimals")
                }),
            ValueRepr::YesNo(b) => Ok(Value::YesNo(b)),
        }
    }
}

impl Value {
    /// The stored integer: the count, the scaled decimal, or 1/0 for yes/no.
    pub fn as_integer(self) -> i64 {
        match self {
            Self::Count(c) => c.get(),
            Self::Decimal(d) => d.scaled(),
            Self::YesNo(b) => i64::from(b),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Count(c) => c.fmt(f),
            Self::Decimal(d) => d.fmt(f),
            Self::YesNo(true) => f.write_str("yes"),
            Self::YesNo(false) => f.write_str("no"),
        }
    }
}

/// A bound as written in a definition: an integer, or a decimal as text
/// (`"99.5"`) so no float ever carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RawNumber {
    Integer(i64),
    Text(String),
}

impl fmt::Display for RawNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Integer(i) => i.fmt(f),
            Self::Text(t) => f.write_str(t),
        }
    }
}

/// A data element as written in a catalogue file, before any check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDataElement {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub name_en: Option<String>,
    /// What exactly the reporting officer counts.
    pub description: String,
    pub category: String,
    /// `count`, `decimal` or `yes_no`.
    pub value_type: String,
    /// Digits after the point, for `decimal` only.
    #[serde(default)]
    pub decimals: Option<u8>,
    #[serde(default)]
    pub min: Option<RawNumber>,
    #[serde(default)]
    pub max: Option<RawNumber>,
    #[serde(default)]
    pub unit: String,
    /// `sum` or `last`; by default `sum` for counts and decimals, `last` for yes/no.
    #[serde(default)]
    pub period_rule: Option<String>,
}

/// A checked data element.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataElement {
    pub code: DataElementCode,
    pub name: VnName,
    pub name_en: Option<VnName>,
    pub description: String,
    pub category: Category,
    pub value_type: ValueType,
    /// Smallest value accepted, as the stored integer (scaled for decimals).
    pub min: i64,
    /// Largest value accepted, as the stored integer; never above [`MAX_VALUE`].
    pub max: i64,
    pub unit: String,
    /// How finer periods roll up into coarser ones.
    pub period_rule: PeriodRule,
}

impl DataElement {
    /// Checks a raw definition, recording every problem under `path` (e.g. `elements[3]`).
    pub(crate) fn build(
        raw: &RawDataElement,
        path: &str,
        errors: &mut crate::FieldErrors,
    ) -> Option<Self> {
        let code = errors.check(format!("{path}.code"), DataElementCode::parse(&raw.code));
        let name = errors.check(format!("{path}.name"), VnName::parse(&raw.name));
        let name_en = match &raw.name_en {
            Some(n) => errors
                .check(format!("{path}.name_en"), VnName::parse(n))
                .map(Some),
            None => Some(None),
        };
        let description = errors.check(
            format!("{path}.description"),
            crate::text::free_text(&raw.description),
        );
        if description.as_ref().is_some_and(String::is_empty) {
            errors.push(
                format!("{path}.description"),
                "must say what the reporting officer counts",
            );
        }
        let category = errors.check(format!("{path}.category"), Category::parse(&raw.category));
        let value_type = match (raw.value_type.trim(), raw.decimals) {
            ("count", None) => Some(ValueType::Count),
            ("yes_no", None) => Some(ValueType::YesNo),
            ("decimal", Some(d)) if (1..=MAX_DECIMALS).contains(&d) => {
                Some(ValueType::Decimal { decimals: d })
            }
            ("decimal", _) => {
                errors.push(
                    format!("{path}.decimals"),
                    format!("a decimal element needs decimals = 1 to {MAX_DECIMALS}"),
                );
                None
            }
            ("count" | "yes_no", Some(_)) => {
                errors.push(
                    format!("{path}.decimals"),
                    "only a decimal element has decimals",
                );
                None
            }
            (other, _) => {
                errors.push(
                    format!("{path}.value_type"),
                    format!("`{other}` is not a value type: count, decimal or yes_no"),
                );
                None
            }
        };
        let bound = |raw: &Option<RawNumber>,
                     field: &str,
                     default: i64,
                     errors: &mut crate::FieldErrors| {
            let vt = value_type?;
            match raw {
                None => Some(default),
                Some(_) if vt == ValueType::YesNo => {
                    errors.push(format!("{path}.{field}"), "a yes/no element has no bounds");
                    None
                }
                Some(n) => match parse_number(&n.to_string(), vt, i64::MAX) {
                    Ok(v) if v <= MAX_VALUE => Some(v),
                    Ok(_) => {
                        errors.push(
                            format!("{path}.{field}"),
                            format!("must be at most {MAX_VALUE}, the ceiling of every count"),
                        );
                        None
                    }
                    Err(e) => {
                        errors.push(format!("{path}.{field}"), e);
                        None
                    }
                },
            }
        };
        let is_yes_no = value_type == Some(ValueType::YesNo);
        let min = bound(&raw.min, "min", 0, errors);
        let max = bound(
            &raw.max,
            "max",
            if is_yes_no { 1 } else { MAX_VALUE },
            errors,
        );
        if let (Some(lo), Some(hi)) = (min, max)
            && lo > hi
        {
            errors.push(format!("{path}.min"), format!("min {lo} is above max {hi}"));
        }
        let period_rule = match raw.period_rule.as_deref().map(str::trim) {
            None | Some("") => value_type.map(PeriodRule::default_for),
            Some("sum") => Some(PeriodRule::Sum),
            Some("last") => Some(PeriodRule::Last),
            Some(other) => {
                errors.push(
                    format!("{path}.period_rule"),
                    format!("`{other}` is not a period rule: sum (a flow) or last (a stock)"),
                );
                None
            }
        };
        Some(Self {
            period_rule: period_rule?,
            code: code?,
            name: name?,
            name_en: name_en?,
            description: description?,
            category: category?,
            value_type: value_type?,
            min: min?,
            max: max?,
            unit: raw.unit.trim().to_owned(),
        })
    }

    /// Checks one entered value: its form, its decimals and its bounds. The
    /// message names the element and shows what would be accepted.
    pub fn check_value(&self, raw: &str) -> Result<Value, String> {
        let wrap = |msg: String| format!("{} ({}): {msg}", self.code, self.name);
        match self.value_type {
            ValueType::YesNo => parse_yes_no(raw).map(Value::YesNo).ok_or_else(|| {
                wrap(format!(
                    "`{}` is not an answer: yes or no (có / không)",
                    raw.trim()
                ))
            }),
            vt => {
                let n = parse_number(raw, vt, self.max).map_err(wrap)?;
                if n < self.min {
                    let shown = show(self.min, vt);
                    return Err(wrap(format!("{} is below the minimum {shown}", raw.trim())));
                }
                Ok(match vt {
                    ValueType::Decimal { decimals } => {
                        Value::Decimal(Decimal::new(n, decimals).expect("checked non-negative"))
                    }
                    _ => Value::Count(Count::new(n).expect("checked non-negative")),
                })
            }
        }
    }
}

fn show(scaled: i64, vt: ValueType) -> String {
    match vt {
        ValueType::Decimal { decimals } => Decimal { scaled, decimals }.to_string(),
        _ => scaled.to_string(),
    }
}

/// Parses a count or decimal to its stored integer, checking it is not above `max`.
fn parse_number(raw: &str, vt: ValueType, max: i64) -> Result<i64, String> {
    let s = raw.trim();
    let n = match vt {
        ValueType::Decimal { decimals } => match Decimal::parse(s, decimals) {
            Ok(d) => d.scaled,
            Err(DecimalError::TooManyDecimals) => {
                return Err(format!(
                    "`{s}` has too many decimals: at most {decimals} digits after the point"
                ));
            }
            Err(DecimalError::TooLarge) => {
                return Err(format!("{s} is above the maximum {}", show(max, vt)));
            }
            Err(DecimalError::Malformed) => {
                let hint = if s.starts_with('-') {
                    "must be zero or more"
                } else {
                    "is not a number: use digits and a dot for decimals, e.g. 12.5"
                };
                return Err(format!("`{s}` {hint}"));
            }
        },
        _ => {
            if s.starts_with('-') && s.len() > 1 && s[1..].bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("`{s}` must be zero or more"));
            }
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "`{s}` is not a whole number: enter digits only, e.g. 120"
                ));
            }
            let digits = s.trim_start_matches('0');
            if digits.len() > 18 {
                return Err(format!("{s} is above the maximum {}", show(max, vt)));
            }
            digits.parse::<i64>().unwrap_or(0)
        }
    };
    if n > max {
        return Err(format!("{s} is above the maximum {}", show(max, vt)));
    }
    Ok(n)
}

fn parse_yes_no(raw: &str) -> Option<bool> {
    match crate::text::search_key(raw).as_str() {
        "yes" | "true" | "1" | "co" | "y" => Some(true),
        "no" | "false" | "0" | "khong" | "n" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FieldErrors;
    use proptest::prelude::*;

    #[test]
    fn stored_integers_read_back_as_the_values_they_came_from() {
        for (vt, v) in [
            (ValueType::Count, Value::Count(Count::new(120).unwrap())),
            (
                ValueType::Decimal { decimals: 2 },
                Value::Decimal(Decimal::new(1250, 2).unwrap()),
            ),
            (ValueType::YesNo, Value::YesNo(true)),
            (ValueType::YesNo, Value::YesNo(false)),
        ] {
            assert_eq!(vt.value_of(v.as_integer()), Some(v));
        }
        assert_eq!(ValueType::YesNo.value_of(2), None);
        assert_eq!(ValueType::Count.value_of(-1), None);
    }

    fn raw(value_type: &str, decimals: Option<u8>) -> RawDataElement {
        RawDataElement {
            code: "computers".into(),
            name: "Số máy vi tính".into(),
            name_en: Some("Computers".into()),
            description: "Máy tính để bàn và xách tay đang sử dụng".into(),
            category: "technical_infrastructure".into(),
            value_type: value_type.into(),
            decimals,
            min: None,
            max: None,
            unit: "máy".into(),
            period_rule: None,
        }
    }

    fn build(r: &RawDataElement) -> Result<DataElement, FieldErrors> {
        let mut errors = FieldErrors::new();
        let e = DataElement::build(r, "elements[0]", &mut errors);
        if errors.is_empty() {
            Ok(e.unwrap())
        } else {
            Err(errors)
        }
    }

    #[test]
    fn counts_check_form_and_bounds() {
        let mut r = raw("count", None);
        r.max = Some(RawNumber::Integer(500));
        let e = build(&r).unwrap();
        assert_eq!(
            e.check_value(" 120 "),
            Ok(Value::Count(Count::new(120).unwrap()))
        );
        assert_eq!(e.check_value("0"), Ok(Value::Count(Count::new(0).unwrap())));
        let err = e.check_value("-3").unwrap_err();
        assert!(
            err.starts_with("computers (Số máy vi tính): `-3` must be zero or more"),
            "{err}"
        );
        assert!(e.check_value("12.5").unwrap_err().contains("whole number"));
        assert!(
            e.check_value("501")
                .unwrap_err()
                .contains("above the maximum 500")
        );
        assert!(
            e.check_value("99999999999999999999999")
                .unwrap_err()
                .contains("maximum 500")
        );
    }

    #[test]
    fn counts_have_the_global_ceiling() {
        let e = build(&raw("count", None)).unwrap();
        assert_eq!(e.max, MAX_VALUE);
        assert!(e.check_value("1000000000000").is_ok());
        assert!(
            e.check_value("1000000000001")
                .unwrap_err()
                .contains("maximum")
        );
        let mut r = raw("count", None);
        r.max = Some(RawNumber::Integer(MAX_VALUE + 1));
        let err = build(&r).unwrap_err();
        assert_eq!(err.0[0].field, "elements[0].max");
    }

    #[test]
    fn decimals_are_exact() {
        let mut r = raw("decimal", Some(2));
        r.max = Some(RawNumber::Text("100".into()));
        r.min = Some(RawNumber::Text("0.5".into()));
        let e = build(&r).unwrap();
        assert_eq!(e.min, 50);
        let v = e.check_value("12.5").unwrap();
        assert_eq!(v, Value::Decimal(Decimal::new(1250, 2).unwrap()));
        assert_eq!(v.to_string(), "12.50");
        assert_eq!(e.check_value("12.340").unwrap().as_integer(), 1234);
        assert!(
            e.check_value("12.345")
                .unwrap_err()
                .contains("too many decimals: at most 2")
        );
        assert!(
            e.check_value("0.4")
                .unwrap_err()
                .contains("below the minimum 0.50")
        );
        assert!(
            e.check_value("100.01")
                .unwrap_err()
                .contains("above the maximum 100.00")
        );
        assert!(
            e.check_value("12,5")
                .unwrap_err()
                .contains("dot for decimals")
        );
        assert!(e.check_value("-1.5").unwrap_err().contains("zero or more"));
    }

    #[test]
    fn yes_no_accepts_vietnamese() {
        let e = build(&raw("yes_no", None)).unwrap();
        assert_eq!(e.check_value("Có"), Ok(Value::YesNo(true)));
        assert_eq!(e.check_value("không"), Ok(Value::YesNo(false)));
        assert_eq!(e.check_value("yes"), Ok(Value::YesNo(true)));
        assert!(e.check_value("maybe").unwrap_err().contains("yes or no"));
    }

    #[test]
    fn bad_definitions_name_every_field() {
        let mut r = raw("decimal", None);
        r.code = "Computers".into();
        r.name = " ".into();
        r.category = "hardware".into();
        r.description = String::new();
        let err = build(&r).unwrap_err();
        let fields: Vec<&str> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "elements[0].code",
                "elements[0].name",
                "elements[0].description",
                "elements[0].category",
                "elements[0].decimals"
            ]
        );
        let mut r = raw("count", None);
        r.description = "Máy tính\u{0007} đang dùng".into();
        let err = build(&r).unwrap_err();
        assert_eq!(err.0[0].field, "elements[0].description");
        assert!(err.0[0].message.contains("control"), "{}", err.0[0].message);
        r.description = "Máy tính\nđang dùng\t(chiếc)\u{200F}".into();
        assert_eq!(
            build(&r).unwrap().description,
            "Máy tính\nđang dùng\t(chiếc)\u{200F}",
            "free text keeps line breaks, tabs and direction marks as typed"
        );
        // An override reorders what follows it (Trojan Source): refused.
        r.description = "Máy tính\u{202E} đang dùng".into();
        let err = build(&r).unwrap_err();
        assert_eq!(err.0[0].field, "elements[0].description");
        assert!(err.0[0].message.contains("U+202E"), "{}", err.0[0].message);
        let mut r = raw("yes_no", None);
        r.max = Some(RawNumber::Integer(3));
        assert_eq!(build(&r).unwrap_err().0[0].field, "elements[0].max");
        let mut r = raw("count", None);
        r.min = Some(RawNumber::Integer(10));
        r.max = Some(RawNumber::Integer(5));
        assert!(build(&r).unwrap_err().0[0].message.contains("above max"));
    }

    #[test]
    fn values_serialise_with_their_type() {
        let v = Value::Decimal(Decimal::new(1250, 2).unwrap());
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(
            json,
            r#"{"type":"decimal","value":{"scaled":1250,"decimals":2}}"#
        );
        assert_eq!(serde_json::from_str::<Value>(&json).unwrap(), v);
        let c = Value::Count(Count::new(7).unwrap());
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"type":"count","value":7}"#
        );
        assert!(serde_json::from_str::<Value>(r#"{"type":"count","value":-7}"#).is_err());
    }

    proptest! {
        #[test]
        fn check_value_never_panics(s in "\\PC{0,30}", t in 0usize..3) {
            let e = build(&[raw("count", None), raw("decimal", Some(3)), raw("yes_no", None)][t]).unwrap();
            if let Ok(v) = e.check_value(&s) {
                prop_assert!(v.as_integer() >= 0 && v.as_integer() <= MAX_VALUE);
            }
        }

        #[test]
        fn decimals_round_trip(scaled in 0i64..=MAX_VALUE, decimals in 1u8..=6) {
            let mut r = raw("decimal", Some(decimals));
            r.max = None;
            let e = build(&r).unwrap();
            let d = Decimal::new(scaled, decimals).unwrap();
            prop_assert_eq!(e.check_value(&d.to_string()), Ok(Value::Decimal(d)));
        }

        #[test]
        fn counts_round_trip(n in 0i64..=MAX_VALUE) {
            let e = build(&raw("count", None)).unwrap();
            prop_assert_eq!(e.check_value(&n.to_string()), Ok(Value::Count(Count::new(n).unwrap())));
        }
    }
}
