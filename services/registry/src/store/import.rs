//! Importing an agency list in one transaction: every row is checked, a
//! row may name a parent anywhere in the file, and nothing is stored unless
//! every row can be (or ever, in a dry run).

use std::collections::{BTreeSet, HashMap};

use chiso_domain::{AgencyView, FieldError};
use chiso_runtime::ServiceResult;
use sea_orm::DatabaseConnection;

use chiso_runtime::policy::Scope;

use super::{Problems, find_str, insert_agency, latest_view};
use crate::csv_import::{Parsed, cell};

/// What an import did, or would do.
#[derive(Debug)]
pub struct ImportSummary {
    pub rows: usize,
    /// The agencies created (or that a commit would create), in file order.
    pub created: Vec<AgencyView>,
    /// Every problem in line order, and whether it clashes with stored data.
    pub errors: Vec<(FieldError, bool)>,
    pub committed: bool,
}

/// Imports parsed rows. With `dry_run`, or any problem, the transaction is
/// rolled back and the summary lists every problem; a list that long would
/// not fit in a gRPC error's trailers, so it is never one.
pub async fn import_agencies(
    db: &DatabaseConnection,
    parsed: Parsed,
    dry_run: bool,
    scope: &Scope,
) -> ServiceResult<ImportSummary> {
    let mut problems = Problems::default();
    for e in parsed.errors.0 {
        problems.invalid(e.field, e.message);
    }
    let rows = parsed.rows.len();
    // The first line each code appears on; later ones are duplicates.
    let mut first_line: HashMap<String, u64> = HashMap::new();
    let mut first_unit: HashMap<String, u64> = HashMap::new();
    let mut pending = Vec::new();
    for row in parsed.rows {
        let Some(agency) = row.agency else { continue };
        let mut duplicate = false;
        if let Some(line) = first_line.get(agency.code.as_str()) {
            problems.invalid(
                cell(row.line, "code"),
                format!("{} is already on line {line}", agency.code),
            );
            duplicate = true;
        }
        if let Some(unit) = &agency.admin_unit_code
            && let Some(line) = first_unit.get(unit.as_str())
        {
            problems.invalid(
                cell(row.line, "admin_unit_code"),
                format!("{unit} is already on line {line}"),
            );
            duplicate = true;
        }
        if !duplicate {
            first_line.insert(agency.code.to_string(), row.line);
            if let Some(unit) = &agency.admin_unit_code {
                first_unit.insert(unit.to_string(), row.line);
            }
            pending.push((row.line, agency));
        }
    }

    let txn = chiso_runtime::db::begin_write(db).await?;
    let mut created: Vec<(u64, AgencyView)> = Vec::new();
    let mut imported: BTreeSet<String> = BTreeSet::new();
    let mut failed: BTreeSet<String> = BTreeSet::new();
    // Parents first, whatever the order of the file: each pass stores the
    // rows whose parent is stored already or is not in the file at all.
    loop {
        let mut progress = false;
        let mut waiting = Vec::new();
        for (line, agency) in std::mem::take(&mut pending) {
            let parent = agency.parent_code.as_ref().map(ToString::to_string);
            let in_file = parent.as_ref().and_then(|p| first_line.get(p).copied());
            // A parent row that failed because its agency is already stored
            // still places its children: check them against the stored one.
            let parent_stored = match &parent {
                Some(p) if failed.contains(p) => find_str(&txn, p).await?.is_some(),
                _ => false,
            };
            match (parent, in_file) {
                (Some(p), Some(parent_line)) if failed.contains(&p) && !parent_stored => {
                    problems.invalid(
                        cell(line, "parent_code"),
                        format!("the parent {p} on line {parent_line} cannot be imported"),
                    );
                    failed.insert(agency.code.to_string());
                    progress = true;
                }
                (Some(p), Some(_)) if !imported.contains(&p) && !parent_stored => {
                    waiting.push((line, agency));
                }
                _ => {
                    let prefix = format!("lines[{line}]");
                    match insert_agency(&txn, &agency, &prefix, None, scope, &mut problems).await? {
                        Some(a) => {
                            imported.insert(a.code.clone());
                            created.push((line, latest_view(a)?));
                        }
                        None => {
                            failed.insert(agency.code.to_string());
                        }
                    }
                    progress = true;
                }
            }
        }
        pending = waiting;
        if pending.is_empty() || !progress {
            break;
        }
    }
    for (line, agency) in &pending {
        problems.invalid(
            cell(*line, "parent_code"),
            format!(
                "{} cannot be placed: the parents named in the file form a cycle",
                agency.code
            ),
        );
    }
    created.sort_by_key(|(line, _)| *line);
    let created: Vec<AgencyView> = created.into_iter().map(|(_, a)| a).collect();
    if dry_run || !problems.is_empty() {
        txn.rollback().await?;
        return Ok(ImportSummary {
            rows,
            created,
            errors: problems.into_sorted_by_line(),
            committed: false,
        });
    }
    txn.commit().await?;
    Ok(ImportSummary {
        rows,
        created,
        errors: Vec::new(),
        committed: true,
    })
}
