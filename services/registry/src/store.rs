//! The registry's service layer: agency and credential operations over its own tables.

use chiso_domain::{AdminLevel, AdminUnitCode, AgencyCode, AgencyKind, VnName};
use chiso_runtime::{
    ServiceError, ServiceResult,
    auth::{Principal, Role},
};
use chrono::NaiveDate;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};

use crate::{
    entity::{agency, credential},
    secrets,
};

/// A validated request to register an agency.
#[derive(Debug, Clone)]
pub struct NewAgency {
    pub code: AgencyCode,
    pub admin_unit_code: Option<AdminUnitCode>,
    pub name: VnName,
    pub name_en: Option<VnName>,
    pub kind: AgencyKind,
    pub parent_code: Option<AgencyCode>,
    pub valid_from: NaiveDate,
}

/// Filters for listing agencies.
#[derive(Debug, Clone, Default)]
pub struct AgencyFilter {
    pub parent_code: Option<AgencyCode>,
    pub province_code: Option<AdminUnitCode>,
}

/// Creates an agency after checking where it may sit in the tree.
#[tracing::instrument(name = "db.create_agency", skip_all)]
pub async fn create_agency(
    db: &DatabaseConnection,
    new: NewAgency,
) -> ServiceResult<agency::Model> {
    let province_code = match (new.kind, &new.parent_code) {
        (AgencyKind::ProvincialCommittee, None) => match &new.admin_unit_code {
            Some(code) if code.level() == AdminLevel::Province => code.to_string(),
            _ => {
                return Err(ServiceError::field(
                    "admin_unit_code",
                    "a provincial People's Committee needs its 2-digit province code",
                ));
            }
        },
        (AgencyKind::ProvincialCommittee, Some(_)) => {
            return Err(ServiceError::field(
                "parent_code",
                "a provincial People's Committee is the root of its province and has no parent",
            ));
        }
        (kind, None) => {
            return Err(ServiceError::field(
                "parent_code",
                format!("a {kind} must name its parent agency"),
            ));
        }
        (kind, Some(parent_code)) => {
            let parent = find(db, parent_code).await?.ok_or_else(|| {
                ServiceError::field("parent_code", format!("no agency has code {parent_code}"))
            })?;
            let parent_kind: AgencyKind = parent
                .kind
                .parse()
                .map_err(|e| ServiceError::Internal(anyhow::anyhow!("stored kind: {e}")))?;
            let allowed = match kind {
                AgencyKind::Department | AgencyKind::DistrictCommittee => {
                    parent_kind == AgencyKind::ProvincialCommittee
                }
                // Since the 2025 reform communes may sit directly under the province.
                AgencyKind::CommuneCommittee => matches!(
                    parent_kind,
                    AgencyKind::DistrictCommittee | AgencyKind::ProvincialCommittee
                ),
                AgencyKind::ProvincialCommittee => false,
            };
            if !allowed {
                return Err(ServiceError::field(
                    "parent_code",
                    format!("a {kind} cannot sit under a {parent_kind}"),
                ));
            }
            parent.province_code
        }
    };
    if new.kind.is_committee() {
        match &new.admin_unit_code {
            Some(code) if code.level() == new.kind.level() => {}
            Some(code) => {
                return Err(ServiceError::field(
                    "admin_unit_code",
                    format!(
                        "{code} is a {} code but a {} is at {} level",
                        code.level(),
                        new.kind,
                        new.kind.level()
                    ),
                ));
            }
            None => {
                return Err(ServiceError::field(
                    "admin_unit_code",
                    format!("a {} needs its administrative-unit code", new.kind),
                ));
            }
        }
    } else if new.admin_unit_code.is_some() {
        return Err(ServiceError::field(
            "admin_unit_code",
            "only People's Committees have administrative-unit codes",
        ));
    }
    if find(db, &new.code).await?.is_some() {
        return Err(ServiceError::AlreadyExists(format!(
            "an agency with code {} already exists",
            new.code
        )));
    }
    let model = agency::ActiveModel {
        code: Set(new.code.to_string()),
        admin_unit_code: Set(new.admin_unit_code.map(|c| c.to_string())),
        name_search: Set(new.name.search_key()),
        name_sort: Set(new.name.sort_key()),
        name: Set(new.name.to_string()),
        name_en: Set(new.name_en.map(String::from)),
        kind: Set(new.kind.as_str().to_owned()),
        level: Set(new.kind.level().as_str().to_owned()),
        parent_code: Set(new.parent_code.map(|c| c.to_string())),
        province_code: Set(province_code),
        valid_from: Set(new.valid_from),
        valid_to: Set(None),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    };
    Ok(agency::Entity::insert(model)
        .exec_with_returning(db)
        .await?)
}

#[tracing::instrument(name = "db.find", skip_all)]
pub async fn find(
    db: &DatabaseConnection,
    code: &AgencyCode,
) -> ServiceResult<Option<agency::Model>> {
    Ok(agency::Entity::find()
        .filter(agency::Column::Code.eq(code.as_str()))
        .one(db)
        .await?)
}

#[tracing::instrument(name = "db.get", skip_all)]
pub async fn get(db: &DatabaseConnection, code: &AgencyCode) -> ServiceResult<agency::Model> {
    find(db, code)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("no agency has code {code}")))
}

/// Agencies matching `filter`, in Vietnamese alphabetical order.
#[tracing::instrument(name = "db.list", skip_all)]
pub async fn list(
    db: &DatabaseConnection,
    filter: &AgencyFilter,
) -> ServiceResult<Vec<agency::Model>> {
    let mut query = agency::Entity::find();
    if let Some(parent) = &filter.parent_code {
        query = query.filter(agency::Column::ParentCode.eq(parent.as_str()));
    }
    if let Some(province) = &filter.province_code {
        query = query.filter(agency::Column::ProvinceCode.eq(province.as_str()));
    }
    Ok(query
        .order_by_asc(agency::Column::NameSort)
        .order_by_asc(agency::Column::Code)
        .all(db)
        .await?)
}

/// A new client id and secret for an agency; only the secret's hash is kept.
#[tracing::instrument(name = "db.issue_credentials", skip_all)]
pub async fn issue_credentials(
    db: &DatabaseConnection,
    agency_code: &AgencyCode,
) -> ServiceResult<(String, String)> {
    let agency = get(db, agency_code).await?;
    let client_id = format!("agency-{}", uuid::Uuid::new_v4().simple());
    let secret = secrets::generate_secret();
    let hash = secrets::hash(secret.clone()).await?;
    credential::Entity::insert(credential::ActiveModel {
        client_id: Set(client_id.clone()),
        secret_hash: Set(hash),
        agency_code: Set(agency.code),
        created_at: Set(chrono::Utc::now()),
        revoked_at: Set(None),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok((client_id, secret))
}

/// The agency principal for a client id and secret, if they match and are not revoked.
#[tracing::instrument(name = "db.verify_agency_credentials", skip_all)]
pub async fn verify_agency_credentials(
    db: &DatabaseConnection,
    client_id: &str,
    secret: &str,
) -> ServiceResult<Option<Principal>> {
    let Some(cred) = credential::Entity::find()
        .filter(credential::Column::ClientId.eq(client_id))
        .filter(credential::Column::RevokedAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if !secrets::verify(cred.secret_hash.clone(), secret.to_owned()).await? {
        return Ok(None);
    }
    let code = AgencyCode::parse(&cred.agency_code)
        .map_err(|e| ServiceError::Internal(anyhow::anyhow!("stored agency code: {e}")))?;
    let agency = get(db, &code).await?;
    let province = AdminUnitCode::parse(&agency.province_code)
        .map_err(|e| ServiceError::Internal(anyhow::anyhow!("stored province code: {e}")))?;
    Ok(Some(Principal {
        subject: cred.client_id,
        role: Role::Agency,
        agency: Some(code),
        province: Some(province),
    }))
}
