//! Reorganisations (rename, move, merge, split, dissolve) recorded without
//! rewriting history: the plan a decision carries and the engine that applies it.

use std::collections::{BTreeSet, VecDeque};

use chiso_domain::{
    AgencyCode, AgencyView, LineageKind, LineageLink,
    reorganisation::{self as rules, Operation, Plan, Successor},
};
use chiso_runtime::{
    ServiceError, ServiceResult,
    policy::{Action, Resource, Scope},
};
use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, TransactionTrait,
};

use super::{Problems, existing_of, find, find_str, get, insert_agency, latest_view};
use crate::entity::{agency, agency_version, lineage_link, reorganisation};

/// A recorded reorganisation and the agencies it created, changed and retired.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub reorganisation: reorganisation::Model,
    pub created: Vec<AgencyView>,
    pub changed: Vec<AgencyView>,
    pub retired: Vec<AgencyView>,
    pub links: Vec<LineageLink>,
}
/// What one decision is applying, and what it has touched so far.
struct Apply<'a> {
    date: NaiveDate,
    reorganisation_id: i64,
    scope: &'a Scope,
    created: Vec<String>,
    changed: Vec<String>,
    retired: Vec<String>,
    links: Vec<(String, String, LineageKind)>,
}

/// Applies a decision in one transaction: every operation is checked against
/// the state the earlier ones left, every problem is reported, and nothing is
/// stored unless all of them succeed.
#[tracing::instrument(name = "db.reorganise", skip_all)]
pub async fn reorganise(
    db: &DatabaseConnection,
    plan: Plan,
    scope: &Scope,
    recorded_by: &str,
) -> ServiceResult<Outcome> {
    let txn = chiso_runtime::db::begin_write(db).await?;
    let record = reorganisation::Entity::insert(reorganisation::ActiveModel {
        effective_date: Set(plan.effective_date),
        legal_basis: Set(plan.legal_basis.clone()),
        note: Set(plan.note.clone()),
        recorded_by: Set(recorded_by.to_owned()),
        recorded_at: Set(chrono::Utc::now()),
        ..Default::default()
    })
    .exec_with_returning(&txn)
    .await?;
    let mut state = Apply {
        date: plan.effective_date,
        reorganisation_id: record.id,
        scope,
        created: Vec::new(),
        changed: Vec::new(),
        retired: Vec::new(),
        links: Vec::new(),
    };
    let mut problems = Problems::default();
    for (i, op) in plan.operations.iter().enumerate() {
        // A failed operation is undone alone, so later ones are checked
        // against a consistent state and report their own problems.
        let savepoint = txn.begin().await?;
        let before = problems.len();
        let touched = (
            state.created.len(),
            state.changed.len(),
            state.retired.len(),
            state.links.len(),
        );
        apply(
            &savepoint,
            op,
            &format!("operations[{i}]"),
            &mut state,
            &mut problems,
        )
        .await?;
        if problems.len() == before {
            savepoint.commit().await?;
        } else {
            savepoint.rollback().await?;
            state.created.truncate(touched.0);
            state.changed.truncate(touched.1);
            state.retired.truncate(touched.2);
            state.links.truncate(touched.3);
        }
    }
    problems.into_result()?;
    for (predecessor, successor, kind) in &state.links {
        lineage_link::Entity::insert(lineage_link::ActiveModel {
            reorganisation_id: Set(record.id),
            predecessor_code: Set(predecessor.clone()),
            successor_code: Set(successor.clone()),
            kind: Set(kind.as_str().to_owned()),
            ..Default::default()
        })
        .exec_without_returning(&txn)
        .await?;
    }
    let latest = async |codes: &[String]| -> ServiceResult<Vec<AgencyView>> {
        let mut out = Vec::new();
        for code in codes {
            if let Some(a) = find_str(&txn, code).await? {
                out.push(latest_view(a)?);
            }
        }
        Ok(out)
    };
    let changed: Vec<String> = state
        .changed
        .iter()
        .filter(|c| !state.created.contains(c) && !state.retired.contains(c))
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let outcome = Outcome {
        created: latest(&state.created).await?,
        changed: latest(&changed).await?,
        retired: latest(&state.retired).await?,
        links: state
            .links
            .iter()
            .map(|(p, s, k)| LineageLink {
                predecessor_code: p.clone(),
                successor_code: s.clone(),
                kind: *k,
                effective_date: record.effective_date,
                legal_basis: record.legal_basis.clone(),
                reorganisation_id: record.id,
            })
            .collect(),
        reorganisation: record,
    };
    let touched = state
        .created
        .iter()
        .chain(&state.changed)
        .chain(&state.retired);
    super::append_agency_events(&txn, touched.cloned()).await?;
    txn.commit().await?;
    Ok(outcome)
}

async fn apply(
    c: &DatabaseTransaction,
    op: &Operation,
    prefix: &str,
    state: &mut Apply<'_>,
    problems: &mut Problems,
) -> ServiceResult<()> {
    let field = |f: &str| format!("{prefix}.{f}");
    let start = problems.len();
    match op {
        Operation::Rename {
            code,
            name,
            name_en,
        } => {
            let Some(a) = changing(c, code, &field("code"), state, problems).await? else {
                return Ok(());
            };
            let (name, name_en) = (name.clone(), name_en.clone());
            new_version(c, &a, state, move |v| {
                v.name_search = name.search_key();
                v.name_sort = name.sort_key();
                v.name = name.to_string();
                if let Some(en) = name_en {
                    v.name_en = Some(en.to_string());
                }
            })
            .await?;
            state.changed.push(a.code);
        }
        Operation::Move { code, parent_code } => {
            let agency = changing(c, code, &field("code"), state, problems).await?;
            let parent = existing(c, parent_code, &field("parent_code"), state, problems).await?;
            let (Some(agency), Some(parent)) = (agency, parent) else {
                return Ok(());
            };
            // A parent the agency already sits under is never inside its subtree.
            if let Some(path) = cycle(c, &agency, &parent).await? {
                problems.invalid(
                    field("parent_code"),
                    format!(
                        "moving {} under {} would make a cycle: {} is inside {}'s subtree ({path})",
                        agency.code, parent.code, parent.code, agency.code
                    ),
                );
                return Ok(());
            }
            let rule = rules::check_move(
                existing_of(&agency)?,
                agency.parent_code.as_deref(),
                existing_of(&parent)?,
            );
            if let Err(why) = rule {
                problems.invalid(field("parent_code"), why);
                return Ok(());
            }
            move_under(c, &agency, &parent, &field("code"), state, problems).await?;
        }
        Operation::Merge { sources, into } => {
            let mut found = Vec::new();
            for (j, code) in sources.iter().enumerate() {
                let f = field(&format!("source_codes[{j}]"));
                if sources[..j].contains(code) {
                    problems.invalid(f, format!("{code} is named twice"));
                } else if let Some(a) = changing(c, code, &f, state, problems).await? {
                    found.push((f, a));
                }
            }
            let Some(successor) = successor(c, into, &field("into"), state, problems).await? else {
                return Ok(());
            };
            if found.len() < sources.len() {
                return Ok(());
            }
            for (f, source) in &found {
                if let Err(why) = rules::check_merge(existing_of(source)?, existing_of(&successor)?)
                {
                    problems.invalid(f.clone(), why);
                }
            }
            if problems.len() > start {
                return Ok(());
            }
            for (f, source) in &found {
                for child in children(c, &source.code).await? {
                    move_under(c, &child, &successor, f, state, problems).await?;
                }
                retire(c, source, state).await?;
                state.links.push((
                    source.code.clone(),
                    successor.code.clone(),
                    LineageKind::Merge,
                ));
            }
        }
        Operation::Split { code, into } => {
            let Some(source) = changing(c, code, &field("code"), state, problems).await? else {
                return Ok(());
            };
            let kids = children(c, &source.code).await?;
            if !kids.is_empty() {
                problems.invalid(field("code"), still_has_children(&source, &kids));
            }
            let mut successors = Vec::new();
            for (j, target) in into.iter().enumerate() {
                let f = field(&format!("into[{j}]"));
                if let Some(s) = successor(c, target, &f, state, problems).await? {
                    let taken: Vec<&str> = successors
                        .iter()
                        .map(|o: &agency::Model| o.code.as_str())
                        .collect();
                    match rules::check_split(existing_of(&source)?, existing_of(&s)?, &taken) {
                        Ok(()) => successors.push(s),
                        Err(why) => problems.invalid(f, why),
                    }
                }
            }
            if problems.len() > start {
                return Ok(());
            }
            retire(c, &source, state).await?;
            for s in successors {
                state
                    .links
                    .push((source.code.clone(), s.code, LineageKind::Split));
            }
        }
        Operation::Dissolve { code } => {
            let Some(agency) = changing(c, code, &field("code"), state, problems).await? else {
                return Ok(());
            };
            let kids = children(c, &agency.code).await?;
            if !kids.is_empty() {
                problems.invalid(field("code"), still_has_children(&agency, &kids));
                return Ok(());
            }
            retire(c, &agency, state).await?;
        }
    }
    Ok(())
}

fn still_has_children(agency: &agency::Model, kids: &[agency::Model]) -> String {
    let codes: Vec<&str> = kids.iter().map(|k| k.code.as_str()).collect();
    rules::still_has_children(&agency.code, &codes)
}

/// An agency that exists on the decision's date, not necessarily changed by it.
async fn existing(
    c: &DatabaseTransaction,
    code: &AgencyCode,
    field: &str,
    state: &Apply<'_>,
    problems: &mut Problems,
) -> ServiceResult<Option<agency::Model>> {
    let Some(a) = find(c, code).await? else {
        problems.invalid(field, format!("no agency has code {code}"));
        return Ok(None);
    };
    if let Some(retired) = a.valid_to {
        problems.invalid(
            field,
            format!("{code} ({}) was retired on {retired}", a.name),
        );
        return Ok(None);
    }
    if state.date < a.valid_from {
        problems.invalid(
            "effective_date",
            format!(
                "{} is before {code} ({}) existed: it exists from {}",
                state.date, a.name, a.valid_from
            ),
        );
        return Ok(None);
    }
    state.scope.check(
        Action::ChangeTree,
        Resource::agency(code.as_str(), &a.province_code),
    )?;
    Ok(Some(a))
}

/// An agency the decision will change: it must exist on the date and have no
/// change recorded after it, since history is written in date order.
async fn changing(
    c: &DatabaseTransaction,
    code: &AgencyCode,
    field: &str,
    state: &Apply<'_>,
    problems: &mut Problems,
) -> ServiceResult<Option<agency::Model>> {
    let Some(a) = existing(c, code, field, state, problems).await? else {
        return Ok(None);
    };
    let last = latest_version(c, &a.code).await?;
    if last.valid_from > state.date {
        problems.invalid(
            "effective_date",
            format!(
                "{code} has a change recorded from {}, after {}; record reorganisations in date order",
                last.valid_from, state.date
            ),
        );
        return Ok(None);
    }
    Ok(Some(a))
}

/// The successor of a merge or split: an existing agency, or a new one created now.
async fn successor(
    c: &DatabaseTransaction,
    target: &Successor,
    prefix: &str,
    state: &mut Apply<'_>,
    problems: &mut Problems,
) -> ServiceResult<Option<agency::Model>> {
    match target {
        Successor::Existing(code) => {
            existing(c, code, &format!("{prefix}.existing_code"), state, problems).await
        }
        Successor::New(new) => {
            let created = insert_agency(
                c,
                new,
                &format!("{prefix}.new_agency"),
                Some(state.reorganisation_id),
                state.scope,
                problems,
            )
            .await?;
            if let Some(a) = &created {
                state.created.push(a.code.clone());
            }
            Ok(created)
        }
    }
}

/// The path from `parent` up to `agency` if `parent` is inside `agency`'s subtree.
async fn cycle(
    c: &DatabaseTransaction,
    agency: &agency::Model,
    parent: &agency::Model,
) -> ServiceResult<Option<String>> {
    let mut path = vec![parent.code.clone()];
    let mut current = Some(parent.clone());
    while let Some(node) = current {
        if node.code == agency.code {
            return Ok(Some(path.join(" → ")));
        }
        current = match &node.parent_code {
            Some(up) if path.len() < 64 => {
                path.push(up.clone());
                find_str(c, up).await?
            }
            _ => None,
        };
    }
    Ok(None)
}

/// Current sub-agencies of `code`.
async fn children<C: ConnectionTrait>(c: &C, code: &str) -> ServiceResult<Vec<agency::Model>> {
    Ok(agency::Entity::find()
        .filter(agency::Column::ParentCode.eq(code))
        .filter(agency::Column::ValidTo.is_null())
        .order_by_asc(agency::Column::Code)
        .all(c)
        .await?)
}

async fn latest_version<C: ConnectionTrait>(
    c: &C,
    code: &str,
) -> ServiceResult<agency_version::Model> {
    agency_version::Entity::find()
        .filter(agency_version::Column::Code.eq(code))
        .order_by_desc(agency_version::Column::Id)
        .one(c)
        .await?
        .ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("agency {code} has no version")))
}

/// Ends the agency's current version on the decision's date and starts a
/// changed one; the agencies table follows the latest version.
async fn new_version<C: ConnectionTrait>(
    c: &C,
    agency: &agency::Model,
    state: &Apply<'_>,
    change: impl FnOnce(&mut agency_version::Model),
) -> ServiceResult<agency_version::Model> {
    let current = latest_version(c, &agency.code).await?;
    let mut next = current.clone();
    let mut ended = current.into_active_model();
    ended.valid_to = Set(Some(state.date));
    ended.update(c).await?;
    change(&mut next);
    next.valid_from = state.date;
    next.valid_to = None;
    next.reorganisation_id = Some(state.reorganisation_id);
    next.created_at = chrono::Utc::now();
    let mut insert = next.clone().into_active_model();
    insert.id = sea_orm::ActiveValue::NotSet;
    let inserted = agency_version::Entity::insert(insert)
        .exec_with_returning(c)
        .await?;
    let mut row = agency.clone().into_active_model();
    row.name = Set(inserted.name.clone());
    row.name_en = Set(inserted.name_en.clone());
    row.name_search = Set(inserted.name_search.clone());
    row.name_sort = Set(inserted.name_sort.clone());
    row.parent_code = Set(inserted.parent_code.clone());
    row.province_code = Set(inserted.province_code.clone());
    row.update(c).await?;
    Ok(inserted)
}

/// Moves `agency` under `parent`; when that changes its province, everything
/// under it follows on the same date.
async fn move_under(
    c: &DatabaseTransaction,
    agency: &agency::Model,
    parent: &agency::Model,
    field: &str,
    state: &mut Apply<'_>,
    problems: &mut Problems,
) -> ServiceResult<()> {
    let last = latest_version(c, &agency.code).await?;
    if last.valid_from > state.date {
        problems.invalid(
            field,
            format!(
                "{} has a change recorded from {}, after {}; record reorganisations in date order",
                agency.code, last.valid_from, state.date
            ),
        );
        return Ok(());
    }
    let province = parent.province_code.clone();
    let parent_code = parent.code.clone();
    let moved_province = province.clone();
    new_version(c, agency, state, move |v| {
        v.parent_code = Some(parent_code);
        v.province_code = moved_province;
    })
    .await?;
    state.changed.push(agency.code.clone());
    if agency.province_code == province {
        return Ok(());
    }
    let mut queue: VecDeque<String> = VecDeque::from([agency.code.clone()]);
    while let Some(code) = queue.pop_front() {
        for child in children(c, &code).await? {
            let last = latest_version(c, &child.code).await?;
            if last.valid_from > state.date {
                problems.invalid(
                    field,
                    format!(
                        "{} under {} has a change recorded from {}, after {}; record reorganisations in date order",
                        child.code, agency.code, last.valid_from, state.date
                    ),
                );
                return Ok(());
            }
            let province = province.clone();
            new_version(c, &child, state, move |v| v.province_code = province).await?;
            state.changed.push(child.code.clone());
            queue.push_back(child.code);
        }
    }
    Ok(())
}

/// Ends an agency on the decision's date; its code is never reused.
async fn retire(
    c: &DatabaseTransaction,
    agency: &agency::Model,
    state: &mut Apply<'_>,
) -> ServiceResult<()> {
    let mut last = latest_version(c, &agency.code).await?.into_active_model();
    last.valid_to = Set(Some(state.date));
    last.update(c).await?;
    // Re-read: a move earlier in this decision may have changed the row.
    let mut row = get(c, &parse(&agency.code)?).await?.into_active_model();
    row.valid_to = Set(Some(state.date));
    row.retired_by = Set(Some(state.reorganisation_id));
    row.update(c).await?;
    // An agency that has ended cannot report: its clients are revoked with
    // it, so their tokens stop at every service within seconds (the
    // revocation list). One ending on a later date keeps them until then;
    // logins refuse it from that date (`verify_client`).
    if state.date <= chrono::Utc::now().date_naive() {
        super::credentials::revoke_agency_clients(c, &agency.code).await?;
    }
    state.retired.push(agency.code.clone());
    Ok(())
}

fn parse(code: &str) -> ServiceResult<AgencyCode> {
    super::stored("agency code", AgencyCode::parse(code))
}
