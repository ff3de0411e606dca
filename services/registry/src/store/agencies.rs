//! Agencies: registration, look-up as of a date, listing and subtrees.

use std::collections::{BTreeMap, HashMap};

use chiso_domain::{
    AdminLevel, AdminUnitCode, AgencyCode, AgencyKind, AgencyView, NewAgency,
    reorganisation::{self as rules, Placement},
    tree,
};
use chiso_runtime::{ServiceError, ServiceResult};
use chrono::NaiveDate;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
    sea_query::{LikeExpr, Query},
};

use chiso_runtime::policy::{Action, Resource, Scope};

use super::{Problems, at, stored};
use crate::entity::{agency, agency_version};

/// An agency's latest state, which the agencies table keeps.
pub fn latest_view(a: agency::Model) -> ServiceResult<AgencyView> {
    Ok(AgencyView {
        code: a.code,
        admin_unit_code: a.admin_unit_code,
        name: a.name,
        name_en: a.name_en,
        kind: stored("agency kind", a.kind.parse())?,
        level: stored("agency level", a.level.parse())?,
        parent_code: a.parent_code,
        province_code: a.province_code,
        valid_from: a.valid_from,
        valid_to: a.valid_to,
    })
}

/// The state of agency `a` during its version `v`.
fn version_view(v: agency_version::Model, a: &agency::Model) -> ServiceResult<AgencyView> {
    Ok(AgencyView {
        code: v.code,
        admin_unit_code: v.admin_unit_code,
        name: v.name,
        name_en: v.name_en,
        kind: stored("agency kind", v.kind.parse())?,
        level: stored("agency level", v.level.parse())?,
        parent_code: v.parent_code,
        province_code: v.province_code,
        valid_from: a.valid_from,
        valid_to: a.valid_to,
    })
}

/// Which state of the tree a query sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Agencies active on the date, as they were then.
    AsOf(NaiveDate),
    /// Every agency ever registered, in its latest state.
    Latest,
}

/// Filters for listing agencies.
#[derive(Debug, Clone)]
pub struct AgencyFilter {
    pub parent_code: Option<AgencyCode>,
    pub province_code: Option<AdminUnitCode>,
    pub subtree_code: Option<AgencyCode>,
    pub level: Option<AdminLevel>,
    pub kind: Option<AgencyKind>,
    /// Folded search words (see [`chiso_domain::text::search_key`]).
    pub query: Option<String>,
    pub view: View,
    pub page_size: u64,
    pub after: Option<PageCursor>,
}

impl Default for AgencyFilter {
    fn default() -> Self {
        Self {
            parent_code: None,
            province_code: None,
            subtree_code: None,
            level: None,
            kind: None,
            query: None,
            view: View::Latest,
            page_size: DEFAULT_PAGE_SIZE,
            after: None,
        }
    }
}

pub const DEFAULT_PAGE_SIZE: u64 = 500;
pub const MAX_PAGE_SIZE: u64 = 1000;

/// Where a page ended: the sort key and code of its last agency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageCursor {
    pub name_sort: String,
    pub code: String,
}

impl PageCursor {
    /// An opaque token: the sort key is lower-case hex, so `~` cannot occur in it.
    pub fn encode(&self) -> String {
        format!("{}~{}", self.name_sort, self.code)
    }

    pub fn decode(token: &str) -> Result<Self, String> {
        let bad = || "is not a page token this service issued".to_owned();
        let (sort, code) = token.split_once('~').ok_or_else(bad)?;
        if sort.is_empty() || !sort.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let code = AgencyCode::parse(code).map_err(|_| bad())?;
        Ok(Self {
            name_sort: sort.to_owned(),
            code: code.to_string(),
        })
    }
}

pub(crate) fn kind_of(a: &agency::Model) -> ServiceResult<AgencyKind> {
    stored("agency kind", a.kind.parse())
}

/// What the tree's rules need to know of a stored agency.
pub(crate) fn existing_of(a: &agency::Model) -> ServiceResult<rules::Existing<'_>> {
    Ok(rules::Existing {
        code: &a.code,
        name: &a.name,
        kind: kind_of(a)?,
        valid_from: a.valid_from,
        valid_to: a.valid_to,
    })
}

/// Registers one agency inside `scope` (where the caller may change the tree).
#[tracing::instrument(name = "db.create_agency", skip_all)]
pub async fn create_agency(
    db: &DatabaseConnection,
    new: NewAgency,
    scope: &Scope,
) -> ServiceResult<AgencyView> {
    let txn = chiso_runtime::db::begin_write(db).await?;
    let mut problems = Problems::default();
    let created = insert_agency(&txn, &new, "", None, scope, &mut problems).await?;
    match created {
        Some(created) if problems.is_empty() => {
            txn.commit().await?;
            latest_view(created)
        }
        _ => Err(problems.into_error()),
    }
}

/// Checks where a new agency may sit and that its codes are free, recording
/// every problem under `prefix`; returns its province when it may be stored.
#[tracing::instrument(name = "db.check_new_agency", skip_all)]
pub async fn check_new_agency<C: ConnectionTrait>(
    c: &C,
    new: &NewAgency,
    prefix: &str,
    problems: &mut Problems,
) -> ServiceResult<Option<String>> {
    let before = problems.len();
    let field = |f: &str| at(prefix, f);
    let province = match rules::placement(new) {
        Err(refusal) => {
            problems.invalid(field(refusal.field), refusal.message);
            None
        }
        Ok(Placement::Root { province }) => Some(province.to_string()),
        Ok(Placement::Under {
            parent: parent_code,
        }) => match find(c, parent_code).await? {
            None => {
                problems.invalid(
                    field("parent_code"),
                    format!("no agency has code {parent_code}"),
                );
                None
            }
            Some(parent) => {
                if let Err(refusal) = rules::check_parent(new, existing_of(&parent)?) {
                    problems.invalid(field(refusal.field), refusal.message);
                }
                Some(parent.province_code)
            }
        },
    };
    if let Err(refusal) = rules::check_admin_unit(new) {
        problems.invalid(field(refusal.field), refusal.message);
    }
    if let Some(taken) = find(c, &new.code).await? {
        problems.conflict(field("code"), taken_message(&taken, "code", &taken.code));
    }
    if let Some(unit) = &new.admin_unit_code
        && let Some(taken) = agency::Entity::find()
            .filter(agency::Column::AdminUnitCode.eq(unit.as_str()))
            .one(c)
            .await?
    {
        problems.conflict(
            field("admin_unit_code"),
            taken_message(&taken, "administrative-unit code", unit.as_str()),
        );
    }
    Ok(province.filter(|_| problems.len() == before))
}

fn taken_message(taken: &agency::Model, what: &str, value: &str) -> String {
    match taken.valid_to {
        Some(retired) => format!(
            "{what} {value} belonged to {} ({}), retired on {retired}; retired codes are never reused",
            taken.code, taken.name
        ),
        None => format!(
            "{what} {value} is already used by {} ({})",
            taken.code, taken.name
        ),
    }
}

/// Checks and stores a new agency and its first version. Problems are
/// recorded under `prefix` and leave nothing stored; an agency outside
/// `scope` is refused outright.
#[tracing::instrument(name = "db.insert_agency", skip_all)]
pub async fn insert_agency<C: ConnectionTrait>(
    c: &C,
    new: &NewAgency,
    prefix: &str,
    reorganisation_id: Option<i64>,
    scope: &Scope,
    problems: &mut Problems,
) -> ServiceResult<Option<agency::Model>> {
    let Some(province_code) = check_new_agency(c, new, prefix, problems).await? else {
        return Ok(None);
    };
    scope.check(
        Action::ChangeTree,
        Resource::agency(new.code.as_str(), &province_code),
    )?;
    let now = chrono::Utc::now();
    let version = agency_version::ActiveModel {
        code: Set(new.code.to_string()),
        admin_unit_code: Set(new.admin_unit_code.as_ref().map(ToString::to_string)),
        name: Set(new.name.to_string()),
        name_en: Set(new.name_en.as_ref().map(ToString::to_string)),
        name_search: Set(new.name.search_key()),
        name_sort: Set(new.name.sort_key()),
        kind: Set(new.kind.as_str().to_owned()),
        level: Set(new.kind.level().as_str().to_owned()),
        parent_code: Set(new.parent_code.as_ref().map(ToString::to_string)),
        province_code: Set(province_code.clone()),
        valid_from: Set(new.valid_from),
        valid_to: Set(None),
        reorganisation_id: Set(reorganisation_id),
        created_at: Set(now),
        ..Default::default()
    };
    agency_version::Entity::insert(version)
        .exec_without_returning(c)
        .await?;
    let model = agency::ActiveModel {
        code: Set(new.code.to_string()),
        admin_unit_code: Set(new.admin_unit_code.as_ref().map(ToString::to_string)),
        name_search: Set(new.name.search_key()),
        name_sort: Set(new.name.sort_key()),
        name: Set(new.name.to_string()),
        name_en: Set(new.name_en.as_ref().map(ToString::to_string)),
        kind: Set(new.kind.as_str().to_owned()),
        level: Set(new.kind.level().as_str().to_owned()),
        parent_code: Set(new.parent_code.as_ref().map(ToString::to_string)),
        province_code: Set(province_code),
        valid_from: Set(new.valid_from),
        valid_to: Set(None),
        created_at: Set(now),
        retired_by: Set(None),
        ..Default::default()
    };
    let inserted = agency::Entity::insert(model).exec_with_returning(c).await?;
    // A reorganisation records its own feed entries when it commits.
    if reorganisation_id.is_none() {
        super::append_agency_events(c, [inserted.code.clone()]).await?;
    }
    Ok(Some(inserted))
}

#[tracing::instrument(name = "db.find", skip_all)]
pub async fn find<C: ConnectionTrait>(
    c: &C,
    code: &AgencyCode,
) -> ServiceResult<Option<agency::Model>> {
    find_str(c, code.as_str()).await
}

pub(crate) async fn find_str<C: ConnectionTrait>(
    c: &C,
    code: &str,
) -> ServiceResult<Option<agency::Model>> {
    Ok(agency::Entity::find()
        .filter(agency::Column::Code.eq(code))
        .one(c)
        .await?)
}

/// The latest record of an agency, retired or not.
#[tracing::instrument(name = "db.get", skip_all)]
pub async fn get<C: ConnectionTrait>(c: &C, code: &AgencyCode) -> ServiceResult<agency::Model> {
    find(c, code)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("no agency has code {code}")))
}

/// An agency as it was on `date`.
#[tracing::instrument(name = "db.get_as_of", skip_all)]
pub async fn get_as_of<C: ConnectionTrait>(
    c: &C,
    code: &AgencyCode,
    date: NaiveDate,
) -> ServiceResult<AgencyView> {
    let agency = get(c, code).await?;
    let version = agency_version::Entity::find()
        .filter(agency_version::Column::Code.eq(code.as_str()))
        .filter(active_on(date))
        .order_by_desc(agency_version::Column::Id)
        .one(c)
        .await?;
    match version {
        Some(v) => version_view(v, &agency),
        None => {
            let until = agency
                .valid_to
                .map_or_else(|| "on".to_owned(), |d| format!("until {d}"));
            Err(ServiceError::NotFound(format!(
                "agency {code} was not active on {date}: it existed from {} {until}",
                agency.valid_from
            )))
        }
    }
}

/// Versions covering `date`: `valid_from <= date < valid_to`.
fn active_on(date: NaiveDate) -> Condition {
    Condition::all()
        .add(agency_version::Column::ValidFrom.lte(date))
        .add(
            Condition::any()
                .add(agency_version::Column::ValidTo.is_null())
                .add(agency_version::Column::ValidTo.gt(date)),
        )
}

/// Versions a view sees: those covering the date, or each agency's last one.
fn in_view(view: View) -> Condition {
    match view {
        View::AsOf(date) => active_on(date),
        View::Latest => Condition::all().add(
            agency_version::Column::Id.in_subquery(
                Query::select()
                    .expr(agency_version::Column::Id.max())
                    .from(agency_version::Entity)
                    .group_by_col(agency_version::Column::Code)
                    .to_owned(),
            ),
        ),
    }
}

/// Agencies matching `filter` in Vietnamese alphabetical order, one page,
/// and the cursor of the next page if there is one.
#[tracing::instrument(name = "db.list", skip_all)]
pub async fn list<C: ConnectionTrait>(
    c: &C,
    filter: &AgencyFilter,
) -> ServiceResult<(Vec<AgencyView>, Option<PageCursor>)> {
    let mut query = agency_version::Entity::find().filter(in_view(filter.view));
    if let Some(parent) = &filter.parent_code {
        query = query.filter(agency_version::Column::ParentCode.eq(parent.as_str()));
    }
    if let Some(province) = &filter.province_code {
        query = query.filter(agency_version::Column::ProvinceCode.eq(province.as_str()));
    }
    if let Some(level) = filter.level {
        query = query.filter(agency_version::Column::Level.eq(level.as_str()));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(agency_version::Column::Kind.eq(kind.as_str()));
    }
    if let Some(words) = &filter.query {
        let pattern = |s: &str| LikeExpr::new(format!("%{}%", escape_like(s))).escape('\\');
        query = query.filter(
            Condition::any()
                .add(agency_version::Column::NameSearch.like(pattern(words)))
                .add(agency_version::Column::Code.like(pattern(&words.to_uppercase()))),
        );
    }
    if let Some(root) = &filter.subtree_code {
        let codes: Vec<String> = subtree(c, root, filter.view)
            .await?
            .into_iter()
            .map(|(v, _)| v.code)
            .collect();
        query = query.filter(agency_version::Column::Code.is_in(codes));
    }
    if let Some(after) = &filter.after {
        query = query.filter(
            Condition::any()
                .add(agency_version::Column::NameSort.gt(after.name_sort.as_str()))
                .add(
                    Condition::all()
                        .add(agency_version::Column::NameSort.eq(after.name_sort.as_str()))
                        .add(agency_version::Column::Code.gt(after.code.as_str())),
                ),
        );
    }
    let mut versions = query
        .order_by_asc(agency_version::Column::NameSort)
        .order_by_asc(agency_version::Column::Code)
        .limit(filter.page_size + 1)
        .all(c)
        .await?;
    let next = if versions.len() as u64 > filter.page_size {
        versions.truncate(filter.page_size as usize);
        versions.last().map(|v| PageCursor {
            name_sort: v.name_sort.clone(),
            code: v.code.clone(),
        })
    } else {
        None
    };
    Ok((with_agencies(c, versions).await?, next))
}

fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// Pairs versions with their agencies' lifetimes.
async fn with_agencies<C: ConnectionTrait>(
    c: &C,
    versions: Vec<agency_version::Model>,
) -> ServiceResult<Vec<AgencyView>> {
    if versions.is_empty() {
        return Ok(Vec::new());
    }
    let codes: Vec<&str> = versions.iter().map(|v| v.code.as_str()).collect();
    let agencies: HashMap<String, agency::Model> = agency::Entity::find()
        .filter(agency::Column::Code.is_in(codes))
        .all(c)
        .await?
        .into_iter()
        .map(|a| (a.code.clone(), a))
        .collect();
    versions
        .into_iter()
        .map(|v| {
            let agency = agencies.get(&v.code).ok_or_else(|| {
                ServiceError::Internal(anyhow::anyhow!("version of unknown agency {}", v.code))
            })?;
            version_view(v, agency)
        })
        .collect()
}

/// `root` and everything under it in `view`, depth first with each agency's
/// sub-agencies in Vietnamese order, with their depths below `root`.
#[tracing::instrument(name = "db.subtree", skip_all)]
pub async fn subtree<C: ConnectionTrait>(
    c: &C,
    root: &AgencyCode,
    view: View,
) -> ServiceResult<Vec<(AgencyView, u32)>> {
    let top = match view {
        View::AsOf(date) => get_as_of(c, root, date).await?,
        View::Latest => latest_view(get(c, root).await?)?,
    };
    // A subtree never leaves its province: moves carry the province along.
    let versions = agency_version::Entity::find()
        .filter(in_view(view))
        .filter(agency_version::Column::ProvinceCode.eq(top.province_code.as_str()))
        .order_by_asc(agency_version::Column::NameSort)
        .order_by_asc(agency_version::Column::Code)
        .all(c)
        .await?;
    let views = with_agencies(c, versions).await?;
    let mut children: BTreeMap<String, Vec<AgencyView>> = BTreeMap::new();
    for v in views {
        if let Some(parent) = &v.parent_code {
            children.entry(parent.clone()).or_default().push(v);
        }
    }
    let below = tree::walk(
        &top.code,
        &children,
        |v| v.code.clone(),
        tree::Order::DepthFirst,
    );
    let below: Vec<(AgencyView, u32)> = below.into_iter().map(|(v, d)| (v.clone(), d)).collect();
    Ok(std::iter::once((top, 0)).chain(below).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_reject_forgeries() {
        let cursor = PageCursor {
            name_sort: "00010a000000".into(),
            code: "000.00.15.H51".into(),
        };
        assert_eq!(PageCursor::decode(&cursor.encode()).unwrap(), cursor);
        for bad in ["", "abc", "xyz~000.00.15.H51", "00~51", "~000.00.15.H51"] {
            assert!(PageCursor::decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(escape_like("50%_a\\b"), "50\\%\\_a\\\\b");
    }
}
