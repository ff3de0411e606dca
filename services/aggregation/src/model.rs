//! What aggregation answers from, in memory: the organisation tree with
//! every version of every agency, the facts as one column of values per
//! period and data element (a slot per agency), and where each report
//! stands. It mirrors the committed tables: loaded from them at start, and
//! changed by the follower after each batch commits, so a query never
//! touches the database.
//!
//! Why columns rather than rollup rows: an answer for a group is a sum over
//! its members' slots, about a nanosecond each, so a province of 250
//! agencies costs microseconds and the whole country (15,000 agencies) well
//! under a millisecond, for any date's tree, any group and comparable mode
//! alike. Rollup rows per area would have to be rebuilt for every past tree
//! and every group; the columns need nothing rebuilt when the tree changes.
//! Memory is 8 bytes per agency, period and element actually reported
//! (docs/SCALING.md has the figures).

use std::collections::{HashMap, HashSet};

use chiso_domain::{
    AdminLevel, AdminUnitCode, AgencyCode, AgencyHistory, AgencyKind, DataElementCode, FormCode,
    PeriodCode, TreeVersion, completeness::Received,
};
use chrono::NaiveDate;

/// An agency's index in the tree: slots in every column are by this index.
pub type Id = u32;

/// An agency as the tree copy knows it.
#[derive(Debug, Clone)]
pub struct Node {
    pub code: AgencyCode,
    pub name: String,
    /// `None` for an agency only seen in a report so far (the agency feed
    /// has not reached it): it belongs to no area until it does.
    pub class: Option<(AgencyKind, AdminLevel)>,
    pub admin_unit: Option<AdminUnitCode>,
    pub versions: Vec<TreeVersion>,
}

impl Node {
    /// The version in force on `date`.
    pub fn version_at(&self, date: NaiveDate) -> Option<&TreeVersion> {
        self.versions
            .iter()
            .find(|v| v.valid_from <= date && v.valid_to.is_none_or(|to| date < to))
    }

    /// Whether any version covers at least one day from `from` to `to`.
    pub fn existed_between(&self, from: NaiveDate, to: NaiveDate) -> bool {
        self.versions
            .iter()
            .any(|v| v.valid_from <= to && v.valid_to.is_none_or(|end| end > from))
    }
}

/// The organisation tree, every version of it.
#[derive(Debug, Default)]
pub struct Tree {
    nodes: Vec<Node>,
    index: HashMap<AgencyCode, Id>,
    /// Every agency any version placed under a parent; a walk keeps those
    /// whose version on the day names that parent.
    children: HashMap<Id, Vec<Id>>,
    /// Agencies any version of which had no parent (province committees).
    roots: Vec<Id>,
    /// People's Committees by the administrative unit they govern.
    committees: HashMap<AdminUnitCode, Vec<Id>>,
    /// Agencies merged or split into each agency, for comparable series.
    predecessors: HashMap<Id, Vec<Id>>,
}

impl Tree {
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn node(&self, id: Id) -> &Node {
        &self.nodes[id as usize]
    }

    pub fn id(&self, code: &AgencyCode) -> Option<Id> {
        self.index.get(code).copied()
    }

    /// The agency's id, adding a placeholder for one not seen yet.
    pub fn intern(&mut self, code: &AgencyCode) -> Id {
        if let Some(id) = self.id(code) {
            return id;
        }
        let id = Id::try_from(self.nodes.len()).expect("fewer than 4 billion agencies");
        self.nodes.push(Node {
            code: code.clone(),
            name: String::new(),
            class: None,
            admin_unit: None,
            versions: Vec::new(),
        });
        self.index.insert(code.clone(), id);
        id
    }

    /// Replaces what the tree knows of one agency with its latest history.
    /// Links an earlier history made stay in the maps; walks check each
    /// node's version on the day, so a stale link is never followed.
    pub fn upsert(&mut self, history: &AgencyHistory) {
        let id = self.intern(&history.code);
        for v in &history.versions {
            match &v.parent {
                Some(parent) => {
                    let parent = self.intern(parent);
                    push_unique(self.children.entry(parent).or_default(), id);
                }
                None => push_unique(&mut self.roots, id),
            }
        }
        if let Some(unit) = &history.admin_unit {
            push_unique(self.committees.entry(unit.clone()).or_default(), id);
        }
        // A split hands an agency to several successors; its figures follow
        // the first only, so a comparable total never counts them twice.
        if let Some(successor) = history.successors.first() {
            let successor = self.intern(successor);
            if successor != id {
                push_unique(self.predecessors.entry(successor).or_default(), id);
            }
        }
        let node = &mut self.nodes[id as usize];
        node.name = history.name.clone();
        node.class = Some((history.kind, history.level));
        node.admin_unit = history.admin_unit.clone();
        node.versions = history.versions.clone();
    }

    /// The People's Committee governing `area` on `date`.
    pub fn committee(&self, area: &AdminUnitCode, date: NaiveDate) -> Option<Id> {
        self.committees
            .get(area)?
            .iter()
            .copied()
            .find(|id| self.node(*id).version_at(date).is_some())
    }

    /// The agencies directly under `parent` on `date`.
    fn children_at(&self, parent: Id, date: NaiveDate) -> impl Iterator<Item = Id> + '_ {
        let code = &self.node(parent).code;
        self.children
            .get(&parent)
            .into_iter()
            .flatten()
            .copied()
            .filter(move |c| {
                self.node(*c)
                    .version_at(date)
                    .is_some_and(|v| v.parent.as_ref() == Some(code))
            })
    }

    /// The province committees (tree roots) on `date`.
    pub fn roots_at(&self, date: NaiveDate) -> Vec<Id> {
        self.roots
            .iter()
            .copied()
            .filter(|id| {
                self.node(*id)
                    .version_at(date)
                    .is_some_and(|v| v.parent.is_none())
            })
            .collect()
    }

    /// `root` and everything under it on `date`, root first.
    pub fn subtree(&self, root: Id, date: NaiveDate) -> Vec<Id> {
        let mut out = vec![root];
        let mut seen = HashSet::from([root]);
        let mut next = 0;
        while next < out.len() {
            let at = out[next];
            next += 1;
            for child in self.children_at(at, date) {
                // A corrupt feed could make a cycle; each agency counts once.
                if seen.insert(child) {
                    out.push(child);
                }
            }
        }
        out
    }

    /// The People's Committees nearest under `root` on `date` (the districts
    /// of a province, the communes of a district): each is a child area.
    pub fn child_areas(&self, root: Id, date: NaiveDate) -> Vec<Id> {
        let mut out = Vec::new();
        let mut stack: Vec<Id> = self.children_at(root, date).collect();
        let mut seen = HashSet::from([root]);
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            if self.node(id).admin_unit.is_some() {
                out.push(id);
            } else {
                stack.extend(self.children_at(id, date));
            }
        }
        out.sort_by(|a, b| self.node(*a).admin_unit.cmp(&self.node(*b).admin_unit));
        out
    }

    /// `id` and every agency merged (or split) into it, transitively: whose
    /// figures count under it in a comparable series.
    pub fn contributors(&self, id: Id) -> Vec<Id> {
        let mut out = vec![id];
        let mut next = 0;
        while next < out.len() {
            for p in self.predecessors.get(&out[next]).into_iter().flatten() {
                if !out.contains(p) {
                    out.push(*p);
                }
            }
            next += 1;
        }
        out
    }
}

fn push_unique(list: &mut Vec<Id>, id: Id) {
    if !list.contains(&id) {
        list.push(id);
    }
}

/// A slot with no value.
const EMPTY: i64 = i64::MIN;

/// The facts: per period and element, one stored integer per agency.
#[derive(Debug, Default)]
pub struct Facts {
    periods: HashMap<PeriodCode, HashMap<DataElementCode, Vec<i64>>>,
    /// Values held, for the memory figures.
    count: usize,
}

impl Facts {
    /// The column of one element in one period, if anything was reported.
    pub fn column(&self, period: &PeriodCode, element: &DataElementCode) -> Option<&[i64]> {
        self.periods.get(period)?.get(element).map(Vec::as_slice)
    }

    pub fn set(&mut self, agency: Id, period: PeriodCode, element: &DataElementCode, value: i64) {
        let columns = self.periods.entry(period).or_default();
        // The element's code is copied only for its first value in the period.
        if !columns.contains_key(element) {
            columns.insert(element.clone(), Vec::new());
        }
        let column = columns.get_mut(element).expect("inserted above");
        let slot = agency as usize;
        if column.len() <= slot {
            column.resize(slot + 1, EMPTY);
        }
        if column[slot] == EMPTY {
            self.count += 1;
        }
        column[slot] = value;
    }

    /// Empties every slot of `agency` in `period`.
    pub fn clear(&mut self, agency: Id, period: &PeriodCode) {
        let Some(columns) = self.periods.get_mut(period) else {
            return;
        };
        for column in columns.values_mut() {
            if let Some(slot) = column.get_mut(agency as usize)
                && *slot != EMPTY
            {
                *slot = EMPTY;
                self.count -= 1;
            }
        }
    }

    pub fn len(&self) -> usize {
        self.count
    }
}

/// A slot's value, `None` when empty.
pub fn slot(column: Option<&[i64]>, agency: Id) -> Option<i64> {
    column
        .and_then(|c| c.get(agency as usize))
        .copied()
        .filter(|v| *v != EMPTY)
}

/// Where each agency's report stands, per form and period.
#[derive(Debug, Default)]
pub struct States(HashMap<(FormCode, PeriodCode), HashMap<Id, Received>>);

impl States {
    pub fn get(&self, form: &FormCode, period: &PeriodCode, agency: Id) -> Option<Received> {
        self.0.get(&(form.clone(), *period))?.get(&agency).copied()
    }

    pub fn set(&mut self, form: FormCode, period: PeriodCode, agency: Id, state: Received) {
        self.0
            .entry((form, period))
            .or_default()
            .insert(agency, state);
    }
}

/// Everything queries read.
#[derive(Debug, Default)]
pub struct Model {
    pub tree: Tree,
    pub facts: Facts,
    pub states: States,
    /// The last submission-feed and agency-feed entries the model reflects:
    /// what `GetFeedPosition` reports, so "caught up" means the answers are,
    /// not only the tables.
    pub submission_seq: i64,
    pub agency_seq: i64,
}

impl Model {
    /// The model of what the tables hold.
    pub async fn load(db: &sea_orm::DatabaseConnection) -> anyhow::Result<Self> {
        // Cursors first: whatever commits after them is applied again by the
        // follower, so the model never claims more than it holds.
        let mut model = Self {
            submission_seq: crate::store::cursor(db, crate::store::SUBMISSION_FEED).await?,
            agency_seq: crate::store::cursor(db, crate::store::REGISTRY_FEED).await?,
            ..Self::default()
        };
        for history in crate::store::load_tree(db).await? {
            model.tree.upsert(&history);
        }
        crate::store::load_facts(db, |row| model.set_fact(row)).await?;
        for (form, period, agency, state) in crate::store::load_states(db).await? {
            let id = model.tree.intern(&agency);
            model.states.set(form, period, id, state);
        }
        Ok(model)
    }

    fn set_fact(
        &mut self,
        (agency, period, element, value): crate::store::FactRow,
    ) -> anyhow::Result<()> {
        use anyhow::Context;
        let what = || format!("stored fact {agency} {period} {element}");
        let id = self
            .tree
            .intern(&AgencyCode::parse(&agency).with_context(what)?);
        let period = PeriodCode::parse(&period).with_context(what)?;
        let element = DataElementCode::parse(&element).with_context(what)?;
        self.facts.set(id, period, &element, value);
        Ok(())
    }

    /// Follows a committed batch: the touched (agency, period) pairs now
    /// hold exactly `rows`, and reports moved to `states`.
    pub fn apply_facts(
        &mut self,
        touched: &[(AgencyCode, PeriodCode)],
        rows: &[crate::store::FactRow],
        states: &[(FormCode, PeriodCode, AgencyCode, Received)],
    ) -> anyhow::Result<()> {
        for (agency, period) in touched {
            let id = self.tree.intern(agency);
            self.facts.clear(id, period);
        }
        for row in rows {
            self.set_fact(row.clone())?;
        }
        for (form, period, agency, state) in states {
            let id = self.tree.intern(agency);
            self.states.set(form.clone(), *period, id, *state);
        }
        Ok(())
    }
}

/// The model shared by the follower (the only writer) and the queries.
/// Queries hold the read lock for the few microseconds of a sum and never
/// across an await.
#[derive(Clone, Debug, Default)]
pub struct SharedModel(std::sync::Arc<std::sync::RwLock<Model>>);

impl SharedModel {
    pub fn new(model: Model) -> Self {
        Self(std::sync::Arc::new(std::sync::RwLock::new(model)))
    }

    pub fn read(&self) -> std::sync::RwLockReadGuard<'_, Model> {
        self.0
            .read()
            .expect("never poisoned: nothing panics under the lock")
    }

    pub fn write(&self) -> std::sync::RwLockWriteGuard<'_, Model> {
        self.0
            .write()
            .expect("never poisoned: nothing panics under the lock")
    }
}

/// An agency reporter reads in the province its agency is in now, as the
/// tree copy (fed by the agency feed) knows it, not in the one its token
/// named when it was issued. Other callers keep what their token says.
pub fn current_province(model: SharedModel) -> chiso_runtime::auth::Resolver {
    std::sync::Arc::new(move |principal| {
        if principal.role == chiso_domain::Role::AgencyReporter
            && let Some(code) = &principal.agency
        {
            let model = model.read();
            let current = model
                .tree
                .id(code)
                .and_then(|id| model.tree.node(id).versions.last())
                .map(|v| v.province.clone());
            if let Some(province) = current {
                principal.province = Some(province);
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(n: u32) -> AgencyCode {
        AgencyCode::parse(&format!("000.00.{n:02}.H51")).unwrap()
    }

    fn date(s: &str) -> NaiveDate {
        chiso_domain::date::parse_date(s).unwrap()
    }

    fn history(
        n: u32,
        parent: Option<u32>,
        unit: Option<&str>,
        from: &str,
        to: Option<&str>,
    ) -> AgencyHistory {
        AgencyHistory {
            code: code(n),
            kind: if unit.is_some() {
                AgencyKind::DistrictCommittee
            } else {
                AgencyKind::Department
            },
            level: AdminLevel::District,
            admin_unit: unit.map(|u| AdminUnitCode::parse(u).unwrap()),
            name: format!("agency {n}"),
            successors: Vec::new(),
            versions: vec![TreeVersion {
                valid_from: date(from),
                valid_to: to.map(date),
                parent: parent.map(code),
                province: AdminUnitCode::parse("51").unwrap(),
            }],
        }
    }

    #[test]
    fn subtrees_follow_the_tree_of_the_day() {
        let mut tree = Tree::default();
        tree.upsert(&history(1, None, Some("51"), "2000-01-01", None));
        tree.upsert(&history(
            2,
            Some(1),
            Some("524"),
            "2000-01-01",
            Some("2025-07-01"),
        ));
        tree.upsert(&history(3, Some(2), None, "2000-01-01", Some("2025-07-01")));
        // After the reform the commune hangs from the province directly.
        let mut moved = history(4, Some(2), Some("21025"), "2000-01-01", None);
        moved.versions[0].valid_to = Some(date("2025-07-01"));
        moved.versions.push(TreeVersion {
            valid_from: date("2025-07-01"),
            valid_to: None,
            parent: Some(code(1)),
            province: AdminUnitCode::parse("51").unwrap(),
        });
        tree.upsert(&moved);
        let codes = |ids: Vec<Id>| -> Vec<String> {
            ids.into_iter()
                .map(|i| tree.node(i).code.to_string())
                .collect()
        };
        let root = tree
            .committee(&AdminUnitCode::parse("51").unwrap(), date("2024-12-31"))
            .unwrap();
        assert_eq!(codes(tree.subtree(root, date("2024-12-31"))).len(), 4);
        assert_eq!(
            codes(tree.subtree(root, date("2025-12-31"))),
            [code(1).to_string(), code(4).to_string()]
        );
        assert_eq!(
            codes(tree.child_areas(root, date("2024-12-31"))),
            [code(2).to_string()]
        );
        assert_eq!(
            codes(tree.child_areas(root, date("2025-12-31"))),
            [code(4).to_string()]
        );
        assert_eq!(tree.roots_at(date("2024-01-01")), [root]);
        assert!(
            tree.committee(&AdminUnitCode::parse("524").unwrap(), date("2025-12-31"))
                .is_none()
        );
    }

    #[test]
    fn comparable_series_count_predecessors_under_successors() {
        let mut tree = Tree::default();
        let mut a = history(1, None, None, "2000-01-01", Some("2025-07-01"));
        a.successors = vec![code(3)];
        let mut b = history(2, None, None, "2000-01-01", Some("2025-07-01"));
        b.successors = vec![code(3)];
        tree.upsert(&a);
        tree.upsert(&b);
        tree.upsert(&history(3, None, None, "2025-07-01", None));
        let c = tree.id(&code(3)).unwrap();
        let mut got = tree.contributors(c);
        got.sort_unstable();
        assert_eq!(got, [0, 1, 2]);
    }

    #[test]
    fn facts_set_clear_and_count() {
        let mut facts = Facts::default();
        let p = PeriodCode::parse("2025Q1").unwrap();
        let e = DataElementCode::parse("documents_sent").unwrap();
        facts.set(3, p, &e, 10);
        facts.set(3, p, &e, 12);
        assert_eq!(facts.len(), 1);
        assert_eq!(slot(facts.column(&p, &e), 3), Some(12));
        assert_eq!(slot(facts.column(&p, &e), 1), None);
        assert_eq!(slot(facts.column(&p, &e), 9), None);
        facts.clear(3, &p);
        assert_eq!(slot(facts.column(&p, &e), 3), None);
        assert_eq!(facts.len(), 0);
    }
}
