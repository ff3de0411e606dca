//! gRPC surface of the aggregation service: decode → answer from the
//! in-memory model → encode.

use std::{collections::BTreeMap, pin::Pin, sync::Arc};

use chiso_domain::{
    AdminUnitCode, AgencyCode, Catalogue, PeriodCode, Plan, Ranking, RawPlan, RawRanking, Received,
    catalogue::Ratio,
    completeness,
    date::format_date,
    plan::{PlanKind, TargetGroup, TargetKind},
    ranking::{Fraction, Normalisation, Standing as DomainStanding, UnrankedReason},
    today,
};
use chiso_proto::aggregation::v1::{self as pb, aggregation_service_server::AggregationService};
use chiso_runtime::{
    ServiceError, ServiceResult,
    auth::Principal,
    policy::{Action, Scope as PolicyScope, caller, scope},
};
use chrono::NaiveDate;
use futures::Stream;
use tonic::{Request, Response, Status};

use crate::{
    catalogue::{CatalogueCache, Definitions},
    export,
    model::{Id, Model, SharedModel},
    query::{
        Answer, Engine, Scope, Subject, elements_of, exact_text, figures, presentation, whole,
    },
    request::{
        AttainmentQuery, CompletenessQuery, Place, RankingQuery, Split, SubjectCode, TrendQuery,
        ValueQuery,
    },
};

/// State shared by the aggregation service's gRPC services.
pub struct Aggregation {
    /// The catalogue and forms as learned from the submission feed.
    pub catalogue: CatalogueCache,
    pub model: SharedModel,
    /// An agency sees a group's figures only when it has at least this many
    /// agencies, so no one agency's raw counts show through an aggregate.
    pub min_group: u32,
    /// Plans and rankings as written (the seed); built against the catalogue
    /// of the moment, which the feed may still be filling at start.
    pub plans: Vec<RawPlan>,
    pub rankings: Vec<RawRanking>,
}

#[derive(Clone)]
pub struct AggregationApi(pub Arc<Aggregation>);

/// Who reads, and so what they may see.
#[derive(Debug, Clone)]
enum Reader {
    All,
    /// An officer or viewer of one province, or an integrator granted these.
    Provinces(Arc<[AdminUnitCode]>),
    /// An agency: its own figures, and its province's groups of at least
    /// `min_group` agencies.
    Agency {
        code: AgencyCode,
        province: AdminUnitCode,
    },
}

impl Reader {
    fn of(principal: &Principal) -> Result<Self, ServiceError> {
        Ok(match scope(principal, Action::ReadAggregates)? {
            PolicyScope::Everywhere => Self::All,
            PolicyScope::Province(p) => match (&principal.role, &principal.agency) {
                (chiso_domain::Role::AgencyReporter, Some(code)) => Self::Agency {
                    code: code.clone(),
                    province: p,
                },
                _ => Self::Provinces(Arc::from([p])),
            },
            PolicyScope::Provinces(granted) => Self::Provinces(granted),
            PolicyScope::Agency(code) => Err(ServiceError::PermissionDenied(format!(
                "agency {code} has no province in its token"
            )))?,
        })
    }

    /// The provinces the reader is limited to; `None` for every province.
    fn provinces(&self) -> Option<&[AdminUnitCode]> {
        match self {
            Self::All => None,
            Self::Provinces(granted) => Some(granted),
            Self::Agency { province, .. } => Some(std::slice::from_ref(province)),
        }
    }

    /// Refuses a place outside the reader's provinces.
    fn check_province(&self, place: Option<&AdminUnitCode>) -> Result<(), ServiceError> {
        match (self.provinces(), place) {
            (None, _) => Ok(()),
            (Some(own), Some(p)) if own.contains(p) => Ok(()),
            (Some(own), p) => Err(ServiceError::PermissionDenied(format!(
                "may not read aggregates of {}: this reader reads only province {}",
                p.map_or_else(
                    || "the whole country".to_owned(),
                    |p| format!("province {p}")
                ),
                own.iter()
                    .map(AdminUnitCode::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// Whether a row of `members` agencies (or one agency) may be shown.
    fn may_see(&self, members: &[Id], model: &Model, min_group: u32) -> bool {
        match self {
            Self::Agency { code, .. } => {
                if let [one] = members {
                    return &model.tree.node(*one).code == code;
                }
                members.len() >= min_group as usize
            }
            _ => true,
        }
    }
}

/// Why a row is withheld from an agency.
fn suppressed(min_group: u32) -> String {
    format!(
        "withheld: an agency sees figures of groups of at least {min_group} agencies and its own"
    )
}

type Rows<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// A value question resolved against the model.
struct Resolved<'a> {
    subject: Subject<'a>,
    scope: Scope,
    /// The province of the place, `None` for the country.
    province: Option<AdminUnitCode>,
}

/// The tree date of a question: `as_of`, else the period's last day (the
/// tree as it stood then), or today for a period not over yet; comparable
/// series use today's tree, where the successors are.
fn tree_date(as_of: Option<NaiveDate>, period: &PeriodCode, comparable: bool) -> NaiveDate {
    let today = today();
    as_of.unwrap_or(if comparable {
        today
    } else {
        period.end().min(today)
    })
}

impl Aggregation {
    fn resolve<'a>(
        &self,
        defs: &'a Definitions,
        model: &Model,
        q: &ValueQuery,
        date: NaiveDate,
    ) -> Result<Resolved<'a>, ServiceError> {
        let catalogue: &Catalogue = defs;
        let subject = match &q.subject {
            SubjectCode::Indicator(code) => {
                Subject::Indicator(catalogue.indicator(code).ok_or_else(|| {
                    ServiceError::field("indicator", format!("unknown indicator `{code}`"))
                })?)
            }
            SubjectCode::Element(code) => {
                Subject::Element(catalogue.element(code).ok_or_else(|| {
                    ServiceError::field("data_element", format!("unknown data element `{code}`"))
                })?)
            }
        };
        let (scope, province) = resolve_place(model, &q.place, date)?;
        Ok(Resolved {
            subject,
            scope,
            province,
        })
    }

    fn value_rows(
        &self,
        reader: &Reader,
        q: &ValueQuery,
        split: Option<Split>,
    ) -> Result<(pb::Aggregate, Vec<pb::Aggregate>), ServiceError> {
        let defs = self.catalogue.get();
        let model = self.model.read();
        let date = tree_date(q.as_of, &q.period, q.comparable);
        let r = self.resolve(&defs, &model, q, date)?;
        reader.check_province(r.province.as_ref())?;
        if let (Reader::Agency { code, .. }, Scope::Agency(id)) = (reader, r.scope)
            && &model.tree.node(id).code != code
        {
            return Err(ServiceError::PermissionDenied(format!(
                "agency {code} reads only its own figures and its province's groups"
            )));
        }
        let engine = Engine {
            model: &model,
            forms: &defs.forms,
        };
        let elements = elements_of(r.subject, &defs);
        let members = engine.members(r.scope, date, q.group);
        let meta = RowMeta {
            subject: r.subject,
            period: q.period,
            date,
            comparable: q.comparable,
            group: q.group,
        };
        let label = place_label(&model, r.scope);
        let total = if reader.may_see(&members, &model, self.min_group) {
            let answer = engine.answer(&elements, &q.period, &members, q.comparable);
            meta.row(label, &answer)
        } else {
            // The group itself is too small for an agency to see.
            return Err(ServiceError::PermissionDenied(suppressed(self.min_group)));
        };
        let mut rows = Vec::new();
        match (split, r.scope) {
            (None, _) => {}
            (Some(Split::Agencies), _) => {
                let answers = engine.answer_each(&elements, &q.period, &members, q.comparable);
                for (id, answer) in members.iter().zip(&answers) {
                    let label = agency_label(&model, *id);
                    let one = std::slice::from_ref(id);
                    rows.push(if reader.may_see(one, &model, self.min_group) {
                        meta.row(label, answer)
                    } else {
                        meta.withheld(label, self.min_group)
                    });
                }
            }
            (Some(Split::ChildAreas), scope) => {
                let areas = match scope {
                    Scope::Country => model.tree.roots_at(date),
                    Scope::Area(root) => model.tree.child_areas(root, date),
                    Scope::Agency(_) => {
                        return Err(ServiceError::field(
                            "breakdown",
                            "one agency has no child areas: ask for an area",
                        ));
                    }
                };
                for area in areas {
                    let members = engine.members(Scope::Area(area), date, q.group);
                    let label = place_label(&model, Scope::Area(area));
                    rows.push(if reader.may_see(&members, &model, self.min_group) {
                        meta.row(
                            label,
                            &engine.answer(&elements, &q.period, &members, q.comparable),
                        )
                    } else {
                        meta.withheld(label, self.min_group)
                    });
                }
            }
        }
        Ok((total, rows))
    }

    fn trend(&self, reader: &Reader, t: &TrendQuery) -> Result<pb::Trend, ServiceError> {
        let defs = self.catalogue.get();
        let model = self.model.read();
        let engine = Engine {
            model: &model,
            forms: &defs.forms,
        };
        let mut points = Vec::with_capacity(t.periods.len());
        let mut previous: Option<Ratio> = None;
        for period in &t.periods {
            let date = tree_date(t.query.as_of, period, t.query.comparable);
            let r = self.resolve(&defs, &model, &t.query, date)?;
            reader.check_province(r.province.as_ref())?;
            let members = engine.members(r.scope, date, t.query.group);
            if !reader.may_see(&members, &model, self.min_group) {
                return Err(ServiceError::PermissionDenied(suppressed(self.min_group)));
            }
            let elements = elements_of(r.subject, &defs);
            let answer = engine.answer(&elements, period, &members, t.query.comparable);
            let value = figures(r.subject, &answer).value;
            // The same period a year before, on the tree of its own day.
            let year_before =
                PeriodCode::new(period.year() - 1, period.period_type(), period.index())
                    .ok()
                    .and_then(|before| {
                        let date = tree_date(t.query.as_of, &before, t.query.comparable);
                        let r = self.resolve(&defs, &model, &t.query, date).ok()?;
                        let members = engine.members(r.scope, date, t.query.group);
                        let answer =
                            engine.answer(&elements, &before, &members, t.query.comparable);
                        figures(r.subject, &answer).value
                    });
            let meta = RowMeta {
                subject: r.subject,
                period: *period,
                date,
                comparable: t.query.comparable,
                group: t.query.group,
            };
            points.push(pb::TrendPoint {
                aggregate: Some(meta.row(place_label(&model, r.scope), &answer)),
                change: value.zip(previous).map(|(v, p)| v.minus(p).to_f64()),
                change_year_on_year: value.zip(year_before).map(|(v, p)| v.minus(p).to_f64()),
            });
            previous = value;
        }
        Ok(pb::Trend { points })
    }

    fn completeness(
        &self,
        reader: &Reader,
        q: &CompletenessQuery,
    ) -> Result<pb::Completeness, ServiceError> {
        let defs = self.catalogue.get();
        let form = defs
            .form(&q.form)
            .ok_or_else(|| ServiceError::field("form", format!("unknown form `{}`", q.form)))?;
        if !form.covers(&q.period) {
            return Err(ServiceError::field(
                "period",
                format!(
                    "form {} is reported {} from {}: `{}` is not one of its periods",
                    form.code, form.period_type, form.opens, q.period
                ),
            ));
        }
        let model = self.model.read();
        let date = tree_date(q.as_of, &q.period, false);
        let place = q.area.clone().map_or(Place::Country, Place::Area);
        let (scope, province) = resolve_place(&model, &place, date)?;
        reader.check_province(province.as_ref())?;
        let engine = Engine {
            model: &model,
            forms: &defs.forms,
        };
        let tree = &model.tree;
        let expected: Vec<(AgencyCode, Id)> = engine
            .members(scope, date, q.group)
            .into_iter()
            .filter(|id| {
                let node = tree.node(*id);
                node.existed_between(q.period.start(), q.period.end())
                    && node
                        .class
                        .is_some_and(|(kind, level)| form.expects(kind, level, &node.code))
            })
            .map(|id| (tree.node(id).code.clone(), id))
            .collect();
        let states: BTreeMap<AgencyCode, Received> = expected
            .iter()
            .filter_map(|(code, id)| {
                model
                    .states
                    .get(&q.form, &q.period, *id)
                    .map(|s| (code.clone(), s))
            })
            .collect();
        let codes: Vec<AgencyCode> = expected.iter().map(|(c, _)| c.clone()).collect();
        let c = completeness(&codes, &states);
        let name = |code: &AgencyCode| {
            tree.id(code)
                .map(|id| tree.node(id).name.clone())
                .unwrap_or_default()
        };
        let agency = |code: &AgencyCode, days_late: u32| pb::AgencyRef {
            code: code.to_string(),
            name: name(code),
            days_late,
        };
        Ok(pb::Completeness {
            form: q.form.to_string(),
            period: q.period.to_string(),
            area: q
                .area
                .as_ref()
                .map_or_else(|| "VN".to_owned(), ToString::to_string),
            group: group_text(q.group),
            deadline: format_date(form.deadline(&q.period)),
            expected: c.expected,
            received: c.received,
            on_time: c.on_time,
            late: c.late,
            missing_count: u32::try_from(c.missing.len()).unwrap_or(u32::MAX),
            returned_count: u32::try_from(c.returned.len()).unwrap_or(u32::MAX),
            reporting_rate: c.reporting_rate.map(Ratio::to_f64),
            on_time_rate: c.on_time_rate.map(Ratio::to_f64),
            missing: c.missing.iter().map(|a| agency(a, 0)).collect(),
            late_agencies: c.late_agencies.iter().map(|(a, d)| agency(a, *d)).collect(),
            returned: c.returned.iter().map(|a| agency(a, 0)).collect(),
            as_of: format_date(date),
        })
    }

    fn plans(&self, catalogue: &Catalogue) -> Vec<Plan> {
        // A plan naming an indicator the catalogue no longer has is left out
        // rather than failing every plan.
        self.plans
            .iter()
            .filter_map(|raw| Plan::build(raw, catalogue).ok())
            .collect()
    }

    fn attainment(
        &self,
        reader: &Reader,
        q: &AttainmentQuery,
    ) -> Result<pb::Attainment, ServiceError> {
        let defs = self.catalogue.get();
        let plan = self
            .plans(&defs)
            .into_iter()
            .find(|p| p.code == q.plan)
            .ok_or_else(|| ServiceError::NotFound(format!("no plan `{}`", q.plan)))?;
        reader.check_province(Some(&plan.province))?;
        let model = self.model.read();
        let engine = Engine {
            model: &model,
            forms: &defs.forms,
        };
        let mut targets = Vec::new();
        for target in plan
            .targets
            .iter()
            .filter(|t| q.year.is_none_or(|y| t.year == y))
        {
            let period = match q.period {
                Some(p) => p,
                None => PeriodCode::yearly(target.year)
                    .map_err(|e| ServiceError::Internal(anyhow::anyhow!("{e}")))?,
            };
            let indicator = defs
                .indicator(&target.indicator)
                .expect("the plan was built against this catalogue");
            let subject = Subject::Indicator(indicator);
            let date = tree_date(q.as_of, &period, false);
            let Some(Scope::Area(root)) = engine.scope_of(Some(&plan.province), date) else {
                // The province has no committee in the copy yet: nothing to measure.
                targets.push(pb::TargetAttainment {
                    target: Some(encode_target(target)),
                    ..Default::default()
                });
                continue;
            };
            let group = match target.group {
                TargetGroup::WholeProvince => None,
                g => Some(g),
            };
            let members = engine.members(Scope::Area(root), date, group);
            if !reader.may_see(&members, &model, self.min_group) {
                continue;
            }
            let elements = elements_of(subject, &defs);
            let answer = engine.answer(&elements, &period, &members, false);
            let meta = RowMeta {
                subject,
                period,
                date,
                comparable: false,
                group,
            };
            let actual = figures(subject, &answer).value;
            let mut agencies: Vec<(pb::AgencyAttainment, Option<Ratio>)> = Vec::new();
            if !matches!(reader, Reader::Agency { .. }) {
                let each = engine.answer_each(&elements, &period, &members, false);
                for (id, one) in members.iter().zip(&each) {
                    let value = figures(subject, one).value;
                    let node = model.tree.node(*id);
                    agencies.push((
                        pb::AgencyAttainment {
                            agency: node.code.to_string(),
                            name: node.name.clone(),
                            value: value.map(Ratio::to_f64),
                            attained: value.is_some_and(|v| target.attained(v)),
                            gap: value.map(|v| target.gap(v).to_f64()),
                        },
                        value.map(|v| target.gap(v)),
                    ));
                }
            }
            let mut below: Vec<_> = agencies
                .iter()
                .filter(|(a, gap)| gap.is_some() && !a.attained)
                .cloned()
                .collect();
            below.sort_by(|(a, x), (b, y)| {
                let (x, y) = (x.expect("filtered"), y.expect("filtered"));
                y.compare(x).then_with(|| a.agency.cmp(&b.agency))
            });
            targets.push(pb::TargetAttainment {
                target: Some(encode_target(target)),
                actual: Some(meta.row(place_label(&model, Scope::Area(root)), &answer)),
                attained: actual.map(|v| target.attained(v)),
                gap: actual.map(|v| target.gap(v).to_f64()),
                gap_exact: actual
                    .map(|v| target.gap(v).display(indicator.decimals.max(2)))
                    .unwrap_or_default(),
                agencies: agencies.into_iter().map(|(a, _)| a).collect(),
                below: below.into_iter().map(|(a, _)| a).collect(),
            });
        }
        Ok(pb::Attainment {
            plan: Some(encode_plan(&plan)),
            targets,
        })
    }

    fn ranking(
        &self,
        reader: &Reader,
        q: &RankingQuery,
    ) -> Result<pb::RankingResult, ServiceError> {
        let defs = self.catalogue.get();
        let raw = self
            .rankings
            .iter()
            .find(|r| r.code == q.ranking.as_str())
            .ok_or_else(|| ServiceError::NotFound(format!("no ranking `{}`", q.ranking)))?;
        let ranking = Ranking::build(raw, &defs).map_err(|e| {
            ServiceError::FailedPrecondition(format!(
                "ranking {} does not match the catalogue: {e}",
                q.ranking
            ))
        })?;
        let model = self.model.read();
        let date = tree_date(q.as_of, &q.period, false);
        let place = q.area.clone().map_or(Place::Country, Place::Area);
        let (scope, province) = resolve_place(&model, &place, date)?;
        reader.check_province(province.as_ref())?;
        let engine = Engine {
            model: &model,
            forms: &defs.forms,
        };
        let members = engine.members(scope, date, Some(ranking.group()));
        // Each indicator over every member at once, then regrouped by member.
        let mut values: Vec<BTreeMap<chiso_domain::IndicatorCode, Ratio>> =
            vec![BTreeMap::new(); members.len()];
        for ri in ranking.indicators() {
            let Some(indicator) = defs.indicator(&ri.indicator) else {
                continue;
            };
            let subject = Subject::Indicator(indicator);
            let answers =
                engine.answer_each(&elements_of(subject, &defs), &q.period, &members, false);
            for (mine, answer) in values.iter_mut().zip(&answers) {
                if let Some(v) = figures(subject, answer).value {
                    mine.insert(ri.indicator.clone(), v);
                }
            }
        }
        let inputs: Vec<(AgencyCode, BTreeMap<chiso_domain::IndicatorCode, Ratio>)> = members
            .iter()
            .map(|id| model.tree.node(*id).code.clone())
            .zip(values)
            .collect();
        let result = ranking.rank(&inputs);
        let own = match reader {
            Reader::Agency { code, .. } => Some(code),
            _ => None,
        };
        Ok(encode_ranking(&ranking, &result, q, date, &model, own))
    }
}

/// The scope of a place on `date` and its province.
fn resolve_place(
    model: &Model,
    place: &Place,
    date: NaiveDate,
) -> Result<(Scope, Option<AdminUnitCode>), ServiceError> {
    let tree = &model.tree;
    let province_of = |id: Id| {
        let node = tree.node(id);
        node.version_at(date)
            .or(node.versions.last())
            .map(|v| v.province.clone())
    };
    match place {
        Place::Country => Ok((Scope::Country, None)),
        Place::Area(code) => {
            let id = tree.committee(code, date).ok_or_else(|| {
                ServiceError::field(
                    "area",
                    format!("no People's Committee governed administrative unit {code} on {date}"),
                )
            })?;
            Ok((Scope::Area(id), province_of(id)))
        }
        Place::Agency(code) => {
            let id = tree
                .id(code)
                .filter(|id| !tree.node(*id).versions.is_empty())
                .ok_or_else(|| ServiceError::field("agency", format!("no agency {code}")))?;
            Ok((Scope::Agency(id), province_of(id)))
        }
    }
}

/// A row's label: (area code, agency code, name).
struct Label {
    area: String,
    agency: String,
    name: String,
}

fn place_label(model: &Model, scope: Scope) -> Label {
    match scope {
        Scope::Country => Label {
            area: "VN".into(),
            agency: String::new(),
            name: "Việt Nam".into(),
        },
        Scope::Area(id) => {
            let node = model.tree.node(id);
            Label {
                area: node
                    .admin_unit
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                agency: String::new(),
                name: node.name.clone(),
            }
        }
        Scope::Agency(id) => agency_label(model, id),
    }
}

fn agency_label(model: &Model, id: Id) -> Label {
    let node = model.tree.node(id);
    Label {
        area: String::new(),
        agency: node.code.to_string(),
        name: node.name.clone(),
    }
}

fn group_text(group: Option<TargetGroup>) -> String {
    group.map_or_else(|| "all".to_owned(), |g| g.to_string())
}

/// What every row of one question shares.
struct RowMeta<'a> {
    subject: Subject<'a>,
    period: PeriodCode,
    date: NaiveDate,
    comparable: bool,
    group: Option<TargetGroup>,
}

impl RowMeta<'_> {
    fn base(&self, label: Label) -> pb::Aggregate {
        let (factor, decimals, unit) = presentation(self.subject);
        let (indicator, data_element) = match self.subject {
            Subject::Indicator(i) => (i.code.to_string(), String::new()),
            Subject::Element(e) => (String::new(), e.code.to_string()),
        };
        pb::Aggregate {
            indicator,
            data_element,
            area: label.area,
            agency: label.agency,
            name: label.name,
            period: self.period.to_string(),
            // Factors are at most 10^6: exact in an f64.
            factor: factor as f64,
            unit,
            decimals: u32::from(decimals),
            as_of: format_date(self.date),
            group: group_text(self.group),
            comparable: self.comparable,
            ..Default::default()
        }
    }

    fn withheld(&self, label: Label, min_group: u32) -> pb::Aggregate {
        pb::Aggregate {
            error: suppressed(min_group),
            ..self.base(label)
        }
    }

    fn row(&self, label: Label, answer: &Answer) -> pb::Aggregate {
        let mut row = self.base(label);
        row.agencies_reporting = i64::from(answer.reporting);
        row.agencies_expected = i64::from(answer.expected);
        let f = figures(self.subject, answer);
        let numerator = f.numerator.map(|e| (whole(e), exact_text(e)));
        let denominator = f.denominator.map(|e| (whole(e), exact_text(e)));
        if numerator.as_ref().is_some_and(|(w, _)| w.is_none())
            || denominator.as_ref().is_some_and(|(w, _)| w.is_none())
        {
            // Counts are bounded at input, so this takes millions of agencies
            // at the ceiling; the row says so and the others still answer.
            row.error = "a total is beyond 64 bits and cannot be reported".into();
            return row;
        }
        if let Some((w, text)) = numerator {
            row.numerator = w.expect("checked");
            row.numerator_exact = text;
        }
        if let Some((w, text)) = denominator {
            row.denominator = w.expect("checked");
            row.denominator_exact = text;
        }
        if let Some(v) = f.value {
            row.value = Some(v.to_f64());
            row.value_text = v.display(row.decimals as u8);
        }
        row
    }
}

fn encode_target(t: &chiso_domain::Target) -> pb::Target {
    pb::Target {
        indicator: t.indicator.to_string(),
        group: t.group.to_string(),
        comparator: t.comparator.symbol().to_owned(),
        value: ratio_text(t.value),
        kind: match t.kind {
            TargetKind::Percentage => "percentage",
            TargetKind::Absolute => "absolute",
        }
        .into(),
        year: u32::from(t.year),
        wording: t.wording.clone(),
    }
}

/// An exact ratio as the shortest decimal text up to 6 places ("0.9", "70").
fn ratio_text(r: Ratio) -> String {
    let text = r.display(6);
    match text.split_once('.') {
        Some((whole, frac)) => {
            let frac = frac.trim_end_matches('0');
            if frac.is_empty() {
                whole.to_owned()
            } else {
                format!("{whole}.{frac}")
            }
        }
        None => text,
    }
}

fn encode_plan(p: &Plan) -> pb::Plan {
    pb::Plan {
        code: p.code.to_string(),
        title: p.title.to_string(),
        number: p.number.clone(),
        date: format_date(p.date),
        province: p.province.to_string(),
        first_year: u32::from(p.first_year),
        last_year: u32::from(p.last_year),
        kind: match p.kind {
            PlanKind::Plan => "plan",
            PlanKind::Baseline => "baseline",
        }
        .into(),
        targets: p.targets.iter().map(encode_target).collect(),
    }
}

fn score(f: &Fraction) -> pb::Score {
    pb::Score {
        exact: format!("{}/{}", f.numerator(), f.denominator()),
        value: f.to_f64(),
    }
}

fn encode_definition(r: &Ranking) -> pb::RankingDefinition {
    pb::RankingDefinition {
        code: r.code().to_string(),
        name: r.name().to_string(),
        version: r.version().to_string(),
        group: r.group().to_string(),
        description: r.description().to_owned(),
        sub_indexes: r
            .sub_indexes()
            .iter()
            .map(|s| pb::SubIndexDefinition {
                code: s.code.to_string(),
                name: s.name.to_string(),
                weight: ratio_text(s.weight),
                indicators: s
                    .indicators
                    .iter()
                    .map(|i| pb::RankedIndicatorDefinition {
                        indicator: i.indicator.to_string(),
                        weight: ratio_text(i.weight),
                        normalisation: match i.normalisation {
                            Normalisation::MinMax => "min_max".into(),
                            Normalisation::Target(_) => "target".into(),
                        },
                        target: match i.normalisation {
                            Normalisation::Target(t) => ratio_text(t),
                            Normalisation::MinMax => String::new(),
                        },
                    })
                    .collect(),
            })
            .collect(),
    }
}

fn encode_ranking(
    ranking: &Ranking,
    result: &chiso_domain::ranking::RankingResult,
    q: &RankingQuery,
    date: NaiveDate,
    model: &Model,
    own: Option<&AgencyCode>,
) -> pb::RankingResult {
    let basis = result
        .basis
        .iter()
        .map(|s| pb::SubIndexBasis {
            code: s.code.to_string(),
            share: Some(score(&s.share)),
            indicators: s
                .indicators
                .iter()
                .map(|i| pb::IndicatorBasis {
                    indicator: i.indicator.to_string(),
                    share: Some(score(&i.share)),
                    higher_is_better: i.higher_is_better,
                    normalisation: match i.normalisation {
                        Normalisation::MinMax => "min_max".into(),
                        Normalisation::Target(_) => "target".into(),
                    },
                    min: i.min.as_ref().map(Fraction::to_f64),
                    max: i.max.as_ref().map(Fraction::to_f64),
                    target: match i.normalisation {
                        Normalisation::Target(t) => Some(t.to_f64()),
                        Normalisation::MinMax => None,
                    },
                })
                .collect(),
        })
        .collect();
    let agencies = result
        .agencies
        .iter()
        .map(|a| {
            let name = model
                .tree
                .id(&a.agency)
                .map(|id| model.tree.node(id).name.clone())
                .unwrap_or_default();
            // An agency sees every rank and total, but the inputs and
            // sub-index scores of its own standing only.
            let open = own.is_none_or(|o| o == &a.agency);
            let mut standing = pb::Standing {
                agency: a.agency.to_string(),
                name,
                ..Default::default()
            };
            match &a.standing {
                DomainStanding::Ranked {
                    rank,
                    total,
                    sub_indexes,
                } => {
                    standing.rank = *rank;
                    standing.total = Some(score(total));
                    if open {
                        standing.sub_indexes = sub_indexes
                            .iter()
                            .map(|s| pb::SubIndexScore {
                                code: s.code.to_string(),
                                score: Some(score(&s.score)),
                            })
                            .collect();
                        let scores: BTreeMap<_, _> = sub_indexes
                            .iter()
                            .flat_map(|s| s.indicators.iter())
                            .map(|i| (i.indicator.clone(), score(&i.score)))
                            .collect();
                        standing.inputs = a
                            .inputs
                            .iter()
                            .map(|i| pb::InputValue {
                                indicator: i.indicator.to_string(),
                                value: i.value.map(Ratio::to_f64),
                                score: scores.get(&i.indicator).cloned(),
                            })
                            .collect();
                    }
                }
                DomainStanding::Unranked { reason } => {
                    standing.unranked_reason = match reason {
                        UnrankedReason::MissingIndicators { indicators } => format!(
                            "missing: {}",
                            indicators
                                .iter()
                                .map(ToString::to_string)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        UnrankedReason::DuplicateInput { count } => {
                            format!("given {count} times")
                        }
                    };
                    if open {
                        standing.inputs = a
                            .inputs
                            .iter()
                            .map(|i| pb::InputValue {
                                indicator: i.indicator.to_string(),
                                value: i.value.map(Ratio::to_f64),
                                score: None,
                            })
                            .collect();
                    }
                }
            }
            standing
        })
        .collect();
    pb::RankingResult {
        ranking: ranking.code().to_string(),
        version: ranking.version().to_string(),
        method: result.method,
        group: result.group.to_string(),
        area: q
            .area
            .as_ref()
            .map_or_else(|| "VN".to_owned(), ToString::to_string),
        period: q.period.to_string(),
        as_of: format_date(date),
        basis,
        agencies,
    }
}

fn reader<T>(request: &Request<T>) -> Result<Reader, Status> {
    Ok(Reader::of(&caller(request)?)?)
}

#[tonic::async_trait]
impl AggregationService for AggregationApi {
    async fn get_aggregate(
        &self,
        request: Request<pb::GetAggregateRequest>,
    ) -> Result<Response<pb::Aggregate>, Status> {
        let reader = reader(&request)?;
        let q = ValueQuery::decode(request.get_ref(), true).map_err(ServiceError::from)?;
        let (total, _) = self.0.value_rows(&reader, &q, None)?;
        Ok(Response::new(total))
    }

    async fn get_breakdown(
        &self,
        request: Request<pb::GetAggregateRequest>,
    ) -> Result<Response<pb::Breakdown>, Status> {
        let reader = reader(&request)?;
        let q = ValueQuery::decode(request.get_ref(), true).map_err(ServiceError::from)?;
        let split = q.split.ok_or_else(|| {
            ServiceError::field("breakdown", "is required: child_areas or agencies")
        })?;
        let (total, rows) = self.0.value_rows(&reader, &q, Some(split))?;
        Ok(Response::new(pb::Breakdown {
            total: Some(total),
            rows,
        }))
    }

    type StreamBreakdownStream = Rows<pb::Aggregate>;

    async fn stream_breakdown(
        &self,
        request: Request<pb::GetAggregateRequest>,
    ) -> Result<Response<Self::StreamBreakdownStream>, Status> {
        let reader = reader(&request)?;
        let q = ValueQuery::decode(request.get_ref(), true).map_err(ServiceError::from)?;
        let split = q.split.ok_or_else(|| {
            ServiceError::field("breakdown", "is required: child_areas or agencies")
        })?;
        // Rows are computed under one read of the model (consistent), then
        // sent as the client takes them.
        let (_, rows) = self.0.value_rows(&reader, &q, Some(split))?;
        Ok(Response::new(Box::pin(futures::stream::iter(
            rows.into_iter().map(Ok),
        ))))
    }

    async fn get_trend(
        &self,
        request: Request<pb::GetTrendRequest>,
    ) -> Result<Response<pb::Trend>, Status> {
        let reader = reader(&request)?;
        let q = TrendQuery::decode(request.get_ref()).map_err(ServiceError::from)?;
        Ok(Response::new(self.0.trend(&reader, &q)?))
    }

    async fn get_completeness(
        &self,
        request: Request<pb::GetCompletenessRequest>,
    ) -> Result<Response<pb::Completeness>, Status> {
        let reader = reader(&request)?;
        let q = CompletenessQuery::decode(request.get_ref()).map_err(ServiceError::from)?;
        Ok(Response::new(self.0.completeness(&reader, &q)?))
    }

    async fn list_plans(
        &self,
        request: Request<pb::ListPlansRequest>,
    ) -> Result<Response<pb::ListPlansResponse>, Status> {
        reader(&request)?;
        let province = request.get_ref().province.trim();
        let defs = self.0.catalogue.get();
        let plans = self
            .0
            .plans(&defs)
            .iter()
            .filter(|p| province.is_empty() || p.province.as_str() == province)
            .map(encode_plan)
            .collect();
        Ok(Response::new(pb::ListPlansResponse { plans }))
    }

    async fn get_plan(
        &self,
        request: Request<pb::GetPlanRequest>,
    ) -> Result<Response<pb::Plan>, Status> {
        reader(&request)?;
        let code = request.get_ref().code.trim();
        let defs = self.0.catalogue.get();
        let plan = self
            .0
            .plans(&defs)
            .into_iter()
            .find(|p| p.code.as_str() == code)
            .ok_or_else(|| ServiceError::NotFound(format!("no plan `{code}`")))?;
        Ok(Response::new(encode_plan(&plan)))
    }

    async fn get_attainment(
        &self,
        request: Request<pb::GetAttainmentRequest>,
    ) -> Result<Response<pb::Attainment>, Status> {
        let reader = reader(&request)?;
        let q = AttainmentQuery::decode(request.get_ref()).map_err(ServiceError::from)?;
        Ok(Response::new(self.0.attainment(&reader, &q)?))
    }

    async fn list_rankings(
        &self,
        request: Request<pb::ListRankingsRequest>,
    ) -> Result<Response<pb::ListRankingsResponse>, Status> {
        reader(&request)?;
        let defs = self.0.catalogue.get();
        let rankings = self
            .0
            .rankings
            .iter()
            .filter_map(|raw| Ranking::build(raw, &defs).ok())
            .map(|r| encode_definition(&r))
            .collect();
        Ok(Response::new(pb::ListRankingsResponse { rankings }))
    }

    async fn get_ranking(
        &self,
        request: Request<pb::GetRankingRequest>,
    ) -> Result<Response<pb::RankingResult>, Status> {
        let reader = reader(&request)?;
        let q = RankingQuery::decode(request.get_ref()).map_err(ServiceError::from)?;
        Ok(Response::new(self.0.ranking(&reader, &q)?))
    }

    type ExportStream = Rows<pb::ExportChunk>;

    async fn export(
        &self,
        request: Request<pb::ExportRequest>,
    ) -> Result<Response<Self::ExportStream>, Status> {
        let reader = reader(&request)?;
        let table = self.0.export_table(&reader, request.get_ref())?;
        let format = pb::ExportFormat::try_from(request.get_ref().format).unwrap_or_default();
        let chunks = export::render(&table, format)?;
        Ok(Response::new(Box::pin(futures::stream::iter(
            chunks.into_iter().map(Ok),
        ))))
    }

    async fn get_feed_position(
        &self,
        request: Request<pb::GetFeedPositionRequest>,
    ) -> Result<Response<pb::FeedPosition>, Status> {
        // How far the answers have caught up (the model, which follows the
        // tables a moment after each commit): open to whoever reads them.
        reader(&request)?;
        let model = self.0.model.read();
        Ok(Response::new(pb::FeedPosition {
            last_seq: model.submission_seq,
            agency_seq: model.agency_seq,
        }))
    }
}

impl Aggregation {
    /// The answer an export asks for, as a table.
    fn export_table(&self, reader: &Reader, r: &pb::ExportRequest) -> ServiceResult<export::Table> {
        use pb::export_request::What;
        match &r.what {
            Some(What::Breakdown(b)) => {
                let q = ValueQuery::decode(b, true).map_err(|e| prefixed("breakdown", e))?;
                let (total, rows) = self.value_rows(reader, &q, q.split)?;
                Ok(export::values(std::iter::once(total).chain(rows).collect()))
            }
            Some(What::Trend(t)) => {
                let q = TrendQuery::decode(t).map_err(|e| prefixed("trend", e))?;
                let trend = self.trend(reader, &q)?;
                Ok(export::values(
                    trend
                        .points
                        .into_iter()
                        .filter_map(|p| p.aggregate)
                        .collect(),
                ))
            }
            Some(What::Completeness(c)) => {
                let q = CompletenessQuery::decode(c).map_err(|e| prefixed("completeness", e))?;
                Ok(export::completeness(&self.completeness(reader, &q)?))
            }
            Some(What::Ranking(g)) => {
                let q = RankingQuery::decode(g).map_err(|e| prefixed("ranking", e))?;
                Ok(export::ranking(&self.ranking(reader, &q)?))
            }
            Some(What::Attainment(a)) => {
                let q = AttainmentQuery::decode(a).map_err(|e| prefixed("attainment", e))?;
                Ok(export::attainment(&self.attainment(reader, &q)?))
            }
            None => Err(ServiceError::field(
                "what",
                "is required: breakdown, trend, completeness, ranking or attainment",
            )),
        }
    }
}

/// Field errors of a nested request, named by their path.
fn prefixed(prefix: &str, errors: chiso_domain::FieldErrors) -> ServiceError {
    let mut out = chiso_domain::FieldErrors::new();
    for e in errors.0 {
        out.push(format!("{prefix}.{}", e.field), e.message);
    }
    ServiceError::InvalidArgument(out)
}

#[cfg(test)]
mod tests {
    use chiso_domain::{
        DataElementCode, IndicatorCode,
        catalogue::{Aggregate as Total, Totals},
    };

    use super::*;

    fn label() -> Label {
        Label {
            area: "51".into(),
            agency: String::new(),
            name: "UBND tỉnh Quảng Ngãi".into(),
        }
    }

    /// Counts are bounded at input, but a sum past 64 bits must still be
    /// an error on its own row, never a failed request.
    #[test]
    fn a_total_beyond_64_bits_is_an_error_for_that_row_only() {
        let cat = chiso_domain::seed::catalogue().unwrap();
        let sent = cat
            .element(&DataElementCode::parse("documents_sent").unwrap())
            .unwrap();
        let electronic = cat
            .element(&DataElementCode::parse("documents_sent_electronic").unwrap())
            .unwrap();
        let rate = cat
            .indicator(&IndicatorCode::parse("electronic_document_rate").unwrap())
            .unwrap();
        let huge = i128::from(i64::MAX) * 3;
        let mut totals = Totals::new();
        totals.insert(sent.code.clone(), Total::Sum(huge));
        totals.insert(electronic.code.clone(), Total::Sum(huge / 2));
        let answer = Answer {
            totals,
            reporting: 2,
            expected: 2,
        };
        let meta = |subject| RowMeta {
            subject,
            period: PeriodCode::parse("2025").unwrap(),
            date: chrono::NaiveDate::from_ymd_opt(2025, 12, 31).unwrap(),
            comparable: false,
            group: None,
        };
        let row = meta(Subject::Element(sent)).row(label(), &answer);
        assert_eq!(
            row.error,
            "a total is beyond 64 bits and cannot be reported"
        );
        assert_eq!((row.numerator, row.value), (0, None));
        assert_eq!(row.agencies_reporting, 2);
        let row = meta(Subject::Indicator(rate)).row(label(), &answer);
        assert!(row.error.contains("64 bits"), "{row:?}");
        // Within 64 bits the same sums answer exactly.
        let mut totals = Totals::new();
        totals.insert(sent.code.clone(), Total::Sum(i128::from(i64::MAX)));
        totals.insert(
            electronic.code.clone(),
            Total::Sum(i128::from(i64::MAX) / 2),
        );
        let row = meta(Subject::Indicator(rate)).row(label(), &Answer { totals, ..answer });
        assert_eq!(row.error, "");
        assert_eq!(row.numerator, i64::MAX / 2);
        assert_eq!(row.denominator_exact, i64::MAX.to_string());
        assert_eq!(row.value_text, "50.0");
    }
}
