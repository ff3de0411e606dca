//! Expressions over data elements, as indicators and validation rules write
//! them: `documents_sent - documents_sent_internal + 2`, `yes(has_lan)`,
//! `answered(has_lan)`, and comparison chains `a <= b <= c`.
//!
//! Text is parsed once into [`Term`]s, then checked against the catalogue into
//! an [`Expression`] that knows each element's type and scale; evaluation is
//! exact integer arithmetic.

use std::{cmp::Ordering, fmt};

use serde::{Deserialize, Serialize};

use super::{
    aggregate::{Aggregate, Totals},
    element::ValueType,
};
use crate::DataElementCode;

const FORMS: &str = "an expression is element codes and whole numbers joined by + and -, with yes(code) and answered(code) for yes/no elements";

/// How two sides compare: in validation rules and plan targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Comparator {
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
}

impl Comparator {
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Eq => "==",
            Self::Ge => ">=",
            Self::Gt => ">",
        }
    }

    /// Accepts the ASCII forms and `=`, `≤`, `≥`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        Ok(match raw.trim() {
            "<" => Self::Lt,
            "<=" | "≤" => Self::Le,
            "==" | "=" => Self::Eq,
            ">=" | "≥" => Self::Ge,
            ">" => Self::Gt,
            other => {
                return Err(format!(
                    "`{other}` is not a comparison: <, <=, ==, >= or > (≤, = and ≥ also accepted)"
                ));
            }
        })
    }

    /// Whether `left ⋈ right` holds given how left compares to right.
    pub fn holds(self, ordering: Ordering) -> bool {
        match self {
            Self::Lt => ordering.is_lt(),
            Self::Le => ordering.is_le(),
            Self::Eq => ordering.is_eq(),
            Self::Ge => ordering.is_ge(),
            Self::Gt => ordering.is_gt(),
        }
    }
}

impl fmt::Display for Comparator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

impl TryFrom<String> for Comparator {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Comparator> for String {
    fn from(c: Comparator) -> String {
        c.symbol().to_owned()
    }
}

/// Plus or minus in front of a term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sign {
    Plus,
    Minus,
}

/// One operand as written, before the catalogue is consulted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RawOperand {
    Element(String),
    Yes(String),
    Answered(String),
    Constant(i64),
}

/// One checked operand.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Operand {
    /// The sum of a count or decimal element, stored with `scale` decimals.
    Sum { code: DataElementCode, scale: u8 },
    /// How many answered yes to a yes/no element.
    Yes { code: DataElementCode },
    /// How many answered a yes/no element at all.
    Answered { code: DataElementCode },
    /// A whole number, zero or more.
    Constant { value: i64 },
}

/// A signed operand.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Term {
    pub sign: Sign,
    pub operand: Operand,
}

/// A checked expression: its terms and the decimals its exact value carries.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Expression {
    pub terms: Vec<Term>,
    /// Largest scale among its elements; values are computed at this scale.
    pub scale: u8,
}

/// An exact value: `value / 10^scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Exact {
    pub value: i128,
    pub scale: u8,
}

impl Exact {
    fn at_scale(self, scale: u8) -> Option<i128> {
        self.value
            .checked_mul(10i128.checked_pow(u32::from(scale.checked_sub(self.scale)?))?)
    }

    /// Exact comparison at a common scale.
    pub fn compare(self, other: Exact) -> Ordering {
        let s = self.scale.max(other.scale);
        match (self.at_scale(s), other.at_scale(s)) {
            (Some(a), Some(b)) => a.cmp(&b),
            // Unreachable for catalogue values (scales ≤ 6, sums far below 10^30).
            _ => self.to_f64().total_cmp(&other.to_f64()),
        }
    }

    pub fn to_f64(self) -> f64 {
        self.value as f64 / 10f64.powi(i32::from(self.scale))
    }
}

impl fmt::Display for Exact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scale == 0 {
            return write!(f, "{}", self.value);
        }
        let p = 10i128.pow(u32::from(self.scale));
        let sign = if self.value < 0 { "-" } else { "" };
        let v = self.value.unsigned_abs();
        let p = p.unsigned_abs();
        write!(
            f,
            "{sign}{}.{:0w$}",
            v / p,
            v % p,
            w = usize::from(self.scale)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    Number(i64),
    Plus,
    Minus,
    Open,
    Close,
    Cmp(Comparator),
}

fn tokenize(src: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        match c {
            _ if c.is_whitespace() => i += 1,
            '+' => {
                out.push(Token::Plus);
                i += 1;
            }
            '-' => {
                out.push(Token::Minus);
                i += 1;
            }
            '(' => {
                out.push(Token::Open);
                i += 1;
            }
            ')' => {
                out.push(Token::Close);
                i += 1;
            }
            '<' | '>' | '=' | '≤' | '≥' => {
                let len = if matches!(two.as_str(), "<=" | ">=" | "==") {
                    2
                } else {
                    1
                };
                let text: String = chars[i..i + len].iter().collect();
                out.push(Token::Cmp(Comparator::parse(&text)?));
                i += len;
            }
            _ if c.is_ascii_digit() => {
                let start = i;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let n = text
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n <= super::element::MAX_VALUE)
                    .ok_or_else(|| format!("the constant {text} is too large"))?;
                out.push(Token::Number(n));
            }
            _ if c.is_alphanumeric() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                out.push(Token::Ident(chars[start..i].iter().collect()));
            }
            _ => return Err(format!("unexpected `{c}`: {FORMS}")),
        }
    }
    Ok(out)
}

/// Parses the terms of one expression from `tokens[*pos..]`, stopping at a comparison.
fn parse_terms(tokens: &[Token], pos: &mut usize) -> Result<Vec<(Sign, RawOperand)>, String> {
    let mut terms = Vec::new();
    loop {
        let sign = match tokens.get(*pos) {
            Some(Token::Minus) => {
                *pos += 1;
                Sign::Minus
            }
            Some(Token::Plus) if !terms.is_empty() => {
                *pos += 1;
                Sign::Plus
            }
            _ if terms.is_empty() => Sign::Plus,
            _ => break,
        };
        let operand = match tokens.get(*pos) {
            Some(Token::Number(n)) => {
                *pos += 1;
                RawOperand::Constant(*n)
            }
            Some(Token::Ident(name)) => {
                *pos += 1;
                if tokens.get(*pos) == Some(&Token::Open) {
                    let arg = match (tokens.get(*pos + 1), tokens.get(*pos + 2)) {
                        (Some(Token::Ident(arg)), Some(Token::Close)) => arg.clone(),
                        _ => {
                            return Err(format!(
                                "`{name}(` must be followed by one element code and `)`"
                            ));
                        }
                    };
                    *pos += 3;
                    match name.as_str() {
                        "yes" => RawOperand::Yes(arg),
                        "answered" => RawOperand::Answered(arg),
                        other => {
                            return Err(format!(
                                "`{other}()` is not a function: only yes(code) and answered(code)"
                            ));
                        }
                    }
                } else {
                    RawOperand::Element(name.clone())
                }
            }
            Some(other) => {
                return Err(format!(
                    "expected an element code or a number, found {}",
                    show(other)
                ));
            }
            None => return Err(format!("the expression ends too soon: {FORMS}")),
        };
        terms.push((sign, operand));
    }
    Ok(terms)
}

fn show(t: &Token) -> String {
    match t {
        Token::Ident(s) => format!("`{s}`"),
        Token::Number(n) => format!("`{n}`"),
        Token::Plus => "`+`".into(),
        Token::Minus => "`-`".into(),
        Token::Open => "`(`".into(),
        Token::Close => "`)`".into(),
        Token::Cmp(c) => format!("`{c}`"),
    }
}

/// Parses one expression (no comparison) into unchecked terms.
pub fn parse_expression(src: &str) -> Result<Vec<(Sign, RawOperand)>, String> {
    let tokens = tokenize(src)?;
    let mut pos = 0;
    let terms = parse_terms(&tokens, &mut pos)?;
    match tokens.get(pos) {
        None => Ok(terms),
        Some(t) => Err(format!(
            "unexpected {} after the expression: {FORMS}",
            show(t)
        )),
    }
}

/// Parses a chain `e1 op e2 op e3 …` (at least one comparison) into its sides
/// and comparators.
#[allow(clippy::type_complexity)]
pub fn parse_chain(src: &str) -> Result<(Vec<Vec<(Sign, RawOperand)>>, Vec<Comparator>), String> {
    let tokens = tokenize(src)?;
    let mut pos = 0;
    let mut sides = vec![parse_terms(&tokens, &mut pos)?];
    let mut comparators = Vec::new();
    while let Some(t) = tokens.get(pos) {
        match t {
            Token::Cmp(c) => {
                comparators.push(*c);
                pos += 1;
                sides.push(parse_terms(&tokens, &mut pos)?);
            }
            other => {
                return Err(format!(
                    "unexpected {}: expected <, <=, ==, >= or >",
                    show(other)
                ));
            }
        }
    }
    if comparators.is_empty() {
        return Err("a rule compares expressions: write e.g. `a <= b` or `a <= b <= c`".into());
    }
    Ok((sides, comparators))
}

impl Expression {
    /// Parses and checks `src`; `lookup` gives each known element's type.
    pub fn parse(
        src: &str,
        lookup: &impl Fn(&DataElementCode) -> Option<ValueType>,
    ) -> Result<Self, String> {
        Self::check(&parse_expression(src)?, lookup)
    }

    /// Checks parsed terms against the catalogue: every code known, yes/no
    /// elements only inside yes()/answered(), numeric ones only outside.
    pub fn check(
        terms: &[(Sign, RawOperand)],
        lookup: &impl Fn(&DataElementCode) -> Option<ValueType>,
    ) -> Result<Self, String> {
        let mut errors = Vec::new();
        let mut out = Vec::new();
        let mut known = |raw: &str| -> Option<(DataElementCode, ValueType)> {
            match DataElementCode::parse(raw) {
                Err(e) => {
                    errors.push(e.to_string());
                    None
                }
                Ok(code) => match lookup(&code) {
                    Some(vt) => Some((code, vt)),
                    None => {
                        errors.push(format!("unknown data element `{code}`"));
                        None
                    }
                },
            }
        };
        let mut misuse = Vec::new();
        for (sign, op) in terms {
            let operand = match op {
                RawOperand::Constant(n) => Some(Operand::Constant { value: *n }),
                RawOperand::Element(raw) => known(raw).and_then(|(code, vt)| {
                    if vt.is_numeric() {
                        Some(Operand::Sum { code, scale: vt.scale() })
                    } else {
                        misuse.push(format!(
                            "`{code}` is a yes/no element, not a count: use yes({code}) or answered({code})"
                        ));
                        None
                    }
                }),
                RawOperand::Yes(raw) | RawOperand::Answered(raw) => known(raw).and_then(|(code, vt)| {
                    let f = if matches!(op, RawOperand::Yes(_)) { "yes" } else { "answered" };
                    if vt.is_numeric() {
                        misuse.push(format!(
                            "`{code}` is a count, not a yes/no element: write {code} instead of {f}({code})"
                        ));
                        None
                    } else if f == "yes" {
                        Some(Operand::Yes { code })
                    } else {
                        Some(Operand::Answered { code })
                    }
                }),
            };
            if let Some(operand) = operand {
                out.push(Term {
                    sign: *sign,
                    operand,
                });
            }
        }
        errors.extend(misuse);
        if !errors.is_empty() {
            return Err(errors.join("; "));
        }
        if out.is_empty() {
            return Err(format!("the expression is empty: {FORMS}"));
        }
        let scale = out
            .iter()
            .map(|t| match t.operand {
                Operand::Sum { scale, .. } => scale,
                _ => 0,
            })
            .max()
            .unwrap_or(0);
        Ok(Self { terms: out, scale })
    }

    /// The data elements the expression reads, in order of appearance.
    pub fn elements(&self) -> impl Iterator<Item = &DataElementCode> {
        self.terms.iter().filter_map(|t| match &t.operand {
            Operand::Sum { code, .. } | Operand::Yes { code } | Operand::Answered { code } => {
                Some(code)
            }
            Operand::Constant { .. } => None,
        })
    }

    /// The exact value over `totals`, or the elements `totals` lacks.
    pub fn evaluate(&self, totals: &Totals) -> Result<Exact, Vec<DataElementCode>> {
        let mut missing = Vec::new();
        let mut sum: i128 = 0;
        let pow = |s: u8| 10i128.pow(u32::from(self.scale - s));
        for term in &self.terms {
            let found = self.elements_of(term).map(|code| (code, totals.get(code)));
            let v = match (&term.operand, found) {
                (Operand::Constant { value }, _) => Some(i128::from(*value) * pow(0)),
                (Operand::Sum { scale, .. }, Some((_, Some(Aggregate::Sum(total))))) => {
                    Some(total * pow(*scale))
                }
                // Yes/no tallies are whole numbers, lifted to the scale like constants.
                (Operand::Yes { .. }, Some((_, Some(Aggregate::YesNo { yes, .. })))) => {
                    Some(i128::from(*yes) * pow(0))
                }
                (Operand::Answered { .. }, Some((_, Some(Aggregate::YesNo { answered, .. })))) => {
                    Some(i128::from(*answered) * pow(0))
                }
                _ => None,
            };
            match (v, found) {
                (Some(v), _) => sum += if term.sign == Sign::Minus { -v } else { v },
                (None, Some((code, _))) => {
                    if !missing.contains(code) {
                        missing.push(code.clone());
                    }
                }
                (None, None) => {}
            }
        }
        if missing.is_empty() {
            Ok(Exact {
                value: sum,
                scale: self.scale,
            })
        } else {
            Err(missing)
        }
    }

    fn elements_of<'a>(&self, term: &'a Term) -> Option<&'a DataElementCode> {
        match &term.operand {
            Operand::Sum { code, .. } | Operand::Yes { code } | Operand::Answered { code } => {
                Some(code)
            }
            Operand::Constant { .. } => None,
        }
    }
}

impl fmt::Display for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.terms.iter().enumerate() {
            match (i, t.sign) {
                (0, Sign::Plus) => {}
                (0, Sign::Minus) => f.write_str("-")?,
                (_, Sign::Plus) => f.write_str(" + ")?,
                (_, Sign::Minus) => f.write_str(" - ")?,
            }
            match &t.operand {
                Operand::Sum { code, .. } => write!(f, "{code}")?,
                Operand::Yes { code } => write!(f, "yes({code})")?,
                Operand::Answered { code } => write!(f, "answered({code})")?,
                Operand::Constant { value } => write!(f, "{value}")?,
            }
        }
        Ok(())
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
            "a" | "b" | "c" => Some(ValueType::Count),
            "area" => Some(ValueType::Decimal { decimals: 2 }),
            "has_lan" => Some(ValueType::YesNo),
            _ => None,
        }
    }

    fn code(s: &str) -> DataElementCode {
        DataElementCode::parse(s).unwrap()
    }

    #[test]
    fn parses_sums_differences_and_functions() {
        let e = Expression::parse("a - b + 2 + yes(has_lan) - answered(has_lan)", &lookup).unwrap();
        assert_eq!(
            e.to_string(),
            "a - b + 2 + yes(has_lan) - answered(has_lan)"
        );
        assert_eq!(e.terms.len(), 5);
        assert_eq!(e.terms[1].sign, Sign::Minus);
        assert_eq!(e.elements().count(), 4);
        assert_eq!(Expression::parse("-a", &lookup).unwrap().to_string(), "-a");
    }

    #[test]
    fn errors_name_the_code() {
        let err = Expression::parse("a + nope", &lookup).unwrap_err();
        assert_eq!(err, "unknown data element `nope`");
        let err = Expression::parse("has_lan", &lookup).unwrap_err();
        assert!(err.contains("`has_lan` is a yes/no element"), "{err}");
        let err = Expression::parse("yes(a)", &lookup).unwrap_err();
        assert!(err.contains("`a` is a count"), "{err}");
        assert!(
            Expression::parse("a +", &lookup)
                .unwrap_err()
                .contains("ends too soon")
        );
        assert!(
            Expression::parse("a * b", &lookup)
                .unwrap_err()
                .contains("unexpected `*`")
        );
        assert!(
            Expression::parse("max(a)", &lookup)
                .unwrap_err()
                .contains("not a function")
        );
        assert!(
            Expression::parse("a b", &lookup)
                .unwrap_err()
                .contains("unexpected `b`")
        );
        assert!(Expression::parse("", &lookup).is_err());
        assert!(Expression::parse("a <= b", &lookup).is_err());
        assert!(
            Expression::parse("Officials", &lookup)
                .unwrap_err()
                .contains("not a data element code")
        );
    }

    #[test]
    fn chains_parse() {
        let (sides, cmps) = parse_chain("a <= b < c").unwrap();
        assert_eq!(sides.len(), 3);
        assert_eq!(cmps, vec![Comparator::Le, Comparator::Lt]);
        let (_, cmps) = parse_chain("a ≥ b = c").unwrap();
        assert_eq!(cmps, vec![Comparator::Ge, Comparator::Eq]);
        assert!(parse_chain("a + b").unwrap_err().contains("compares"));
        assert!(parse_chain("a <= ").is_err());
    }

    #[test]
    fn evaluates_exactly_across_scales() {
        let mut t = Totals::default();
        t.add(&code("a"), &Value::Count(Count::new(3).unwrap()));
        t.add(
            &code("area"),
            &Value::Decimal(crate::catalogue::Decimal::new(125, 2).unwrap()),
        );
        t.add(&code("has_lan"), &Value::YesNo(true));
        t.add(&code("has_lan"), &Value::YesNo(false));
        let e = Expression::parse("a + area + yes(has_lan) + 1", &lookup).unwrap();
        assert_eq!(
            e.evaluate(&t),
            Ok(Exact {
                value: 625,
                scale: 2
            })
        );
        assert_eq!(e.evaluate(&t).unwrap().to_string(), "6.25");
        let e = Expression::parse("answered(has_lan) - a", &lookup).unwrap();
        assert_eq!(e.evaluate(&t).unwrap().value, -1);
        let e = Expression::parse("a + b + c + b", &lookup).unwrap();
        assert_eq!(e.evaluate(&t), Err(vec![code("b"), code("c")]));
    }

    #[test]
    fn comparators_round_trip() {
        for c in [
            Comparator::Lt,
            Comparator::Le,
            Comparator::Eq,
            Comparator::Ge,
            Comparator::Gt,
        ] {
            assert_eq!(Comparator::parse(c.symbol()), Ok(c));
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(serde_json::from_str::<Comparator>(&json).unwrap(), c);
        }
        assert!(Comparator::parse("=>").unwrap_err().contains("<="));
        assert!(Comparator::Ge.holds(Ordering::Equal));
        assert!(!Comparator::Gt.holds(Ordering::Equal));
    }

    proptest! {
        #[test]
        fn never_panics(s in "[a-z_()<>=+\\- 0-9≤]{0,30}") {
            let _ = Expression::parse(&s, &lookup);
            let _ = parse_chain(&s);
        }

        #[test]
        fn display_round_trips(ops in proptest::collection::vec((any::<bool>(), 0usize..6), 1..6)) {
            let atoms = ["a", "b", "area", "yes(has_lan)", "answered(has_lan)", "7"];
            let mut src = String::new();
            for (i, (minus, k)) in ops.iter().enumerate() {
                if i > 0 || *minus {
                    src.push_str(if *minus { if i > 0 { " - " } else { "-" } } else { " + " });
                }
                src.push_str(atoms[*k]);
            }
            let e = Expression::parse(&src, &lookup).unwrap();
            prop_assert_eq!(e.to_string(), src);
        }
    }
}
