//! The skeleton's catalogue rows; m0003 drops them with their tables.

use sea_orm_migration::prelude::*;

use super::m0001_reports::{DataElements, Indicators};

/// The first catalogue, from the provincial plans (Quảng Ngãi 2018, Lâm Đồng 2014).
pub struct M0002SeedCatalogue;

impl MigrationName for M0002SeedCatalogue {
    fn name(&self) -> &str {
        "m0002_seed_catalogue"
    }
}

const DATA_ELEMENTS: &[(&str, &str, &str)] = &[
    (
        "officials",
        "Số cán bộ, công chức, viên chức",
        "Officials and public employees",
    ),
    (
        "officials_with_computer",
        "Số cán bộ, công chức, viên chức được trang bị máy vi tính",
        "Officials equipped with a computer",
    ),
    ("documents_sent", "Số văn bản đi", "Documents sent"),
    (
        "documents_sent_electronic",
        "Số văn bản đi được gửi dưới dạng điện tử",
        "Documents sent electronically",
    ),
];

const INDICATORS: &[(&str, &str, &str, &str, &str, f64, &str)] = &[
    (
        "computer_equipment_rate",
        "Tỷ lệ cán bộ, công chức, viên chức được trang bị máy vi tính",
        "Share of officials equipped with a computer",
        "officials_with_computer",
        "officials",
        100.0,
        "%",
    ),
    (
        "electronic_document_rate",
        "Tỷ lệ văn bản đi được gửi dưới dạng điện tử",
        "Share of documents sent electronically",
        "documents_sent_electronic",
        "documents_sent",
        100.0,
        "%",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for M0002SeedCatalogue {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (code, name, name_en) in DATA_ELEMENTS {
            m.exec_stmt(
                Query::insert()
                    .into_table(DataElements::Table)
                    .columns([DataElements::Code, DataElements::Name, DataElements::NameEn])
                    .values_panic([(*code).into(), (*name).into(), (*name_en).into()])
                    .to_owned(),
            )
            .await?;
        }
        for (code, name, name_en, num, den, factor, unit) in INDICATORS {
            m.exec_stmt(
                Query::insert()
                    .into_table(Indicators::Table)
                    .columns([
                        Indicators::Code,
                        Indicators::Name,
                        Indicators::NameEn,
                        Indicators::Numerator,
                        Indicators::Denominator,
                        Indicators::Factor,
                        Indicators::Unit,
                    ])
                    .values_panic([
                        (*code).into(),
                        (*name).into(),
                        (*name_en).into(),
                        (*num).into(),
                        (*den).into(),
                        (*factor).into(),
                        (*unit).into(),
                    ])
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
