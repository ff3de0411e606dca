//! `chiso.aggregation.v1` messages and their domain types.

use chiso_domain::{
    AdminUnitCode, AgencyCode, AgencyHistory, FieldErrors, TreeVersion, date::parse_date,
};

use crate::registry::v1 as registry;

/// An agency-feed entry as the aggregator keeps it: the agency and every
/// version of its place in the tree. The registry stored them after the
/// same checks, so an error here means a corrupt or foreign feed.
pub fn decode_agency_history(
    agency: &registry::Agency,
    versions: &[registry::AgencyVersion],
    successors: &[String],
) -> Result<AgencyHistory, FieldErrors> {
    let mut errors = FieldErrors::new();
    let successors: Vec<AgencyCode> = successors
        .iter()
        .enumerate()
        .filter_map(|(i, s)| errors.check(format!("successor_codes[{i}]"), AgencyCode::parse(s)))
        .collect();
    let code = errors.check("agency.code", AgencyCode::parse(&agency.code));
    let kind = errors.check("agency.kind", super::registry::agency_kind(agency.kind));
    let level = errors.check("agency.level", super::registry::admin_level(agency.level));
    let admin_unit = match agency.admin_unit_code.as_str() {
        "" => Some(None),
        raw => errors
            .check("agency.admin_unit_code", AdminUnitCode::parse(raw))
            .map(Some),
    };
    let mut decoded = Vec::with_capacity(versions.len());
    for (i, v) in versions.iter().enumerate() {
        let valid_from = errors.check(
            format!("versions[{i}].valid_from"),
            parse_date(&v.valid_from),
        );
        let valid_to = match v.valid_to.as_str() {
            "" => Some(None),
            raw => errors
                .check(format!("versions[{i}].valid_to"), parse_date(raw))
                .map(Some),
        };
        let parent = match v.parent_code.as_str() {
            "" => Some(None),
            raw => errors
                .check(format!("versions[{i}].parent_code"), AgencyCode::parse(raw))
                .map(Some),
        };
        let province = errors.check(
            format!("versions[{i}].province_code"),
            AdminUnitCode::parse(&v.province_code),
        );
        if let (Some(valid_from), Some(valid_to), Some(parent), Some(province)) =
            (valid_from, valid_to, parent, province)
        {
            decoded.push(TreeVersion {
                valid_from,
                valid_to,
                parent,
                province,
            });
        }
    }
    match (code, kind, level, admin_unit) {
        (Some(code), Some(kind), Some(level), Some(admin_unit)) if errors.is_empty() => {
            Ok(AgencyHistory {
                code,
                kind,
                level,
                admin_unit,
                name: agency.name.clone(),
                successors,
                versions: decoded,
            })
        }
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use chiso_domain::date::format_date;

    use super::*;

    #[test]
    fn an_agency_feed_entry_decodes_and_bad_dates_are_named() {
        let mut agency = registry::Agency {
            code: "000.00.31.H51".into(),
            admin_unit_code: "522".into(),
            kind: registry::AgencyKind::DistrictCommittee.into(),
            level: registry::AdminLevel::District.into(),
            ..Default::default()
        };
        let mut versions = vec![registry::AgencyVersion {
            parent_code: "000.00.00.H51".into(),
            province_code: "51".into(),
            valid_from: "2020-01-01".into(),
            valid_to: "2025-07-01".into(),
            ..Default::default()
        }];
        let successors = ["000.00.32.H51".to_owned()];
        let history = decode_agency_history(&agency, &versions, &successors).unwrap();
        assert_eq!(history.successors[0].as_str(), "000.00.32.H51");
        assert_eq!(history.admin_unit.unwrap().as_str(), "522");
        assert_eq!(history.kind, chiso_domain::AgencyKind::DistrictCommittee);
        assert_eq!(history.level, chiso_domain::AdminLevel::District);
        let version = &history.versions[0];
        assert_eq!(version.parent.as_ref().unwrap().as_str(), "000.00.00.H51");
        assert_eq!(version.valid_to.map(format_date).unwrap(), "2025-07-01");
        versions[0].valid_to = "soon".into();
        agency.kind = 0;
        let errors = decode_agency_history(&agency, &versions, &[]).unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["agency.kind", "versions[0].valid_to"]);
    }
}
