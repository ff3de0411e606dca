//! The seed catalogue and forms (`chiso_domain::seed`), stored as written,
//! with one catalogue event each on the feed, so a follower that starts
//! from sequence 0 learns every definition.

use chiso_domain::{Catalogue, Form, seed};
use chiso_proto::{
    convert::submission::{encode_data_element, encode_form, encode_indicator, encode_rule},
    submission::v1::catalogue_change::Definition as Def,
};
use sea_orm_migration::prelude::*;

use super::m0003_reporting_core::{CatalogueVersion, Definition, FeedHead, FeedOutbox};
use crate::events;

pub struct M0004SeedDefinitions;

impl MigrationName for M0004SeedDefinitions {
    fn name(&self) -> &str {
        "m0004_seed_definitions"
    }
}

fn seed_error(e: impl std::fmt::Display) -> DbErr {
    DbErr::Custom(format!("the seed does not load: {e}"))
}

fn json(value: &impl serde::Serialize) -> Result<String, DbErr> {
    serde_json::to_string(value).map_err(seed_error)
}

#[async_trait::async_trait]
impl MigrationTrait for M0004SeedDefinitions {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let raw = seed::raw_catalogue().map_err(seed_error)?;
        let catalogue = Catalogue::build(&raw).map_err(seed_error)?;
        let raw_forms = seed::raw_forms().map_err(seed_error)?;
        let now = chrono::Utc::now();

        // (table, code, definition JSON, feed event), in the order a
        // follower needs them: elements before what refers to them.
        let mut rows: Vec<(Definition, String, String, Def)> = Vec::new();
        for (r, e) in raw.elements.iter().zip(catalogue.elements()) {
            let event = Def::DataElement(encode_data_element(e, false));
            rows.push((
                Definition::DataElements,
                e.code.to_string(),
                json(r)?,
                event,
            ));
        }
        for (r, i) in raw.indicators.iter().zip(catalogue.indicators()) {
            let event = Def::Indicator(encode_indicator(i, false));
            rows.push((Definition::Indicators, i.code.to_string(), json(r)?, event));
        }
        for (r, rule) in raw.rules.iter().zip(catalogue.rules()) {
            let event = Def::Rule(encode_rule(rule, false));
            rows.push((
                Definition::ValidationRules,
                rule.code.to_string(),
                json(r)?,
                event,
            ));
        }
        for r in &raw_forms {
            let form = Form::build(r, &catalogue).map_err(seed_error)?;
            let event = Def::Form(encode_form(&form));
            rows.push((Definition::Forms, form.code.to_string(), json(r)?, event));
        }

        let mut seq = 0i64;
        for (table, code, definition, event) in rows {
            m.exec_stmt(
                Query::insert()
                    .into_table(table)
                    .columns([
                        Definition::Code,
                        Definition::Definition,
                        Definition::Retired,
                        Definition::UpdatedAt,
                    ])
                    .values_panic([code.into(), definition.into(), false.into(), now.into()])
                    .to_owned(),
            )
            .await?;
            // Nothing else writes during a migration, so the seed numbers its
            // own events rather than waiting for the sequencer.
            seq += 1;
            m.exec_stmt(
                Query::insert()
                    .into_table(FeedOutbox::Table)
                    .columns([FeedOutbox::Seq, FeedOutbox::At, FeedOutbox::Payload])
                    .values_panic([
                        seq.into(),
                        now.into(),
                        events::catalogue_payload(event, now).into(),
                    ])
                    .to_owned(),
            )
            .await?;
        }
        m.exec_stmt(
            Query::update()
                .table(FeedHead::Table)
                .value(FeedHead::LastSeq, seq)
                .and_where(Expr::col(FeedHead::Id).eq(1))
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::update()
                .table(CatalogueVersion::Table)
                .value(CatalogueVersion::Version, 1i64)
                .and_where(Expr::col(CatalogueVersion::Id).eq(1))
                .to_owned(),
        )
        .await
    }
}
