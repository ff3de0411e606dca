//! `chiso login`, `logout`, `whoami`.

use std::{io::IsTerminal, path::PathBuf};

use serde_json::json;

use super::{
    Ctx,
    error::{CliError, CliResult},
    http::{Api, Call},
    output::{self, Output, Table},
    profile::{CachedToken, Profile},
};

pub const LOGIN_EXAMPLES: &str = "\
The secret is never an argument: it comes from --secret-file, from
CHISO_CLIENT_SECRET, or from a prompt (standard input when not a terminal).

Examples:
  chiso login https://chiso.example.gov.vn --client-id agency-5f3c…
  chiso login http://127.0.0.1:8080 --client-id admin --secret-file data/admin-secret
  CHISO_CLIENT_SECRET=… chiso login https://chiso.tinh.gov.vn --client-id agency-… --profile so-tttt
  chiso login https://chiso.internal:8443 --client-id agency-… --ca-file /etc/chiso/ca.pem";

/// Options of `chiso login`.
#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// The server's base URL, e.g. `https://chiso.example.gov.vn`.
    pub url: String,
    /// The client id the credentials were issued for.
    #[arg(long)]
    pub client_id: String,
    /// A file whose first line is the client secret.
    #[arg(long)]
    pub secret_file: Option<PathBuf>,
    /// A CA certificate (PEM) to trust for the server's TLS certificate.
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
}

/// The secret from a file, the environment, or a prompt.
fn read_secret(args: &LoginArgs, ctx: &Ctx) -> CliResult<String> {
    let secret = if let Some(file) = &args.secret_file {
        std::fs::read_to_string(file)
            .map_err(|e| CliError::usage(format!("cannot read {}: {e}", file.display())))?
    } else if let Some(secret) = std::env::var("CHISO_CLIENT_SECRET")
        .ok()
        .filter(|s| !s.is_empty())
    {
        secret
    } else if std::io::stdin().is_terminal() {
        rpassword::prompt_password(
            ctx.lang
                .pick("Client secret: ", "Mã bí mật (client secret): "),
        )
        .map_err(|e| CliError::usage(format!("cannot read the secret: {e}")))?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| CliError::usage(format!("cannot read the secret: {e}")))?;
        line
    };
    let secret = secret.lines().next().unwrap_or("").trim().to_owned();
    if secret.is_empty() {
        return Err(CliError::usage(ctx.lang.pick(
            "no client secret: give --secret-file, set CHISO_CLIENT_SECRET, or type it",
            "chưa có mã bí mật: dùng --secret-file, biến CHISO_CLIENT_SECRET, hoặc nhập khi được hỏi",
        )));
    }
    Ok(secret)
}

pub async fn login(args: LoginArgs, ctx: &Ctx) -> CliResult {
    let url = args.url.trim_end_matches('/').to_owned();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(CliError::usage(format!(
            "`{url}` is not an http:// or https:// URL"
        )));
    }
    let secret = read_secret(&args, ctx)?;
    // Absolute, so the profile works from any folder.
    let ca_file = args
        .ca_file
        .map(|ca| std::path::absolute(&ca).unwrap_or(ca));
    let mut profile = Profile {
        url,
        client_id: args.client_id,
        client_secret: secret,
        ca_file,
        role: None,
        agency_code: None,
        province_code: None,
        key_id: None,
    };
    let api = Api::new(ctx.home.clone(), &ctx.profile, profile.clone(), ctx.lang)?;
    let issued = api.issue_token().await?;
    // A key registered earlier for the same agency stays usable.
    if let Ok(previous) = ctx.home.load(&ctx.profile)
        && previous.agency_code == issued.agency_code
    {
        profile.key_id = previous.key_id;
    }
    profile.role = issued.role.clone();
    profile.agency_code = issued.agency_code.clone();
    profile.province_code = issued.province_code.clone();
    let file = ctx.home.save(&ctx.profile, &profile)?;
    ctx.home.save_token(
        &ctx.profile,
        &CachedToken {
            access_token: issued.access_token,
            expires_at: super::http::unix_now() + issued.expires_in,
        },
    )?;
    let who = describe(&profile);
    println!(
        "{} {} {} {who}",
        ctx.lang.pick("logged in to", "đã đăng nhập"),
        profile.url,
        ctx.lang.pick("as", "với tư cách"),
    );
    println!(
        "{} `{}`: {}",
        ctx.lang.pick("profile", "hồ sơ"),
        ctx.profile,
        file.display()
    );
    Ok(())
}

/// `agency-… (agency_reporter, agency 000.00.19.H44, province 44)`.
fn describe(profile: &Profile) -> String {
    let mut parts = Vec::new();
    if let Some(role) = &profile.role {
        parts.push(role.clone());
    }
    if let Some(agency) = &profile.agency_code {
        parts.push(format!("agency {agency}"));
    }
    if let Some(province) = &profile.province_code {
        parts.push(format!("province {province}"));
    }
    format!("{} ({})", profile.client_id, parts.join(", "))
}

pub fn logout(ctx: &Ctx) -> CliResult {
    if ctx.home.remove(&ctx.profile)? {
        println!(
            "{} `{}`",
            ctx.lang.pick("removed profile", "đã xoá hồ sơ"),
            ctx.profile
        );
    } else {
        println!(
            "{} `{}`",
            ctx.lang.pick("no profile", "không có hồ sơ"),
            ctx.profile
        );
    }
    Ok(())
}

pub async fn whoami(ctx: &Ctx) -> CliResult {
    let api = ctx.api()?;
    // Asks the server, so a revoked client or a dead server shows here.
    let me = api.json(Call::get("/api/me")).await?;
    let profile = &api.profile;
    let agency_name = match &profile.agency_code {
        Some(code) => api
            .json(Call::get(format!("/api/v1/agencies/{code}")))
            .await
            .ok()
            .map(|a| output::field(&a, "name")),
        None => None,
    };
    let expires = ctx
        .home
        .token(&ctx.profile)
        .map(|t| chrono::DateTime::from_timestamp(t.expires_at, 0).unwrap_or_default());
    let json = json!({
        "profile": ctx.profile,
        "url": profile.url,
        "client_id": profile.client_id,
        "user": me["id"],
        "role": profile.role,
        "agency_code": profile.agency_code,
        "agency_name": agency_name,
        "province_code": profile.province_code,
        "key_id": profile.key_id,
        "token_expires_at": expires.map(|e| e.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
    });
    let mut table = Table::new(&["", ""]);
    let l = ctx.lang;
    let rows = [
        (l.pick("profile", "hồ sơ"), ctx.profile.clone()),
        (l.pick("server", "máy chủ"), profile.url.clone()),
        (l.pick("client", "client"), profile.client_id.clone()),
        (
            l.pick("role", "vai trò"),
            profile.role.clone().unwrap_or_default(),
        ),
        (
            l.pick("agency", "cơ quan"),
            [profile.agency_code.clone(), agency_name]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" "),
        ),
        (
            l.pick("province", "tỉnh"),
            profile.province_code.clone().unwrap_or_default(),
        ),
        (
            l.pick("signing key", "khoá ký"),
            profile.key_id.clone().unwrap_or_default(),
        ),
        (
            l.pick("token expires", "token hết hạn"),
            json["token_expires_at"].as_str().unwrap_or("").to_owned(),
        ),
    ];
    match ctx.output {
        Output::Table => {
            for (name, value) in rows {
                println!("{:<14} {value}", format!("{name}:"));
            }
            Ok(())
        }
        _ => {
            for (name, value) in rows {
                table.row(vec![name.to_owned(), value]);
            }
            output::print(ctx.output, &table, &json)
        }
    }
}
