//! Rankings of IT application (xếp hạng mức độ ứng dụng CNTT): a composite
//! index per agency within a comparison group, built the way the Vietnam ICT
//! Index is. Indicators are grouped into sub-indexes (chỉ số thành phần),
//! each indicator is normalised to 0..1, weighted into sub-index scores and
//! a total, and agencies are ranked on the total with ties sharing a rank.
//!
//! The method is `docs/RANKING.md`; its worked example is the test
//! `tests::the_documented_example`. Scores are exact rationals
//! ([`Fraction`]) so that a tie is a real tie, not two floats that happen
//! to round alike.

mod fraction;

use std::collections::BTreeMap;
use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

pub use fraction::Fraction;

use crate::{
    AgencyCode, FieldErrors, IndicatorCode, VnName,
    catalogue::{Catalogue, Ratio, RawNumber},
    codes::{RankingCode, SubIndexCode},
    plan::{TargetGroup, parse_number},
};

/// Version of the method in `docs/RANKING.md` (normalisation, missing-data
/// and tie rules). A change to those rules bumps it, so two results with
/// the same definition version but different methods are never compared.
pub const METHOD_VERSION: u32 = 1;

/// Version of a ranking definition, `YEAR.REVISION` (e.g. `2026.1`): any
/// change that can move a score (indicators, weights, normalisations,
/// targets, group) publishes a new version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RankingVersion {
    year: u16,
    revision: u16,
}

impl RankingVersion {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let bad = || format!("`{raw}` is not a ranking version: YEAR.REVISION, e.g. 2026.1");
        let (year, revision) = raw.trim().split_once('.').ok_or_else(bad)?;
        // Plain digits without a leading zero, so the text round-trips.
        let number = |s: &str, len: std::ops::RangeInclusive<usize>| {
            (len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) && !s.starts_with('0'))
                .then(|| s.parse::<u16>().ok())
                .flatten()
        };
        let year = number(year, 4..=4).filter(|y| (1900..=2999).contains(y));
        let revision = number(revision, 1..=3);
        match (year, revision) {
            (Some(year), Some(revision)) => Ok(Self { year, revision }),
            _ => Err(bad()),
        }
    }

    pub fn year(self) -> u16 {
        self.year
    }

    pub fn revision(self) -> u16 {
        self.revision
    }
}

impl fmt::Display for RankingVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.year, self.revision)
    }
}

impl FromStr for RankingVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for RankingVersion {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<RankingVersion> for String {
    fn from(v: RankingVersion) -> String {
        v.to_string()
    }
}

/// How an indicator's value becomes a score in 0..1, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NormalisationKind {
    /// Position between the group's lowest and highest value.
    MinMax,
    /// Attainment of a target, capped at 1.
    Target,
}

/// An indicator of a sub-index as written, before any check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRankedIndicator {
    pub indicator: String,
    /// Relative to the other indicators of the sub-index.
    pub weight: RawNumber,
    pub normalisation: NormalisationKind,
    /// For `normalisation = "target"` only: the value that scores 1, in the
    /// indicator's unit (90 for 90 %, `"0.9"` computers per official).
    #[serde(default)]
    pub target: Option<RawNumber>,
}

/// A sub-index as written, before any check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSubIndex {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub name_en: Option<String>,
    /// Relative to the other sub-indexes.
    pub weight: RawNumber,
    #[serde(default)]
    pub indicators: Vec<RawRankedIndicator>,
}

/// A ranking definition as written, before any check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRanking {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub name_en: Option<String>,
    /// `YEAR.REVISION`, e.g. `2026.1`.
    pub version: String,
    /// The comparison group: an agency kind (`district_committee`) or a
    /// level (`province_level`); never the whole province.
    pub group: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub sub_indexes: Vec<RawSubIndex>,
}

/// How a checked indicator is normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "method", content = "target", rename_all = "snake_case")]
pub enum Normalisation {
    MinMax,
    /// Attainment of this target (more than zero).
    Target(Ratio),
}

/// A checked indicator of a sub-index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RankedIndicator {
    pub indicator: IndicatorCode,
    /// From the catalogue: a lower-is-better indicator is reversed.
    pub higher_is_better: bool,
    /// As written.
    pub weight: Ratio,
    /// `weight` over the sum of the sub-index's weights: the shares of a
    /// sub-index add up to exactly 1.
    pub share: Fraction,
    pub normalisation: Normalisation,
}

/// A checked sub-index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubIndex {
    pub code: SubIndexCode,
    pub name: VnName,
    pub name_en: Option<VnName>,
    /// As written.
    pub weight: Ratio,
    /// `weight` over the sum of all sub-index weights.
    pub share: Fraction,
    pub indicators: Vec<RankedIndicator>,
}

/// A checked ranking definition; only [`Ranking::build`] makes one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ranking {
    code: RankingCode,
    name: VnName,
    name_en: Option<VnName>,
    version: RankingVersion,
    group: TargetGroup,
    description: String,
    sub_indexes: Vec<SubIndex>,
}

/// Parses a weight: a number more than zero. A zero weight would keep an
/// indicator in the inputs (and make agencies without it unranked) while it
/// counts for nothing, so it is refused: leave the indicator out instead.
fn parse_weight(raw: &RawNumber) -> Result<Ratio, String> {
    let w = parse_number(raw, "a weight")?;
    if w.numerator == 0 {
        return Err("a weight must be more than 0: leave the indicator out instead".into());
    }
    Ok(w)
}

/// Each weight over their sum; `None` if any weight is missing.
fn shares(weights: &[Option<Ratio>]) -> Option<Vec<Fraction>> {
    let weights: Vec<Fraction> = weights
        .iter()
        .map(|w| w.map(Fraction::from))
        .collect::<Option<_>>()?;
    let sum = weights.iter().fold(Fraction::zero(), |s, w| s.plus(w));
    weights.iter().map(|w| w.divided_by(&sum)).collect()
}

impl Ranking {
    /// Checks a raw definition against the catalogue, reporting every
    /// problem at once with its path (`sub_indexes[1].indicators[0].indicator`).
    pub fn build(raw: &RawRanking, catalogue: &Catalogue) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let code = errors.check("code", RankingCode::parse(&raw.code));
        let name = errors.check("name", VnName::parse(&raw.name));
        let name_en = match &raw.name_en {
            Some(n) => errors.check("name_en", VnName::parse(n)).map(Some),
            None => Some(None),
        };
        let version = errors.check("version", RankingVersion::parse(&raw.version));
        let group = errors
            .check("group", raw.group.parse::<TargetGroup>())
            .and_then(|g| {
                if g == TargetGroup::WholeProvince {
                    errors.push(
                        "group",
                        "a ranking compares like with like: use an agency kind (department, district_committee, commune_committee) or a level",
                    );
                    None
                } else {
                    Some(g)
                }
            });
        if raw.sub_indexes.is_empty() {
            errors.push("sub_indexes", "a ranking needs at least one sub-index");
        }
        let mut sub_codes = BTreeMap::<SubIndexCode, usize>::new();
        // Where each indicator was first used: an indicator in two places
        // would count twice, and an agency could not tell which score is which.
        let mut used = BTreeMap::<IndicatorCode, String>::new();
        let mut sub_indexes = Vec::new();
        let mut sub_weights = Vec::new();
        let mut complete = true;
        for (s, rs) in raw.sub_indexes.iter().enumerate() {
            let path = format!("sub_indexes[{s}]");
            let code = errors
                .check(format!("{path}.code"), SubIndexCode::parse(&rs.code))
                .and_then(|c| {
                    if let Some(first) = sub_codes.get(&c) {
                        errors.push(
                            format!("{path}.code"),
                            format!("duplicate sub-index code `{c}` (also sub_indexes[{first}])"),
                        );
                        None
                    } else {
                        sub_codes.insert(c.clone(), s);
                        Some(c)
                    }
                });
            let name = errors.check(format!("{path}.name"), VnName::parse(&rs.name));
            let name_en = match &rs.name_en {
                Some(n) => errors
                    .check(format!("{path}.name_en"), VnName::parse(n))
                    .map(Some),
                None => Some(None),
            };
            let weight = errors.check(format!("{path}.weight"), parse_weight(&rs.weight));
            sub_weights.push(weight);
            if rs.indicators.is_empty() {
                errors.push(
                    format!("{path}.indicators"),
                    "a sub-index needs at least one indicator",
                );
            }
            let mut indicators = Vec::new();
            let mut weights = Vec::new();
            for (i, ri) in rs.indicators.iter().enumerate() {
                let ipath = format!("{path}.indicators[{i}]");
                let indicator = errors
                    .check(
                        format!("{ipath}.indicator"),
                        IndicatorCode::parse(&ri.indicator),
                    )
                    .and_then(|c| match catalogue.indicator(&c) {
                        None => {
                            errors.push(
                                format!("{ipath}.indicator"),
                                format!("unknown indicator `{c}`"),
                            );
                            None
                        }
                        Some(_) if used.contains_key(&c) => {
                            errors.push(
                                format!("{ipath}.indicator"),
                                format!(
                                    "`{c}` is already in {}: an indicator counts once",
                                    used[&c]
                                ),
                            );
                            None
                        }
                        Some(ind) => {
                            used.insert(c, ipath.clone());
                            Some(ind)
                        }
                    });
                let weight = errors.check(format!("{ipath}.weight"), parse_weight(&ri.weight));
                weights.push(weight);
                let normalisation = match (ri.normalisation, &ri.target) {
                    (NormalisationKind::MinMax, None) => Some(Normalisation::MinMax),
                    (NormalisationKind::MinMax, Some(_)) => {
                        errors.push(
                            format!("{ipath}.target"),
                            "only normalisation = \"target\" takes a target",
                        );
                        None
                    }
                    (NormalisationKind::Target, None) => {
                        errors.push(
                            format!("{ipath}.target"),
                            "normalisation = \"target\" needs a target, e.g. 90 or \"0.9\"",
                        );
                        None
                    }
                    (NormalisationKind::Target, Some(t)) => errors
                        .check(format!("{ipath}.target"), parse_number(t, "a target"))
                        .and_then(|t| {
                            if t.numerator == 0 {
                                errors.push(
                                    format!("{ipath}.target"),
                                    "a target must be more than 0: attainment divides by it",
                                );
                                return None;
                            }
                            // No agency could reach a percentage above 100, so
                            // nobody could score 1: a typo, not a policy.
                            if indicator.is_some_and(|ind| {
                                ind.factor == 100 && t.compare(Ratio::integer(100)).is_gt()
                            }) {
                                errors.push(
                                    format!("{ipath}.target"),
                                    "a percentage target is at most 100",
                                );
                                return None;
                            }
                            Some(Normalisation::Target(t))
                        }),
                };
                match (indicator, weight, normalisation) {
                    (Some(ind), Some(weight), Some(normalisation)) => {
                        indicators.push(RankedIndicator {
                            indicator: ind.code.clone(),
                            higher_is_better: ind.higher_is_better,
                            weight,
                            share: Fraction::zero(),
                            normalisation,
                        })
                    }
                    _ => complete = false,
                }
            }
            if let Some(shares) = shares(&weights) {
                for (ind, share) in indicators.iter_mut().zip(shares) {
                    ind.share = share;
                }
            }
            match (code, name, name_en, weight) {
                (Some(code), Some(name), Some(name_en), Some(weight)) => {
                    sub_indexes.push(SubIndex {
                        code,
                        name,
                        name_en,
                        weight,
                        share: Fraction::zero(),
                        indicators,
                    })
                }
                _ => complete = false,
            }
        }
        if let Some(shares) = shares(&sub_weights) {
            for (sub, share) in sub_indexes.iter_mut().zip(shares) {
                sub.share = share;
            }
        }
        debug_assert!(!errors.is_empty() || complete);
        errors.into_result(|| Self {
            code: code.expect("no errors"),
            name: name.expect("no errors"),
            name_en: name_en.expect("no errors"),
            version: version.expect("no errors"),
            group: group.expect("no errors"),
            description: raw.description.trim().to_owned(),
            sub_indexes,
        })
    }

    pub fn code(&self) -> &RankingCode {
        &self.code
    }

    pub fn name(&self) -> &VnName {
        &self.name
    }

    pub fn name_en(&self) -> Option<&VnName> {
        self.name_en.as_ref()
    }

    pub fn version(&self) -> RankingVersion {
        self.version
    }

    /// Who is compared; the caller passes exactly the group's members.
    pub fn group(&self) -> TargetGroup {
        self.group
    }

    pub fn description(&self) -> &str {
        &self.description
    }

    pub fn sub_indexes(&self) -> &[SubIndex] {
        &self.sub_indexes
    }

    /// Every indicator, in definition order.
    pub fn indicators(&self) -> impl Iterator<Item = &RankedIndicator> {
        self.sub_indexes.iter().flat_map(|s| s.indicators.iter())
    }

    /// Ranks the members of the comparison group from their indicator
    /// values. Values of indicators the ranking does not use are ignored.
    /// An agency lacking any of the ranking's indicators, or given twice,
    /// is unranked with the reason and listed after the ranked ones.
    pub fn rank(&self, inputs: &[(AgencyCode, BTreeMap<IndicatorCode, Ratio>)]) -> RankingResult {
        let mut by_agency = BTreeMap::<&AgencyCode, Vec<&BTreeMap<IndicatorCode, Ratio>>>::new();
        for (agency, values) in inputs {
            by_agency.entry(agency).or_default().push(values);
        }
        let mut complete = Vec::new();
        let mut unranked = Vec::new();
        for (agency, given) in by_agency {
            // Two sets of values for one agency is the caller's mistake; picking
            // either would depend on the input order, so neither counts.
            if let [values] = given.as_slice() {
                let inputs: Vec<InputValue> = self
                    .indicators()
                    .map(|ri| InputValue {
                        indicator: ri.indicator.clone(),
                        value: values.get(&ri.indicator).copied(),
                    })
                    .collect();
                let missing: Vec<IndicatorCode> = inputs
                    .iter()
                    .filter(|i| i.value.is_none())
                    .map(|i| i.indicator.clone())
                    .collect();
                if missing.is_empty() {
                    complete.push((agency, inputs));
                } else {
                    unranked.push(AgencyStanding {
                        agency: agency.clone(),
                        inputs,
                        standing: Standing::Unranked {
                            reason: UnrankedReason::MissingIndicators {
                                indicators: missing,
                            },
                        },
                    });
                }
            } else {
                unranked.push(AgencyStanding {
                    agency: agency.clone(),
                    inputs: Vec::new(),
                    standing: Standing::Unranked {
                        reason: UnrankedReason::DuplicateInput { count: given.len() },
                    },
                });
            }
        }

        // The group's range per indicator, over ranked agencies only: an
        // unranked agency's partial values must not move anyone's score.
        let values = |k: usize| {
            complete
                .iter()
                .map(move |(_, inputs): &(_, Vec<InputValue>)| {
                    Fraction::from(inputs[k].value.expect("complete"))
                })
        };
        let ranges: Vec<Option<(Fraction, Fraction)>> = (0..self.indicators().count())
            .map(|k| Some((values(k).min()?, values(k).max()?)))
            .collect();

        let mut scored: Vec<(Fraction, AgencyStanding)> = complete
            .into_iter()
            .map(|(agency, inputs)| {
                let mut k = 0;
                let mut total = Fraction::zero();
                let mut subs = Vec::new();
                for sub in &self.sub_indexes {
                    let mut score = Fraction::zero();
                    let mut indicators = Vec::new();
                    for ri in &sub.indicators {
                        let value = Fraction::from(inputs[k].value.expect("complete"));
                        let (min, max) = ranges[k].as_ref().expect("this agency has a value");
                        let s = normalise(ri, &value, min, max);
                        score = score.plus(&ri.share.times(&s));
                        indicators.push(IndicatorScore {
                            indicator: ri.indicator.clone(),
                            score: s,
                        });
                        k += 1;
                    }
                    total = total.plus(&sub.share.times(&score));
                    subs.push(SubIndexScore {
                        code: sub.code.clone(),
                        score,
                        indicators,
                    });
                }
                let standing = AgencyStanding {
                    agency: agency.clone(),
                    inputs,
                    standing: Standing::Ranked {
                        rank: 0,
                        total: total.clone(),
                        sub_indexes: subs,
                    },
                };
                (total, standing)
            })
            .collect();
        // Best first; equal totals by agency code, so the order never
        // depends on the input order.
        scored.sort_by(|(a, sa), (b, sb)| b.cmp(a).then_with(|| sa.agency.cmp(&sb.agency)));
        let mut agencies = Vec::with_capacity(scored.len() + unranked.len());
        let mut previous: Option<(Fraction, u32)> = None;
        for (i, (total, mut standing)) in scored.into_iter().enumerate() {
            // Competition ranking (1, 2, 2, 4): one more than the number of
            // agencies strictly ahead.
            let rank = match &previous {
                Some((t, r)) if *t == total => *r,
                _ => u32::try_from(i + 1).expect("fewer than 4 billion agencies"),
            };
            if let Standing::Ranked { rank: r, .. } = &mut standing.standing {
                *r = rank;
            }
            previous = Some((total, rank));
            agencies.push(standing);
        }
        agencies.extend(unranked);

        let mut k = 0;
        let basis = self
            .sub_indexes
            .iter()
            .map(|sub| SubIndexBasis {
                code: sub.code.clone(),
                share: sub.share.clone(),
                indicators: sub
                    .indicators
                    .iter()
                    .map(|ri| {
                        let range = ranges[k].clone();
                        k += 1;
                        let (min, max) = match (ri.normalisation, range) {
                            (Normalisation::MinMax, Some((min, max))) => (Some(min), Some(max)),
                            _ => (None, None),
                        };
                        IndicatorBasis {
                            indicator: ri.indicator.clone(),
                            share: ri.share.clone(),
                            higher_is_better: ri.higher_is_better,
                            normalisation: ri.normalisation,
                            min,
                            max,
                        }
                    })
                    .collect(),
            })
            .collect();

        RankingResult {
            method: METHOD_VERSION,
            ranking: self.code.clone(),
            version: self.version,
            group: self.group,
            basis,
            agencies,
        }
    }
}

/// One indicator's score in 0..1 (`docs/RANKING.md`, "Normalisation").
fn normalise(ri: &RankedIndicator, value: &Fraction, min: &Fraction, max: &Fraction) -> Fraction {
    match ri.normalisation {
        Normalisation::MinMax => {
            // Everyone level: nobody is behind the best, so everyone scores
            // 1. Any constant keeps the order; 1 keeps "distance from the
            // best" meaning what it says.
            let range = max.minus(min);
            if range.is_zero() {
                return Fraction::one();
            }
            let ahead = if ri.higher_is_better {
                value.minus(min)
            } else {
                max.minus(value)
            };
            ahead.divided_by(&range).expect("range is not zero")
        }
        Normalisation::Target(t) => {
            let target = Fraction::from(t);
            if ri.higher_is_better {
                value
                    .divided_by(&target)
                    .expect("targets are more than zero")
            } else if *value <= target {
                // At or under a lower-is-better target (zero included) is attained.
                Fraction::one()
            } else {
                target
                    .divided_by(value)
                    .expect("value above a positive target")
            }
        }
    }
    .clamp_unit()
}

/// A ranking's answer: the basis every score was computed on and each
/// agency's inputs and scores, so an agency can check its own rank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RankingResult {
    /// [`METHOD_VERSION`] the scores were computed with.
    pub method: u32,
    pub ranking: RankingCode,
    pub version: RankingVersion,
    pub group: TargetGroup,
    pub basis: Vec<SubIndexBasis>,
    /// Ranked agencies best first (equal ranks by agency code), then the
    /// unranked by agency code.
    pub agencies: Vec<AgencyStanding>,
}

impl RankingResult {
    /// One agency's standing, if it was among the inputs.
    pub fn standing(&self, agency: &AgencyCode) -> Option<&AgencyStanding> {
        self.agencies.iter().find(|a| &a.agency == agency)
    }
}

/// A sub-index's share of the total and its indicators' basis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubIndexBasis {
    pub code: SubIndexCode,
    pub share: Fraction,
    pub indicators: Vec<IndicatorBasis>,
}

/// How an indicator was scored in this ranking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndicatorBasis {
    pub indicator: IndicatorCode,
    /// Share of its sub-index.
    pub share: Fraction,
    pub higher_is_better: bool,
    pub normalisation: Normalisation,
    /// The group's lowest and highest value among ranked agencies, for
    /// min-max indicators (absent when no agency is ranked).
    pub min: Option<Fraction>,
    pub max: Option<Fraction>,
}

/// One agency's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgencyStanding {
    pub agency: AgencyCode,
    /// The ranking's indicators in definition order with the agency's
    /// value, or `None` where it had none.
    pub inputs: Vec<InputValue>,
    #[serde(flatten)]
    pub standing: Standing,
}

impl AgencyStanding {
    /// `None` for an unranked agency.
    pub fn rank(&self) -> Option<u32> {
        match &self.standing {
            Standing::Ranked { rank, .. } => Some(*rank),
            Standing::Unranked { .. } => None,
        }
    }

    /// The composite index in 0..1, `None` for an unranked agency.
    pub fn total(&self) -> Option<&Fraction> {
        match &self.standing {
            Standing::Ranked { total, .. } => Some(total),
            Standing::Unranked { .. } => None,
        }
    }
}

/// An indicator value as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputValue {
    pub indicator: IndicatorCode,
    pub value: Option<Ratio>,
}

/// Ranked with scores, or unranked with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Standing {
    Ranked {
        /// 1 + the number of agencies with a strictly higher total.
        rank: u32,
        total: Fraction,
        sub_indexes: Vec<SubIndexScore>,
    },
    Unranked {
        reason: UnrankedReason,
    },
}

/// Why an agency has no rank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UnrankedReason {
    /// No value for these indicators (not reported, or a zero denominator).
    MissingIndicators { indicators: Vec<IndicatorCode> },
    /// The agency was given `count` times; none of them was used.
    DuplicateInput { count: usize },
}

/// A sub-index score in 0..1 with its indicators' scores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubIndexScore {
    pub code: SubIndexCode,
    pub score: Fraction,
    pub indicators: Vec<IndicatorScore>,
}

/// One indicator's normalised score in 0..1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndicatorScore {
    pub indicator: IndicatorCode,
    pub score: Fraction,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{RawCatalogue, RawDataElement, RawIndicator};
    use proptest::prelude::*;

    fn r(n: i128, d: i128) -> Ratio {
        Ratio::new(n, d).unwrap()
    }

    fn f(n: i128, d: i128) -> Fraction {
        Fraction::new(n, d).unwrap()
    }

    fn code(s: &str) -> IndicatorCode {
        IndicatorCode::parse(s).unwrap()
    }

    fn agency(s: &str) -> AgencyCode {
        AgencyCode::parse(s).unwrap()
    }

    fn ranked(indicator: &str, weight: i64, target: Option<RawNumber>) -> RawRankedIndicator {
        RawRankedIndicator {
            indicator: indicator.into(),
            weight: RawNumber::Integer(weight),
            normalisation: if target.is_some() {
                NormalisationKind::Target
            } else {
                NormalisationKind::MinMax
            },
            target,
        }
    }

    fn sub(
        code: &str,
        name: &str,
        weight: i64,
        indicators: Vec<RawRankedIndicator>,
    ) -> RawSubIndex {
        RawSubIndex {
            code: code.into(),
            name: name.into(),
            name_en: None,
            weight: RawNumber::Integer(weight),
            indicators,
        }
    }

    /// The definition of the worked example in `docs/RANKING.md`.
    fn example_raw() -> RawRanking {
        RawRanking {
            code: "example_district_committees".into(),
            name: "Ví dụ xếp hạng Ủy ban nhân dân cấp huyện".into(),
            name_en: Some("Worked example: district committees".into()),
            version: "2026.1".into(),
            group: "district_committee".into(),
            description: String::new(),
            sub_indexes: vec![
                sub(
                    "technical_infrastructure",
                    "Hạ tầng kỹ thuật",
                    1,
                    vec![
                        ranked("computer_equipment_rate", 1, None),
                        ranked(
                            "computers_per_official",
                            1,
                            Some(RawNumber::Text("0.9".into())),
                        ),
                    ],
                ),
                sub(
                    "internal_use",
                    "Ứng dụng CNTT trong nội bộ",
                    1,
                    vec![
                        ranked("electronic_document_rate", 2, Some(RawNumber::Integer(90))),
                        ranked("digitally_signed_document_rate", 1, None),
                    ],
                ),
            ],
        }
    }

    /// The inputs of the worked example: computer_equipment_rate,
    /// computers_per_official, electronic_document_rate,
    /// digitally_signed_document_rate per agency; `None` where it has no value.
    fn example_inputs() -> Vec<(AgencyCode, BTreeMap<IndicatorCode, Ratio>)> {
        let rows: [(&str, [Option<Ratio>; 4]); 5] = [
            (
                "000.00.31.H51",
                [
                    Some(r(90, 1)),
                    Some(r(108, 100)),
                    Some(r(90, 1)),
                    Some(r(70, 1)),
                ],
            ),
            (
                "000.00.32.H51",
                [
                    Some(r(75, 1)),
                    Some(r(99, 100)),
                    Some(r(90, 1)),
                    Some(r(60, 1)),
                ],
            ),
            (
                "000.00.33.H51",
                [
                    Some(r(90, 1)),
                    Some(r(54, 100)),
                    Some(r(72, 1)),
                    Some(r(80, 1)),
                ],
            ),
            (
                "000.00.34.H51",
                [
                    Some(r(80, 1)),
                    Some(r(90, 100)),
                    Some(r(95, 1)),
                    Some(r(80, 1)),
                ],
            ),
            (
                "000.00.35.H51",
                [Some(r(100, 1)), Some(r(95, 100)), None, None],
            ),
        ];
        let codes = [
            "computer_equipment_rate",
            "computers_per_official",
            "electronic_document_rate",
            "digitally_signed_document_rate",
        ];
        rows.into_iter()
            .map(|(a, values)| {
                let map = codes
                    .iter()
                    .zip(values)
                    .filter_map(|(c, v)| Some((code(c), v?)))
                    .collect();
                (agency(a), map)
            })
            .collect()
    }

    fn scores(s: &AgencyStanding) -> (Vec<Fraction>, Vec<Fraction>, Fraction) {
        match &s.standing {
            Standing::Ranked {
                total, sub_indexes, ..
            } => (
                sub_indexes
                    .iter()
                    .flat_map(|s| s.indicators.iter().map(|i| i.score.clone()))
                    .collect(),
                sub_indexes.iter().map(|s| s.score.clone()).collect(),
                total.clone(),
            ),
            Standing::Unranked { .. } => panic!("{} is unranked", s.agency),
        }
    }

    /// Every number of the worked example in `docs/RANKING.md`, section
    /// "Worked example". Change one here and the document must change too.
    #[test]
    fn the_documented_example() {
        let cat = crate::seed::catalogue().unwrap();
        let ranking = Ranking::build(&example_raw(), &cat).unwrap();
        // Weights as shares.
        let subs = ranking.sub_indexes();
        assert_eq!(
            (subs[0].share.clone(), subs[1].share.clone()),
            (f(1, 2), f(1, 2))
        );
        let shares: Vec<Fraction> = ranking.indicators().map(|i| i.share.clone()).collect();
        assert_eq!(shares, [f(1, 2), f(1, 2), f(2, 3), f(1, 3)]);

        let result = ranking.rank(&example_inputs());
        assert_eq!(result.method, 1);
        assert_eq!(result.version.to_string(), "2026.1");
        // Ranges of the min-max indicators over the four ranked agencies.
        let b = &result.basis;
        assert_eq!(b[0].indicators[0].min, Some(f(75, 1)));
        assert_eq!(b[0].indicators[0].max, Some(f(90, 1)));
        assert_eq!(
            b[0].indicators[1].min, None,
            "target indicators show no range"
        );
        assert_eq!(b[1].indicators[1].min, Some(f(60, 1)));
        assert_eq!(b[1].indicators[1].max, Some(f(80, 1)));

        // (agency, rank, indicator scores, sub-index scores, total, total as shown)
        let expected = [
            (
                "000.00.31.H51",
                1,
                [f(1, 1), f(1, 1), f(1, 1), f(1, 2)],
                [f(1, 1), f(5, 6)],
                f(11, 12),
                "0.9167",
            ),
            (
                "000.00.33.H51",
                2,
                [f(1, 1), f(3, 5), f(4, 5), f(1, 1)],
                [f(4, 5), f(13, 15)],
                f(5, 6),
                "0.8333",
            ),
            (
                "000.00.34.H51",
                2,
                [f(1, 3), f(1, 1), f(1, 1), f(1, 1)],
                [f(2, 3), f(1, 1)],
                f(5, 6),
                "0.8333",
            ),
            (
                "000.00.32.H51",
                4,
                [f(0, 1), f(1, 1), f(1, 1), f(0, 1)],
                [f(1, 2), f(2, 3)],
                f(7, 12),
                "0.5833",
            ),
        ];
        assert_eq!(result.agencies.len(), 5);
        for (standing, (a, rank, ind, sub, total, shown)) in result.agencies.iter().zip(&expected) {
            assert_eq!(standing.agency.as_str(), *a);
            assert_eq!(standing.rank(), Some(*rank), "{a}");
            let (got_ind, got_sub, got_total) = scores(standing);
            assert_eq!(got_ind, ind, "{a}");
            assert_eq!(got_sub, sub, "{a}");
            assert_eq!(&got_total, total, "{a}");
            assert_eq!(got_total.display(4), *shown, "{a}");
        }
        // The decimals the document's tables show.
        let shown: Vec<String> = [
            f(13, 15),
            f(2, 3),
            f(1, 3),
            f(3, 5),
            f(4, 5),
            f(5, 6),
            f(1, 2),
        ]
        .iter()
        .map(|x| x.display(4))
        .collect();
        assert_eq!(
            shown,
            [
                "0.8667", "0.6667", "0.3333", "0.6000", "0.8000", "0.8333", "0.5000"
            ]
        );

        let e = &result.agencies[4];
        assert_eq!(e.agency.as_str(), "000.00.35.H51");
        assert_eq!(e.rank(), None);
        assert_eq!(
            e.standing,
            Standing::Unranked {
                reason: UnrankedReason::MissingIndicators {
                    indicators: vec![
                        code("electronic_document_rate"),
                        code("digitally_signed_document_rate")
                    ]
                }
            }
        );
        assert_eq!(
            e.inputs[0].value,
            Some(r(100, 1)),
            "given values are still shown"
        );

        // Why exact: the same steps in f64 put 000.00.33 ahead of 000.00.34.
        let float_total = |ind: [f64; 4]| {
            let s1 = 0.5 * ind[0] + 0.5 * ind[1];
            let s2 = (2.0 / 3.0) * ind[2] + (1.0 / 3.0) * ind[3];
            0.5 * s1 + 0.5 * s2
        };
        let c = float_total([1.0, 0.54 / 0.9, 72.0 / 90.0, 1.0]);
        let d = float_total([(80.0 - 75.0) / 15.0, 1.0, 1.0, 1.0]);
        assert!(c > d, "{c} vs {d}");
    }

    #[test]
    fn the_result_serialises_for_a_service() {
        let cat = crate::seed::catalogue().unwrap();
        let ranking = Ranking::build(&example_raw(), &cat).unwrap();
        let json = serde_json::to_value(ranking.rank(&example_inputs())).unwrap();
        assert_eq!(json["ranking"], "example_district_committees");
        assert_eq!(json["group"], "district_committee");
        let first = &json["agencies"][0];
        assert_eq!(first["status"], "ranked");
        assert_eq!(first["rank"], 1);
        assert_eq!(first["total"]["exact"], "11/12");
        assert_eq!(
            first["sub_indexes"][1]["indicators"][1]["score"]["exact"],
            "1/2"
        );
        assert_eq!(first["inputs"][1]["value"]["numerator"], 27);
        let last = &json["agencies"][4];
        assert_eq!(last["status"], "unranked");
        assert_eq!(last["reason"]["kind"], "missing_indicators");
        assert_eq!(last["reason"]["indicators"][0], "electronic_document_rate");
        assert_eq!(
            json["basis"][0]["indicators"][1]["normalisation"],
            serde_json::json!({"method": "target", "target": {"numerator": 9, "denominator": 10}})
        );
    }

    #[test]
    fn bad_definitions_name_every_field() {
        let cat = crate::seed::catalogue().unwrap();
        let mut raw = example_raw();
        raw.version = "2026".into();
        raw.group = "whole_province".into();
        raw.sub_indexes[0].weight = RawNumber::Integer(0);
        raw.sub_indexes[0].indicators[0].target = Some(RawNumber::Integer(1));
        raw.sub_indexes[0].indicators[1].target = Some(RawNumber::Text("0".into()));
        raw.sub_indexes[1].code = "technical_infrastructure".into();
        raw.sub_indexes[1].indicators[0].indicator = "nope".into();
        raw.sub_indexes[1].indicators[0].target = Some(RawNumber::Integer(120));
        raw.sub_indexes[1].indicators[1].indicator = "computer_equipment_rate".into();
        raw.sub_indexes[1].indicators[1].weight = RawNumber::Text("-1".into());
        raw.sub_indexes.push(sub(
            "online_services",
            "Dịch vụ công trực tuyến",
            1,
            vec![RawRankedIndicator {
                indicator: "online_service_level3_rate".into(),
                weight: RawNumber::Integer(1),
                normalisation: NormalisationKind::Target,
                target: None,
            }],
        ));
        raw.sub_indexes
            .push(sub("human_resources", "Nhân lực", 1, vec![]));
        let err = Ranking::build(&raw, &cat).unwrap_err();
        let got: Vec<(&str, &str)> = err
            .0
            .iter()
            .map(|e| (e.field.as_str(), e.message.as_str()))
            .collect();
        let fields: Vec<&str> = got.iter().map(|(f, _)| *f).collect();
        assert_eq!(
            fields,
            [
                "version",
                "group",
                "sub_indexes[0].weight",
                "sub_indexes[0].indicators[0].target",
                "sub_indexes[0].indicators[1].target",
                "sub_indexes[1].code",
                "sub_indexes[1].indicators[0].indicator",
                "sub_indexes[1].indicators[1].indicator",
                "sub_indexes[1].indicators[1].weight",
                "sub_indexes[2].indicators[0].target",
                "sub_indexes[3].indicators",
            ],
            "{got:#?}"
        );
        assert!(got[0].1.contains("2026.1"));
        assert!(got[1].1.contains("like with like"));
        assert!(got[2].1.contains("more than 0"));
        assert!(got[3].1.contains("only normalisation = \"target\""));
        assert!(got[4].1.contains("attainment divides by it"));
        assert!(
            got[5]
                .1
                .contains("duplicate sub-index code `technical_infrastructure`")
        );
        assert_eq!(got[6].1, "unknown indicator `nope`");
        assert!(got[7].1.contains("already in sub_indexes[0].indicators[0]"));
        assert!(got[8].1.contains("is not a weight"));
        assert!(got[9].1.contains("needs a target"));
        assert!(got[10].1.contains("at least one indicator"));

        // A known indicator with a percentage target above 100.
        let mut raw = example_raw();
        raw.sub_indexes[1].indicators[0].target = Some(RawNumber::Integer(120));
        let err = Ranking::build(&raw, &cat).unwrap_err();
        assert_eq!(err.0[0].field, "sub_indexes[1].indicators[0].target");
        assert!(err.0[0].message.contains("at most 100"));

        let mut raw = example_raw();
        raw.sub_indexes.clear();
        let err = Ranking::build(&raw, &cat).unwrap_err();
        assert_eq!(err.0[0].field, "sub_indexes");
    }

    #[test]
    fn toml_with_an_unknown_field_is_refused() {
        let text = r#"
            code = "x"
            name = "X"
            version = "2026.1"
            group = "department"
            [[sub_indexes]]
            code = "a"
            name = "A"
            weight = 1
            [[sub_indexes.indicators]]
            indicator = "lan_rate"
            weight = 1
            normalisation = "target"
            target = 100
            comparator = ">="
        "#;
        let err = toml::from_str::<RawRanking>(text).unwrap_err().to_string();
        assert!(err.contains("comparator"), "{err}");
        let ok = toml::from_str::<RawRanking>(&text.replace("comparator = \">=\"", "")).unwrap();
        let cat = crate::seed::catalogue().unwrap();
        let ranking = Ranking::build(&ok, &cat).unwrap();
        assert_eq!(
            ranking.sub_indexes()[0].indicators[0].normalisation,
            Normalisation::Target(Ratio::integer(100))
        );
    }

    #[test]
    fn versions_parse_strictly() {
        let v = RankingVersion::parse(" 2026.12 ").unwrap();
        assert_eq!((v.year(), v.revision()), (2026, 12));
        assert_eq!(v.to_string(), "2026.12");
        assert!(RankingVersion::parse("2026.1").unwrap() < v);
        for bad in [
            "2026", "2026.0", "2026.01", "26.1", "1800.1", "2026.1.1", "2026.x", "",
        ] {
            assert!(RankingVersion::parse(bad).is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<RankingVersion>("\"2026.0\"").is_err());
    }

    /// A catalogue with a lower-is-better indicator, which the seed lacks.
    fn test_catalogue() -> Catalogue {
        let el = |code: &str| RawDataElement {
            code: code.into(),
            name: code.into(),
            name_en: None,
            description: "đếm".into(),
            category: "internal_use".into(),
            value_type: "count".into(),
            decimals: None,
            min: None,
            max: None,
            unit: String::new(),
            period_rule: None,
        };
        let ind = |code: &str, num: &str, factor: i64, higher_is_better: bool| RawIndicator {
            code: code.into(),
            name: code.into(),
            name_en: None,
            description: String::new(),
            numerator: num.into(),
            denominator: None,
            factor,
            decimals: 1,
            unit: String::new(),
            category: "internal_use".into(),
            higher_is_better,
        };
        Catalogue::build(&RawCatalogue {
            elements: vec![el("a"), el("b"), el("c"), el("d")],
            indicators: vec![
                ind("up_min_max", "a", 1, true),
                ind("up_target", "b", 1, true),
                ind("down_min_max", "c", 1, false),
                ind("down_target", "d", 1, false),
            ],
            rules: vec![],
        })
        .unwrap()
    }

    const TEST_CODES: [&str; 4] = ["up_min_max", "up_target", "down_min_max", "down_target"];

    fn test_ranking() -> Ranking {
        Ranking::build(
            &RawRanking {
                code: "test".into(),
                name: "Thử".into(),
                name_en: None,
                version: "2026.1".into(),
                group: "commune_committee".into(),
                description: String::new(),
                sub_indexes: vec![
                    sub(
                        "first",
                        "Một",
                        3,
                        vec![
                            ranked("up_min_max", 2, None),
                            ranked("up_target", 1, Some(RawNumber::Integer(4))),
                        ],
                    ),
                    sub(
                        "second",
                        "Hai",
                        1,
                        vec![
                            ranked("down_min_max", 1, None),
                            ranked("down_target", 3, Some(RawNumber::Text("2.5".into()))),
                        ],
                    ),
                ],
            },
            &test_catalogue(),
        )
        .unwrap()
    }

    fn values(v: [i128; 4]) -> BTreeMap<IndicatorCode, Ratio> {
        TEST_CODES
            .iter()
            .zip(v)
            .map(|(c, v)| (code(c), Ratio::integer(v)))
            .collect()
    }

    #[test]
    fn lower_is_better_is_reversed_and_a_level_group_scores_one() {
        let ranking = test_ranking();
        let result = ranking.rank(&[
            (agency("000.00.01.H51"), values([5, 2, 3, 0])),
            (agency("000.00.02.H51"), values([5, 8, 7, 5])),
        ]);
        let (ind, _, _) = scores(&result.agencies[0]);
        // Everyone level on up_min_max: 1. Fewer is better on down_*: 3 is
        // the best (1), a count of 0 is under the 2.5 target (1).
        assert_eq!(ind, [f(1, 1), f(1, 2), f(1, 1), f(1, 1)]);
        assert_eq!(result.agencies[0].agency.as_str(), "000.00.01.H51");
        let (ind, _, _) = scores(&result.agencies[1]);
        // 8 is twice the target (capped at 1); 7 is the worst (0); 5 is
        // twice the 2.5 target, so half.
        assert_eq!(ind, [f(1, 1), f(1, 1), f(0, 1), f(1, 2)]);
    }

    #[test]
    fn an_agency_given_twice_is_unranked_and_moves_no_range() {
        let ranking = test_ranking();
        let twice = agency("000.00.09.H51");
        let result = ranking.rank(&[
            (twice.clone(), values([100, 1, 1, 1])),
            (agency("000.00.01.H51"), values([1, 1, 1, 1])),
            (twice.clone(), values([0, 1, 1, 1])),
            (agency("000.00.02.H51"), values([3, 1, 1, 1])),
        ]);
        let s = result.standing(&twice).unwrap();
        assert_eq!(
            s.standing,
            Standing::Unranked {
                reason: UnrankedReason::DuplicateInput { count: 2 }
            }
        );
        assert_eq!(result.agencies.last().unwrap().agency, twice);
        assert_eq!(result.basis[0].indicators[0].min, Some(f(1, 1)));
        assert_eq!(result.basis[0].indicators[0].max, Some(f(3, 1)));
        let nobody = ranking.rank(&[]);
        assert!(nobody.agencies.is_empty());
        assert_eq!(nobody.basis[0].indicators[0].max, None);
    }

    #[test]
    fn totals_past_i128_are_still_ranked_exactly() {
        // National sums give values with 12-digit denominators; a min-max
        // score divides two differences of them, and the total adds two such
        // scores, so its denominator passes i128's 10^38.
        let primes = [1_000_000_007i128, 998_244_353, 1_000_000_009, 999_999_937];
        let inputs: Vec<_> = (0..8i128)
            .map(|i| {
                let d1 = primes[(i % 4) as usize] * (1009 + i);
                let d2 = primes[((i + 1) % 4) as usize] * (2003 + i);
                let v = [
                    r((i * 37 % 97) * d1 / 97 + i, d1),
                    Ratio::integer(3),
                    r((i * 53 % 89) * d2 / 89 + i, d2),
                    Ratio::integer(1),
                ];
                let map = TEST_CODES
                    .iter()
                    .zip(v)
                    .map(|(c, v)| (code(c), v))
                    .collect();
                (agency(&format!("000.00.{i:02}.H51")), map)
            })
            .collect();
        let result = test_ranking().rank(&inputs);
        let totals: Vec<&Fraction> = result.agencies.iter().filter_map(|a| a.total()).collect();
        assert_eq!(totals.len(), 8);
        assert!(
            totals.iter().any(|t| t.to_ratio().is_none()),
            "no total outgrew i128: the test no longer shows why Fraction exists"
        );
        for a in &result.agencies {
            let total = a.total().unwrap();
            assert!(*total <= Fraction::one());
            let ahead = totals.iter().filter(|t| **t > total).count();
            assert_eq!(a.rank(), Some(ahead as u32 + 1));
        }
    }

    fn arb_values() -> impl Strategy<Value = [Option<Ratio>; 4]> {
        let one = || {
            prop_oneof![
                1 => Just(None),
                9 => (0i128..6, 1i128..4).prop_map(|(n, d)| Some(r(n, d))),
            ]
        };
        [one(), one(), one(), one()]
    }

    fn arb_inputs() -> impl Strategy<Value = Vec<(AgencyCode, BTreeMap<IndicatorCode, Ratio>)>> {
        proptest::collection::vec(arb_values(), 0..9).prop_map(|rows| {
            rows.into_iter()
                .enumerate()
                .map(|(i, v)| {
                    let map = TEST_CODES
                        .iter()
                        .zip(v)
                        .filter_map(|(c, v)| Some((code(c), v?)))
                        .collect();
                    (agency(&format!("000.00.{i:02}.H51")), map)
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn ranks_are_a_competition_ranking_of_exact_totals(inputs in arb_inputs()) {
            let result = test_ranking().rank(&inputs);
            prop_assert_eq!(result.agencies.len(), inputs.len());
            let totals: Vec<&Fraction> = result.agencies.iter().filter_map(|a| a.total()).collect();
            let mut seen_unranked = false;
            for (i, a) in result.agencies.iter().enumerate() {
                match (a.rank(), a.total()) {
                    (Some(rank), Some(total)) => {
                        prop_assert!(!seen_unranked, "a ranked agency after an unranked one");
                        let ahead = totals.iter().filter(|t| **t > total).count();
                        prop_assert_eq!(rank as usize, ahead + 1);
                        if i > 0 && let Some(prev) = result.agencies[i - 1].total() {
                            prop_assert!(prev > total || (prev == total && result.agencies[i - 1].agency < a.agency));
                        }
                    }
                    (None, None) => {
                        seen_unranked = true;
                        let given = &inputs.iter().find(|(c, _)| *c == a.agency).unwrap().1;
                        prop_assert!(TEST_CODES.iter().any(|c| !given.contains_key(&code(c))));
                    }
                    _ => prop_assert!(false, "rank and total disagree"),
                }
            }
        }

        #[test]
        fn every_score_lies_in_zero_to_one(inputs in arb_inputs()) {
            let result = test_ranking().rank(&inputs);
            let unit = |x: &Fraction| *x >= Fraction::zero() && *x <= Fraction::one();
            for a in &result.agencies {
                if let Standing::Ranked { total, sub_indexes, .. } = &a.standing {
                    prop_assert!(unit(total), "{}", total);
                    for s in sub_indexes {
                        prop_assert!(unit(&s.score), "{}", s.score);
                        for i in &s.indicators {
                            prop_assert!(unit(&i.score), "{}", i.score);
                        }
                    }
                }
            }
        }

        #[test]
        fn the_input_order_changes_nothing(
            (inputs, shuffled) in arb_inputs().prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle()))
        ) {
            let ranking = test_ranking();
            prop_assert_eq!(ranking.rank(&inputs), ranking.rank(&shuffled));
        }

        #[test]
        fn a_uniformly_better_agency_never_ranks_worse(
            inputs in arb_inputs(),
            base in prop::array::uniform4((0i128..6, 1i128..4)),
            better in prop::array::uniform4(0i128..4),
        ) {
            let ranking = test_ranking();
            let base: [Ratio; 4] = base.map(|(n, d)| r(n, d));
            // Higher on the two higher-is-better indicators, lower (not below
            // zero) on the two lower-is-better ones.
            let improved: Vec<Ratio> = base
                .iter()
                .zip(better)
                .zip(ranking.indicators())
                .map(|((v, b), ri)| {
                    if ri.higher_is_better {
                        Ratio::new(v.numerator + b * v.denominator, v.denominator).unwrap()
                    } else {
                        let lower = v.minus(Ratio::integer(b));
                        if lower.numerator < 0 { Ratio::integer(0) } else { lower }
                    }
                })
                .collect();
            let as_map = |v: &[Ratio]| -> BTreeMap<IndicatorCode, Ratio> {
                TEST_CODES.iter().zip(v).map(|(c, v)| (code(c), *v)).collect()
            };
            let (worse, strong) = (agency("999.99.98.Z99"), agency("999.99.99.Z99"));
            let mut all = inputs.clone();
            all.push((worse.clone(), as_map(&base)));
            all.push((strong.clone(), as_map(&improved)));
            let result = ranking.rank(&all);
            let rank = |a: &AgencyCode| result.standing(a).unwrap().rank().unwrap();
            prop_assert!(rank(&strong) <= rank(&worse), "{} > {}", rank(&strong), rank(&worse));
        }
    }
}
