//! The agency change feed: every write that touches an agency appends its
//! code in the same transaction; readers get the agency's whole history.

use std::collections::BTreeSet;

use chiso_runtime::{ServiceResult, feed};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use chiso_domain::{AgencyVersion, AgencyView};

use super::{decisions, latest_view};
use crate::entity::{agency, agency_event, agency_version, lineage_link};

/// Table whose one row holds the feed's last sequence number.
pub const AGENCY_FEED_HEAD: &str = "agency_feed_head";

/// Records that these agencies changed; call inside the writing transaction.
/// Returns the last sequence number taken, if any.
#[tracing::instrument(name = "db.append_agency_events", skip_all)]
pub async fn append_agency_events<C: ConnectionTrait>(
    c: &C,
    codes: impl IntoIterator<Item = String>,
) -> ServiceResult<Option<i64>> {
    let mut last = None;
    let now = chrono::Utc::now();
    for code in codes.into_iter().collect::<BTreeSet<_>>() {
        let seq = feed::next_seq(c, AGENCY_FEED_HEAD).await?;
        agency_event::Entity::insert(agency_event::ActiveModel {
            seq: Set(seq),
            agency_code: Set(code),
            created_at: Set(now),
        })
        .exec_without_returning(c)
        .await?;
        last = Some(seq);
    }
    Ok(last)
}

/// The highest committed sequence number of the agency feed.
pub async fn agency_feed_head(db: &DatabaseConnection) -> ServiceResult<i64> {
    feed::head(db, AGENCY_FEED_HEAD).await
}

/// One feed entry: the agency as it is now, with every version.
#[derive(Debug, Clone)]
pub struct AgencyChange {
    pub seq: i64,
    pub agency: AgencyView,
    pub versions: Vec<AgencyVersion>,
    /// Agencies it handed over to in a merger or split, by code.
    pub successors: Vec<String>,
}

/// Feed entries after `after`, oldest first.
#[tracing::instrument(name = "db.agency_changes_after", skip_all)]
pub async fn agency_changes_after(
    db: &DatabaseConnection,
    after: i64,
    limit: u64,
) -> ServiceResult<Vec<AgencyChange>> {
    let events = agency_event::Entity::find()
        .filter(agency_event::Column::Seq.gt(after))
        .order_by_asc(agency_event::Column::Seq)
        .limit(limit)
        .all(db)
        .await?;
    let mut changes = Vec::with_capacity(events.len());
    for event in events {
        let Some(agency) = agency::Entity::find()
            .filter(agency::Column::Code.eq(event.agency_code.as_str()))
            .one(db)
            .await?
        else {
            continue;
        };
        let versions = history_of(db, &agency.code).await?;
        let successors = lineage_link::Entity::find()
            .filter(lineage_link::Column::PredecessorCode.eq(agency.code.as_str()))
            .order_by_asc(lineage_link::Column::Id)
            .all(db)
            .await?
            .into_iter()
            .map(|l| l.successor_code)
            .collect();
        changes.push(AgencyChange {
            seq: event.seq,
            agency: latest_view(agency)?,
            versions,
            successors,
        });
    }
    Ok(changes)
}

/// An agency's versions, oldest first, with the decisions that started them.
pub async fn history_of<C: ConnectionTrait>(
    c: &C,
    code: &str,
) -> ServiceResult<Vec<AgencyVersion>> {
    let versions = agency_version::Entity::find()
        .filter(agency_version::Column::Code.eq(code))
        .order_by_asc(agency_version::Column::Id)
        .all(c)
        .await?;
    let ids: Vec<i64> = versions
        .iter()
        .filter_map(|v| v.reorganisation_id)
        .collect();
    let decisions = decisions(c, ids).await?;
    Ok(versions
        .into_iter()
        .map(|v| AgencyVersion {
            legal_basis: v
                .reorganisation_id
                .and_then(|id| decisions.get(&id))
                .map(|d| d.legal_basis.clone()),
            name: v.name,
            name_en: v.name_en,
            parent_code: v.parent_code,
            province_code: v.province_code,
            valid_from: v.valid_from,
            valid_to: v.valid_to,
            reorganisation_id: v.reorganisation_id,
        })
        .collect())
}
