//! The authorization matrix of issue 11: every route and every gRPC method,
//! called as every role, inside and outside its scope, with the exact
//! answer each must get. The tables are the documentation of who may do
//! what; they are written from the policy (`chiso_runtime::policy::grant`)
//! and the issue's role descriptions, not recorded from the server.
//!
//! Provinces: 51 with agencies A (`000.00.15.H51`, the agency reporter's
//! own) and B (`000.00.16.H51`), 52 with agency C (`000.00.15.H52`). Callers:
//! an admin, an officer and a viewer of 51, agency A, an integrator granted
//! [51], and no token at all. Rows that change something give the admin and
//! the officer targets of their own (`{name@}` below), so that one role's
//! write does not change what the next role finds.

use std::{
    collections::{BTreeSet, HashMap},
    net::{IpAddr, Ipv4Addr},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use chiso_tests::{RawCodec, StackOptions, TestStack, spawn_stack_with};
use ed25519_dalek::SigningKey;
use serde_json::{Value, json};

use crate::{documents_report, this_quarter};

/// Who calls, in the order every row is tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Admin,
    Officer,
    Viewer,
    Agency,
    Integrator,
    Anonymous,
}

impl Who {
    const ALL: [Who; 6] = [
        Who::Admin,
        Who::Officer,
        Who::Viewer,
        Who::Agency,
        Who::Integrator,
        Who::Anonymous,
    ];

    fn name(self) -> &'static str {
        match self {
            Who::Admin => "admin",
            Who::Officer => "officer",
            Who::Viewer => "viewer",
            Who::Agency => "agency",
            Who::Integrator => "integrator",
            Who::Anonymous => "anonymous",
        }
    }
}

/// What a caller must get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Any 2xx.
    Ok,
    /// 422 with this `code`: the body is refused after authorization let it through.
    Invalid(&'static str),
    /// 403 `permission_denied`.
    Denied,
    /// 404 `not_found`: the service hides that the thing exists.
    Hidden,
    /// 401 `unauthenticated`.
    Unauth,
    /// An RFC 6749 §5.2 error of the token endpoint: its status and `error`.
    OAuth(u16, &'static str),
    /// Not tried for this caller; the row's comment says why.
    Skip,
}

use Expect::{Denied, Hidden, Invalid, OAuth, Ok, Skip};

/// A request body.
#[derive(Debug, Clone)]
enum Body {
    None,
    Json(Value),
    Raw(&'static str, String),
}

/// One concrete request of the matrix and what each caller gets.
#[derive(Debug, Clone)]
struct Row {
    method: &'static str,
    /// The route as OpenAPI names it (or as the router does, for routes
    /// outside OpenAPI).
    route: &'static str,
    /// The concrete path; `{name}` and `{name@}` are filled from the fixture.
    path: String,
    /// What the request targets: own agency, another agency of the
    /// province, another province, global.
    target: &'static str,
    body: Body,
    /// Admin, officer of 51, viewer of 51, agency A, integrator of [51].
    expect: [Expect; 5],
    /// Without a token.
    anonymous: Expect,
}

fn row(
    method: &'static str,
    route: &'static str,
    path: impl Into<String>,
    target: &'static str,
    expect: [Expect; 5],
) -> Row {
    Row {
        method,
        route,
        path: path.into(),
        target,
        body: if method == "GET" {
            Body::None
        } else {
            Body::Json(json!({}))
        },
        expect,
        anonymous: Expect::Unauth,
    }
}

impl Row {
    fn json(mut self, body: Value) -> Self {
        self.body = Body::Json(body);
        self
    }

    fn raw(mut self, content_type: &'static str, body: impl Into<String>) -> Self {
        self.body = Body::Raw(content_type, body.into());
        self
    }

    /// Open without a token: the anonymous caller gets what the roles get.
    fn public(mut self, anonymous: Expect) -> Self {
        self.anonymous = anonymous;
        self
    }

    fn expected(&self, who: Who) -> Expect {
        match who {
            Who::Admin => self.expect[0],
            Who::Officer => self.expect[1],
            Who::Viewer => self.expect[2],
            Who::Agency => self.expect[3],
            Who::Integrator => self.expect[4],
            Who::Anonymous => self.anonymous,
        }
    }
}

/// Everyone with a token.
const ALL: [Expect; 5] = [Ok; 5];
/// Admin only.
const ADMIN: [Expect; 5] = [Ok, Denied, Denied, Denied, Denied];
/// Admin and the officer of the province.
const STAFF: [Expect; 5] = [Ok, Ok, Denied, Denied, Denied];
/// Everyone but the agency (reading the tree).
const NOT_AGENCY: [Expect; 5] = [Ok, Ok, Ok, Denied, Ok];

const A: &str = "000.00.15.H51";
const B: &str = "000.00.16.H51";
const C: &str = "000.00.15.H52";

/// Routes the gateway serves outside OpenAPI, each covered below.
const OUTSIDE_OPENAPI: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    // `/metrics` has a listener of its own (services/gateway/src/metrics.rs),
    // never this one.
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/swagger-ui"),
    ("GET", "/swagger-ui/"),
    ("GET", "/api-docs/openapi.json"),
    ("GET", "/api/dataElements"),
    ("GET", "/api/dataElements/{id}"),
    ("GET", "/api/indicators"),
    ("GET", "/api/indicators/{id}"),
    ("GET", "/api/dataSets"),
    ("GET", "/api/dataSets/{id}"),
    ("GET", "/api/organisationUnits"),
    ("GET", "/api/organisationUnits/{id}"),
    ("GET", "/api/me"),
    ("GET", "/api/system/info"),
    ("GET", "/api/analytics"),
    ("GET", "/api/analytics.csv"),
    ("GET", "/api/dataValueSets"),
    ("POST", "/api/dataValueSets"),
    ("GET", "/api/dataValueSets.json"),
    ("POST", "/api/dataValueSets.json"),
    ("GET", "/api/dataValueSets.csv"),
    ("POST", "/api/dataValueSets.csv"),
    ("GET", "/api/dataValues"),
    ("POST", "/api/dataValues"),
    ("DELETE", "/api/dataValues"),
    ("GET", "/api/completeDataSetRegistrations"),
    ("POST", "/api/completeDataSetRegistrations"),
    ("GET", "/api/completeDataSetRegistrations.json"),
    ("POST", "/api/completeDataSetRegistrations.json"),
    // The web app's page shell and files (services/gateway/src/web).
    ("GET", "/"),
    ("GET", "/app"),
    ("GET", "/app/{*page}"),
    ("GET", "/assets/{*path}"),
];

/// The REST matrix, in the order it runs: reads first, then writes, each
/// write after the reads of what it changes.
fn rest_rows() -> Vec<Row> {
    let q = this_quarter();
    let year = &q[..4];
    let month = chiso_domain::PeriodCode::containing(
        chiso_domain::PeriodType::Monthly,
        chiso_domain::today(),
    )
    .expect("today is in a month")
    .to_string();
    let monthly = |agency: &str| {
        json!({"form": "online_applications_monthly", "period": month, "agency_code": agency,
               "values": [{"data_element": "applications_received", "value": "10"},
                          {"data_element": "applications_received_online", "value": "4"}]})
    };
    let mut rows = vec![
        // The token exchange is the one door without a token; a body that
        // is not credentials is refused alike for everyone, as RFC 6749 says.
        row("POST", "/api/v1/auth/token", "/api/v1/auth/token", "global", [OAuth(401, "invalid_client"); 5])
            .json(json!({"client_id": ""}))
            .public(OAuth(401, "invalid_client")),
        // ---- the web app's session (docs/WEBAPP.md): sign-in is for the
        // app's own page, so without `X-Chiso-Web: 1` everyone is refused
        // (login CSRF), whatever token they hold.
        row("POST", "/api/v1/session", "/api/v1/session", "global", [Denied; 5])
            .json(json!({"client_id": "", "client_secret": ""}))
            .public(Denied),
        // Who is signed in: any token, from the header or the cookie.
        row("GET", "/api/v1/session", "/api/v1/session", "global", ALL),
        // Renewal needs the session cookie; a bearer token is not a session.
        row("POST", "/api/v1/session/renew", "/api/v1/session/renew", "global", [Expect::Unauth; 5]),
        // Sign-out without cookies has nothing to end, and says so with 204.
        row("DELETE", "/api/v1/session", "/api/v1/session", "global", ALL).public(Ok),
        // ---- the organisation tree (registry)
        row("GET", "/api/v1/agencies", "/api/v1/agencies", "global", NOT_AGENCY),
        row("GET", "/api/v1/agencies/{code}", format!("/api/v1/agencies/{A}"), "own agency", ALL),
        // An agency reads its own record only.
        row("GET", "/api/v1/agencies/{code}", format!("/api/v1/agencies/{B}"), "same-province agency", NOT_AGENCY),
        row("GET", "/api/v1/agencies/{code}", format!("/api/v1/agencies/{C}"), "other-province agency", NOT_AGENCY),
        row("GET", "/api/v1/agencies/{code}/subtree", "/api/v1/agencies/000.00.00.H51/subtree", "own province", NOT_AGENCY),
        row("GET", "/api/v1/agencies/{code}/subtree", "/api/v1/agencies/000.00.00.H52/subtree", "other province", NOT_AGENCY),
        row("GET", "/api/v1/agencies/{code}/lineage", format!("/api/v1/agencies/{A}/lineage"), "own agency", ALL),
        row("GET", "/api/v1/agencies/{code}/lineage", format!("/api/v1/agencies/{C}/lineage"), "other-province agency", NOT_AGENCY),
        // The tree's feed is for chiso's services and the admin (FollowFeed).
        row("GET", "/api/v1/agencies/changes", "/api/v1/agencies/changes", "global", ADMIN),
        row("POST", "/api/v1/agencies", "/api/v1/agencies", "own province", STAFF).json(
            json!({"code": "000.00.4{n@}.H51", "name": "Sở thử nghiệm", "kind": "department",
                   "parent_code": "000.00.00.H51", "valid_from": "2020-01-01"}),
        ),
        row("POST", "/api/v1/agencies", "/api/v1/agencies", "other province", ADMIN).json(
            json!({"code": "000.00.4{n@}.H52", "name": "Sở thử nghiệm", "kind": "department",
                   "parent_code": "000.00.00.H52", "valid_from": "2020-01-01"}),
        ),
        row("POST", "/api/v1/agencies/reorganisations", "/api/v1/agencies/reorganisations", "same-province agency", STAFF)
            .json(json!({"effective_date": "{today}", "legal_basis": "Quyết định 1/QĐ-UBND",
                         "operations": [{"type": "rename", "code": B, "name": "Sở Tài chính {n@}"}]})),
        row("POST", "/api/v1/agencies/reorganisations", "/api/v1/agencies/reorganisations", "other-province agency", ADMIN)
            .json(json!({"effective_date": "{today}", "legal_basis": "Quyết định 1/QĐ-UBND",
                         "operations": [{"type": "rename", "code": C, "name": "Sở Tài chính {n@}"}]})),
        row("POST", "/api/v1/agencies/import", "/api/v1/agencies/import?dry_run=true", "own province", STAFF).raw(
            "text/csv; charset=utf-8",
            "code,name,kind,parent_code,valid_from\n000.00.50.H51,Sở mới,department,000.00.00.H51,2020-01-01\n",
        ),
        row("POST", "/api/v1/agencies/import", "/api/v1/agencies/import?dry_run=true", "other province", ADMIN).raw(
            "text/csv; charset=utf-8",
            "code,name,kind,parent_code,valid_from\n000.00.50.H52,Sở mới,department,000.00.00.H52,2020-01-01\n",
        ),
        // ---- credentials (registry)
        // An agency's clients are listed by those who manage them: the
        // agency itself and its province's officers (ManageCredentials).
        row("GET", "/api/v1/agencies/{code}/credentials", format!("/api/v1/agencies/{A}/credentials"), "own agency", [Ok, Ok, Denied, Ok, Denied]),
        row("GET", "/api/v1/agencies/{code}/credentials", format!("/api/v1/agencies/{B}/credentials"), "same-province agency", STAFF),
        row("GET", "/api/v1/agencies/{code}/credentials", format!("/api/v1/agencies/{C}/credentials"), "other-province agency", ADMIN),
        row("POST", "/api/v1/agencies/{code}/credentials", format!("/api/v1/agencies/{A}/credentials"), "own agency", STAFF),
        row("POST", "/api/v1/agencies/{code}/credentials", format!("/api/v1/agencies/{C}/credentials"), "other-province agency", ADMIN),
        row("GET", "/api/v1/officers", "/api/v1/officers?province=51", "own province", STAFF),
        row("GET", "/api/v1/officers", "/api/v1/officers?province=52", "other province", ADMIN),
        row("POST", "/api/v1/officers", "/api/v1/officers", "own province", ADMIN).json(json!({"province_code": "51"})),
        row("POST", "/api/v1/viewers", "/api/v1/viewers", "own province", ADMIN).json(json!({"province_code": "51"})),
        row("POST", "/api/v1/integrators", "/api/v1/integrators", "own province", ADMIN)
            .json(json!({"granted_province_codes": ["51"]})),
        // Throw-away clients: each allowed role rotates, then revokes, its own.
        row("POST", "/api/v1/credentials/{client_id}/rotate", "/api/v1/credentials/{tA@}/rotate", "own agency", [Ok, Ok, Denied, Ok, Denied]),
        row("POST", "/api/v1/credentials/{client_id}/rotate", "/api/v1/credentials/{tB@}/rotate", "same-province agency", STAFF),
        row("POST", "/api/v1/credentials/{client_id}/rotate", "/api/v1/credentials/{tC@}/rotate", "other-province agency", ADMIN),
        row("POST", "/api/v1/credentials/{client_id}/revoke", "/api/v1/credentials/{tA@}/revoke", "own agency", [Ok, Ok, Denied, Ok, Denied]),
        row("POST", "/api/v1/credentials/{client_id}/revoke", "/api/v1/credentials/{tB@}/revoke", "same-province agency", STAFF),
        row("POST", "/api/v1/credentials/{client_id}/revoke", "/api/v1/credentials/{tC@}/revoke", "other-province agency", ADMIN),
        // ---- registrations (registry): filed without a token, reviewed by staff
        row("POST", "/api/v1/registrations", "/api/v1/registrations", "own province", ALL)
            .json(json!({"agency": {"code": "000.00.6{n@}.H51", "name": "Sở đăng ký", "kind": "department",
                                    "parent_code": "000.00.00.H51"},
                         "contact": {"name": "Lê Văn Cường", "email": "cuong@stc.quangngai.gov.vn"}}))
            .public(Ok),
        row("GET", "/api/v1/registrations", "/api/v1/registrations?province=51", "own province", STAFF),
        row("GET", "/api/v1/registrations", "/api/v1/registrations?province=52", "other province", ADMIN),
        row("GET", "/api/v1/registrations/{id}", "/api/v1/registrations/{ap51@}", "own province", STAFF),
        row("GET", "/api/v1/registrations/{id}", "/api/v1/registrations/{ap52}", "other province", ADMIN),
        row("POST", "/api/v1/registrations/{id}/approve", "/api/v1/registrations/{ap51@}/approve", "own province", STAFF),
        row("POST", "/api/v1/registrations/{id}/approve", "/api/v1/registrations/{ap52}/approve", "other province", ADMIN),
        row("POST", "/api/v1/registrations/{id}/reject", "/api/v1/registrations/{rj51@}/reject", "own province", STAFF)
            .json(json!({"reason": "Trùng cơ quan đã đăng ký"})),
        row("POST", "/api/v1/registrations/{id}/reject", "/api/v1/registrations/{rj52}/reject", "other province", ADMIN)
            .json(json!({"reason": "Trùng cơ quan đã đăng ký"})),
        // ---- signing keys (registry)
        row("GET", "/api/v1/agencies/{code}/keys", format!("/api/v1/agencies/{A}/keys"), "own agency", [Ok, Ok, Denied, Ok, Denied]),
        row("GET", "/api/v1/agencies/{code}/keys", format!("/api/v1/agencies/{B}/keys"), "same-province agency", STAFF),
        row("GET", "/api/v1/agencies/{code}/keys", format!("/api/v1/agencies/{C}/keys"), "other-province agency", ADMIN),
        row("POST", "/api/v1/agencies/{code}/keys", format!("/api/v1/agencies/{A}/keys"), "own agency", [Ok, Ok, Denied, Ok, Denied])
            .json(json!({"public_key": "{pkA@}"})),
        row("POST", "/api/v1/agencies/{code}/keys", format!("/api/v1/agencies/{B}/keys"), "same-province agency", STAFF)
            .json(json!({"public_key": "{pkB@}"})),
        row("POST", "/api/v1/agencies/{code}/keys", format!("/api/v1/agencies/{C}/keys"), "other-province agency", ADMIN)
            .json(json!({"public_key": "{pkC@}"})),
        row("POST", "/api/v1/agencies/{code}/keys/{key_id}/revoke", format!("/api/v1/agencies/{A}/keys/{{kA@}}/revoke"), "own agency", [Ok, Ok, Denied, Ok, Denied]),
        row("POST", "/api/v1/agencies/{code}/keys/{key_id}/revoke", format!("/api/v1/agencies/{B}/keys/{{kB@}}/revoke"), "same-province agency", STAFF),
        row("POST", "/api/v1/agencies/{code}/keys/{key_id}/revoke", format!("/api/v1/agencies/{C}/keys/{{kC@}}/revoke"), "other-province agency", ADMIN),
        // ---- the catalogue (submission): everyone reads, the admin changes
        row("GET", "/api/v1/data-elements", "/api/v1/data-elements", "global", ALL),
        row("GET", "/api/v1/data-elements/{code}", "/api/v1/data-elements/documents_sent", "global", ALL),
        row("POST", "/api/v1/data-elements", "/api/v1/data-elements", "global", ADMIN).json(
            json!({"code": "printers", "name": "Số máy in", "description": "Đếm máy in.",
                   "category": "technical_infrastructure", "value_type": "count", "unit": "máy"}),
        ),
        row("PUT", "/api/v1/data-elements/{code}", "/api/v1/data-elements/printers", "global", ADMIN).json(
            json!({"name": "Số máy in đang dùng", "description": "Đếm máy in.",
                   "category": "technical_infrastructure", "value_type": "count", "unit": "máy"}),
        ),
        row("GET", "/api/v1/indicators", "/api/v1/indicators", "global", ALL),
        row("GET", "/api/v1/indicators/{code}", "/api/v1/indicators/electronic_document_rate", "global", ALL),
        row("POST", "/api/v1/indicators", "/api/v1/indicators", "global", ADMIN).json(
            json!({"code": "printers_per_document", "name": "Số máy in/văn bản", "numerator": "printers",
                   "denominator": "documents_sent", "factor": 1, "decimals": 2, "unit": "máy/văn bản",
                   "category": "technical_infrastructure", "higher_is_better": true}),
        ),
        row("PUT", "/api/v1/indicators/{code}", "/api/v1/indicators/printers_per_document", "global", ADMIN).json(
            json!({"name": "Số máy in trên văn bản", "numerator": "printers",
                   "denominator": "documents_sent", "factor": 1, "decimals": 2, "unit": "máy/văn bản",
                   "category": "technical_infrastructure", "higher_is_better": true}),
        ),
        row("POST", "/api/v1/indicators/{code}/retire", "/api/v1/indicators/printers_per_document/retire", "global", ADMIN),
        row("GET", "/api/v1/validation-rules", "/api/v1/validation-rules", "global", ALL),
        row("GET", "/api/v1/validation-rules/{code}", "/api/v1/validation-rules/online_applications_within_received", "global", ALL),
        row("POST", "/api/v1/validation-rules", "/api/v1/validation-rules", "global", ADMIN).json(
            json!({"code": "printers_within_documents", "rule": "printers <= documents_sent",
                   "message": "Số máy in không quá số văn bản.",
                   "message_en": "Printers cannot exceed documents sent."}),
        ),
        row("PUT", "/api/v1/validation-rules/{code}", "/api/v1/validation-rules/printers_within_documents", "global", ADMIN).json(
            json!({"rule": "printers <= documents_sent + 1", "message": "Số máy in không quá số văn bản.",
                   "message_en": "Printers cannot exceed documents sent."}),
        ),
        row("POST", "/api/v1/validation-rules/{code}/retire", "/api/v1/validation-rules/printers_within_documents/retire", "global", ADMIN),
        row("POST", "/api/v1/data-elements/{code}/retire", "/api/v1/data-elements/printers/retire", "global", ADMIN),
        // ---- forms and periods (submission)
        row("GET", "/api/v1/forms", "/api/v1/forms", "global", ALL),
        row("GET", "/api/v1/forms/{code}", "/api/v1/forms/it_fast_quarterly", "global", ALL),
        row("GET", "/api/v1/forms/{code}/periods", "/api/v1/forms/it_fast_quarterly/periods", "global", ALL),
        row("GET", "/api/v1/periods", "/api/v1/periods?form=it_fast_quarterly", "global", ALL),
        // Who must report in a province is read like its reports. An agency
        // is not refused: its list holds its own report only, whatever
        // province it asks for.
        row("GET", "/api/v1/forms/{code}/expected", format!("/api/v1/forms/it_fast_quarterly/expected?period={q}&province=51"), "own province", ALL),
        row("GET", "/api/v1/forms/{code}/expected", format!("/api/v1/forms/it_fast_quarterly/expected?period={q}&province=52"), "other province", [Ok, Denied, Denied, Ok, Denied]),
        // ---- reports (submission): read
        row("GET", "/api/v1/reports/{id}", "/api/v1/reports/{rA}", "own agency", ALL),
        // Another agency's report, or another province's, does not exist for
        // those who may not read it: ids reveal nothing.
        row("GET", "/api/v1/reports/{id}", "/api/v1/reports/{rB}", "same-province agency", [Ok, Ok, Ok, Hidden, Ok]),
        row("GET", "/api/v1/reports/{id}", "/api/v1/reports/{rC}", "other-province agency", [Ok, Hidden, Hidden, Hidden, Hidden]),
        row("GET", "/api/v1/reports/by-key/{form}/{period}/{agency}", format!("/api/v1/reports/by-key/it_fast_quarterly/{q}/{A}"), "own agency", ALL),
        row("GET", "/api/v1/reports/by-key/{form}/{period}/{agency}", format!("/api/v1/reports/by-key/it_fast_quarterly/{q}/{B}"), "same-province agency", [Ok, Ok, Ok, Hidden, Ok]),
        row("GET", "/api/v1/reports/by-key/{form}/{period}/{agency}", format!("/api/v1/reports/by-key/it_fast_quarterly/{q}/{C}"), "other-province agency", [Ok, Hidden, Hidden, Hidden, Hidden]),
        // Lists are filtered to what the caller reads, never refused.
        row("GET", "/api/v1/reports", "/api/v1/reports?province=51", "own province", ALL),
        row("GET", "/api/v1/reports", "/api/v1/reports?province=52", "other province", ALL),
        row("GET", "/api/v1/reports/{id}/versions", "/api/v1/reports/{rA}/versions", "own agency", ALL),
        row("GET", "/api/v1/reports/{id}/versions", "/api/v1/reports/{rC}/versions", "other-province agency", [Ok, Hidden, Hidden, Hidden, Hidden]),
        row("GET", "/api/v1/reports/{id}/audit", "/api/v1/reports/{rA}/audit", "own agency", ALL),
        row("GET", "/api/v1/reports/{id}/audit", "/api/v1/reports/{rB}/audit", "same-province agency", [Ok, Ok, Ok, Hidden, Ok]),
        row("GET", "/api/v1/reports/{id}/audit", "/api/v1/reports/{rC}/audit", "other-province agency", [Ok, Hidden, Hidden, Hidden, Hidden]),
        row("GET", "/api/v1/reports/{id}/signature", "/api/v1/reports/{rA}/signature", "own agency", ALL),
        row("GET", "/api/v1/reports/{id}/signature", "/api/v1/reports/{rC}/signature", "other-province agency", [Ok, Hidden, Hidden, Hidden, Hidden]),
        // An agency's audit trail is a list of its reports' entries,
        // filtered like every list: empty for what the caller may not read.
        row("GET", "/api/v1/agencies/{code}/audit", format!("/api/v1/agencies/{A}/audit"), "own agency", ALL),
        row("GET", "/api/v1/agencies/{code}/audit", format!("/api/v1/agencies/{B}/audit"), "same-province agency", ALL),
        row("GET", "/api/v1/agencies/{code}/audit", format!("/api/v1/agencies/{C}/audit"), "other-province agency", ALL),
        // A template is the form and the agency's record, both readable by
        // staff everywhere; another province's report stays hidden, so its
        // template comes out blank.
        row("GET", "/api/v1/reports/{form}/{period}/{agency}/template", format!("/api/v1/reports/it_fast_quarterly/{q}/{A}/template"), "own agency", ALL),
        row("GET", "/api/v1/reports/{form}/{period}/{agency}/template", format!("/api/v1/reports/it_fast_quarterly/{q}/{B}/template"), "same-province agency", [Ok, Ok, Ok, Denied, Ok]),
        row("GET", "/api/v1/reports/{form}/{period}/{agency}/template", format!("/api/v1/reports/it_fast_quarterly/{q}/{C}/template"), "other-province agency", [Ok, Ok, Ok, Denied, Ok]),
        // ---- reports: write. The agency acts for itself; the admin and the
        // officer each for a department of 51 of their own (`{x@}`).
        row("POST", "/api/v1/reports", "/api/v1/reports", "own agency", [Ok, Ok, Denied, Ok, Denied]).json(monthly("{sub@}")),
        row("POST", "/api/v1/reports", "/api/v1/reports", "other-province agency", [Ok, Denied, Denied, Denied, Denied]).json(monthly("{sub52}")),
        row("PUT", "/api/v1/reports/{form}/{period}/{agency}/draft", format!("/api/v1/reports/it_application_yearly/{year}/{{draft@}}/draft"), "own agency", [Ok, Ok, Denied, Ok, Denied])
            .json(json!({"values": []})),
        row("PUT", "/api/v1/reports/{form}/{period}/{agency}/draft", format!("/api/v1/reports/it_application_yearly/{year}/{{draft52}}/draft"), "other-province agency", [Ok, Denied, Denied, Denied, Denied])
            .json(json!({"values": []})),
        row("POST", "/api/v1/reports/{id}/accept", "/api/v1/reports/{acc@}/accept", "own province", STAFF),
        row("POST", "/api/v1/reports/{id}/accept", "/api/v1/reports/{acc52}/accept", "other province", [Ok, Hidden, Denied, Denied, Denied]),
        row("POST", "/api/v1/reports/{id}/return", "/api/v1/reports/{ret@}/return", "own province", STAFF)
            .json(json!({"comment": "Thiếu số liệu"})),
        row("POST", "/api/v1/reports/{id}/return", "/api/v1/reports/{ret52}/return", "other province", [Ok, Hidden, Denied, Denied, Denied])
            .json(json!({"comment": "Thiếu số liệu"})),
        row("POST", "/api/v1/reports/{id}/revise", "/api/v1/reports/{rev@}/revise", "own agency", [Ok, Ok, Denied, Ok, Denied])
            .json(json!({"reason": "Sửa số liệu"})),
        row("POST", "/api/v1/reports/{id}/revise", "/api/v1/reports/{rC}/revise", "other-province agency", [Ok, Hidden, Denied, Hidden, Denied])
            .json(json!({"reason": "Sửa số liệu"})),
        row("POST", "/api/v1/reports/{id}/submit", "/api/v1/reports/{rev@}/submit", "own agency", [Ok, Ok, Denied, Ok, Denied]),
        // The gateway reads the draft before it submits it, so those who
        // may not submit at all are answered "not found", like those who
        // may not see it: 404 for 403, revealing nothing either way.
        row("POST", "/api/v1/reports/{id}/submit", "/api/v1/reports/{rC}/submit", "other-province agency", [Ok, Hidden, Hidden, Hidden, Hidden]),
        row("POST", "/api/v1/unlocks", "/api/v1/unlocks", "own agency", STAFF).json(
            json!({"form": "it_fast_quarterly", "period": q, "agency_code": A, "reason": "Bổ sung", "until": "{until}"}),
        ),
        row("POST", "/api/v1/unlocks", "/api/v1/unlocks", "other-province agency", ADMIN).json(
            json!({"form": "it_fast_quarterly", "period": q, "agency_code": C, "reason": "Bổ sung", "until": "{until}"}),
        ),
        // The gateway reads the file before the submission service decides,
        // so a file that is not an XLSX is refused alike for everyone with
        // a token (it reveals nothing); a real one goes the way of
        // `POST /api/v1/reports`.
        row("POST", "/api/v1/reports/{form}/{period}/{agency}/template", format!("/api/v1/reports/it_fast_quarterly/{q}/{A}/template"), "own agency",
            [Invalid("invalid_argument"); 5])
            .raw("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "not a spreadsheet"),
        // ---- aggregates (aggregation): in the caller's province only
        row("GET", "/api/v1/aggregates", format!("/api/v1/aggregates?indicator=electronic_document_rate&area=51&period={q}"), "own province", ALL),
        row("GET", "/api/v1/aggregates", format!("/api/v1/aggregates?indicator=electronic_document_rate&area=52&period={q}"), "other province", ADMIN),
        row("GET", "/api/v1/aggregates", format!("/api/v1/aggregates?data_element=documents_sent&agency={A}&period={q}"), "own agency", ALL),
        // One agency's figures are its own to read, its province's staff's too.
        row("GET", "/api/v1/aggregates", format!("/api/v1/aggregates?data_element=documents_sent&agency={B}&period={q}"), "same-province agency", [Ok, Ok, Ok, Denied, Ok]),
        row("GET", "/api/v1/aggregates/breakdown", format!("/api/v1/aggregates/breakdown?indicator=electronic_document_rate&area=51&period={q}&breakdown=child_areas"), "own province", ALL),
        row("GET", "/api/v1/aggregates/breakdown", format!("/api/v1/aggregates/breakdown?indicator=electronic_document_rate&area=52&period={q}&breakdown=child_areas"), "other province", ADMIN),
        row("GET", "/api/v1/trends", format!("/api/v1/trends?indicator=electronic_document_rate&area=51&from={year}Q1&to={q}"), "own province", ALL),
        row("GET", "/api/v1/trends", format!("/api/v1/trends?indicator=electronic_document_rate&area=52&from={year}Q1&to={q}"), "other province", ADMIN),
        row("GET", "/api/v1/completeness", format!("/api/v1/completeness?form=it_fast_quarterly&period={q}&area=51"), "own province", ALL),
        row("GET", "/api/v1/completeness", format!("/api/v1/completeness?form=it_fast_quarterly&period={q}&area=52"), "other province", ADMIN),
        // Plans and rankings are definitions, like the catalogue: whoever
        // reads aggregates reads them; their figures are scoped.
        row("GET", "/api/v1/plans", "/api/v1/plans", "global", ALL),
        row("GET", "/api/v1/plans/{code}", "/api/v1/plans/quang_ngai_2018", "own province", ALL),
        row("GET", "/api/v1/plans/{code}", "/api/v1/plans/tra_vinh_2022", "other province", ALL),
        row("GET", "/api/v1/attainment", format!("/api/v1/attainment?plan=quang_ngai_2018&year=2018&period={year}"), "own province", ALL),
        row("GET", "/api/v1/attainment", format!("/api/v1/attainment?plan=tra_vinh_2022&year=2022&period={year}"), "other province", ADMIN),
        row("GET", "/api/v1/rankings", "/api/v1/rankings", "global", ALL),
        row("GET", "/api/v1/rankings/{code}", format!("/api/v1/rankings/district_committees_quarterly?area=51&period={q}"), "own province", ALL),
        row("GET", "/api/v1/rankings/{code}", format!("/api/v1/rankings/district_committees_quarterly?area=52&period={q}"), "other province", ADMIN),
        row("GET", "/api/v1/exports/{kind}", format!("/api/v1/exports/aggregates?format=csv&indicator=electronic_document_rate&area=51&period={q}&breakdown=child_areas"), "own province", ALL),
        row("GET", "/api/v1/exports/{kind}", format!("/api/v1/exports/aggregates?format=csv&indicator=electronic_document_rate&area=52&period={q}&breakdown=child_areas"), "other province", ADMIN),
        // ---- outside OpenAPI: operations
        row("GET", "/healthz", "/healthz", "global", ALL).public(Ok),
        row("GET", "/readyz", "/readyz", "global", ALL).public(Ok),
        row("GET", "/.well-known/jwks.json", "/.well-known/jwks.json", "global", ALL).public(Ok),
        row("GET", "/openapi.json", "/openapi.json", "global", ALL).public(Ok),
        row("GET", "/docs", "/docs/", "global", ALL).public(Ok),
        // The old addresses redirect (308), which the client follows.
        row("GET", "/swagger-ui", "/swagger-ui", "global", ALL).public(Ok),
        row("GET", "/swagger-ui/", "/swagger-ui/", "global", ALL).public(Ok),
        row("GET", "/api-docs/openapi.json", "/api-docs/openapi.json", "global", ALL).public(Ok),
        // ---- outside OpenAPI: the web app's shell and files, public (the
        // data they show comes from the API, under the same policy)
        row("GET", "/", "/", "global", ALL).public(Ok),
        row("GET", "/app", "/app", "global", ALL).public(Ok),
        row("GET", "/app/{*page}", "/app/reports", "global", ALL).public(Ok),
        row("GET", "/assets/{*path}", "/assets/app/main.js", "global", ALL).public(Ok),
        // ---- outside OpenAPI: the DHIS2-compatible API, on the same policy
        row("GET", "/api/dataElements", "/api/dataElements", "global", ALL),
        row("GET", "/api/dataElements/{id}", "/api/dataElements/documents_sent", "global", ALL),
        row("GET", "/api/indicators", "/api/indicators", "global", ALL),
        row("GET", "/api/indicators/{id}", "/api/indicators/electronic_document_rate", "global", ALL),
        row("GET", "/api/dataSets", "/api/dataSets", "global", ALL),
        row("GET", "/api/dataSets/{id}", "/api/dataSets/it_fast_quarterly", "global", ALL),
        row("GET", "/api/organisationUnits", "/api/organisationUnits", "global", NOT_AGENCY),
        // Stricter than REST (`GET /api/v1/agencies/{code}`, where an agency
        // reads its own record): the DHIS2 view of an agency is built from
        // the tree, which agencies do not read. Refused, never too open.
        row("GET", "/api/organisationUnits/{id}", format!("/api/organisationUnits/{A}"), "own agency", NOT_AGENCY),
        row("GET", "/api/organisationUnits/{id}", format!("/api/organisationUnits/{C}"), "other-province agency", NOT_AGENCY),
        row("GET", "/api/me", "/api/me", "global", ALL),
        row("GET", "/api/system/info", "/api/system/info", "global", ALL),
        // Analytics resolves its org units through the tree, which agencies
        // do not read: stricter than `GET /api/v1/aggregates` for them.
        row("GET", "/api/analytics", format!("/api/analytics?dimension=dx:electronic_document_rate&dimension=pe:{q}&dimension=ou:000.00.00.H51"), "own province", NOT_AGENCY),
        row("GET", "/api/analytics", format!("/api/analytics?dimension=dx:electronic_document_rate&dimension=pe:{q}&dimension=ou:000.00.00.H52"), "other province", ADMIN),
        row("GET", "/api/analytics.csv", format!("/api/analytics.csv?dimension=dx:electronic_document_rate&dimension=pe:{q}&dimension=ou:000.00.00.H52"), "other province", ADMIN),
        row("GET", "/api/dataValueSets", format!("/api/dataValueSets?dataSet=it_fast_quarterly&period={q}&orgUnit={A}"), "own agency", ALL),
        // DHIS2 reads are lists: another province's values come back empty.
        row("GET", "/api/dataValueSets.json", format!("/api/dataValueSets.json?dataSet=it_fast_quarterly&period={q}&orgUnit={C}"), "other-province agency", ALL),
        row("GET", "/api/dataValueSets.csv", format!("/api/dataValueSets.csv?dataSet=it_fast_quarterly&period={q}&orgUnit={C}"), "other-province agency", ALL),
        row("GET", "/api/dataValues", format!("/api/dataValues?de=documents_sent&pe={q}&ou={A}"), "own agency", ALL),
        row("GET", "/api/completeDataSetRegistrations", format!("/api/completeDataSetRegistrations?dataSet=it_fast_quarterly&period={q}&orgUnit={A}"), "own agency", ALL),
        row("GET", "/api/completeDataSetRegistrations.json", format!("/api/completeDataSetRegistrations.json?dataSet=it_fast_quarterly&period={q}&orgUnit={C}"), "other-province agency", ALL),
    ];
    // DHIS2 writes: checked for those who must be refused; the allowed
    // roles' writes are the REST rows' (the same SubmitReport), not repeated.
    let refused = [Skip, Skip, Denied, Skip, Denied];
    let set = json!({"dataSet": "it_fast_quarterly", "period": q, "orgUnit": A,
                     "dataValues": [{"dataElement": "documents_sent", "value": "5"}]});
    for route in ["/api/dataValueSets", "/api/dataValueSets.json"] {
        rows.push(
            row(
                "POST",
                route,
                format!("{route}?dryRun=true"),
                "own agency",
                refused,
            )
            .json(set.clone()),
        );
    }
    rows.push(
        row("POST", "/api/dataValueSets.csv", "/api/dataValueSets.csv?dryRun=true", "own agency", refused)
            .raw("text/csv", format!("dataelement,period,orgunit,catoptcombo,attroptcombo,value\ndocuments_sent,{q},{A},,,5\n")),
    );
    let value = format!("/api/dataValues?de=documents_sent&pe={q}&ou={A}&value=5");
    rows.push(
        row(
            "POST",
            "/api/dataValues",
            value.clone(),
            "own agency",
            refused,
        )
        .json(Value::Null),
    );
    rows.push(row("DELETE", "/api/dataValues", value, "own agency", refused).json(Value::Null));
    let complete = json!({"completeDataSetRegistrations": [{"dataSet": "it_fast_quarterly", "period": q, "organisationUnit": A}]});
    for route in [
        "/api/completeDataSetRegistrations",
        "/api/completeDataSetRegistrations.json",
    ] {
        rows.push(row("POST", route, route, "own agency", refused).json(complete.clone()));
    }
    rows
}

/// Everything the matrix calls with: tokens and the values its paths name.
struct Fixture {
    tokens: HashMap<&'static str, String>,
    vars: HashMap<String, String>,
}

impl Fixture {
    /// Fills `{name}` (and `{name@}`: the caller's own, else the shared one).
    fn fill(&self, text: &str, who: Who) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '@'))
                .unwrap_or(after.len());
            let name = &after[..len];
            let value = if after[len..].starts_with('}') && !name.is_empty() {
                match name.strip_suffix('@') {
                    Some(base) => self
                        .vars
                        .get(&format!("{base}@{}", who.name()))
                        .or_else(|| self.vars.get(base)),
                    None => self.vars.get(name),
                }
            } else {
                None
            };
            match value {
                Some(v) => {
                    out.push_str(v);
                    rest = &after[len + 1..];
                }
                // Not a placeholder (a JSON brace): keep it.
                None => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

/// Issues staff credentials at `path` and logs in: (client id, token).
async fn staff(stack: &TestStack, admin: &str, path: &str, body: Value) -> (String, String) {
    let (status, issued) = stack.post(path, Some(admin), &body).await;
    assert_eq!(status, 201, "{path}: {issued}");
    let id = issued["client_id"].as_str().unwrap().to_owned();
    let token = stack
        .token(&id, issued["client_secret"].as_str().unwrap())
        .await;
    (id, token)
}

/// A client of `agency` issued by the admin: its id.
async fn client_of(stack: &TestStack, admin: &str, agency: &str) -> (String, String) {
    let (status, body) = stack
        .post(
            &format!("/api/v1/agencies/{agency}/credentials"),
            Some(admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    (
        body["client_id"].as_str().unwrap().to_owned(),
        body["client_secret"].as_str().unwrap().to_owned(),
    )
}

fn public_key(seed: u8) -> String {
    STANDARD.encode(
        SigningKey::from_bytes(&[seed; 32])
            .verifying_key()
            .as_bytes(),
    )
}

/// Two provinces, their agencies, a report of each, and every caller.
async fn fixture(stack: &TestStack) -> Fixture {
    let admin = stack.admin_token().await;
    let mut vars: HashMap<String, String> = HashMap::new();
    let mut agencies = vec![
        json!({"code": "000.00.00.H51", "admin_unit_code": "51", "name": "Tỉnh Quảng Ngãi",
               "kind": "provincial_committee", "valid_from": "1989-07-01"}),
        json!({"code": "000.00.00.H52", "admin_unit_code": "52", "name": "Tỉnh Bình Định",
               "kind": "provincial_committee", "valid_from": "1989-07-01"}),
    ];
    // A, B and C, then departments the admin and the officer write to.
    let departments: Vec<String> = [A, B, C]
        .into_iter()
        .map(str::to_owned)
        .chain((20..30).map(|i| format!("000.00.{i}.H51")))
        .chain((20..24).map(|i| format!("000.00.{i}.H52")))
        .collect();
    for code in &departments {
        let parent = format!("000.00.00.{}", &code[10..]);
        agencies.push(
            json!({"code": code, "name": format!("Sở {code}"), "kind": "department",
                             "parent_code": parent, "valid_from": "2008-04-01"}),
        );
    }
    for agency in &agencies {
        let (status, body) = stack.post("/api/v1/agencies", Some(&admin), agency).await;
        assert_eq!(status, 201, "{body}");
    }
    let (a_id, a_secret) = client_of(stack, &admin, A).await;
    let agency = stack.token(&a_id, &a_secret).await;
    let (_, officer) = staff(
        stack,
        &admin,
        "/api/v1/officers",
        json!({"province_code": "51"}),
    )
    .await;
    let (_, viewer) = staff(
        stack,
        &admin,
        "/api/v1/viewers",
        json!({"province_code": "51"}),
    )
    .await;
    let (_, integrator) = staff(
        stack,
        &admin,
        "/api/v1/integrators",
        json!({"granted_province_codes": ["51"]}),
    )
    .await;

    for (n, who) in Who::ALL.iter().enumerate() {
        vars.insert(format!("n@{}", who.name()), n.to_string());
    }
    vars.insert("n".into(), "9".into());
    let today = chrono::Utc::now().date_naive();
    vars.insert("today".into(), today.to_string());
    vars.insert(
        "until".into(),
        (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339(),
    );

    // Throw-away clients and keys: one per role that may change them.
    let mut seed = 1u8;
    for (agency_code, name, roles) in [
        (A, "A", &["admin", "officer", "agency"][..]),
        (B, "B", &["admin", "officer"][..]),
        (C, "C", &["admin"][..]),
    ] {
        for (i, role) in roles.iter().enumerate() {
            let (id, _) = client_of(stack, &admin, agency_code).await;
            vars.insert(format!("t{name}@{role}"), id.clone());
            let (status, key) = stack
                .post(
                    &format!("/api/v1/agencies/{agency_code}/keys"),
                    Some(&admin),
                    &json!({"public_key": public_key(seed)}),
                )
                .await;
            assert_eq!(status, 201, "{key}");
            vars.insert(
                format!("k{name}@{role}"),
                key["key_id"].as_str().unwrap().to_owned(),
            );
            vars.insert(format!("pk{name}@{role}"), public_key(seed + 100));
            seed += 1;
            // The shared one, for the callers who are refused, is the last.
            if i == roles.len() - 1 {
                for prefix in ["t", "k", "pk"] {
                    let own = vars[&format!("{prefix}{name}@{role}")].clone();
                    vars.insert(format!("{prefix}{name}"), own);
                }
            }
        }
    }

    // Registrations to review, each filed from its own address (the
    // registration limit is per address).
    for (address, (name, province, code)) in (40u8..).zip([
        ("ap51@admin", "51", "000.00.70.H51"),
        ("ap51@officer", "51", "000.00.71.H51"),
        ("rj51@admin", "51", "000.00.72.H51"),
        ("rj51@officer", "51", "000.00.73.H51"),
        ("ap52", "52", "000.00.70.H52"),
        ("rj52", "52", "000.00.71.H52"),
    ]) {
        let http = stack.http_from(IpAddr::V4(Ipv4Addr::new(127, 0, 1, address)));
        let response = http
            .post(format!("{}/api/v1/registrations", stack.gateway_url))
            .json(
                &json!({"agency": {"code": code, "name": "Sở đăng ký", "kind": "department",
                                     "parent_code": format!("000.00.00.H{province}")},
                          "contact": {"name": "Lê Văn Cường", "email": "cuong@stc.gov.vn"}}),
            )
            .send()
            .await
            .expect("gateway reachable");
        assert_eq!(response.status().as_u16(), 201);
        let body: Value = response.json().await.expect("json");
        vars.insert(name.into(), body["id"].as_str().unwrap().to_owned());
    }
    for name in ["ap51", "rj51"] {
        let own = vars[&format!("{name}@officer")].clone();
        vars.insert(name.into(), own);
    }

    // The submission service learns agencies from the registry's feed.
    let q = this_quarter();
    for (province, last) in [("51", "000.00.29.H51"), ("52", "000.00.23.H52")] {
        let path =
            format!("/api/v1/forms/it_fast_quarterly/expected?period={q}&province={province}");
        let mut known = false;
        for _ in 0..200 {
            let (status, body) = stack.get(&path, &admin).await;
            if status == 200 && body.to_string().contains(last) {
                known = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(known, "the submission service never expected {last}");
    }

    // Reports: A's by itself; every other by the admin.
    let (status, body) = stack
        .post(
            "/api/v1/reports",
            Some(&agency),
            &documents_report(120, 114),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    vars.insert("rA".into(), body["id"].as_str().unwrap().to_owned());
    let report_of = async |code: &str| {
        let mut report = documents_report(10, 5);
        report["agency_code"] = json!(code);
        let (status, body) = stack.post("/api/v1/reports", Some(&admin), &report).await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().unwrap().to_owned()
    };
    vars.insert("rB".into(), report_of(B).await);
    vars.insert("rC".into(), report_of(C).await);
    for (name, code) in [
        ("acc@admin", "000.00.20.H51"),
        ("acc@officer", "000.00.21.H51"),
        ("ret@admin", "000.00.22.H51"),
        ("ret@officer", "000.00.23.H51"),
        ("rev@admin", "000.00.24.H51"),
        ("rev@officer", "000.00.25.H51"),
        ("acc52", "000.00.20.H52"),
        ("ret52", "000.00.21.H52"),
    ] {
        let id = report_of(code).await;
        vars.insert(name.into(), id);
    }
    let own = vars["rA"].clone();
    for name in ["acc", "ret", "rev"] {
        vars.insert(name.into(), own.clone());
    }
    // Agencies without a report yet, for the rows that start one.
    for (name, code) in [
        ("sub@admin", "000.00.26.H51"),
        ("sub@officer", "000.00.27.H51"),
        ("sub", A),
        ("draft@admin", "000.00.28.H51"),
        ("draft@officer", "000.00.29.H51"),
        ("draft", A),
        ("sub52", "000.00.22.H52"),
        ("draft52", "000.00.23.H52"),
    ] {
        vars.insert(name.into(), code.into());
    }
    stack.wait_for_feed(&admin).await;

    let tokens = HashMap::from([
        ("admin", admin),
        ("officer", officer),
        ("viewer", viewer),
        ("agency", agency),
        ("integrator", integrator),
    ]);
    Fixture { tokens, vars }
}

/// Sends one row as `who`; returns (status, body).
async fn send(
    stack: &TestStack,
    http: &reqwest::Client,
    fixture: &Fixture,
    row: &Row,
    who: Who,
) -> (u16, Value) {
    let url = format!("{}{}", stack.gateway_url, fixture.fill(&row.path, who));
    let method = reqwest::Method::from_bytes(row.method.as_bytes()).expect("a method");
    let mut request = http.request(method, url);
    if let Some(token) = fixture.tokens.get(who.name()) {
        request = request.bearer_auth(token);
    }
    request = match &row.body {
        Body::None => request,
        Body::Json(Value::Null) => request,
        Body::Json(body) => {
            let text = fixture.fill(&body.to_string(), who);
            request
                .header("content-type", "application/json")
                .body(text)
        }
        Body::Raw(content_type, text) => request
            .header("content-type", *content_type)
            .body(fixture.fill(text, who)),
    };
    let response = request.send().await.expect("gateway reachable");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Whether `(status, body)` is what `expect` says; why not, if it is not.
fn check(expect: Expect, status: u16, body: &Value) -> Result<(), String> {
    let code = body.get("code").and_then(Value::as_str).unwrap_or("");
    let matches = match expect {
        Expect::Ok => (200..300).contains(&status),
        Expect::Invalid(want) => status == 422 && code == want,
        Expect::Denied => status == 403 && code == "permission_denied",
        Expect::Hidden => status == 404 && code == "not_found",
        Expect::Unauth => status == 401 && code == "unauthenticated",
        Expect::OAuth(want, error) => status == want && body["error"] == error,
        Expect::Skip => true,
    };
    if matches {
        return Result::Ok(());
    }
    let mut shown = body.to_string();
    shown.truncate(300);
    Err(format!("expected {expect:?}, got {status} {shown}"))
}

/// (method, route) of every operation in the gateway's OpenAPI document.
async fn openapi_routes(stack: &TestStack) -> BTreeSet<(String, String)> {
    let response = stack
        .http
        .get(format!("{}/openapi.json", stack.gateway_url))
        .send()
        .await
        .expect("gateway reachable");
    assert!(response.status().is_success(), "GET /openapi.json");
    let document = response.json::<Value>().await.expect("OpenAPI is JSON");
    let mut routes = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                routes.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    routes
}

#[tokio::test]
async fn every_route_as_every_role_inside_and_outside_its_scope() {
    // Every caller files a registration in the matrix; more than one
    // address's burst in all.
    let limits = chiso_gateway::config::LimitsConfig {
        registration_per_address: chiso_runtime::limit::Rate::new(100, 100),
        ..Default::default()
    };
    let stack = spawn_stack_with(StackOptions {
        limits: Some(limits),
        ..Default::default()
    })
    .await;
    let fixture = fixture(&stack).await;
    let rows = rest_rows();

    // Completeness first: a route without a row, or a row for a route that
    // is gone, fails before anything is called.
    let documented = openapi_routes(&stack).await;
    let outside: BTreeSet<(String, String)> = OUTSIDE_OPENAPI
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    let covered: BTreeSet<(String, String)> = rows
        .iter()
        .map(|r| (r.method.to_owned(), r.route.to_owned()))
        .collect();
    let missing: Vec<_> = documented
        .union(&outside)
        .filter(|r| !covered.contains(*r))
        .collect();
    let stale: Vec<_> = covered
        .iter()
        .filter(|r| !documented.contains(*r) && !outside.contains(*r))
        .collect();
    let both: Vec<_> = documented.intersection(&outside).collect();
    assert!(
        missing.is_empty() && stale.is_empty() && both.is_empty(),
        "the matrix is out of date:\n  routes without a row: {missing:?}\n  \
         rows for routes that are gone: {stale:?}\n  \
         routes now in OpenAPI, to take out of OUTSIDE_OPENAPI: {both:?}"
    );

    // Each caller from its own address: registrations and logins are
    // limited per address.
    let clients: Vec<reqwest::Client> = (0..Who::ALL.len())
        .map(|i| stack.http_from(IpAddr::V4(Ipv4Addr::new(127, 0, 2, 10 + i as u8))))
        .collect();
    let mut failures = Vec::new();
    let mut checked = 0;
    for row in &rows {
        for (who, http) in Who::ALL.into_iter().zip(&clients) {
            let expect = row.expected(who);
            if expect == Skip {
                continue;
            }
            let (status, body) = send(&stack, http, &fixture, row, who).await;
            checked += 1;
            if let Err(why) = check(expect, status, &body) {
                failures.push(format!(
                    "{} {} ({}, {}) as {}: {why}",
                    row.method,
                    fixture.fill(&row.path, who),
                    row.route,
                    row.target,
                    who.name()
                ));
            }
        }
    }
    eprintln!(
        "authz matrix (REST): {} rows × {} callers = {checked} requests checked, {} routes",
        rows.len(),
        Who::ALL.len(),
        covered.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {checked} answers differ from the matrix:\n{}",
        failures.len(),
        failures.join("\n")
    );
    stack.shutdown().await;
}

// ---------------------------------------------------------------- gRPC

/// One gRPC method, as its descriptor gives it.
#[derive(Debug, Clone)]
struct Method {
    /// `chiso.registry.v1.AgencyService/GetAgency`.
    name: String,
    client_streaming: bool,
    server_streaming: bool,
}

/// Every method of every chiso service, from the descriptor set the
/// services hand to reflection.
fn described_methods() -> Vec<Method> {
    use prost::Message;
    let set = prost_types::FileDescriptorSet::decode(chiso_tests::proto::FILE_DESCRIPTOR_SET)
        .expect("the descriptor set decodes");
    let mut methods = Vec::new();
    for file in set.file {
        let package = file.package().to_owned();
        if !package.starts_with("chiso.") {
            continue;
        }
        for service in &file.service {
            for method in &service.method {
                methods.push(Method {
                    name: format!("{package}.{}/{}", service.name(), method.name()),
                    client_streaming: method.client_streaming(),
                    server_streaming: method.server_streaming(),
                });
            }
        }
    }
    methods
}

/// What each method must enforce (`None`: open without a token), by
/// `Service/Method`.
fn grpc_table() -> Vec<(&'static str, Option<chiso_runtime::policy::Action>)> {
    use chiso_runtime::policy::Action::*;
    let rows: &[(&[&str], Option<chiso_runtime::policy::Action>)] = &[
        (
            &[
                "AgencyService/CreateAgency",
                "AgencyService/Reorganise",
                "AgencyService/ImportAgencies",
            ],
            Some(ChangeTree),
        ),
        (
            &["AgencyService/GetAgency", "AgencyService/GetLineage"],
            Some(ReadAgency),
        ),
        (
            &["AgencyService/ListAgencies", "AgencyService/GetSubtree"],
            Some(ReadTree),
        ),
        (
            &[
                "AgencyService/WatchAgencies",
                "AgencyService/ListAgencyChanges",
            ],
            Some(FollowFeed),
        ),
        (&["AgencyService/GetAgencyFeedHead"], Some(ReadFeedHead)),
        (
            &["CredentialService/IssueCredentials"],
            Some(IssueCredentials),
        ),
        // An agency's clients are listed by those who manage them.
        (
            &["CredentialService/ListCredentials"],
            Some(ManageCredentials),
        ),
        (
            &["CredentialService/IssueOfficerCredentials"],
            Some(CreateOfficers),
        ),
        (
            &[
                "CredentialService/RotateCredentials",
                "CredentialService/RevokeCredentials",
            ],
            Some(ManageCredentials),
        ),
        (
            &["CredentialService/VerifyCredentials"],
            Some(VerifyCredentials),
        ),
        // The token exchange and registration are the doors without a token.
        (
            &[
                "CredentialService/IssueToken",
                "RegistrationService/FileRegistration",
            ],
            None,
        ),
        (&["CredentialService/ListRevokedClients"], Some(FollowFeed)),
        (&["CredentialService/RenewToken"], Some(RenewOwnToken)),
        (
            &[
                "RegistrationService/ListRegistrations",
                "RegistrationService/GetRegistration",
                "RegistrationService/ApproveRegistration",
                "RegistrationService/RejectRegistration",
            ],
            Some(ReviewRegistrations),
        ),
        (
            &[
                "SigningKeyService/RegisterSigningKey",
                "SigningKeyService/RevokeSigningKey",
            ],
            Some(ManageSigningKeys),
        ),
        (
            &[
                "SigningKeyService/ListSigningKeys",
                "SigningKeyService/GetSigningKey",
            ],
            Some(ReadSigningKeys),
        ),
        (
            &[
                "CatalogueService/ListDataElements",
                "CatalogueService/GetDataElement",
                "CatalogueService/ListIndicators",
                "CatalogueService/GetIndicator",
                "CatalogueService/ListValidationRules",
                "FormService/ListForms",
                "FormService/GetForm",
                "FormService/ListPeriods",
            ],
            Some(ReadCatalogue),
        ),
        (
            &[
                "CatalogueService/CreateDataElement",
                "CatalogueService/UpdateDataElement",
                "CatalogueService/RetireDataElement",
                "CatalogueService/CreateIndicator",
                "CatalogueService/UpdateIndicator",
                "CatalogueService/RetireIndicator",
                "CatalogueService/CreateValidationRule",
                "CatalogueService/UpdateValidationRule",
                "CatalogueService/RetireValidationRule",
            ],
            Some(ManageCatalogue),
        ),
        (
            &[
                "FormService/ListExpectedReports",
                "ReportService/GetReport",
                "ReportService/ListReports",
                "ReportService/ListReportVersions",
                "ReportService/ListAuditEntries",
                "ReportService/VerifySignature",
            ],
            Some(ReadReport),
        ),
        (
            &[
                "ReportService/SaveDraft",
                "ReportService/SubmitReport",
                "ReportService/ReviseReport",
                "ReportService/ImportValues",
                "ReportService/CompleteReports",
            ],
            Some(SubmitReport),
        ),
        (
            &[
                "ReportService/AcceptReport",
                "ReportService/ReturnReport",
                "ReportService/UnlockReport",
            ],
            Some(ReviewReport),
        ),
        (&["ChangeFeedService/WatchChanges"], Some(FollowFeed)),
        (&["ChangeFeedService/GetFeedHead"], Some(ReadFeedHead)),
        // Aggregates, and how far they have caught up.
        (
            &[
                "AggregationService/GetAggregate",
                "AggregationService/GetBreakdown",
                "AggregationService/StreamBreakdown",
                "AggregationService/GetTrend",
                "AggregationService/GetCompleteness",
                "AggregationService/ListPlans",
                "AggregationService/GetPlan",
                "AggregationService/GetAttainment",
                "AggregationService/ListRankings",
                "AggregationService/GetRanking",
                "AggregationService/Export",
                "AggregationService/GetFeedPosition",
            ],
            Some(ReadAggregates),
        ),
    ];
    rows.iter()
        .flat_map(|(names, action)| names.iter().map(move |n| (*n, *action)))
        .collect()
}

/// What `method` (`chiso.x.v1.Service/Method`) must enforce, if the table has it.
fn method_action(method: &str) -> Option<Option<chiso_runtime::policy::Action>> {
    let (_, name) = method.rsplit_once('.')?;
    grpc_table()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, action)| action)
}

/// `request` with `token` as its bearer, if there is one.
fn with_token<T>(token: Option<&str>, mut request: tonic::Request<T>) -> tonic::Request<T> {
    if let Some(token) = token {
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("ascii"),
        );
    }
    request
}

/// Calls `method` on `addr` with an empty message (or an empty stream),
/// as `token`; the status code it ends with.
async fn call_empty(
    stack: &TestStack,
    addr: std::net::SocketAddr,
    method: &Method,
    token: Option<&str>,
) -> tonic::Code {
    let mut grpc = tonic::client::Grpc::new(stack.channel(addr));
    grpc.ready().await.expect("service ready");
    let path: tonic::codegen::http::uri::PathAndQuery =
        format!("/{}", method.name).parse().expect("a method path");
    let streamed = match (method.client_streaming, method.server_streaming) {
        (false, false) => {
            let request = with_token(token, tonic::Request::new(bytes::Bytes::new()));
            return match grpc.unary(request, path, RawCodec).await {
                Result::Ok(_) => tonic::Code::Ok,
                Err(status) => status.code(),
            };
        }
        (true, false) => {
            let request = with_token(
                token,
                tonic::Request::new(futures::stream::empty::<bytes::Bytes>()),
            );
            return match grpc.client_streaming(request, path, RawCodec).await {
                Result::Ok(_) => tonic::Code::Ok,
                Err(status) => status.code(),
            };
        }
        (false, true) => {
            let request = with_token(token, tonic::Request::new(bytes::Bytes::new()));
            grpc.server_streaming(request, path, RawCodec).await
        }
        (true, true) => {
            let request = with_token(
                token,
                tonic::Request::new(futures::stream::empty::<bytes::Bytes>()),
            );
            grpc.streaming(request, path, RawCodec).await
        }
    };
    match streamed {
        Err(status) => status.code(),
        // A stream may refuse in its first message; one that is still open
        // after a moment (a feed being followed) was let through.
        Result::Ok(response) => {
            let mut stream = response.into_inner();
            match tokio::time::timeout(std::time::Duration::from_secs(1), stream.message()).await {
                Result::Ok(Err(status)) => status.code(),
                _ => tonic::Code::Ok,
            }
        }
    }
}

#[tokio::test]
async fn every_grpc_method_as_every_role() {
    use chiso_domain::Role;
    use chiso_runtime::policy::{Reach, grant};

    let stack = spawn_stack_with(StackOptions::default()).await;
    let fixture = fixture(&stack).await;
    let service = stack.service_token().await;
    let roles: Vec<(&str, Option<Role>, Option<&str>)> = vec![
        ("admin", Some(Role::Admin), Some(&fixture.tokens["admin"])),
        (
            "officer",
            Some(Role::ProvinceOfficer),
            Some(&fixture.tokens["officer"]),
        ),
        (
            "viewer",
            Some(Role::Viewer),
            Some(&fixture.tokens["viewer"]),
        ),
        (
            "agency",
            Some(Role::AgencyReporter),
            Some(&fixture.tokens["agency"]),
        ),
        (
            "integrator",
            Some(Role::Integrator),
            Some(&fixture.tokens["integrator"]),
        ),
        ("service", Some(Role::Service), Some(&service)),
        ("anonymous", None, None),
    ];

    // Completeness: every described method has an action (or is public),
    // every method the table names is described.
    let methods = described_methods();
    let unmapped: Vec<&str> = methods
        .iter()
        .filter(|m| method_action(&m.name).is_none())
        .map(|m| m.name.as_str())
        .collect();
    assert!(
        unmapped.is_empty(),
        "gRPC methods without a row in the matrix (add them to method_action): {unmapped:?}"
    );
    let stale: Vec<&str> = grpc_table()
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| {
            !methods
                .iter()
                .any(|m| m.name.ends_with(&format!(".{name}")))
        })
        .collect();
    assert!(
        stale.is_empty(),
        "the matrix names gRPC methods that no longer exist: {stale:?}"
    );

    let mut failures = Vec::new();
    let mut checked = 0;
    for method in &methods {
        let addr = if method.name.starts_with("chiso.registry.") {
            stack.registry_addr
        } else if method.name.starts_with("chiso.submission.") {
            stack.submission_addr
        } else {
            stack.aggregation_addr
        };
        let action = method_action(&method.name).flatten();
        for (name, role, token) in &roles {
            let code = call_empty(&stack, addr, method, *token).await;
            checked += 1;
            let fine = match (action, role) {
                // Public: never refused for who the caller is.
                (None, _) => !matches!(
                    code,
                    tonic::Code::PermissionDenied | tonic::Code::Unauthenticated
                ),
                (Some(_), None) => code == tonic::Code::Unauthenticated,
                (Some(action), Some(role)) => match grant(*role, action) {
                    Reach::None => code == tonic::Code::PermissionDenied,
                    // An empty message names nothing in a scope of one
                    // agency or province, so a scoped caller may be refused
                    // it; never unauthenticated, and the everywhere-reaching
                    // never refused.
                    Reach::OwnAgency | Reach::OwnProvince => code != tonic::Code::Unauthenticated,
                    Reach::Everywhere => !matches!(
                        code,
                        tonic::Code::PermissionDenied | tonic::Code::Unauthenticated
                    ),
                },
            };
            if !fine {
                failures.push(format!(
                    "{} as {name}: {code:?} (enforces {action:?})",
                    method.name
                ));
            }
        }
    }
    eprintln!(
        "authz matrix (gRPC): {} methods × {} callers = {checked} calls checked",
        methods.len(),
        roles.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {checked} gRPC answers differ from the policy:\n{}",
        failures.len(),
        failures.join("\n")
    );
    stack.shutdown().await;
}

/// One typed gRPC call and what each caller must get, in [`Who::ALL`]'s
/// order without the anonymous caller (always `Unauthenticated`).
type GrpcCase = (&'static str, String, [tonic::Code; 5]);

/// The scoped rows of the REST matrix again, straight over gRPC with real
/// messages: a client that bypasses the gateway gets exactly what REST
/// gives it — the same report hidden (`NotFound`, REST 404), the same
/// aggregate refused (`PermissionDenied`, REST 403) — inside and outside
/// each caller's scope.
#[tokio::test]
async fn scoped_grpc_calls_answer_as_rest_does() {
    use chiso_proto::{
        aggregation::v1::{
            GetAggregateRequest, GetCompletenessRequest,
            aggregation_service_client::AggregationServiceClient,
        },
        registry::v1::{GetAgencyRequest, agency_service_client::AgencyServiceClient},
        submission::v1::{
            DataValue, GetReportRequest, SaveDraftRequest,
            report_service_client::ReportServiceClient,
        },
    };
    use tonic::Code::{NotFound, Ok as Fine, PermissionDenied};

    let stack = spawn_stack_with(StackOptions::default()).await;
    let fixture = fixture(&stack).await;
    let q = this_quarter();
    let year = &q[..4];
    let v = |name: &str| fixture.vars[name].clone();
    let callers: Vec<Option<&str>> = [
        Who::Admin,
        Who::Officer,
        Who::Viewer,
        Who::Agency,
        Who::Integrator,
    ]
    .iter()
    .map(|w| Some(fixture.tokens[w.name()].as_str()))
    .chain([None])
    .collect();
    let registry = stack.channel(stack.registry_addr);
    let submission = stack.channel(stack.submission_addr);
    let aggregation = stack.channel(stack.aggregation_addr);

    let report = |id: String| GetReportRequest {
        id,
        ..Default::default()
    };
    let rate = |area: &str| GetAggregateRequest {
        indicator: "electronic_document_rate".into(),
        area: area.into(),
        period: q.clone(),
        ..Default::default()
    };
    let completeness = |area: &str| GetCompletenessRequest {
        form: "it_fast_quarterly".into(),
        period: q.clone(),
        area: area.into(),
        ..Default::default()
    };
    let draft = |agency: String| SaveDraftRequest {
        form: "it_application_yearly".into(),
        period: year.to_owned(),
        agency_code: agency,
        values: vec![DataValue::new("officials", "12")],
        ..Default::default()
    };
    let same = [Fine; 5];
    let admin_only_hidden = [Fine, NotFound, NotFound, NotFound, NotFound];
    let admin_only_denied = [
        Fine,
        PermissionDenied,
        PermissionDenied,
        PermissionDenied,
        PermissionDenied,
    ];
    let not_agency = [Fine, Fine, Fine, NotFound, Fine];
    // One call of `$method` on a `$client` over `$channel` with `$message`,
    // as whichever token it is given.
    macro_rules! call {
        ($client:ident, $channel:expr, $method:ident, $message:expr) => {{
            let (channel, message) = ($channel.clone(), $message);
            Box::new(move |token: Option<&str>| {
                let mut client = $client::new(channel.clone());
                let request = with_token(token, tonic::Request::new(message.clone()));
                Box::pin(async move { code(client.$method(request).await) })
                    as futures::future::BoxFuture<'static, tonic::Code>
            })
                as Box<dyn Fn(Option<&str>) -> futures::future::BoxFuture<'static, tonic::Code>>
        }};
    }
    let cases: Vec<(GrpcCase, _)> = vec![
        (
            ("GetReport", "own agency's report".into(), same),
            call!(ReportServiceClient, submission, get_report, report(v("rA"))),
        ),
        (
            (
                "GetReport",
                "same-province agency's report".into(),
                not_agency,
            ),
            call!(ReportServiceClient, submission, get_report, report(v("rB"))),
        ),
        (
            (
                "GetReport",
                "other province's report".into(),
                admin_only_hidden,
            ),
            call!(ReportServiceClient, submission, get_report, report(v("rC"))),
        ),
        (
            (
                "SaveDraft",
                "other province's agency".into(),
                admin_only_denied,
            ),
            call!(
                ReportServiceClient,
                submission,
                save_draft,
                draft(v("draft52"))
            ),
        ),
        (
            ("GetAggregate", "own province".into(), same),
            call!(
                AggregationServiceClient,
                aggregation,
                get_aggregate,
                rate("51")
            ),
        ),
        (
            ("GetAggregate", "other province".into(), admin_only_denied),
            call!(
                AggregationServiceClient,
                aggregation,
                get_aggregate,
                rate("52")
            ),
        ),
        (
            ("GetCompleteness", "own province".into(), same),
            call!(
                AggregationServiceClient,
                aggregation,
                get_completeness,
                completeness("51")
            ),
        ),
        (
            (
                "GetCompleteness",
                "other province".into(),
                admin_only_denied,
            ),
            call!(
                AggregationServiceClient,
                aggregation,
                get_completeness,
                completeness("52")
            ),
        ),
        (
            (
                "GetAgency",
                "other province's agency".into(),
                [Fine, Fine, Fine, PermissionDenied, Fine],
            ),
            call!(
                AgencyServiceClient,
                registry,
                get_agency,
                GetAgencyRequest {
                    code: C.into(),
                    ..Default::default()
                }
            ),
        ),
    ];

    let mut failures = Vec::new();
    for ((method, scope, expected), call) in &cases {
        for (i, token) in callers.iter().enumerate() {
            let got = call(*token).await;
            let want = expected
                .get(i)
                .copied()
                .unwrap_or(tonic::Code::Unauthenticated);
            if got != want {
                let who = Who::ALL[i].name();
                failures.push(format!(
                    "{method} ({scope}) as {who}: {got:?}, expected {want:?}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    stack.shutdown().await;
}

fn code<T>(answer: Result<tonic::Response<T>, tonic::Status>) -> tonic::Code {
    answer.map_or_else(|s| s.code(), |_| tonic::Code::Ok)
}
