//! The organisation tree (cây tổ chức) in memory: each agency's versions with
//! their dates, as a follower of the registry's agency feed keeps them, and
//! one walk over a tree or graph held as a map from each node to the items
//! under it (sub-agencies under a parent, lineage links from a predecessor),
//! so database code only loads the map.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use chrono::NaiveDate;

use crate::{AdminUnitCode, AgencyCode};

/// In which order [`walk`] visits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Each item followed by everything under it (a tree listing).
    DepthFirst,
    /// Level by level, nearest first.
    BreadthFirst,
}

/// Every item reachable from `root`, with its depth (1 for the items
/// directly under `root`), each in the order `children` lists it. `key`
/// names the node an item leads to; a node is expanded once, so a cycle or
/// a node reached twice ends the walk there (the item itself is still
/// listed).
pub fn walk<'a, K, T>(
    root: &K,
    children: &'a BTreeMap<K, Vec<T>>,
    key: impl Fn(&T) -> K,
    order: Order,
) -> Vec<(&'a T, u32)>
where
    K: Ord + Clone,
{
    let mut seen = BTreeSet::from([root.clone()]);
    let mut pending: VecDeque<(&'a T, u32)> = VecDeque::new();
    let enqueue = |pending: &mut VecDeque<(&'a T, u32)>, node: &K, depth: u32| {
        let items = children.get(node).map(Vec::as_slice).unwrap_or_default();
        match order {
            // The last pushed is taken first: push in reverse to keep the listed order.
            Order::DepthFirst => pending.extend(items.iter().rev().map(|t| (t, depth))),
            Order::BreadthFirst => pending.extend(items.iter().map(|t| (t, depth))),
        }
    };
    enqueue(&mut pending, root, 1);
    let mut out = Vec::new();
    loop {
        let next = match order {
            Order::DepthFirst => pending.pop_back(),
            Order::BreadthFirst => pending.pop_front(),
        };
        let Some((item, depth)) = next else {
            return out;
        };
        out.push((item, depth));
        let node = key(item);
        if seen.insert(node.clone()) {
            enqueue(&mut pending, &node, depth + 1);
        }
    }
}

/// Where an agency sat in the tree from `valid_from` until `valid_to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeVersion {
    pub valid_from: NaiveDate,
    /// Exclusive end; `None` for the current version.
    pub valid_to: Option<NaiveDate>,
    /// `None` for a province root.
    pub parent: Option<AgencyCode>,
    pub province: AdminUnitCode,
}

/// An agency's whole history in the tree, oldest version first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyHistory {
    pub code: AgencyCode,
    /// What the agency is (department, district committee, …): groups such
    /// as "the district committees of a province" are made of these.
    pub kind: crate::AgencyKind,
    pub level: crate::AdminLevel,
    /// Set for People's Committees: the area they govern.
    pub admin_unit: Option<AdminUnitCode>,
    /// The agency's current name.
    pub name: String,
    /// Agencies it handed over to in a merger or split (its lineage), so a
    /// series can follow it to its successor.
    pub successors: Vec<AgencyCode>,
    pub versions: Vec<TreeVersion>,
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn tree() -> BTreeMap<&'static str, Vec<&'static str>> {
        BTreeMap::from([
            ("province", vec!["dept", "district"]),
            ("district", vec!["commune a", "commune b"]),
            ("dept", vec![]),
        ])
    }

    #[test]
    fn depth_first_lists_a_tree_as_an_outline() {
        let tree = tree();
        let out: Vec<(&str, u32)> = walk(&"province", &tree, |c| *c, Order::DepthFirst)
            .into_iter()
            .map(|(c, d)| (*c, d))
            .collect();
        assert_eq!(
            out,
            [
                ("dept", 1),
                ("district", 1),
                ("commune a", 2),
                ("commune b", 2)
            ]
        );
    }

    #[test]
    fn breadth_first_goes_level_by_level() {
        let tree = tree();
        let out: Vec<&str> = walk(&"province", &tree, |c| *c, Order::BreadthFirst)
            .into_iter()
            .map(|(c, _)| *c)
            .collect();
        assert_eq!(out, ["dept", "district", "commune a", "commune b"]);
        assert!(walk(&"nowhere", &tree, |c| *c, Order::BreadthFirst).is_empty());
    }

    #[test]
    fn a_cycle_ends_the_walk() {
        let graph = BTreeMap::from([("a", vec!["b"]), ("b", vec!["a"])]);
        let out: Vec<&str> = walk(&"a", &graph, |c| *c, Order::BreadthFirst)
            .into_iter()
            .map(|(c, _)| *c)
            .collect();
        assert_eq!(out, ["b", "a"]);
    }

    proptest! {
        /// In any graph both orders list the same items, each reachable node
        /// is expanded once, and the walk ends.
        #[test]
        fn both_orders_visit_the_same_items(edges in prop::collection::vec((0u8..12, 0u8..12), 0..40)) {
            let mut graph: BTreeMap<u8, Vec<u8>> = BTreeMap::new();
            for (from, to) in &edges {
                graph.entry(*from).or_default().push(*to);
            }
            let mut depth: Vec<u8> = walk(&0, &graph, |n| *n, Order::DepthFirst).into_iter().map(|(n, _)| *n).collect();
            let mut breadth: Vec<u8> = walk(&0, &graph, |n| *n, Order::BreadthFirst).into_iter().map(|(n, _)| *n).collect();
            prop_assert!(depth.len() <= edges.len());
            depth.sort_unstable();
            breadth.sort_unstable();
            prop_assert_eq!(depth, breadth);
        }
    }
}
