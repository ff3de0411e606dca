//! This service's copy of the catalogue, learned from the submission feed
//! (never asked for: aggregation does not call back), kept in memory and
//! rebuilt from the stored definitions whenever one arrives.

use std::sync::{Arc, RwLock};

use anyhow::Context;
use chiso_domain::{Catalogue, Form, RawCatalogue};
use chiso_proto::{
    convert::catalogue::{raw_data_element, raw_form, raw_indicator, raw_rule},
    submission::v1 as pb,
};
use prost::Message;
use sea_orm::DatabaseConnection;

use crate::store;

/// Kinds of stored definitions (`catalogue_definitions.kind`).
pub const DATA_ELEMENT: &str = "data_element";
pub const INDICATOR: &str = "indicator";
pub const RULE: &str = "rule";
pub const FORM: &str = "form";

/// The catalogue and the forms, as built together.
#[derive(Debug, Default)]
pub struct Definitions {
    pub catalogue: Catalogue,
    /// Forms in code order.
    pub forms: Vec<Form>,
}

impl std::ops::Deref for Definitions {
    type Target = Catalogue;
    fn deref(&self) -> &Catalogue {
        &self.catalogue
    }
}

impl Definitions {
    pub fn form(&self, code: &chiso_domain::FormCode) -> Option<&Form> {
        self.forms.iter().find(|f| &f.code == code)
    }
}

/// The current catalogue, shared by the follower (which rebuilds it) and the
/// API (which reads it).
#[derive(Clone, Default)]
pub struct CatalogueCache(Arc<RwLock<Arc<Definitions>>>);

impl CatalogueCache {
    /// The catalogue as of the last applied definition.
    pub fn get(&self) -> Arc<Definitions> {
        self.0
            .read()
            .expect("never poisoned: no panics under the lock")
            .clone()
    }

    /// Rebuilds from every stored definition. Definitions in the store were
    /// checked by the submission service, so a failure means a corrupt feed.
    pub async fn reload(&self, db: &DatabaseConnection) -> anyhow::Result<()> {
        let mut raw = RawCatalogue::default();
        let mut raw_forms = Vec::new();
        // Stored in (kind, code) order; definition order does not matter to
        // the checks, and lookups are by code.
        for d in store::definitions(db).await? {
            let what = || format!("stored {} {}", d.kind, d.code);
            match d.kind.as_str() {
                DATA_ELEMENT => raw.elements.push(
                    raw_data_element(
                        &pb::DataElement::decode(d.payload.as_slice()).with_context(what)?,
                    )
                    .with_context(what)?,
                ),
                INDICATOR => raw.indicators.push(
                    raw_indicator(&pb::Indicator::decode(d.payload.as_slice()).with_context(what)?)
                        .with_context(what)?,
                ),
                RULE => raw.rules.push(raw_rule(
                    &pb::ValidationRule::decode(d.payload.as_slice()).with_context(what)?,
                )),
                FORM => raw_forms.push(
                    raw_form(&pb::Form::decode(d.payload.as_slice()).with_context(what)?)
                        .with_context(what)?,
                ),
                _ => {}
            }
        }
        let built = Catalogue::build(&raw)
            .map_err(|e| anyhow::anyhow!("the catalogue from the feed does not build: {e}"))?;
        let forms = raw_forms
            .iter()
            .map(|f| {
                Form::build(f, &built).map_err(|e| {
                    anyhow::anyhow!("form {} from the feed does not build: {e}", f.code)
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        *self.0.write().expect("never poisoned") = Arc::new(Definitions {
            catalogue: built,
            forms,
        });
        Ok(())
    }
}
