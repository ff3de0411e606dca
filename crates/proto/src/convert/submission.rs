//! `chiso.submission.v1` messages and their domain types.

use chiso_domain::{
    AdminUnitCode, AgencyCode, Catalogue, DataElement, FieldErrors, Form, FormCode, Indicator,
    LifecycleAction, PeriodCode, PeriodType, ReportStatus, ReportValues, ReportVersion,
    ValidationRule,
    catalogue::{
        Category, Decimal, RawDataElement, RawIndicator, RawNumber, RawValidationRule, ValueType,
    },
    date::{format_date, parse_date},
    form::DeadlineRule,
    parse_values,
    signature::decode_signature,
};
use chrono::{DateTime, NaiveDate, Utc};

use super::Unspecified;
use crate::submission::v1 as pb;

impl pb::DataValue {
    /// One reported value on the wire, as text.
    pub fn new(data_element: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            data_element: data_element.into(),
            value: value.into(),
        }
    }
}

/// Values as sent, checked against the catalogue; `allowed` refuses elements
/// that may not be entered (not on the form, retired). Every bad field is
/// named (`values[2].value`).
pub fn decode_values(
    values: &[pb::DataValue],
    catalogue: &Catalogue,
    allowed: impl Fn(&chiso_domain::DataElementCode) -> Result<(), String>,
) -> Result<ReportValues, FieldErrors> {
    let pairs: Vec<(&str, &str)> = values
        .iter()
        .map(|v| (v.data_element.as_str(), v.value.as_str()))
        .collect();
    parse_values(&pairs, catalogue, allowed)
}

/// Values on the wire, in code order.
pub fn encode_values(values: &ReportValues) -> Vec<pb::DataValue> {
    values
        .iter()
        .map(|(code, value)| pb::DataValue::new(code.as_str(), value.to_string()))
        .collect()
}

/// A report version from the change feed, its values checked against the
/// follower's copy of the catalogue. The submission service stored it after
/// the same checks, so an error here means a corrupt or foreign feed (or a
/// catalogue event not yet applied).
pub fn decode_report(
    report: &pb::Report,
    catalogue: &Catalogue,
) -> Result<ReportVersion, FieldErrors> {
    let mut errors = FieldErrors::new();
    let form = errors.check("form", FormCode::parse(&report.form));
    let period = errors.check("period", PeriodCode::parse(&report.period));
    let agency = errors.check("agency_code", AgencyCode::parse(&report.agency_code));
    let province = errors.check("province_code", AdminUnitCode::parse(&report.province_code));
    let status = errors.check(
        "status",
        ReportStatus::try_from(pb::ReportStatus::try_from(report.status).unwrap_or_default()),
    );
    // Retired elements stay valid in old reports.
    let values = decode_values(&report.values, catalogue, |_| Ok(()))
        .map_err(|e| errors.0.extend(e.0))
        .ok();
    if report.days_late < 0 {
        errors.push("days_late", "must be zero or more");
    }
    match (form, period, agency, province, status, values) {
        (Some(form), Some(period), Some(agency), Some(province), Some(status), Some(values))
            if errors.is_empty() =>
        {
            Ok(ReportVersion {
                id: report.id.clone(),
                form,
                period,
                agency,
                province,
                version: report.version,
                status,
                values,
                days_late: report.days_late.unsigned_abs(),
            })
        }
        _ => Err(errors),
    }
}

impl From<ReportStatus> for pb::ReportStatus {
    fn from(status: ReportStatus) -> Self {
        match status {
            ReportStatus::Draft => Self::Draft,
            ReportStatus::Submitted => Self::Submitted,
            ReportStatus::Accepted => Self::Accepted,
            ReportStatus::Returned => Self::Returned,
        }
    }
}

impl TryFrom<pb::ReportStatus> for ReportStatus {
    type Error = Unspecified;
    fn try_from(status: pb::ReportStatus) -> Result<Self, Self::Error> {
        match status {
            pb::ReportStatus::Draft => Ok(Self::Draft),
            pb::ReportStatus::Submitted => Ok(Self::Submitted),
            pb::ReportStatus::Accepted => Ok(Self::Accepted),
            pb::ReportStatus::Returned => Ok(Self::Returned),
            pb::ReportStatus::Unspecified => Err(Unspecified {
                expected: "draft, submitted, accepted or returned",
            }),
        }
    }
}

impl From<Category> for pb::Category {
    fn from(c: Category) -> Self {
        match c {
            Category::TechnicalInfrastructure => Self::TechnicalInfrastructure,
            Category::InternalUse => Self::InternalUse,
            Category::OnlineServices => Self::OnlineServices,
            Category::HumanResources => Self::HumanResources,
            Category::InformationSecurity => Self::InformationSecurity,
        }
    }
}

impl TryFrom<pb::Category> for Category {
    type Error = Unspecified;
    fn try_from(c: pb::Category) -> Result<Self, Self::Error> {
        match c {
            pb::Category::TechnicalInfrastructure => Ok(Self::TechnicalInfrastructure),
            pb::Category::InternalUse => Ok(Self::InternalUse),
            pb::Category::OnlineServices => Ok(Self::OnlineServices),
            pb::Category::HumanResources => Ok(Self::HumanResources),
            pb::Category::InformationSecurity => Ok(Self::InformationSecurity),
            pb::Category::Unspecified => Err(Unspecified {
                expected: "technical_infrastructure, internal_use, online_services, human_resources or information_security",
            }),
        }
    }
}

impl From<PeriodType> for pb::PeriodType {
    fn from(t: PeriodType) -> Self {
        match t {
            PeriodType::Yearly => Self::Yearly,
            PeriodType::SixMonthly => Self::SixMonthly,
            PeriodType::Quarterly => Self::Quarterly,
            PeriodType::Monthly => Self::Monthly,
        }
    }
}

/// A bound as text: the count, or the decimal with its decimals.
fn bound(scaled: i64, value_type: ValueType) -> String {
    match value_type {
        ValueType::YesNo => String::new(),
        ValueType::Decimal { decimals } => Decimal::new(scaled, decimals)
            .map(|d| d.to_string())
            .unwrap_or_default(),
        ValueType::Count => scaled.to_string(),
    }
}

/// A checked data element on the wire.
pub fn encode_data_element(e: &DataElement, retired: bool) -> pb::DataElement {
    let (value_type, decimals) = match e.value_type {
        ValueType::Count => (pb::ValueType::Count, 0),
        ValueType::Decimal { decimals } => (pb::ValueType::Decimal, u32::from(decimals)),
        ValueType::YesNo => (pb::ValueType::YesNo, 0),
    };
    pb::DataElement {
        code: e.code.to_string(),
        name: e.name.to_string(),
        name_en: e
            .name_en
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        description: e.description.clone(),
        category: pb::Category::from(e.category).into(),
        value_type: value_type.into(),
        decimals,
        min: bound(e.min, e.value_type),
        max: bound(e.max, e.value_type),
        unit: e.unit.clone(),
        period_rule: e.period_rule.as_str().to_owned(),
        retired,
    }
}

fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// A data element definition as sent; [`Catalogue::build`] checks it.
pub fn decode_data_element_definition(d: &pb::DataElementDefinition) -> RawDataElement {
    RawDataElement {
        code: d.code.clone(),
        name: d.name.clone(),
        name_en: non_empty(&d.name_en),
        description: d.description.clone(),
        category: d.category.clone(),
        value_type: d.value_type.clone(),
        decimals: d.decimals.map(|n| u8::try_from(n).unwrap_or(u8::MAX)),
        min: non_empty(&d.min).map(RawNumber::Text),
        max: non_empty(&d.max).map(RawNumber::Text),
        unit: d.unit.clone(),
        period_rule: Some(d.period_rule.clone()).filter(|r| !r.is_empty()),
    }
}

/// A checked indicator on the wire.
pub fn encode_indicator(i: &Indicator, retired: bool) -> pb::Indicator {
    pb::Indicator {
        code: i.code.to_string(),
        name: i.name.to_string(),
        name_en: i
            .name_en
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        description: i.description.clone(),
        numerator: i.numerator.to_string(),
        denominator: i
            .denominator
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        factor: i.factor,
        decimals: u32::from(i.decimals),
        unit: i.unit.clone(),
        category: pb::Category::from(i.category).into(),
        higher_is_better: i.higher_is_better,
        retired,
    }
}

/// An indicator definition as sent.
pub fn decode_indicator_definition(d: &pb::IndicatorDefinition) -> RawIndicator {
    RawIndicator {
        code: d.code.clone(),
        name: d.name.clone(),
        name_en: non_empty(&d.name_en),
        description: d.description.clone(),
        numerator: d.numerator.clone(),
        denominator: non_empty(&d.denominator),
        factor: d.factor,
        decimals: u8::try_from(d.decimals).unwrap_or(u8::MAX),
        unit: d.unit.clone(),
        category: d.category.clone(),
        higher_is_better: d.higher_is_better,
    }
}

/// The rule as text: its sides joined by their comparators.
pub fn rule_text(r: &ValidationRule) -> String {
    let mut text = String::new();
    for (i, side) in r.sides.iter().enumerate() {
        if i > 0 {
            text.push_str(&format!(" {} ", r.comparators[i - 1]));
        }
        text.push_str(&side.to_string());
    }
    text
}

/// A checked rule on the wire.
pub fn encode_rule(r: &ValidationRule, retired: bool) -> pb::ValidationRule {
    pb::ValidationRule {
        code: r.code.to_string(),
        rule: rule_text(r),
        message: r.message.clone(),
        message_en: r.message_en.clone(),
        retired,
    }
}

/// A rule definition as sent.
pub fn decode_rule_definition(d: &pb::ValidationRuleDefinition) -> RawValidationRule {
    RawValidationRule {
        code: d.code.clone(),
        rule: d.rule.clone(),
        message: d.message.clone(),
        message_en: d.message_en.clone(),
    }
}

/// A deadline rule as text: `days_after_end:N` or `decree09:DAY`.
pub fn deadline_text(rule: DeadlineRule) -> String {
    match rule {
        DeadlineRule::DaysAfterEnd { days } => format!("days_after_end:{days}"),
        DeadlineRule::Decree09 { due_day } => format!("decree09:{due_day}"),
    }
}

/// A checked form on the wire.
pub fn encode_form(f: &Form) -> pb::Form {
    pb::Form {
        code: f.code.to_string(),
        name: f.name.to_string(),
        name_en: f
            .name_en
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        period_type: pb::PeriodType::from(f.period_type).into(),
        opens: f.opens.to_string(),
        sections: f
            .sections
            .iter()
            .map(|s| pb::FormSection {
                name: s.name.to_string(),
                name_en: s
                    .name_en
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                elements: s
                    .elements
                    .iter()
                    .map(|e| pb::FormElement {
                        data_element: e.code.to_string(),
                        compulsory: e.compulsory,
                    })
                    .collect(),
            })
            .collect(),
        reporters: Some(pb::Reporters {
            kinds: f
                .reporters
                .kinds
                .iter()
                .map(|k| k.kind().as_str().to_owned())
                .collect(),
            levels: f
                .reporters
                .levels
                .iter()
                .map(|l| l.as_str().to_owned())
                .collect(),
            agencies: f
                .reporters
                .agencies
                .iter()
                .map(ToString::to_string)
                .collect(),
        }),
        deadline_rule: deadline_text(f.deadline),
        lock_after_days: f.lock_after_days.unwrap_or(0),
        signature_required: f.signature_required,
        acceptance_required: f.acceptance_required,
        aggregation_basis: match f.aggregation_basis {
            chiso_domain::form::AggregationBasis::SubmittedOrAccepted => "submitted_or_accepted",
            chiso_domain::form::AggregationBasis::AcceptedOnly => "accepted_only",
        }
        .into(),
    }
}

/// An instant on the wire.
pub fn timestamp(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// The form, period and agency a request names; the agency is `None` when
/// left empty (an agency's own token then speaks for itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportKeyRequest {
    pub form: FormCode,
    pub period: PeriodCode,
    pub agency: Option<AgencyCode>,
}

/// Parses form, period and agency, naming each bad field.
pub fn decode_report_key(
    form: &str,
    period: &str,
    agency_code: &str,
) -> Result<ReportKeyRequest, FieldErrors> {
    let mut errors = FieldErrors::new();
    let form = errors.check("form", FormCode::parse(form));
    let period = errors.check("period", PeriodCode::parse(period));
    let agency = match agency_code.trim() {
        "" => Some(None),
        raw => errors
            .check("agency_code", AgencyCode::parse(raw))
            .map(Some),
    };
    match (form, period, agency) {
        (Some(form), Some(period), Some(agency)) if errors.is_empty() => Ok(ReportKeyRequest {
            form,
            period,
            agency,
        }),
        _ => Err(errors),
    }
}

/// The date a paper report was received, if given (`received_on`).
pub fn decode_received_on(raw: &str) -> Result<Option<NaiveDate>, FieldErrors> {
    match raw.trim() {
        "" => Ok(None),
        raw => parse_date(raw)
            .map(Some)
            .map_err(|e| FieldErrors::single("received_on", e.to_string())),
    }
}

/// A signature as sent: the key id and the 64 signature bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureRequest {
    pub key_id: String,
    pub signature: [u8; 64],
}

/// The request's signature: `None` when none was sent and none is
/// `required`; each missing or malformed part named (`signature.key_id`,
/// `signature.signature`).
pub fn decode_signature_request(
    signature: Option<&pb::Signature>,
    required: bool,
) -> Result<Option<SignatureRequest>, FieldErrors> {
    let (key_id, raw) = signature
        .map(|s| (s.key_id.trim(), s.signature.trim()))
        .unwrap_or_default();
    if key_id.is_empty() && raw.is_empty() && !required {
        return Ok(None);
    }
    let mut errors = FieldErrors::new();
    if key_id.is_empty() {
        errors.push(
            "signature.key_id",
            "is required: the form needs a signature by a registered key",
        );
    }
    let bytes = if raw.is_empty() {
        errors.push(
            "signature.signature",
            "is required: standard base64 of the 64 Ed25519 signature bytes",
        );
        None
    } else {
        errors.check("signature.signature", decode_signature(raw))
    };
    match bytes {
        Some(signature) if errors.is_empty() => Ok(Some(SignatureRequest {
            key_id: key_id.to_owned(),
            signature,
        })),
        _ => Err(errors),
    }
}

/// The instant an unlock ends (`until`, RFC 3339).
pub fn decode_until(raw: &str) -> Result<DateTime<Utc>, FieldErrors> {
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            FieldErrors::single(
                "until",
                format!(
                    "`{}` is not an RFC 3339 instant, e.g. 2026-03-01T00:00:00+07:00",
                    raw.trim()
                ),
            )
        })
}

/// The feed kind of a lifecycle action; drafts and first saves publish nothing.
pub fn report_change_kind(action: LifecycleAction) -> Option<pb::ReportChangeKind> {
    match action {
        LifecycleAction::SaveDraft => None,
        LifecycleAction::Submit => Some(pb::ReportChangeKind::Submitted),
        LifecycleAction::Accept => Some(pb::ReportChangeKind::Accepted),
        LifecycleAction::Return => Some(pb::ReportChangeKind::Returned),
        LifecycleAction::Revise => Some(pb::ReportChangeKind::Revised),
        LifecycleAction::Unlock => Some(pb::ReportChangeKind::Unlocked),
    }
}

/// One version of a report as the service shows it.
#[derive(Debug, Clone)]
pub struct ReportView<'a> {
    pub id: &'a str,
    pub form: &'a Form,
    pub period: &'a PeriodCode,
    pub agency: &'a AgencyCode,
    pub province: &'a AdminUnitCode,
    pub version: i32,
    pub status: ReportStatus,
    /// `None` for list entries, which leave values out.
    pub values: Option<&'a ReportValues>,
    pub etag: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub submitted_by: Option<&'a str>,
    pub received_on: Option<NaiveDate>,
    pub days_late: u32,
    pub editable: bool,
    /// Reviewer, instant and comment.
    pub review: Option<(&'a str, DateTime<Utc>, &'a str)>,
    /// Key id, base64 signature and the instant it was received.
    pub signature: Option<(&'a str, &'a str, DateTime<Utc>)>,
}

/// A report version on the wire.
pub fn encode_report(v: &ReportView<'_>) -> pb::Report {
    pb::Report {
        id: v.id.to_owned(),
        form: v.form.code.to_string(),
        period: v.period.to_string(),
        agency_code: v.agency.to_string(),
        province_code: v.province.to_string(),
        version: v.version,
        status: pb::ReportStatus::from(v.status).into(),
        values: v.values.map(encode_values).unwrap_or_default(),
        etag: v.etag.clone(),
        created_at: Some(timestamp(v.created_at)),
        updated_at: Some(timestamp(v.updated_at)),
        submitted_at: v.submitted_at.map(timestamp),
        submitted_by: v.submitted_by.unwrap_or_default().to_owned(),
        received_on: v.received_on.map(format_date).unwrap_or_default(),
        deadline: format_date(v.form.deadline(v.period)),
        days_late: i32::try_from(v.days_late).unwrap_or(i32::MAX),
        lock_date: v
            .form
            .lock_date(v.period)
            .map(format_date)
            .unwrap_or_default(),
        editable: v.editable,
        review: v.review.map(|(by, at, comment)| pb::Review {
            reviewed_by: by.to_owned(),
            reviewed_at: Some(timestamp(at)),
            comment: comment.to_owned(),
        }),
        signature: v.signature.map(|(key_id, signature, at)| pb::Signature {
            key_id: key_id.to_owned(),
            signature: signature.to_owned(),
            signed_at: Some(timestamp(at)),
        }),
    }
}

/// One period of a form, with its deadline, lock and data window, judged on `today`.
pub fn encode_period(form: &Form, period: &PeriodCode, today: NaiveDate) -> pb::Period {
    let (data_from, data_to) = form.data_window(period);
    pb::Period {
        code: period.to_string(),
        period_type: pb::PeriodType::from(period.period_type()).into(),
        start_date: format_date(period.start()),
        end_date: format_date(period.end()),
        deadline: format_date(form.deadline(period)),
        lock_date: form.lock_date(period).map(format_date).unwrap_or_default(),
        open: form.is_open_for(period, today),
        data_from: format_date(data_from),
        data_to: format_date(data_to),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> Catalogue {
        chiso_domain::seed::catalogue().unwrap()
    }

    #[test]
    fn a_feed_report_decodes_and_bad_fields_are_named() {
        let cat = catalogue();
        let mut report = pb::Report {
            id: "r1".into(),
            form: "it_application_yearly".into(),
            agency_code: "000.00.15.H51".into(),
            province_code: "51".into(),
            period: "2018".into(),
            version: 2,
            status: pb::ReportStatus::Submitted.into(),
            values: vec![
                pb::DataValue::new("officials", "10"),
                pb::DataValue::new("has_lan", "yes"),
            ],
            ..Default::default()
        };
        let decoded = decode_report(&report, &cat).unwrap();
        assert_eq!(decoded.agency.as_str(), "000.00.15.H51");
        assert_eq!(decoded.status, ReportStatus::Submitted);
        assert_eq!(decoded.values.len(), 2);
        report.province_code = "x".into();
        report.period = "2018Q9".into();
        report.values[1].value = "maybe".into();
        report.status = 0;
        let fields: Vec<String> = decode_report(&report, &cat)
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            ["period", "province_code", "status", "values[1].value"]
        );
    }

    #[test]
    fn request_keys_signatures_and_dates_name_their_fields() {
        let key = decode_report_key("it_fast_quarterly", "2026Q4", "").unwrap();
        assert_eq!(key.agency, None);
        let fields = |e: FieldErrors| e.0.into_iter().map(|f| f.field).collect::<Vec<_>>();
        assert_eq!(
            fields(decode_report_key("", "2026Q5", "x").unwrap_err()),
            ["form", "period", "agency_code"]
        );
        assert_eq!(decode_signature_request(None, false).unwrap(), None);
        assert_eq!(
            fields(decode_signature_request(None, true).unwrap_err()),
            ["signature.key_id", "signature.signature"]
        );
        let bad = pb::Signature {
            key_id: "k1".into(),
            signature: "AAAA".into(),
            signed_at: None,
        };
        assert_eq!(
            fields(decode_signature_request(Some(&bad), false).unwrap_err()),
            ["signature.signature"]
        );
        assert_eq!(
            fields(decode_received_on("22/11/2026").unwrap_err()),
            ["received_on"]
        );
        assert_eq!(fields(decode_until("tomorrow").unwrap_err()), ["until"]);
        assert_eq!(
            decode_until("2026-12-01T00:00:00+07:00")
                .unwrap()
                .to_rfc3339(),
            "2026-11-30T17:00:00+00:00"
        );
    }

    #[test]
    fn the_seed_catalogue_round_trips_through_its_wire_definitions() {
        let cat = catalogue();
        for e in cat.elements() {
            let wire = encode_data_element(e, false);
            let def = pb::DataElementDefinition {
                code: wire.code.clone(),
                name: wire.name.clone(),
                name_en: wire.name_en.clone(),
                description: wire.description.clone(),
                category: e.category.as_str().into(),
                value_type: match e.value_type {
                    ValueType::Count => "count",
                    ValueType::Decimal { .. } => "decimal",
                    ValueType::YesNo => "yes_no",
                }
                .into(),
                decimals: (wire.decimals > 0).then_some(wire.decimals),
                min: wire.min.clone(),
                max: wire.max.clone(),
                unit: wire.unit.clone(),
                period_rule: wire.period_rule.clone(),
            };
            let raw = decode_data_element_definition(&def);
            let rebuilt = Catalogue::build(&chiso_domain::RawCatalogue {
                elements: vec![raw],
                ..Default::default()
            })
            .unwrap();
            assert_eq!(&rebuilt.elements()[0], e);
        }
        for r in cat.rules() {
            let text = rule_text(r);
            assert!(text.contains(' '), "{text}");
        }
        let forms = chiso_domain::seed::forms(&cat).unwrap();
        let wire = encode_form(&forms[0]);
        assert_eq!(wire.deadline_rule, "decree09:20");
        assert!(wire.signature_required);
        // A feed follower rebuilds every form from the wire exactly.
        for form in &forms {
            let raw = crate::convert::catalogue::raw_form(&encode_form(form)).unwrap();
            assert_eq!(&chiso_domain::Form::build(&raw, &cat).unwrap(), form);
        }
    }
}
