//! `chiso keys generate|register|list`, and the signing of reports with
//! the domain crate's own canonical content (RFC 8785 JSON, Ed25519), so
//! the bytes signed here are the bytes the submission service verifies.

use base64::{Engine, engine::general_purpose::STANDARD};
use chiso_domain::{
    AgencyCode, Catalogue, FormCode, PeriodCode, ReportKey, ReportValues,
    catalogue::{RawCatalogue, RawDataElement, RawNumber},
    signature::{SigningKey as RegisteredKey, decode_signature, signed_content, verify},
};
use ed25519_dalek::{
    SigningKey,
    pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, spki::der::pem::LineEnding},
};
use serde_json::{Value, json};

use super::{
    Ctx,
    error::{CliError, CliResult},
    http::{Api, Call},
    output::{self, Table, field},
    profile::write_private,
};

pub const KEYS_EXAMPLES: &str = "\
Examples:
  chiso keys generate                 # once: a key pair under ~/.config/chiso/keys/
  chiso keys register --label \"Máy chủ báo cáo, Sở TT&TT\"
  chiso keys list
  chiso report submit bao-cao-2025.json --sign";

/// `chiso keys …`.
#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Writes an Ed25519 key pair for signing reports (private key 0600).
    Generate {
        /// Replace an existing key pair (a registered key stays valid for
        /// what it signed).
        #[arg(long)]
        force: bool,
    },
    /// Registers the profile's public key with the agency's keys.
    Register {
        /// A label shown in key lists, e.g. where the key lives.
        #[arg(long)]
        label: Option<String>,
        /// The agency (the profile's own by default).
        #[arg(long)]
        agency: Option<String>,
    },
    /// The agency's registered keys, revoked ones too.
    List {
        /// The agency (the profile's own by default).
        #[arg(long)]
        agency: Option<String>,
    },
}

/// The agency a command is about: given, or the profile's own.
pub fn agency_of(api: &Api, given: Option<String>) -> CliResult<String> {
    given
        .or_else(|| api.profile.agency_code.clone())
        .ok_or_else(|| {
            CliError::usage(api.lang.pick(
                "this profile is not an agency's: give --agency CODE",
                "hồ sơ này không thuộc cơ quan nào: dùng --agency MÃ",
            ))
        })
}

pub async fn keys(command: KeysCommand, ctx: &Ctx) -> CliResult {
    let l = ctx.lang;
    match command {
        KeysCommand::Generate { force } => {
            let (private, public) = ctx.home.key_files(&ctx.profile);
            if private.exists() && !force {
                return Err(CliError::usage(format!(
                    "{} {}: --force {}",
                    l.pick("a key pair exists in", "đã có cặp khoá tại"),
                    private.display(),
                    l.pick("replaces it", "để thay"),
                )));
            }
            let key = SigningKey::generate(&mut rand::rngs::OsRng);
            let private_pem = key
                .to_pkcs8_pem(LineEnding::LF)
                .map_err(|e| anyhow::anyhow!("failed to encode the key: {e}"))?;
            let public_pem = key
                .verifying_key()
                .to_public_key_pem(LineEnding::LF)
                .map_err(|e| anyhow::anyhow!("failed to encode the key: {e}"))?;
            write_private(&private, private_pem.as_bytes())?;
            write_private(&public, public_pem.as_bytes())?;
            println!(
                "{} {}\n{} {}\n{}: {}",
                l.pick("private key:", "khoá bí mật:"),
                private.display(),
                l.pick("public key: ", "khoá công khai:"),
                public.display(),
                l.pick("public key (base64)", "khoá công khai (base64)"),
                STANDARD.encode(key.verifying_key().as_bytes()),
            );
            println!(
                "{}",
                l.pick(
                    "next: chiso keys register",
                    "tiếp theo: chiso keys register"
                )
            );
            Ok(())
        }
        KeysCommand::Register { label, agency } => {
            let api = ctx.api()?;
            let agency = agency_of(&api, agency)?;
            let key = load_key(ctx)?;
            let registered = api
                .json(
                    Call::post(format!("/api/v1/agencies/{agency}/keys")).json(json!({
                        "public_key": STANDARD.encode(key.verifying_key().as_bytes()),
                        "label": label,
                    })),
                )
                .await?;
            let key_id = field(&registered, "key_id");
            let mut profile = api.profile.clone();
            profile.key_id = Some(key_id.clone());
            ctx.home.save(&ctx.profile, &profile)?;
            match ctx.output {
                output::Output::Json => println!("{}", output::pretty(&registered)),
                _ => println!(
                    "{} {key_id} {} {agency}",
                    l.pick("registered key", "đã đăng ký khoá"),
                    l.pick("for", "cho"),
                ),
            }
            Ok(())
        }
        KeysCommand::List { agency } => {
            let api = ctx.api()?;
            let agency = agency_of(&api, agency)?;
            let list = api
                .json(Call::get(format!("/api/v1/agencies/{agency}/keys")))
                .await?;
            let mut table = Table::new(&[
                l.pick("key", "khoá"),
                l.pick("registered", "đăng ký"),
                l.pick("revoked", "thu hồi"),
                l.pick("label", "nhãn"),
                l.pick("public key", "khoá công khai"),
            ]);
            for key in list.as_array().into_iter().flatten() {
                table.row(vec![
                    field(key, "key_id"),
                    field(key, "registered_at"),
                    field(key, "revoked_at"),
                    field(key, "label"),
                    field(key, "public_key"),
                ]);
            }
            output::print(ctx.output, &table, &list)
        }
    }
}

/// The profile's private key.
pub fn load_key(ctx: &Ctx) -> CliResult<SigningKey> {
    let (private, _) = ctx.home.key_files(&ctx.profile);
    let pem = std::fs::read_to_string(&private).map_err(|_| {
        CliError::usage(format!(
            "{} {}: chiso keys generate",
            ctx.lang.pick("no signing key at", "chưa có khoá ký tại"),
            private.display()
        ))
    })?;
    SigningKey::from_pkcs8_pem(&pem)
        .map_err(|e| CliError::usage(format!("{}: {e}", private.display())))
}

/// The server's catalogue of data elements, checked by the domain crate,
/// so values are read exactly as the submission service reads them
/// (`12.5` of a two-decimal element is `12.50`).
pub async fn catalogue(api: &Api) -> CliResult<Catalogue> {
    let list = api.json(Call::get("/api/v1/data-elements")).await?;
    let number = |v: &Value| match v {
        Value::Null => None,
        Value::Number(n) => Some(RawNumber::Text(n.to_string())),
        other => Some(RawNumber::Text(output::cell(other))),
    };
    let elements = list
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| RawDataElement {
            code: field(e, "code"),
            name: field(e, "name"),
            name_en: e["name_en"].as_str().map(str::to_owned),
            // Only types and bounds matter here.
            description: Some(field(e, "description"))
                .filter(|d| !d.trim().is_empty())
                .unwrap_or_else(|| "-".into()),
            category: field(e, "category"),
            value_type: field(e, "value_type"),
            decimals: e["decimals"].as_u64().and_then(|d| u8::try_from(d).ok()),
            min: number(&e["min"]),
            max: number(&e["max"]),
            unit: field(e, "unit"),
            period_rule: e["period_rule"].as_str().map(str::to_owned),
        })
        .collect();
    Catalogue::build(&RawCatalogue {
        elements,
        indicators: Vec::new(),
        rules: Vec::new(),
    })
    .map_err(|e| anyhow::anyhow!("the server's data elements do not check: {e}").into())
}

/// The report's key, parsed.
pub fn report_key(form: &str, period: &str, agency: &str) -> CliResult<ReportKey> {
    let bad = |what: &str, e: String| CliError::usage(format!("{what}: {e}"));
    Ok(ReportKey {
        form: FormCode::parse(form).map_err(|e| bad("form", e.to_string()))?,
        period: PeriodCode::parse(period).map_err(|e| bad("period", e.to_string()))?,
        agency: AgencyCode::parse(agency).map_err(|e| bad("agency", e.to_string()))?,
    })
}

/// Values as text, read against the catalogue; every bad one named.
pub fn typed_values(catalogue: &Catalogue, values: &[(String, String)]) -> CliResult<ReportValues> {
    chiso_domain::parse_values(values, catalogue, |_| Ok(())).map_err(|errors| {
        CliError::usage(format!(
            "the values do not check: {}",
            errors
                .0
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        ))
    })
}

/// The signature (standard base64) of a version of a report.
pub fn sign(key: &SigningKey, report: &ReportKey, version: i32, values: &ReportValues) -> String {
    let content = signed_content(report, version, values);
    STANDARD.encode(ed25519_dalek::Signer::sign(key, &content).to_bytes())
}

/// Checks a stored report's signature locally: the key as registered
/// (`GET /api/v1/agencies/{code}/keys`), the content rebuilt from the
/// values, the domain crate's own check.
pub async fn verify_report(api: &Api, report: &Value) -> CliResult<Value> {
    let signature = &report["signature"];
    if signature.is_null() {
        return Err(CliError::Failed(anyhow::anyhow!(
            "{}",
            api.lang
                .pick("the report is not signed", "báo cáo chưa được ký")
        )));
    }
    let agency = field(report, "agency_code");
    let key_id = field(signature, "key_id");
    let keys = api
        .json(Call::get(format!("/api/v1/agencies/{agency}/keys")))
        .await?;
    let key = keys
        .as_array()
        .into_iter()
        .flatten()
        .find(|k| field(k, "key_id") == key_id)
        .ok_or_else(|| anyhow::anyhow!("key {key_id} is not among {agency}'s keys"))?;
    let time = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(&output::cell(v))
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(|e| anyhow::anyhow!("bad time `{v}`: {e}"))
    };
    let public_key: [u8; 32] = STANDARD
        .decode(field(key, "public_key"))
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| anyhow::anyhow!("key {key_id} is not 32 bytes of base64"))?;
    let registered = RegisteredKey {
        key_id: key_id.clone(),
        agency: AgencyCode::parse(&agency).map_err(|e| anyhow::anyhow!("{e}"))?,
        public_key,
        registered_at: time(&key["registered_at"])?,
        revoked_at: match &key["revoked_at"] {
            Value::Null => None,
            v => Some(time(v)?),
        },
    };
    let signed_at = time(&signature["signed_at"])?;
    let values: Vec<(String, String)> = report["values"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| (field(v, "data_element"), field(v, "value")))
        .collect();
    let typed = typed_values(&catalogue(api).await?, &values)?;
    let report_key = report_key(&field(report, "form"), &field(report, "period"), &agency)?;
    let version = report["version"].as_i64().unwrap_or(0) as i32;
    let content = signed_content(&report_key, version, &typed);
    let bytes =
        decode_signature(&field(signature, "signature")).map_err(|e| anyhow::anyhow!("{e}"))?;
    verify(&registered, &registered.agency, signed_at, &content, &bytes)
        .map_err(|e| CliError::Failed(anyhow::anyhow!("signature.{}: {e}", e.field())))?;
    Ok(json!({
        "report_id": report["id"],
        "version": version,
        "key_id": key_id,
        "signed_at": signature["signed_at"],
        "valid": true,
        "signed_content": String::from_utf8_lossy(&content),
    }))
}
