//! The seed catalogue, report forms, plans and rankings shipped with chiso
//! (`crates/domain/seed/*.toml`), compiled into the binary and checked with
//! the same `build` functions as any other definition.

use serde::Deserialize;

use crate::{
    FieldErrors,
    catalogue::{Catalogue, RawCatalogue},
    form::{Form, RawForm},
    plan::{Plan, RawPlan},
    ranking::{Ranking, RawRanking},
};

/// Text of `seed/catalogue.toml`.
pub const CATALOGUE_TOML: &str = include_str!("../seed/catalogue.toml");
/// Text of `seed/forms.toml`.
pub const FORMS_TOML: &str = include_str!("../seed/forms.toml");
/// Text of `seed/plans.toml`.
pub const PLANS_TOML: &str = include_str!("../seed/plans.toml");
/// Text of `seed/rankings.toml`.
pub const RANKINGS_TOML: &str = include_str!("../seed/rankings.toml");

/// Why a seed file did not load.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("seed/{file} is not valid TOML for its shape: {source}")]
    Toml {
        file: &'static str,
        #[source]
        source: toml::de::Error,
    },
    #[error("seed/{file} has invalid definitions: {errors}")]
    Invalid {
        file: &'static str,
        errors: FieldErrors,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawForms {
    forms: Vec<RawForm>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlans {
    plans: Vec<RawPlan>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRankings {
    rankings: Vec<RawRanking>,
}

fn parse<T: serde::de::DeserializeOwned>(file: &'static str, text: &str) -> Result<T, SeedError> {
    toml::from_str(text).map_err(|source| SeedError::Toml { file, source })
}

/// Builds every item, prefixing each error's field with `what[i].`.
fn build_all<R, T>(
    file: &'static str,
    what: &str,
    raws: &[R],
    build: impl Fn(&R) -> Result<T, FieldErrors>,
) -> Result<Vec<T>, SeedError> {
    let mut errors = FieldErrors::new();
    let mut out = Vec::new();
    for (i, raw) in raws.iter().enumerate() {
        match build(raw) {
            Ok(t) => out.push(t),
            Err(e) => {
                for fe in e.0 {
                    errors.push(format!("{what}[{i}].{}", fe.field), fe.message);
                }
            }
        }
    }
    errors
        .into_result(|| out)
        .map_err(|errors| SeedError::Invalid { file, errors })
}

/// The raw seed catalogue, as written.
pub fn raw_catalogue() -> Result<RawCatalogue, SeedError> {
    parse("catalogue.toml", CATALOGUE_TOML)
}

/// The checked seed catalogue.
pub fn catalogue() -> Result<Catalogue, SeedError> {
    Catalogue::build(&raw_catalogue()?).map_err(|errors| SeedError::Invalid {
        file: "catalogue.toml",
        errors,
    })
}

/// The raw seed forms, as written.
pub fn raw_forms() -> Result<Vec<RawForm>, SeedError> {
    Ok(parse::<RawForms>("forms.toml", FORMS_TOML)?.forms)
}

/// The seed report forms, checked against `catalogue`.
pub fn forms(catalogue: &Catalogue) -> Result<Vec<Form>, SeedError> {
    build_all("forms.toml", "forms", &raw_forms()?, |r| {
        Form::build(r, catalogue)
    })
}

/// The raw seed plans, as written.
pub fn raw_plans() -> Result<Vec<RawPlan>, SeedError> {
    Ok(parse::<RawPlans>("plans.toml", PLANS_TOML)?.plans)
}

/// The seed plans, checked against `catalogue`.
pub fn plans(catalogue: &Catalogue) -> Result<Vec<Plan>, SeedError> {
    build_all("plans.toml", "plans", &raw_plans()?, |r| {
        Plan::build(r, catalogue)
    })
}

/// The raw seed rankings, as written.
pub fn raw_rankings() -> Result<Vec<RawRanking>, SeedError> {
    Ok(parse::<RawRankings>("rankings.toml", RANKINGS_TOML)?.rankings)
}

/// The seed ranking definitions, checked against `catalogue`.
pub fn rankings(catalogue: &Catalogue) -> Result<Vec<Ranking>, SeedError> {
    build_all("rankings.toml", "rankings", &raw_rankings()?, |r| {
        Ranking::build(r, catalogue)
    })
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::{
        AdminLevel, AgencyKind, DataElementCode, IndicatorCode,
        catalogue::{Ratio, Totals, Value},
        period::{PeriodCode, PeriodType},
        plan::{PlanKind, TargetGroup},
    };

    fn c(s: &str) -> DataElementCode {
        DataElementCode::parse(s).unwrap()
    }

    fn i_code(s: &str) -> IndicatorCode {
        IndicatorCode::parse(s).unwrap()
    }

    fn i(s: &str) -> IndicatorCode {
        IndicatorCode::parse(s).unwrap()
    }

    #[test]
    fn the_seed_builds() {
        let cat = catalogue().unwrap_or_else(|e| panic!("{e}"));
        assert!(cat.elements().len() >= 30, "{}", cat.elements().len());
        assert!(cat.indicators().len() >= 20, "{}", cat.indicators().len());
        assert!(cat.rules().len() >= 15);
        let forms = forms(&cat).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(forms.len(), 3);
        let plans = plans(&cat).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plans.len(), 5);
        assert_eq!(
            plans
                .iter()
                .filter(|p| p.kind == PlanKind::Baseline)
                .count(),
            1
        );
        assert!(plans.iter().all(|p| !p.targets.is_empty()));
    }

    #[test]
    fn the_seed_rankings_cover_the_ict_index_pillars_for_two_groups() {
        let cat = catalogue().unwrap();
        let rankings = rankings(&cat).unwrap_or_else(|e| panic!("{e}"));
        let groups: Vec<TargetGroup> = rankings.iter().map(|r| r.group()).collect();
        assert_eq!(
            groups,
            [
                TargetGroup::Kind(AgencyKind::DistrictCommittee),
                TargetGroup::Kind(AgencyKind::Department),
                TargetGroup::Kind(AgencyKind::DistrictCommittee),
            ]
        );
        // The yearly rankings cover the four pillars; the quarterly quick
        // one what the quarterly report holds.
        let quick = rankings.last().unwrap();
        assert_eq!(quick.code().as_str(), "district_committees_quarterly");
        let codes: Vec<&str> = quick
            .sub_indexes()
            .iter()
            .map(|s| s.code.as_str())
            .collect();
        assert_eq!(codes, ["internal_use", "online_services"]);
        for r in &rankings[..2] {
            assert_eq!(r.version().to_string(), "2026.1");
            let codes: Vec<&str> = r.sub_indexes().iter().map(|s| s.code.as_str()).collect();
            assert_eq!(
                codes,
                [
                    "technical_infrastructure",
                    "human_resources",
                    "internal_use",
                    "online_services"
                ]
            );
            // A sub-index is named after the catalogue category of what it holds.
            for sub in r.sub_indexes() {
                for ri in &sub.indicators {
                    let ind = cat.indicator(&ri.indicator).unwrap();
                    assert_eq!(ind.category.as_str(), sub.code.as_str(), "{}", ind.code);
                }
            }
        }
    }

    #[test]
    fn a_full_yearly_report_is_enough_to_be_ranked() {
        let cat = catalogue().unwrap();
        let totals = Totals::of_report(full_report(&cat).iter());
        let all: BTreeMap<IndicatorCode, Ratio> = cat
            .indicators()
            .iter()
            .map(|ind| (ind.code.clone(), ind.evaluate(&totals).unwrap()))
            .collect();
        let mut partial = all.clone();
        partial.remove(&i("online_service_level3_rate"));
        let a = |s: &str| crate::AgencyCode::parse(s).unwrap();
        // Every ranking that reads the indicator the partial report lacks.
        for ranking in rankings(&cat).unwrap().into_iter().filter(|r| {
            r.indicators()
                .any(|i| i.indicator == i_code("online_service_level3_rate"))
        }) {
            let result = ranking.rank(&[
                (a("000.00.32.H51"), all.clone()),
                (a("000.00.31.H51"), all.clone()),
                (a("000.00.33.H51"), partial.clone()),
            ]);
            let order: Vec<(&str, Option<u32>)> = result
                .agencies
                .iter()
                .map(|s| (s.agency.as_str(), s.rank()))
                .collect();
            assert_eq!(
                order,
                [
                    ("000.00.31.H51", Some(1)),
                    ("000.00.32.H51", Some(1)),
                    ("000.00.33.H51", None)
                ]
            );
        }
    }

    #[test]
    fn todays_elements_and_indicators_keep_their_meaning() {
        let cat = catalogue().unwrap();
        for code in [
            "officials",
            "officials_with_computer",
            "documents_sent",
            "documents_sent_electronic",
        ] {
            assert!(cat.element(&c(code)).is_some(), "{code}");
        }
        assert_eq!(
            cat.element(&c("officials")).unwrap().name.as_str(),
            "Số cán bộ, công chức, viên chức"
        );
        let rate = cat.indicator(&i("computer_equipment_rate")).unwrap();
        assert_eq!(rate.numerator.to_string(), "officials_with_computer");
        assert_eq!(rate.denominator.as_ref().unwrap().to_string(), "officials");
        assert_eq!(rate.factor, 100);
        let rate = cat.indicator(&i("electronic_document_rate")).unwrap();
        assert_eq!(rate.numerator.to_string(), "documents_sent_electronic");
        assert_eq!(
            rate.denominator.as_ref().unwrap().to_string(),
            "documents_sent"
        );
    }

    #[test]
    fn the_yearly_form_has_every_element_and_the_quarterly_the_fast_ones() {
        let cat = catalogue().unwrap();
        let forms = forms(&cat).unwrap();
        let yearly = forms
            .iter()
            .find(|f| f.code.as_str() == "it_application_yearly")
            .unwrap();
        assert_eq!(yearly.period_type, PeriodType::Yearly);
        let on_form: BTreeSet<_> = yearly.elements().map(|e| e.code.clone()).collect();
        let all: BTreeSet<_> = cat.elements().iter().map(|e| e.code.clone()).collect();
        assert_eq!(on_form, all);
        for kind in AgencyKind::ALL {
            let code = crate::AgencyCode::parse("000.00.00.H51").unwrap();
            assert!(yearly.expects(kind, kind.level(), &code));
        }
        let quarterly = forms
            .iter()
            .find(|f| f.code.as_str() == "it_fast_quarterly")
            .unwrap();
        assert_eq!(quarterly.period_type, PeriodType::Quarterly);
        assert!(
            quarterly
                .elements()
                .any(|e| e.code.as_str() == "online_meetings")
        );
        assert!(quarterly.elements().count() < 12);
        // Decree 09 cut-off for the 2018 yearly report: due 20 January 2019.
        let y2018 = PeriodCode::parse("2018").unwrap();
        assert_eq!(yearly.deadline(&y2018).to_string(), "2019-01-20");
    }

    /// A full yearly report whose splits add up, so it passes every rule.
    fn full_report(cat: &Catalogue) -> BTreeMap<DataElementCode, Value> {
        let mut values = BTreeMap::new();
        for e in cat.elements() {
            let raw = match e.value_type {
                crate::catalogue::ValueType::YesNo => "có",
                _ => "10",
            };
            values.insert(e.code.clone(), cat.check_value(&e.code, raw).unwrap());
        }
        // A consistent report passes every rule once the splits add up.
        values.insert(
            c("civil_servants"),
            cat.check_value(&c("civil_servants"), "4").unwrap(),
        );
        values.insert(
            c("public_employees"),
            cat.check_value(&c("public_employees"), "6").unwrap(),
        );
        values.insert(
            c("civil_servants_with_computer"),
            cat.check_value(&c("civil_servants_with_computer"), "4")
                .unwrap(),
        );
        values.insert(
            c("public_employees_with_computer"),
            cat.check_value(&c("public_employees_with_computer"), "6")
                .unwrap(),
        );
        values.insert(
            c("civil_servants_with_email"),
            cat.check_value(&c("civil_servants_with_email"), "4")
                .unwrap(),
        );
        values.insert(
            c("public_employees_with_email"),
            cat.check_value(&c("public_employees_with_email"), "6")
                .unwrap(),
        );
        values
    }

    #[test]
    fn every_indicator_can_be_computed_from_a_full_yearly_report() {
        let cat = catalogue().unwrap();
        let values = full_report(&cat);
        let failures = cat.check_report(values.iter());
        assert!(failures.is_empty(), "{failures:?}");
        let totals = Totals::of_report(values.iter());
        for ind in cat.indicators() {
            assert!(ind.evaluate(&totals).is_ok(), "{}", ind.code);
        }
    }

    #[test]
    fn a_bad_report_gets_every_failure_in_both_languages() {
        let cat = catalogue().unwrap();
        let v = |code: &str, raw: &str| (c(code), cat.check_value(&c(code), raw).unwrap());
        let values: BTreeMap<DataElementCode, Value> = [
            v("documents_sent", "100"),
            v("documents_sent_electronic", "120"),
            v("documents_signed_digitally", "50"),
            v("public_services_total", "40"),
            v("public_services_level2", "30"),
            v("public_services_level3", "35"),
            v("public_services_level4", "5"),
            v("has_lan", "không"),
            v("lan_with_security_device", "có"),
        ]
        .into_iter()
        .collect();
        let failures = cat.check_report(values.iter());
        let codes: Vec<&str> = failures.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(
            codes,
            [
                "lan_security_needs_lan",
                "document_chain",
                "online_service_levels"
            ]
        );
        assert!(
            failures
                .iter()
                .all(|f| !f.message.is_empty() && !f.message_en.is_empty())
        );
        assert_eq!(
            failures[1].detail,
            "documents_sent_electronic = 120 is not <= documents_sent = 100"
        );
    }

    #[test]
    fn quang_ngai_computers_per_official() {
        let cat = catalogue().unwrap();
        let plans = plans(&cat).unwrap();
        let qn = plans
            .iter()
            .find(|p| p.code.as_str() == "quang_ngai_2018")
            .unwrap();
        assert_eq!(qn.province.as_str(), "51");
        let code = i("computers_per_official");
        let target = qn
            .targets_for(&code, TargetGroup::WholeProvince, 2018)
            .next()
            .unwrap();
        let ind = cat.indicator(&code).unwrap();
        let mut t = Totals::new();
        // Two agencies: 50 computers for 60 officials, 40 for 40 → 90/100 = 0.9.
        for (computers, officials) in [("50", "60"), ("40", "40")] {
            t.add(
                &c("computers"),
                &cat.check_value(&c("computers"), computers).unwrap(),
            );
            t.add(
                &c("officials"),
                &cat.check_value(&c("officials"), officials).unwrap(),
            );
        }
        let v = ind.evaluate(&t).unwrap();
        assert_eq!(v, Ratio::new(9, 10).unwrap());
        assert_eq!(v.display(ind.decimals), "0.90");
        assert!(target.attained(v));
        let meetings = qn
            .targets_for(
                &i("online_meetings_held"),
                TargetGroup::Kind(AgencyKind::ProvincialCommittee),
                2018,
            )
            .next()
            .unwrap();
        assert!(!meetings.attained(Ratio::integer(9)));
        assert_eq!(meetings.gap(Ratio::integer(9)), Ratio::integer(1));
    }

    #[test]
    fn quang_binh_and_lam_dong_targets() {
        let cat = catalogue().unwrap();
        let plans = plans(&cat).unwrap();
        let qb = plans
            .iter()
            .find(|p| p.code.as_str() == "quang_binh_2025")
            .unwrap();
        let t = qb
            .targets_for(
                &i("public_employee_computer_rate"),
                TargetGroup::WholeProvince,
                2025,
            )
            .next()
            .unwrap();
        assert_eq!(t.value, Ratio::integer(70));
        assert!(
            qb.targets_for(
                &i("business_process_rate"),
                TargetGroup::Level(AdminLevel::Commune),
                2025
            )
            .any(|t| t.value == Ratio::integer(60))
        );
        let ld = plans
            .iter()
            .find(|p| p.code.as_str() == "lam_dong_2014")
            .unwrap();
        let t = ld
            .targets_for(
                &i("electronic_document_rate"),
                TargetGroup::WholeProvince,
                2014,
            )
            .next()
            .unwrap();
        assert!(!t.attained(Ratio::integer(90)), "trên 90% is strict");
        assert!(t.attained(Ratio::new(181, 2).unwrap()));
    }
}
