//! Registration requests: filed without a token, decided by an officer of
//! the province or an admin. Approval creates the agency and its
//! credentials in one transaction.

use chiso_domain::{
    AdminUnitCode, AgencyCode, AgencyKind, AgencyView, NewAgency, RegistrationStatus, VnName,
    credentials::IssuedCredentials,
    registration::{Filing, Registration},
};
use chiso_runtime::{ServiceError, ServiceResult, policy::Scope};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};

use super::{Problems, check_new_agency, insert_agency, issue_credentials, latest_view, stored};
use crate::{entity::registration, secrets::NewSecret};

/// A stored request with its kind and status read back as domain values.
#[derive(Debug, Clone)]
pub struct RegistrationView {
    pub request: registration::Model,
    pub kind: AgencyKind,
    pub status: RegistrationStatus,
}

impl TryFrom<registration::Model> for RegistrationView {
    type Error = ServiceError;
    fn try_from(request: registration::Model) -> ServiceResult<Self> {
        Ok(Self {
            kind: stored("agency kind", request.kind.parse())?,
            status: stored("registration status", request.status.parse())?,
            request,
        })
    }
}

impl From<RegistrationView> for Registration {
    fn from(view: RegistrationView) -> Self {
        let r = view.request;
        Self {
            id: r.id,
            code: r.code,
            admin_unit_code: r.admin_unit_code,
            name: r.name,
            name_en: r.name_en,
            kind: view.kind,
            parent_code: r.parent_code,
            valid_from: r.valid_from,
            province_code: r.province_code,
            contact_name: r.contact_name,
            contact_email: r.contact_email,
            contact_phone: r.contact_phone,
            note: r.note,
            status: view.status,
            reason: r.reason,
            decided_by: r.decided_by,
            decided_at: r.decided_at,
            client_id: r.client_id,
            filed_at: r.filed_at,
        }
    }
}

/// Stores a request after the same checks a registration would make, so a
/// request that could never be approved is refused at once.
pub async fn file(db: &DatabaseConnection, filing: Filing) -> ServiceResult<RegistrationView> {
    let mut problems = Problems::default();
    let province = check_new_agency(db, &filing.agency, "agency", &mut problems).await?;
    let a = &filing.agency;
    if let Some(pending) = pending_with(db, registration::Column::Code, a.code.as_str()).await? {
        problems.conflict(
            "agency.code",
            format!(
                "a request for {} is already pending (filed {})",
                a.code,
                pending.filed_at.format("%Y-%m-%d")
            ),
        );
    }
    if let Some(unit) = &a.admin_unit_code
        && let Some(pending) =
            pending_with(db, registration::Column::AdminUnitCode, unit.as_str()).await?
    {
        problems.conflict(
            "agency.admin_unit_code",
            format!(
                "a request for administrative-unit code {unit} is already pending ({})",
                pending.code
            ),
        );
    }
    problems.into_result()?;
    let province = province.ok_or_else(|| {
        ServiceError::Internal(anyhow::anyhow!("a checked request has no province"))
    })?;
    let model = registration::Model {
        id: uuid::Uuid::now_v7().to_string(),
        code: a.code.to_string(),
        admin_unit_code: a.admin_unit_code.as_ref().map(ToString::to_string),
        name: a.name.to_string(),
        name_en: a.name_en.as_ref().map(ToString::to_string),
        kind: a.kind.as_str().to_owned(),
        parent_code: a.parent_code.as_ref().map(ToString::to_string),
        valid_from: a.valid_from,
        province_code: province,
        contact_name: filing.contact_name.to_string(),
        contact_email: filing.contact_email.to_string(),
        contact_phone: filing.contact_phone,
        note: filing.note,
        status: RegistrationStatus::Pending.as_str().to_owned(),
        reason: None,
        decided_by: None,
        decided_at: None,
        client_id: None,
        filed_from: filing.filed_from,
        filed_at: Utc::now(),
    };
    registration::Entity::insert(registration::ActiveModel::from(model.clone()))
        .exec_without_returning(db)
        .await?;
    model.try_into()
}

async fn pending_with<C: ConnectionTrait>(
    c: &C,
    column: registration::Column,
    value: &str,
) -> ServiceResult<Option<registration::Model>> {
    Ok(registration::Entity::find()
        .filter(column.eq(value))
        .filter(registration::Column::Status.eq(RegistrationStatus::Pending.as_str()))
        .one(c)
        .await?)
}

/// Requests with `status`, of one province or all, oldest first.
pub async fn list_registrations(
    db: &DatabaseConnection,
    status: RegistrationStatus,
    province: Option<&AdminUnitCode>,
) -> ServiceResult<Vec<RegistrationView>> {
    let mut query =
        registration::Entity::find().filter(registration::Column::Status.eq(status.as_str()));
    if let Some(province) = province {
        query = query.filter(registration::Column::ProvinceCode.eq(province.as_str()));
    }
    query
        .order_by_asc(registration::Column::FiledAt)
        .order_by_asc(registration::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(RegistrationView::try_from)
        .collect()
}

/// One request; the caller authorizes on its `province_code`.
pub async fn get_registration<C: ConnectionTrait>(
    c: &C,
    id: &str,
) -> ServiceResult<RegistrationView> {
    registration::Entity::find_by_id(id.to_owned())
        .one(c)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("no registration request has id {id}")))?
        .try_into()
}

fn require_pending(r: &RegistrationView) -> ServiceResult<()> {
    if r.status == RegistrationStatus::Pending {
        return Ok(());
    }
    let (r, status) = (&r.request, r.status);
    let when = r
        .decided_at
        .map(|t| format!(" on {}", t.format("%Y-%m-%d")))
        .unwrap_or_default();
    Err(ServiceError::FailedPrecondition(format!(
        "registration request {} was already {}{when}",
        r.id, status
    )))
}

/// Registers the agency a request describes and issues its credentials,
/// all in one transaction; the request stays pending if anything fails.
/// The caller has authorized the decision on the request's province; the
/// agency is still placed only inside `scope`.
pub async fn approve(
    db: &DatabaseConnection,
    id: &str,
    scope: &Scope,
    decided_by: &str,
    secret: NewSecret,
) -> ServiceResult<(RegistrationView, AgencyView, IssuedCredentials)> {
    let txn = chiso_runtime::db::begin_write(db).await?;
    let found = get_registration(&txn, id).await?;
    require_pending(&found)?;
    let kind = found.kind;
    let request = found.request;
    let new = NewAgency {
        code: stored("agency code", AgencyCode::parse(&request.code))?,
        admin_unit_code: request
            .admin_unit_code
            .as_deref()
            .map(|c| stored("administrative-unit code", AdminUnitCode::parse(c)))
            .transpose()?,
        name: stored("name", VnName::parse(&request.name))?,
        name_en: request
            .name_en
            .as_deref()
            .map(|n| stored("name", VnName::parse(n)))
            .transpose()?,
        kind,
        parent_code: request
            .parent_code
            .as_deref()
            .map(|c| stored("parent code", AgencyCode::parse(c)))
            .transpose()?,
        valid_from: request.valid_from,
    };
    let mut problems = Problems::default();
    let Some(agency) = insert_agency(&txn, &new, "agency", None, scope, &mut problems).await?
    else {
        // The tree changed since filing (a code taken, a parent retired).
        return Err(problems.into_error());
    };
    let issued = issue_credentials(&txn, &new.code, decided_by, secret).await?;
    let mut row = request.into_active_model();
    row.status = Set(RegistrationStatus::Approved.as_str().to_owned());
    row.decided_by = Set(Some(decided_by.to_owned()));
    row.decided_at = Set(Some(Utc::now()));
    row.client_id = Set(Some(issued.client.client_id.clone()));
    let decided = row.update(&txn).await?;
    txn.commit().await?;
    Ok((decided.try_into()?, latest_view(agency)?, issued))
}

/// Rejects a pending request with a reason.
pub async fn reject(
    db: &DatabaseConnection,
    id: &str,
    reason: &str,
    decided_by: &str,
) -> ServiceResult<RegistrationView> {
    let txn = chiso_runtime::db::begin_write(db).await?;
    let found = get_registration(&txn, id).await?;
    require_pending(&found)?;
    let mut row = found.request.into_active_model();
    row.status = Set(RegistrationStatus::Rejected.as_str().to_owned());
    row.reason = Set(Some(reason.to_owned()));
    row.decided_by = Set(Some(decided_by.to_owned()));
    row.decided_at = Set(Some(Utc::now()));
    let decided = row.update(&txn).await?;
    txn.commit().await?;
    decided.try_into()
}
