//! The catalogue and forms in memory: built once from the stored
//! definitions, swapped whole after every change, and reloaded when another
//! replica moves `catalogue_version`. The submit path reads only this.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
    time::Duration,
};

use arc_swap::ArcSwap;
use chiso_domain::{
    Catalogue, DataElementCode, FieldErrors, Form, FormCode, IndicatorCode, RawCatalogue, RawForm,
    ReportValues, RuleCode, RuleFailure,
    catalogue::{RawDataElement, RawIndicator, RawValidationRule},
};
use chiso_proto::{
    convert::submission::{encode_data_element, encode_indicator, encode_rule},
    submission::v1::{self as pb, catalogue_change::Definition as Def},
};
use chiso_runtime::{ServiceError, ServiceResult};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement,
};
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::{
    audit::{self, Actor},
    entity::{data_element, form, indicator, report_value, validation_rule},
    events,
    idempotency::{self, IdempotencyKey},
};

/// Every definition, checked, with what is retired.
#[derive(Debug)]
pub struct Definitions {
    /// `catalogue_version` when loaded.
    pub version: i64,
    /// As stored, retired items included, in code order.
    pub raw: RawCatalogue,
    /// Built from `raw`: retired items stay so old reports still read.
    pub catalogue: Catalogue,
    pub forms: BTreeMap<FormCode, Form>,
    pub retired_elements: BTreeSet<DataElementCode>,
    pub retired_indicators: BTreeSet<IndicatorCode>,
    pub retired_rules: BTreeSet<RuleCode>,
}

impl Definitions {
    pub fn form(&self, code: &FormCode) -> Option<&Form> {
        self.forms.get(code)
    }

    /// Whether an element may be entered on `form`: on it, and not retired.
    pub fn allowed<'a>(
        &'a self,
        form: &'a Form,
    ) -> impl Fn(&DataElementCode) -> Result<(), String> + 'a {
        move |code| {
            if self.retired_elements.contains(code) {
                Err(format!("`{code}` is retired and takes no new values"))
            } else if !form.elements().any(|e| &e.code == code) {
                Err(format!("`{code}` is not on form {}", form.code))
            } else {
                Ok(())
            }
        }
    }

    /// Compulsory elements of `form` that `values` lacks (retired ones are
    /// no longer asked for).
    pub fn missing<'a>(&self, form: &'a Form, values: &ReportValues) -> Vec<&'a DataElementCode> {
        let present: BTreeSet<DataElementCode> = values.keys().cloned().collect();
        form.missing_compulsory(&present)
            .into_iter()
            .filter(|c| !self.retired_elements.contains(*c))
            .collect()
    }

    /// The rules in force that `values` breaks.
    pub fn rule_failures(&self, values: &ReportValues) -> Vec<RuleFailure> {
        self.catalogue
            .check_report(values.iter())
            .into_iter()
            .filter(|f| !self.retired_rules.contains(&f.rule))
            .collect()
    }
}

async fn rows<E, R>(db: &DatabaseConnection) -> ServiceResult<Vec<(R, bool)>>
where
    E: EntityTrait,
    E::Model: DefinitionRow,
    R: DeserializeOwned,
{
    let models = E::find()
        .order_by_asc(sea_orm::sea_query::Expr::col(
            sea_orm::sea_query::Alias::new("code"),
        ))
        .all(db)
        .await?;
    models
        .into_iter()
        .map(|m| {
            let (code, json, retired) = m.parts();
            let raw = serde_json::from_str(json).map_err(|e| {
                ServiceError::Internal(anyhow::anyhow!("stored definition {code}: {e}"))
            })?;
            Ok((raw, retired))
        })
        .collect()
}

/// The columns every definition table shares.
trait DefinitionRow {
    fn parts(&self) -> (&str, &str, bool);
}

macro_rules! definition_row {
    ($($m:ident),*) => {$(
        impl DefinitionRow for $m::Model {
            fn parts(&self) -> (&str, &str, bool) {
                (&self.code, &self.definition, self.retired)
            }
        }
    )*};
}
definition_row!(data_element, indicator, validation_rule, form);

async fn catalogue_version(db: &impl ConnectionTrait) -> ServiceResult<i64> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT version FROM catalogue_version WHERE id = 1",
        ))
        .await?
        .ok_or_else(|| {
            ServiceError::Internal(anyhow::anyhow!("catalogue_version row is missing"))
        })?;
    Ok(row.try_get("", "version")?)
}

/// Loads and builds every stored definition.
pub async fn load(db: &DatabaseConnection) -> ServiceResult<Definitions> {
    let version = catalogue_version(db).await?;
    let elements: Vec<(RawDataElement, bool)> = rows::<data_element::Entity, _>(db).await?;
    let indicators: Vec<(RawIndicator, bool)> = rows::<indicator::Entity, _>(db).await?;
    let rules: Vec<(RawValidationRule, bool)> = rows::<validation_rule::Entity, _>(db).await?;
    let raw_forms: Vec<(RawForm, bool)> = rows::<form::Entity, _>(db).await?;
    let retired_elements: Vec<String> = elements
        .iter()
        .filter(|(_, r)| *r)
        .map(|(e, _)| e.code.clone())
        .collect();
    let retired_indicators: Vec<String> = indicators
        .iter()
        .filter(|(_, r)| *r)
        .map(|(i, _)| i.code.clone())
        .collect();
    let retired_rules: Vec<String> = rules
        .iter()
        .filter(|(_, r)| *r)
        .map(|(r, _)| r.code.clone())
        .collect();
    let raw = RawCatalogue {
        elements: elements.into_iter().map(|(r, _)| r).collect(),
        indicators: indicators.into_iter().map(|(r, _)| r).collect(),
        rules: rules.into_iter().map(|(r, _)| r).collect(),
    };
    let invalid = |what: &str, e: FieldErrors| {
        ServiceError::Internal(anyhow::anyhow!("stored {what} does not build: {e}"))
    };
    let catalogue = Catalogue::build(&raw).map_err(|e| invalid("catalogue", e))?;
    let mut forms = BTreeMap::new();
    for (r, retired) in &raw_forms {
        let form = Form::build(r, &catalogue).map_err(|e| invalid("form", e))?;
        if !retired {
            forms.insert(form.code.clone(), form);
        }
    }
    Ok(Definitions {
        version,
        raw,
        catalogue,
        forms,
        retired_elements: parse_all(retired_elements),
        retired_indicators: parse_all(retired_indicators),
        retired_rules: parse_all(retired_rules),
    })
}

/// Stored codes, parsed; a stored code always parsed when it was written.
fn parse_all<C: std::str::FromStr + Ord>(codes: Vec<String>) -> BTreeSet<C> {
    codes.into_iter().filter_map(|c| c.parse().ok()).collect()
}

/// The definitions every request reads, swapped whole on change.
pub struct Cache {
    current: ArcSwap<Definitions>,
}

impl Cache {
    pub async fn new(db: &DatabaseConnection) -> ServiceResult<Self> {
        Ok(Self {
            current: ArcSwap::from_pointee(load(db).await?),
        })
    }

    pub fn get(&self) -> Arc<Definitions> {
        self.current.load_full()
    }

    pub async fn reload(&self, db: &DatabaseConnection) -> ServiceResult<()> {
        let fresh = load(db).await?;
        info!(version = fresh.version, "catalogue loaded");
        self.current.store(Arc::new(fresh));
        Ok(())
    }

    /// Reloads when another replica changed the catalogue.
    pub async fn refresh(&self, db: &DatabaseConnection) -> ServiceResult<()> {
        if catalogue_version(db).await? != self.get().version {
            self.reload(db).await?;
        }
        Ok(())
    }

    /// Polls `catalogue_version` every `poll` until `stop`.
    pub async fn follow(
        self: Arc<Self>,
        db: DatabaseConnection,
        poll: Duration,
        stop: CancellationToken,
    ) {
        loop {
            tokio::select! {
                () = tokio::time::sleep(poll) => {}
                () = stop.cancelled() => return,
            }
            if let Err(err) = self.refresh(&db).await {
                warn!(error = %err, "catalogue refresh failed");
            }
        }
    }
}

/// A definition as sent by an admin.
#[derive(Debug, Clone)]
pub enum Item {
    Element(RawDataElement),
    Indicator(RawIndicator),
    Rule(RawValidationRule),
}

/// Which kind of definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Element,
    Indicator,
    Rule,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Element => "data_element",
            Self::Indicator => "indicator",
            Self::Rule => "validation_rule",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Element => "data element",
            Self::Indicator => "indicator",
            Self::Rule => "validation rule",
        }
    }

    /// Path of the item at `i` in `Catalogue::build`'s errors.
    fn path(self, i: usize) -> String {
        match self {
            Self::Element => format!("elements[{i}]"),
            Self::Indicator => format!("indicators[{i}]"),
            Self::Rule => format!("rules[{i}]"),
        }
    }

    fn codes(self, raw: &RawCatalogue) -> Vec<&str> {
        match self {
            Self::Element => raw.elements.iter().map(|e| e.code.trim()).collect(),
            Self::Indicator => raw.indicators.iter().map(|e| e.code.trim()).collect(),
            Self::Rule => raw.rules.iter().map(|e| e.code.trim()).collect(),
        }
    }

    fn is_retired(self, defs: &Definitions, code: &str) -> bool {
        match self {
            Self::Element => defs.retired_elements.iter().any(|c| c.as_str() == code),
            Self::Indicator => defs.retired_indicators.iter().any(|c| c.as_str() == code),
            Self::Rule => defs.retired_rules.iter().any(|c| c.as_str() == code),
        }
    }
}

impl Item {
    fn kind(&self) -> Kind {
        match self {
            Self::Element(_) => Kind::Element,
            Self::Indicator(_) => Kind::Indicator,
            Self::Rule(_) => Kind::Rule,
        }
    }

    fn code(&self) -> &str {
        match self {
            Self::Element(e) => e.code.trim(),
            Self::Indicator(i) => i.code.trim(),
            Self::Rule(r) => r.code.trim(),
        }
    }

    fn json(&self) -> String {
        match self {
            Self::Element(e) => serde_json::to_string(e),
            Self::Indicator(i) => serde_json::to_string(i),
            Self::Rule(r) => serde_json::to_string(r),
        }
        .expect("definitions always serialise")
    }

    /// `raw` with this item put at `i` (or appended when `i` is past the end).
    fn place(&self, raw: &mut RawCatalogue, i: usize) {
        fn put<T: Clone>(v: &mut Vec<T>, i: usize, item: &T) {
            if i < v.len() {
                v[i] = item.clone();
            } else {
                v.push(item.clone());
            }
        }
        match self {
            Self::Element(e) => put(&mut raw.elements, i, e),
            Self::Indicator(ind) => put(&mut raw.indicators, i, ind),
            Self::Rule(r) => put(&mut raw.rules, i, r),
        }
    }
}

/// The wire form of the item `code` in `catalogue`.
fn encode(catalogue: &Catalogue, kind: Kind, code: &str, retired: bool) -> Option<Def> {
    match kind {
        Kind::Element => catalogue
            .elements()
            .iter()
            .find(|e| e.code.as_str() == code)
            .map(|e| Def::DataElement(encode_data_element(e, retired))),
        Kind::Indicator => catalogue
            .indicators()
            .iter()
            .find(|i| i.code.as_str() == code)
            .map(|i| Def::Indicator(encode_indicator(i, retired))),
        Kind::Rule => catalogue
            .rules()
            .iter()
            .find(|r| r.code.as_str() == code)
            .map(|r| Def::Rule(encode_rule(r, retired))),
    }
}

/// The item as currently defined, retired or not; `None` when unknown.
pub fn current(defs: &Definitions, kind: Kind, code: &str) -> Option<Def> {
    encode(&defs.catalogue, kind, code, kind.is_retired(defs, code))
}

fn not_found(kind: Kind, code: &str) -> ServiceError {
    ServiceError::NotFound(format!("no {} has code {code}", kind.describe()))
}

/// What an admin does to a definition.
#[derive(Debug, Clone)]
pub enum Change {
    Create(Item),
    Update(Item),
    Retire(Kind, String),
}

impl Change {
    fn kind(&self) -> Kind {
        match self {
            Self::Create(i) | Self::Update(i) => i.kind(),
            Self::Retire(k, _) => *k,
        }
    }

    fn code(&self) -> &str {
        match self {
            Self::Create(i) | Self::Update(i) => i.code(),
            Self::Retire(_, c) => c.trim(),
        }
    }

    fn action(&self) -> String {
        let verb = match self {
            Self::Create(_) => "create",
            Self::Update(_) => "update",
            Self::Retire(..) => "retire",
        };
        format!("{verb}_{}", self.kind().name())
    }
}

/// The catalogue with `item` placed at its index, built; errors about the
/// item itself are named `definition.<field>`, others keep their path.
fn rebuild(defs: &Definitions, item: &Item, index: usize) -> Result<Catalogue, FieldErrors> {
    let mut raw = defs.raw.clone();
    // A new item goes at the end: its errors carry the index it lands at.
    let at = index.min(item.kind().codes(&raw).len());
    item.place(&mut raw, index);
    let prefix = format!("{}.", item.kind().path(at));
    Catalogue::build(&raw).map_err(|errors| {
        FieldErrors(
            errors
                .0
                .into_iter()
                .map(|mut e| {
                    match e.field.strip_prefix(&prefix) {
                        Some(rest) => e.field = format!("definition.{rest}"),
                        None => {
                            e.message = format!("{}: {}", e.field, e.message);
                            e.field = "definition".into();
                        }
                    }
                    e
                })
                .collect(),
        )
    })
}

/// Applies `change` (checked against the whole catalogue), records it with
/// its feed event, audit entry and idempotent answer in one transaction,
/// then reloads the cache. Returns the item as it now stands.
pub async fn apply(
    db: &DatabaseConnection,
    cache: &Cache,
    actor: &Actor,
    key: Option<&IdempotencyKey>,
    change: &Change,
) -> ServiceResult<pb::CatalogueChange> {
    let defs = cache.get();
    let (kind, code) = (change.kind(), change.code().to_owned());
    let index = kind.codes(&defs.raw).iter().position(|c| *c == code);
    let definition = match (change, index) {
        (Change::Create(_), Some(_)) => {
            return Err(ServiceError::Conflict(FieldErrors::single(
                "definition.code",
                format!("a {} with code {code} already exists", kind.describe()),
            )));
        }
        (Change::Create(item), None) => {
            let built = rebuild(&defs, item, usize::MAX)?;
            encode(&built, kind, &code, false)
        }
        (Change::Update(_) | Change::Retire(..), None) => return Err(not_found(kind, &code)),
        (Change::Update(item), Some(i)) => {
            let built = rebuild(&defs, item, i)?;
            if let Item::Element(_) = item {
                let parsed: DataElementCode = code.parse().map_err(|_| not_found(kind, &code))?;
                let before = defs.catalogue.element(&parsed).map(|e| e.value_type);
                let after = built.element(&parsed).map(|e| e.value_type);
                if before != after && element_in_use(db, &code).await? {
                    return Err(ServiceError::field(
                        "definition.value_type",
                        format!(
                            "reports hold values of `{code}`: its value type and decimals stay as they are"
                        ),
                    ));
                }
            }
            let retired = kind.is_retired(&defs, &code);
            encode(&built, kind, &code, retired)
        }
        (Change::Retire(..), Some(_)) => {
            if kind.is_retired(&defs, &code) {
                // Retiring twice changes nothing and writes nothing.
                let item = current(&defs, kind, &code);
                return Ok(pb::CatalogueChange { definition: item });
            }
            encode(&defs.catalogue, kind, &code, true)
        }
    };
    let definition = definition.ok_or_else(|| not_found(kind, &code))?;
    let answer = pb::CatalogueChange {
        definition: Some(definition.clone()),
    };

    let now = chrono::Utc::now();
    let txn = chiso_runtime::db::begin_write(db).await?;
    match change {
        Change::Create(item) => {
            insert_definition(&txn, kind, &code, item.json(), now).await?;
        }
        Change::Update(item) => {
            update_definition(&txn, kind, &code, Some(item.json()), None, now).await?;
        }
        Change::Retire(..) => {
            update_definition(&txn, kind, &code, None, Some(now), now).await?;
        }
    }
    txn.execute_unprepared("UPDATE catalogue_version SET version = version + 1 WHERE id = 1")
        .await?;
    events::append(&txn, events::catalogue_payload(definition, now), now).await?;
    audit::record(
        &txn,
        actor,
        now,
        audit::Entry {
            item: format!("{}/{code}", kind.name()),
            action: &change.action(),
            ..Default::default()
        },
    )
    .await?;
    if let Some(key) = key {
        idempotency::remember(&txn, key, &answer, now).await?;
    }
    txn.commit().await?;
    cache.reload(db).await?;
    info!(code, action = change.action(), "catalogue changed");
    Ok(answer)
}

async fn element_in_use(db: &DatabaseConnection, code: &str) -> ServiceResult<bool> {
    let found: Option<String> = report_value::Entity::find()
        .select_only()
        .column(report_value::Column::DataElement)
        .filter(report_value::Column::DataElement.eq(code))
        .limit(1)
        .into_tuple()
        .one(db)
        .await?;
    Ok(found.is_some())
}

async fn insert_definition(
    txn: &impl ConnectionTrait,
    kind: Kind,
    code: &str,
    json: String,
    now: chrono::DateTime<chrono::Utc>,
) -> ServiceResult<()> {
    macro_rules! insert {
        ($m:ident) => {
            $m::Entity::insert($m::ActiveModel {
                code: Set(code.to_owned()),
                definition: Set(json),
                retired: Set(false),
                retired_at: Set(None),
                updated_at: Set(now),
            })
            .exec_without_returning(txn)
            .await?
        };
    }
    match kind {
        Kind::Element => insert!(data_element),
        Kind::Indicator => insert!(indicator),
        Kind::Rule => insert!(validation_rule),
    };
    Ok(())
}

async fn update_definition(
    txn: &impl ConnectionTrait,
    kind: Kind,
    code: &str,
    json: Option<String>,
    retired_at: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
) -> ServiceResult<()> {
    macro_rules! update {
        ($m:ident) => {{
            let mut model = $m::ActiveModel {
                code: sea_orm::ActiveValue::Unchanged(code.to_owned()),
                updated_at: Set(now),
                ..Default::default()
            };
            if let Some(json) = json {
                model.definition = Set(json);
            }
            if let Some(at) = retired_at {
                model.retired = Set(true);
                model.retired_at = Set(Some(at));
            }
            $m::Entity::update(model).exec(txn).await?;
        }};
    }
    match kind {
        Kind::Element => update!(data_element),
        Kind::Indicator => update!(indicator),
        Kind::Rule => update!(validation_rule),
    }
    Ok(())
}
