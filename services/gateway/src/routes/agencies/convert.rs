//! `/api/v1/agencies` JSON <-> `chiso.registry.v1` messages.

use axum::{Json, http::StatusCode};
use chiso_proto::registry::v1 as pb;

use super::types::{
    Agency, AgencyChange, AgencyChanges, AgencyQuery, AgencyVersion, CreateAgency, ImportError,
    ImportSummary, Lineage, LineageLink, Operation, Reorganisation, Reorganise, SubtreeNode,
    SuccessorBody,
};
use crate::{
    error::{ApiError, ApiResult, RestNames},
    routes::common::{
        UNSPECIFIED, convert_all, kind_name, level_name, non_empty, parse_kind, parse_level,
    },
};

/// `ListAgenciesRequest` fields the list query names differently.
pub const LIST_NAMES: RestNames = &[
    ("parent_code", "parent"),
    ("province_code", "province"),
    ("subtree_code", "subtree"),
    ("query", "q"),
];

/// The gRPC request for a list query; every bad enum name is reported at once.
pub fn list_request(query: AgencyQuery) -> ApiResult<pb::ListAgenciesRequest> {
    let mut invalid = Vec::new();
    let level = match query.level.as_deref() {
        None | Some("") => pb::AdminLevel::Unspecified,
        Some(level) => parse_level(level).unwrap_or_else(|message| {
            invalid.push(("level".to_owned(), message));
            pb::AdminLevel::Unspecified
        }),
    };
    let kind = match query.kind.as_deref() {
        None | Some("") => pb::AgencyKind::Unspecified,
        Some(kind) => parse_kind(kind).unwrap_or_else(|message| {
            invalid.push(("kind".to_owned(), message));
            pb::AgencyKind::Unspecified
        }),
    };
    if !invalid.is_empty() {
        return Err(ApiError::fields(invalid));
    }
    Ok(pb::ListAgenciesRequest {
        parent_code: query.parent.unwrap_or_default(),
        province_code: query.province.unwrap_or_default(),
        subtree_code: query.subtree.unwrap_or_default(),
        level: level.into(),
        kind: kind.into(),
        as_of: query.as_of.unwrap_or_default(),
        query: query.q.unwrap_or_default(),
        page_size: query.page_size.unwrap_or_default(),
        page_token: query.page_token.unwrap_or_default(),
        include_inactive: query.include_inactive.unwrap_or_default(),
    })
}

/// The gRPC request for a new agency; errors are named under `prefix`.
pub fn create_request(body: CreateAgency, prefix: &str) -> ApiResult<pb::CreateAgencyRequest> {
    let kind = parse_kind(&body.kind).map_err(|message| {
        let field = if prefix.is_empty() {
            "kind".to_owned()
        } else {
            format!("{prefix}.kind")
        };
        ApiError::field(field, message)
    })?;
    Ok(pb::CreateAgencyRequest {
        code: body.code,
        admin_unit_code: body.admin_unit_code.unwrap_or_default(),
        name: body.name,
        name_en: body.name_en.unwrap_or_default(),
        kind: kind.into(),
        parent_code: body.parent_code.unwrap_or_default(),
        valid_from: body.valid_from.unwrap_or_default(),
    })
}

/// The gRPC request for a reorganisation decision, its operations in order.
pub fn reorganise_request(body: Reorganise) -> ApiResult<pb::ReorganiseRequest> {
    let operations = body
        .operations
        .into_iter()
        .enumerate()
        .map(|(i, op)| operation(op, &format!("operations[{i}]")))
        .collect::<ApiResult<_>>()?;
    Ok(pb::ReorganiseRequest {
        effective_date: body.effective_date,
        legal_basis: body.legal_basis,
        note: body.note.unwrap_or_default(),
        operations,
    })
}

fn operation(op: Operation, prefix: &str) -> ApiResult<pb::ReorganisationOperation> {
    use pb::reorganisation_operation::Operation as Op;
    let op = match op {
        Operation::Rename {
            code,
            name,
            name_en,
        } => Op::Rename(pb::RenameOperation {
            code,
            name,
            name_en: name_en.unwrap_or_default(),
        }),
        Operation::Move { code, parent_code } => Op::Move(pb::MoveOperation { code, parent_code }),
        Operation::Merge { source_codes, into } => Op::Merge(pb::MergeOperation {
            source_codes,
            into: Some(successor(into, &format!("{prefix}.into"))?),
        }),
        Operation::Split { code, into } => Op::Split(pb::SplitOperation {
            code,
            into: into
                .into_iter()
                .enumerate()
                .map(|(j, s)| successor(s, &format!("{prefix}.into[{j}]")))
                .collect::<ApiResult<_>>()?,
        }),
        Operation::Dissolve { code } => Op::Dissolve(pb::DissolveOperation { code }),
    };
    Ok(pb::ReorganisationOperation {
        operation: Some(op),
    })
}

fn successor(body: SuccessorBody, prefix: &str) -> ApiResult<pb::Successor> {
    use pb::successor::Target;
    // Blank is absent, as for every optional field.
    let existing = body.existing_code.filter(|c| !c.trim().is_empty());
    let target = match (existing, body.new_agency) {
        (Some(code), None) => Target::ExistingCode(code),
        (None, Some(new)) => {
            Target::NewAgency(create_request(new, &format!("{prefix}.new_agency"))?)
        }
        _ => {
            return Err(ApiError::field(
                prefix,
                "give exactly one of existing_code and new_agency",
            ));
        }
    };
    Ok(pb::Successor {
        target: Some(target),
    })
}

/// The answer to an import: a dry run's findings (200), what a commit stored
/// (201), or, when a commit stored nothing, an error naming every bad cell.
pub fn import_answer(
    summary: pb::ImportSummary,
    dry_run: bool,
) -> ApiResult<(StatusCode, Json<ImportSummary>)> {
    if !dry_run && !summary.committed {
        // Nothing was stored: answer like any rejected request, naming every cell.
        let code = if summary.errors.iter().all(|e| e.conflict) {
            tonic::Code::AlreadyExists
        } else {
            tonic::Code::InvalidArgument
        };
        let message = format!(
            "nothing imported: {} problems in {} rows",
            summary.errors.len(),
            summary.rows
        );
        let violations = summary
            .errors
            .into_iter()
            .map(|e| (e.field, e.message))
            .collect();
        return Err(ApiError::with_fields(code, message, violations));
    }
    let status = if summary.committed {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(summary.into())))
}

/// The REST name of a lineage link's kind.
fn lineage_kind_name(kind: pb::LineageKind) -> &'static str {
    match kind {
        pb::LineageKind::Merge => "merge",
        pb::LineageKind::Split => "split",
        pb::LineageKind::Unspecified => UNSPECIFIED,
    }
}

impl From<pb::Agency> for Agency {
    fn from(a: pb::Agency) -> Self {
        Self {
            kind: kind_name(a.kind).to_owned(),
            level: level_name(a.level).to_owned(),
            code: a.code,
            admin_unit_code: non_empty(a.admin_unit_code),
            name: a.name,
            name_en: non_empty(a.name_en),
            parent_code: non_empty(a.parent_code),
            province_code: a.province_code,
            valid_from: a.valid_from,
            valid_to: non_empty(a.valid_to),
        }
    }
}

impl From<pb::SubtreeNode> for SubtreeNode {
    fn from(n: pb::SubtreeNode) -> Self {
        Self {
            depth: n.depth,
            agency: n.agency.unwrap_or_default().into(),
        }
    }
}

impl From<pb::LineageLink> for LineageLink {
    fn from(l: pb::LineageLink) -> Self {
        Self {
            kind: lineage_kind_name(l.kind()).to_owned(),
            predecessor_code: l.predecessor_code,
            successor_code: l.successor_code,
            effective_date: l.effective_date,
            legal_basis: l.legal_basis,
            reorganisation_id: l.reorganisation_id,
        }
    }
}

impl From<pb::AgencyVersion> for AgencyVersion {
    fn from(h: pb::AgencyVersion) -> Self {
        Self {
            name: h.name,
            name_en: non_empty(h.name_en),
            parent_code: non_empty(h.parent_code),
            province_code: h.province_code,
            valid_from: h.valid_from,
            valid_to: non_empty(h.valid_to),
            reorganisation_id: (h.reorganisation_id != 0).then_some(h.reorganisation_id),
            legal_basis: non_empty(h.legal_basis),
        }
    }
}

impl From<pb::Lineage> for Lineage {
    fn from(l: pb::Lineage) -> Self {
        Self {
            agency: l.agency.unwrap_or_default().into(),
            predecessors: convert_all(l.predecessors),
            successors: convert_all(l.successors),
            history: convert_all(l.history),
            related: convert_all(l.related),
        }
    }
}

impl From<pb::Reorganisation> for Reorganisation {
    fn from(r: pb::Reorganisation) -> Self {
        Self {
            id: r.id,
            effective_date: r.effective_date,
            legal_basis: r.legal_basis,
            note: non_empty(r.note),
            recorded_by: r.recorded_by,
            created: convert_all(r.created),
            changed: convert_all(r.changed),
            retired: convert_all(r.retired),
            links: convert_all(r.links),
        }
    }
}

impl From<pb::AgencyChange> for AgencyChange {
    fn from(c: pb::AgencyChange) -> Self {
        Self {
            seq: c.seq,
            agency: c.agency.unwrap_or_default().into(),
            versions: convert_all(c.versions),
            successor_codes: c.successor_codes,
        }
    }
}

impl From<pb::ListAgencyChangesResponse> for AgencyChanges {
    fn from(page: pb::ListAgencyChangesResponse) -> Self {
        Self {
            changes: convert_all(page.changes),
            head_seq: page.head_seq,
        }
    }
}

impl From<pb::ImportSummary> for ImportSummary {
    fn from(summary: pb::ImportSummary) -> Self {
        Self {
            rows: summary.rows,
            created: convert_all(summary.created),
            errors: convert_all(summary.errors),
            committed: summary.committed,
        }
    }
}

impl From<pb::ImportError> for ImportError {
    fn from(e: pb::ImportError) -> Self {
        Self {
            field: e.field,
            line: e.line,
            message: e.message,
            conflict: e.conflict,
        }
    }
}
