//! Follows the registry's agency feed into a copy of every agency version,
//! so the service knows which agencies must report a form in a period and in
//! which province, without calling the registry on the submit path.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use anyhow::Context;
use chiso_domain::{AdminLevel, AgencyCode, AgencyKind, ReportingAgency, date::parse_date};
use chiso_proto::{
    convert::registry::{admin_level, agency_kind},
    registry::v1::{
        AgencyChange, GetLineageRequest, WatchAgenciesRequest,
        agency_service_client::AgencyServiceClient,
    },
};
use chiso_runtime::{ServiceError, ServiceResult, grpc::with_bearer, service_token::ServiceToken};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Statement,
};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use tracing::{debug, info};

use crate::entity::agency;

/// The copy of the tree in memory, beside its table: every submission asks
/// who the agency was during the period, and a map read costs nothing where
/// a query cost a database round trip. The table stays the durable copy
/// (loaded at start); this map changes only after the table did.
#[derive(Clone, Default)]
pub struct AgencyCopy(Arc<RwLock<HashMap<AgencyCode, Arc<[ReportingAgency]>>>>);

impl AgencyCopy {
    /// Every stored version, grouped by agency.
    pub async fn load(db: &DatabaseConnection) -> ServiceResult<Self> {
        let mut by_code: HashMap<AgencyCode, Vec<ReportingAgency>> = HashMap::new();
        for v in all_versions(db, None).await? {
            by_code.entry(v.code.clone()).or_default().push(v);
        }
        let map = by_code.into_iter().map(|(c, v)| (c, v.into())).collect();
        Ok(Self(Arc::new(RwLock::new(map))))
    }

    /// The agency's versions; empty when the copy does not have it.
    pub fn versions(&self, code: &AgencyCode) -> Arc<[ReportingAgency]> {
        self.0
            .read()
            .expect("never poisoned: nothing panics under the lock")
            .get(code)
            .cloned()
            .unwrap_or_else(|| Arc::from(Vec::new()))
    }

    /// The province the agency is in now (its latest version's).
    pub fn current_province(&self, code: &AgencyCode) -> Option<chiso_domain::AdminUnitCode> {
        self.versions(code)
            .iter()
            .max_by_key(|v| v.valid_from)
            .map(|v| v.province.clone())
    }

    fn put(&self, code: AgencyCode, versions: Vec<ReportingAgency>) {
        self.0
            .write()
            .expect("never poisoned")
            .insert(code, versions.into());
    }

    /// After the table took `rows` for the agency of `change`.
    fn stored(&self, change: &AgencyChange, rows: &[agency::Model]) -> ServiceResult<()> {
        let Some(code) = change
            .agency
            .as_ref()
            .and_then(|a| AgencyCode::parse(&a.code).ok())
        else {
            return Ok(());
        };
        let versions = rows
            .iter()
            .cloned()
            .map(reporting_agency)
            .collect::<ServiceResult<Vec<_>>>()?;
        self.put(code, versions);
        Ok(())
    }
}

/// Follows the agency feed until `stop`, resuming after interruptions.
pub async fn run(
    db: DatabaseConnection,
    copy: AgencyCopy,
    registry: Channel,
    token: Arc<ServiceToken>,
    stop: CancellationToken,
) {
    chiso_runtime::feed::retrying("registry", stop, || follow(&db, &copy, &registry, &token)).await;
}

async fn follow(
    db: &DatabaseConnection,
    copy: &AgencyCopy,
    registry: &Channel,
    token: &ServiceToken,
) -> anyhow::Result<()> {
    let after_seq = cursor(db).await?;
    let bearer = token.get().await?;
    let response = AgencyServiceClient::new(registry.clone())
        .watch_agencies(with_bearer(WatchAgenciesRequest { after_seq }, &bearer)?)
        .await;
    let mut stream = match response {
        Ok(r) => r.into_inner(),
        Err(status) if status.code() == tonic::Code::Unauthenticated => {
            token.invalidate().await;
            return Err(status).context("the registry rejected the service token");
        }
        Err(status) => return Err(status).context("failed to open the agency feed"),
    };
    info!(after_seq, "following the registry agency feed");
    while let Some(change) = stream.message().await.context("agency feed broke")? {
        let applied = apply(db, copy, &change).await?;
        debug!(seq = change.seq, applied, "agency feed entry");
        chiso_runtime::metrics::feed_applied("submission", "registry.agencies", change.seq, None);
    }
    Ok(())
}

async fn cursor(db: &impl ConnectionTrait) -> ServiceResult<i64> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT last_seq FROM agency_feed_cursor WHERE id = 1",
        ))
        .await?
        .ok_or_else(|| {
            ServiceError::Internal(anyhow::anyhow!("agency_feed_cursor row is missing"))
        })?;
    Ok(row.try_get("", "last_seq")?)
}

/// The versions an agency-feed entry carries, as rows of the copy.
fn decode(change: &AgencyChange) -> anyhow::Result<Vec<agency::Model>> {
    let a = change
        .agency
        .as_ref()
        .context("agency feed entry without an agency")?;
    let code = AgencyCode::parse(&a.code).context("agency code")?;
    let kind = agency_kind(a.kind).context("agency kind")?;
    let level = admin_level(a.level).context("agency level")?;
    change
        .versions
        .iter()
        .map(|v| {
            Ok(agency::Model {
                code: code.to_string(),
                valid_from: parse_date(&v.valid_from).context("valid_from")?,
                valid_to: match v.valid_to.as_str() {
                    "" => None,
                    raw => Some(parse_date(raw).context("valid_to")?),
                },
                kind: kind.as_str().to_owned(),
                level: level.as_str().to_owned(),
                province_code: v.province_code.clone(),
            })
        })
        .collect()
}

/// Replaces the agency's versions and moves the cursor, in one transaction;
/// an entry at or before the cursor was applied already.
async fn apply(
    db: &DatabaseConnection,
    copy: &AgencyCopy,
    change: &AgencyChange,
) -> anyhow::Result<bool> {
    let rows = decode(change)
        .with_context(|| format!("agency feed entry {} is not a valid agency", change.seq))?;
    let txn = chiso_runtime::db::begin_write(db).await?;
    if change.seq <= cursor(&txn).await? {
        return Ok(false);
    }
    replace_versions(&txn, change, rows.clone()).await?;
    let backend = txn.get_database_backend();
    txn.execute_raw(Statement::from_sql_and_values(
        backend,
        match backend {
            sea_orm::DbBackend::Postgres => {
                "UPDATE agency_feed_cursor SET last_seq = $1 WHERE id = 1"
            }
            _ => "UPDATE agency_feed_cursor SET last_seq = ? WHERE id = 1",
        },
        [change.seq.into()],
    ))
    .await?;
    txn.commit().await?;
    copy.stored(change, &rows)?;
    Ok(true)
}

/// The agency's rows in the copy become `rows`.
async fn replace_versions(
    txn: &impl ConnectionTrait,
    change: &AgencyChange,
    rows: Vec<agency::Model>,
) -> ServiceResult<()> {
    if let Some(code) = change.agency.as_ref().map(|a| a.code.as_str()) {
        agency::Entity::delete_many()
            .filter(agency::Column::Code.eq(code))
            .exec(txn)
            .await?;
    }
    if !rows.is_empty() {
        agency::Entity::insert_many(rows.into_iter().map(|m| agency::ActiveModel {
            code: Set(m.code),
            valid_from: Set(m.valid_from),
            valid_to: Set(m.valid_to),
            kind: Set(m.kind),
            level: Set(m.level),
            province_code: Set(m.province_code),
        }))
        // The feed follower and a submission that fetched a missing agency
        // may store the same versions at once: the second one updates.
        .on_conflict(
            sea_orm::sea_query::OnConflict::columns([
                agency::Column::Code,
                agency::Column::ValidFrom,
            ])
            .update_columns([
                agency::Column::ValidTo,
                agency::Column::Kind,
                agency::Column::Level,
                agency::Column::ProvinceCode,
            ])
            .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    }
    Ok(())
}

/// Asks the registry for an agency the copy does not have yet: one
/// registered a moment ago may report before the feed brings it here. The
/// answer is stored (the feed entry, when it arrives, replaces it with the
/// same rows); `None` when the registry does not know the code either.
pub async fn fetch_missing(
    db: &DatabaseConnection,
    copy: &AgencyCopy,
    registry: &Channel,
    token: &ServiceToken,
    code: &AgencyCode,
) -> ServiceResult<Vec<ReportingAgency>> {
    let unavailable =
        |e: &dyn std::fmt::Display| ServiceError::Unavailable(format!("registry agencies: {e}"));
    let bearer = token.get().await.map_err(|e| unavailable(&e))?;
    let request = with_bearer(
        GetLineageRequest {
            code: code.to_string(),
        },
        &bearer,
    )
    .map_err(ServiceError::Internal)?;
    let lineage = match AgencyServiceClient::new(registry.clone())
        .get_lineage(request)
        .await
    {
        Ok(l) => l.into_inner(),
        Err(s)
            if matches!(
                s.code(),
                tonic::Code::NotFound | tonic::Code::InvalidArgument
            ) =>
        {
            return Ok(Vec::new());
        }
        Err(s) => {
            if s.code() == tonic::Code::Unauthenticated {
                token.invalidate().await;
            }
            return Err(unavailable(&s));
        }
    };
    let change = AgencyChange {
        seq: 0,
        agency: lineage.agency,
        versions: lineage.history,
        // The copy here keeps places in the tree, not lineage.
        successor_codes: Vec::new(),
    };
    let rows = decode(&change).map_err(|e| {
        ServiceError::Internal(e.context(format!("registry sent an invalid agency {code}")))
    })?;
    let txn = chiso_runtime::db::begin_write(db).await?;
    replace_versions(&txn, &change, rows.clone()).await?;
    txn.commit().await?;
    copy.stored(&change, &rows)?;
    Ok(copy.versions(code).to_vec())
}

/// A stored version, read back into the domain.
fn reporting_agency(m: agency::Model) -> ServiceResult<ReportingAgency> {
    let bad = |what: &str| {
        ServiceError::Internal(anyhow::anyhow!("agency copy {}: stored {what}", m.code))
    };
    Ok(ReportingAgency {
        code: AgencyCode::parse(&m.code).map_err(|_| bad("code"))?,
        kind: m.kind.parse::<AgencyKind>().map_err(|_| bad("kind"))?,
        level: m.level.parse::<AdminLevel>().map_err(|_| bad("level"))?,
        province: chiso_domain::AdminUnitCode::parse(&m.province_code)
            .map_err(|_| bad("province"))?,
        valid_from: m.valid_from,
        valid_to: m.valid_to,
    })
}

/// Every version of every agency, or of one province's.
pub async fn all_versions(
    db: &impl ConnectionTrait,
    province: Option<&str>,
) -> ServiceResult<Vec<ReportingAgency>> {
    let mut query = agency::Entity::find();
    if let Some(p) = province {
        query = query.filter(agency::Column::ProvinceCode.eq(p));
    }
    query
        .all(db)
        .await?
        .into_iter()
        .map(reporting_agency)
        .collect()
}

/// An agency reporter acts in the province its agency is in now, as this
/// service's copy of the registry knows it, not in the one its token named
/// when it was issued: an agency moved to another province reports there at
/// once. Other callers keep what their token says.
pub fn current_province(copy: AgencyCopy) -> chiso_runtime::auth::Resolver {
    Arc::new(move |principal| {
        if principal.role == chiso_runtime::auth::Role::AgencyReporter
            && let Some(code) = &principal.agency
            && let Some(province) = copy.current_province(code)
        {
            principal.province = Some(province);
        }
        Ok(())
    })
}
