//! Lineage: the links merges and splits leave between agencies, and an
//! agency's versions with the decisions that started them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chiso_domain::{AgencyCode, AgencyVersion, AgencyView, LineageLink, tree};
use chiso_runtime::{ServiceError, ServiceResult};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};

use super::{find_str, get, latest_view, stored};
use crate::entity::{lineage_link, reorganisation};

/// Where an agency came from and what it became.
#[derive(Debug, Clone)]
pub struct LineageView {
    pub agency: AgencyView,
    pub predecessors: Vec<LineageLink>,
    pub successors: Vec<LineageLink>,
    pub history: Vec<AgencyVersion>,
    pub related: Vec<AgencyView>,
}
/// Predecessors and successors of an agency (through every merge and split,
/// nearest first), its own versions, and the agencies the links name.
#[tracing::instrument(name = "db.lineage", skip_all)]
pub async fn lineage(db: &DatabaseConnection, code: &AgencyCode) -> ServiceResult<LineageView> {
    let agency = get(db, code).await?;
    let predecessors = walk(db, &agency.code, true).await?;
    let successors = walk(db, &agency.code, false).await?;
    let history = super::history_of(db, &agency.code).await?;
    let mut related = Vec::new();
    let mut seen = BTreeSet::from([agency.code.clone()]);
    for link in predecessors.iter().chain(&successors) {
        for code in [&link.predecessor_code, &link.successor_code] {
            if seen.insert(code.clone())
                && let Some(a) = find_str(db, code).await?
            {
                related.push(latest_view(a)?);
            }
        }
    }
    Ok(LineageView {
        agency: latest_view(agency)?,
        predecessors,
        successors,
        history,
        related,
    })
}

/// Links reachable from `code` backwards (predecessors) or forwards,
/// nearest first and in the order they were recorded within each step.
async fn walk(
    db: &DatabaseConnection,
    code: &str,
    backwards: bool,
) -> ServiceResult<Vec<LineageLink>> {
    // Lineage links are few (one per merged or split agency): load them all
    // and walk in memory.
    let all = lineage_link::Entity::find()
        .order_by_asc(lineage_link::Column::Id)
        .all(db)
        .await?;
    type End = fn(&lineage_link::Model) -> String;
    let predecessor: End = |l| l.predecessor_code.clone();
    let successor: End = |l| l.successor_code.clone();
    let (from, to) = if backwards {
        (successor, predecessor)
    } else {
        (predecessor, successor)
    };
    let mut graph: BTreeMap<String, Vec<lineage_link::Model>> = BTreeMap::new();
    for link in all {
        graph.entry(from(&link)).or_default().push(link);
    }
    let mut found = tree::walk(&code.to_owned(), &graph, to, tree::Order::BreadthFirst);
    // Each step lists its links in the order they were recorded.
    found.sort_by_key(|(l, depth)| (*depth, l.id));
    let links: Vec<&lineage_link::Model> = found.into_iter().map(|(l, _)| l).collect();
    let decisions = decisions(db, links.iter().map(|l| l.reorganisation_id).collect()).await?;
    links
        .into_iter()
        .map(|l| {
            let d = decisions.get(&l.reorganisation_id).ok_or_else(|| {
                ServiceError::Internal(anyhow::anyhow!("link {} has no reorganisation", l.id))
            })?;
            Ok(LineageLink {
                predecessor_code: l.predecessor_code.clone(),
                successor_code: l.successor_code.clone(),
                kind: stored("lineage kind", l.kind.parse())?,
                effective_date: d.effective_date,
                legal_basis: d.legal_basis.clone(),
                reorganisation_id: l.reorganisation_id,
            })
        })
        .collect()
}

pub(super) async fn decisions<C: ConnectionTrait>(
    db: &C,
    ids: Vec<i64>,
) -> ServiceResult<HashMap<i64, reorganisation::Model>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(reorganisation::Entity::find()
        .filter(reorganisation::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect())
}
