//! Reports (báo cáo): what an agency reports on a form for a period, where
//! the report stands in its lifecycle, and what an agency signs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{
    AdminUnitCode, AgencyCode, DataElementCode, FieldErrors, FormCode, PeriodCode,
    catalogue::{Catalogue, Value},
};

/// A report's values: one checked value per data element.
pub type ReportValues = BTreeMap<DataElementCode, Value>;

/// The key of a report: one per form, period and agency.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReportKey {
    pub form: FormCode,
    pub period: PeriodCode,
    pub agency: AgencyCode,
}

impl std::fmt::Display for ReportKey {
    /// `form/period/agency`, as the REST paths name a report.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.form, self.period, self.agency)
    }
}

/// Parses entered values, `(data element, value text)` pairs in request
/// order, against the catalogue: unknown or retired elements, values of the
/// wrong type, out of bounds or with too many decimals, and repeated
/// elements are all named at once (`values[3].value`).
///
/// `allowed` says whether an element may be entered at all (on the form and
/// not retired); it returns the reason when not.
pub fn parse_values<S: AsRef<str>, V: AsRef<str>>(
    values: &[(S, V)],
    catalogue: &Catalogue,
    allowed: impl Fn(&DataElementCode) -> Result<(), String>,
) -> Result<ReportValues, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut parsed = ReportValues::new();
    for (i, (data_element, value)) in values.iter().enumerate() {
        let field = format!("values[{i}].data_element");
        let code = match DataElementCode::parse(data_element.as_ref()) {
            Ok(code) => match catalogue.element(&code) {
                None => {
                    errors.push(&field, format!("unknown data element `{code}`"));
                    None
                }
                Some(_) => match allowed(&code) {
                    Ok(()) => Some(code),
                    Err(reason) => {
                        errors.push(&field, reason);
                        None
                    }
                },
            },
            Err(e) => {
                errors.push(&field, e.to_string());
                None
            }
        };
        let Some(code) = code else { continue };
        let value = errors.check(
            format!("values[{i}].value"),
            catalogue.check_value(&code, value.as_ref()),
        );
        if let Some(value) = value
            && parsed.insert(code.clone(), value).is_some()
        {
            errors.push(&field, format!("`{code}` is given more than once"));
        }
    }
    errors.into_result(|| parsed)
}

/// A stored version of an agency's report, as the change feed carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportVersion {
    pub id: String,
    pub form: FormCode,
    pub period: PeriodCode,
    pub agency: AgencyCode,
    pub province: AdminUnitCode,
    pub version: i32,
    pub status: ReportStatus,
    pub values: ReportValues,
    /// Days after the deadline it was received; 0 when on time.
    pub days_late: u32,
}

/// Where a report stands in its lifecycle (trạng thái báo cáo).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    /// Being written by the agency; partial values allowed.
    Draft,
    /// Sent by the agency: complete, every rule holds.
    Submitted,
    /// Accepted by a province officer.
    Accepted,
    /// Returned by a province officer with a comment; awaits a revision.
    Returned,
}

impl ReportStatus {
    /// Every status.
    pub const ALL: [ReportStatus; 4] =
        [Self::Draft, Self::Submitted, Self::Accepted, Self::Returned];

    /// The status's name in columns, feeds and REST bodies.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Submitted => "submitted",
            Self::Accepted => "accepted",
            Self::Returned => "returned",
        }
    }
}

impl std::fmt::Display for ReportStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a report status did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a report status: draft, submitted, accepted or returned")]
pub struct UnknownReportStatus(String);

impl std::str::FromStr for ReportStatus {
    type Err = UnknownReportStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownReportStatus(s.to_owned()))
    }
}

/// What someone does to a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LifecycleAction {
    SaveDraft,
    Submit,
    Accept,
    Return,
    Revise,
    Unlock,
}

impl LifecycleAction {
    pub const ALL: [LifecycleAction; 6] = [
        Self::SaveDraft,
        Self::Submit,
        Self::Accept,
        Self::Return,
        Self::Revise,
        Self::Unlock,
    ];

    /// The action's name in audit entries.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SaveDraft => "save_draft",
            Self::Submit => "submit",
            Self::Accept => "accept",
            Self::Return => "return",
            Self::Revise => "revise",
            Self::Unlock => "unlock",
        }
    }
}

impl std::str::FromStr for LifecycleAction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| format!("`{s}` is not a report action"))
    }
}

/// Where an action leads, from the report's current status (`None` when the
/// report does not exist yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The same version moves to this status.
    Same(ReportStatus),
    /// A new version starts in this status.
    NewVersion(ReportStatus),
}

impl Transition {
    pub fn status(self) -> ReportStatus {
        match self {
            Self::Same(s) | Self::NewVersion(s) => s,
        }
    }
}

/// The lifecycle, in one place:
///
/// ```text
///   (none) --save/submit--> draft --submit--> submitted --accept--> accepted
///                                               |  ^                   |
///                                        return |  | submit       return|
///                                               v  |                   v
///        submitted/accepted/returned --revise--> draft (new version)  returned
/// ```
///
/// Saving or submitting over a submitted, accepted or returned report is
/// refused: its figures were sent, so a change is a revision, which keeps
/// the sent version readable. The error says what to do instead.
pub fn transition(
    from: Option<ReportStatus>,
    action: LifecycleAction,
) -> Result<Transition, String> {
    use LifecycleAction as A;
    use ReportStatus as S;
    match (from, action) {
        (None, A::SaveDraft) => Ok(Transition::NewVersion(S::Draft)),
        (None, A::Submit) => Ok(Transition::NewVersion(S::Submitted)),
        (Some(S::Draft), A::SaveDraft) => Ok(Transition::Same(S::Draft)),
        (Some(S::Draft), A::Submit) => Ok(Transition::Same(S::Submitted)),
        (Some(S::Submitted), A::Accept) => Ok(Transition::Same(S::Accepted)),
        (Some(S::Submitted | S::Accepted), A::Return) => Ok(Transition::Same(S::Returned)),
        (Some(S::Submitted | S::Accepted | S::Returned), A::Revise) => {
            Ok(Transition::NewVersion(S::Draft))
        }
        (None, _) => Err(format!("there is no report to {}", verb(action))),
        (Some(S::Submitted | S::Accepted | S::Returned), A::SaveDraft | A::Submit) => Err(format!(
            "the report is {}: revise it to change its values",
            from.expect("some")
        )),
        (Some(s), _) => Err(format!("a {s} report cannot be {}", past(action))),
    }
}

fn verb(action: LifecycleAction) -> &'static str {
    match action {
        LifecycleAction::SaveDraft => "save",
        LifecycleAction::Submit => "submit",
        LifecycleAction::Accept => "accept",
        LifecycleAction::Return => "return",
        LifecycleAction::Revise => "revise",
        LifecycleAction::Unlock => "unlock",
    }
}

fn past(action: LifecycleAction) -> &'static str {
    match action {
        LifecycleAction::SaveDraft => "saved",
        LifecycleAction::Submit => "submitted",
        LifecycleAction::Accept => "accepted",
        LifecycleAction::Return => "returned",
        LifecycleAction::Revise => "revised",
        LifecycleAction::Unlock => "unlocked",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::RawCatalogue;

    fn catalogue() -> Catalogue {
        let raw: RawCatalogue = toml::from_str(
            r#"
            [[elements]]
            code = "officials"
            name = "Số cán bộ"
            description = "đếm"
            category = "human_resources"
            value_type = "count"
            max = 1000
            [[elements]]
            code = "has_lan"
            name = "Có LAN"
            description = "có/không"
            category = "technical_infrastructure"
            value_type = "yes_no"
            [[elements]]
            code = "budget"
            name = "Kinh phí"
            description = "tỷ đồng"
            category = "internal_use"
            value_type = "decimal"
            decimals = 2
            "#,
        )
        .unwrap();
        Catalogue::build(&raw).unwrap()
    }

    fn fields(errors: &FieldErrors) -> Vec<&str> {
        errors.0.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn good_values_parse_to_their_types() {
        let cat = catalogue();
        let got = parse_values(
            &[("officials", "10"), ("has_lan", "có"), ("budget", "1.5")],
            &cat,
            |_| Ok(()),
        )
        .unwrap();
        let shown: Vec<(String, String)> = got
            .iter()
            .map(|(c, v)| (c.to_string(), v.to_string()))
            .collect();
        assert_eq!(
            shown,
            [
                ("budget".into(), "1.50".into()),
                ("has_lan".into(), "yes".into()),
                ("officials".into(), "10".into())
            ]
        );
    }

    #[test]
    fn every_mistake_is_named_in_request_order() {
        let cat = catalogue();
        let errors = parse_values(
            &[
                ("Officials", "1"),
                ("servers", "2"),
                ("officials", "1001"),
                ("has_lan", "maybe"),
                ("budget", "1.234"),
                ("officials", "5"),
                ("officials", "6"),
                ("budget", "-1"),
            ],
            &cat,
            |c| {
                if c.as_str() == "budget" {
                    Err("`budget` is retired".into())
                } else {
                    Ok(())
                }
            },
        )
        .unwrap_err();
        assert_eq!(
            fields(&errors),
            [
                "values[0].data_element",
                "values[1].data_element",
                "values[2].value",
                "values[3].value",
                "values[4].data_element",
                "values[6].data_element",
                "values[7].data_element",
            ]
        );
        assert!(
            errors.0[1]
                .message
                .contains("unknown data element `servers`")
        );
        assert!(errors.0[2].message.contains("above the maximum 1000"));
        assert!(errors.0[5].message.contains("more than once"));
    }

    #[test]
    fn the_lifecycle_allows_exactly_its_paths() {
        use LifecycleAction as A;
        use ReportStatus as S;
        let ok = |from, action| transition(from, action).unwrap();
        assert_eq!(ok(None, A::SaveDraft), Transition::NewVersion(S::Draft));
        assert_eq!(ok(None, A::Submit), Transition::NewVersion(S::Submitted));
        assert_eq!(
            ok(Some(S::Draft), A::Submit),
            Transition::Same(S::Submitted)
        );
        assert_eq!(
            ok(Some(S::Submitted), A::Accept),
            Transition::Same(S::Accepted)
        );
        assert_eq!(
            ok(Some(S::Accepted), A::Return),
            Transition::Same(S::Returned)
        );
        assert_eq!(
            ok(Some(S::Returned), A::Revise),
            Transition::NewVersion(S::Draft)
        );
        let err = transition(Some(S::Accepted), A::SaveDraft).unwrap_err();
        assert_eq!(
            err,
            "the report is accepted: revise it to change its values"
        );
        assert_eq!(
            transition(Some(S::Draft), A::Accept).unwrap_err(),
            "a draft report cannot be accepted"
        );
        assert_eq!(
            transition(Some(S::Returned), A::Accept).unwrap_err(),
            "a returned report cannot be accepted"
        );
        assert_eq!(
            transition(None, A::Return).unwrap_err(),
            "there is no report to return"
        );
        // Every (status, action) pair answers, none panics.
        for from in std::iter::once(None).chain(S::ALL.map(Some)) {
            for action in LifecycleAction::ALL {
                let _ = transition(from, action);
            }
        }
    }

    #[test]
    fn statuses_and_actions_round_trip_and_unknown_ones_are_refused() {
        for status in ReportStatus::ALL {
            assert_eq!(status.as_str().parse::<ReportStatus>().unwrap(), status);
        }
        for action in LifecycleAction::ALL {
            assert_eq!(action.as_str().parse::<LifecycleAction>().unwrap(), action);
        }
        assert!("draft ".parse::<ReportStatus>().is_err());
    }
}
