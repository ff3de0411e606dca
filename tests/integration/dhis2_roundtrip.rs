//! The `chiso up` demo carried to a fresh stack through DHIS2's Web API
//! alone (the exchange issue's acceptance item): stack A loads the demo;
//! its values (`/api/dataValueSets`) and completion registrations
//! (`/api/completeDataSetRegistrations`) are exported, one data value set
//! per form and province; stack B, with only the demo's agencies
//! registered, takes the values as drafts, then the registrations, which
//! submit the reports with the days they were received. Both aggregation
//! services then answer the same, to the exact numerator and denominator,
//! for every indicator and data element of the quarterly and monthly forms,
//! every demo province and every demo quarter, and with the same
//! completeness: expected, received, on time, late and how late. (The
//! demo's years hold only yearly reports, whose answers B cannot have: see
//! below.)
//!
//! Two things a DHIS2 value set cannot carry, and the test says so:
//! - The yearly form (`it_application_yearly`) needs the agency's signature
//!   and counts only reports a province officer accepted. Its values arrive
//!   in B identical, as drafts, but its registrations are refused: a
//!   signature is the agency's own act, which no import can forge (the
//!   issue requires refusing signature forms over DHIS2), and acceptance is
//!   a review, not data. Its aggregates stay with the agencies' signatures
//!   and the province's reviews: B counts nothing for the demo's years.
//! - A report the province returned is not complete, so it has no
//!   registration: it arrives as a draft. Neither stack counts its values;
//!   A lists it as returned and B as missing (a draft), and that is the only
//!   difference in completeness.
//!
//! Periods already closed for entry are unlocked in B first
//! (`/api/v1/unlocks`), as a province office does before entering old paper
//! reports: a migration goes through the same locks as any other write.

use std::collections::{BTreeMap, BTreeSet};

use chiso_domain::{Form, PeriodCode, PeriodType};
use chiso_tests::{TestStack, spawn_stack};
use serde_json::{Value, json};

use crate::register_quang_ngai;

const QUARTERLY: &str = "it_fast_quarterly";
const MONTHLY: &str = "online_applications_monthly";
const YEARLY: &str = "it_application_yearly";

/// The demo's provinces: (administrative-unit code, root agency).
const PROVINCES: [(&str, &str); 5] = [
    ("44", "000.00.00.H44"),
    ("51", "000.00.00.H51"),
    ("84", "000.00.00.H84"),
    ("68", "000.00.00.H68"),
    ("62", "000.00.00.H62"),
];

/// The selection of one province's reports of one form over every demo period.
fn selection(form: &str, root: &str) -> String {
    format!("dataSet={form}&orgUnit={root}&children=true&startDate=2024-01-01&endDate=2026-12-31")
}

async fn get_ok(stack: &TestStack, token: &str, path: &str) -> Value {
    let (status, body) = stack.get(path, token).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

/// (element, period, unit, value) of exported data values, sorted.
fn value_keys(values: &[Value]) -> Vec<(String, String, String, String)> {
    let mut keys: Vec<_> = values
        .iter()
        .map(|v| {
            let s = |k: &str| v[k].as_str().unwrap().to_owned();
            (s("dataElement"), s("period"), s("orgUnit"), s("value"))
        })
        .collect();
    keys.sort();
    keys
}

/// Registrations sorted by data set, period and unit.
fn sorted(mut registrations: Vec<Value>) -> Vec<Value> {
    registrations.sort_by_key(|r| {
        (
            r["dataSet"].as_str().unwrap().to_owned(),
            r["period"].as_str().unwrap().to_owned(),
            r["organisationUnit"].as_str().unwrap().to_owned(),
        )
    });
    registrations
}

/// One province's values and registrations of one form, from a stack.
async fn export(
    stack: &TestStack,
    token: &str,
    form: &str,
    root: &str,
) -> (Vec<Value>, Vec<Value>) {
    let values = get_ok(
        stack,
        token,
        &format!("/api/dataValueSets?{}", selection(form, root)),
    )
    .await["dataValues"]
        .as_array()
        .unwrap()
        .clone();
    let registrations = get_ok(
        stack,
        token,
        &format!(
            "/api/completeDataSetRegistrations?{}",
            selection(form, root)
        ),
    )
    .await["completeDataSetRegistrations"]
        .as_array()
        .unwrap()
        .clone();
    (values, sorted(registrations))
}

/// The seed form with this code.
fn seed_form(code: &str) -> Form {
    let catalogue = chiso_domain::seed::catalogue().unwrap();
    chiso_domain::seed::forms(&catalogue)
        .unwrap()
        .into_iter()
        .find(|f| f.code.as_str() == code)
        .unwrap()
}

/// Unlocks, in `stack`, every report the values name whose period is
/// closed for entry today.
async fn unlock_closed(stack: &TestStack, admin: &str, form: &Form, values: &[Value]) {
    let today = chiso_domain::today();
    let reports: BTreeSet<(String, String)> = values
        .iter()
        .map(|v| {
            (
                v["period"].as_str().unwrap().to_owned(),
                v["orgUnit"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let until = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    for (period, unit) in reports {
        if !form.is_locked(&PeriodCode::parse(&period).unwrap(), today) {
            continue;
        }
        let (status, body) = stack
            .post(
                "/api/v1/unlocks",
                Some(admin),
                &json!({"form": form.code.as_str(), "period": period, "agency_code": unit,
                        "reason": "Chuyển dữ liệu từ hệ thống cũ", "until": until}),
            )
            .await;
        assert_eq!(status, 201, "unlock {period} {unit}: {body}");
    }
}

/// Posts one data value set as drafts (no completeDate), as DHIS2 exported
/// it; every value is new.
async fn import_values(stack: &TestStack, admin: &str, form: &str, values: &[Value]) {
    let (status, body) = stack
        .post(
            "/api/dataValueSets",
            Some(admin),
            &json!({"dataSet": form, "dataValues": values}),
        )
        .await;
    assert_eq!(status, 200, "{form}: {body}");
    assert_eq!(
        body["importCount"],
        json!({"imported": values.len(), "updated": 0, "ignored": 0, "deleted": 0}),
        "{form}: {body}"
    );
    assert_eq!(body["dataSetComplete"], "false");
}

async fn post_registrations(
    stack: &TestStack,
    admin: &str,
    query: &str,
    registrations: &[Value],
) -> (u16, Value) {
    stack
        .post(
            &format!("/api/completeDataSetRegistrations{query}"),
            Some(admin),
            &json!({ "completeDataSetRegistrations": registrations }),
        )
        .await
}

/// A completeness answer as B must give it: A's returned reports are
/// missing there (drafts), and nothing is returned.
fn returned_as_missing(mut a: Value) -> Value {
    let mut missing: Vec<Value> = a["missing"].as_array().unwrap().clone();
    missing.extend(a["returned"].as_array().unwrap().iter().cloned());
    missing.sort_by_key(|m| m["code"].as_str().unwrap().to_owned());
    let returned = a["returned_count"].as_u64().unwrap();
    a["missing_count"] = json!(a["missing_count"].as_u64().unwrap() + returned);
    a["missing"] = Value::Array(missing);
    a["returned"] = json!([]);
    a["returned_count"] = json!(0);
    a
}

fn by_code(mut c: Value) -> Value {
    if let Some(missing) = c["missing"].as_array_mut() {
        missing.sort_by_key(|m| m["code"].as_str().unwrap().to_owned());
    }
    c
}

#[tokio::test]
async fn the_demo_round_trips_through_dhis2_value_sets_and_registrations() {
    let a = spawn_stack().await;
    let loaded = chiso::demo::load(
        &format!("http://{}", a.registry_addr),
        &format!("http://{}", a.submission_addr),
        &a.admin_client_id,
        &a.admin_secret,
    )
    .await
    .expect("demo loads")
    .expect("a fresh stack has no demo yet");
    assert!(loaded.summary.contains("returned"), "{}", loaded.summary);
    // The sign-ins `chiso up` prints for a newcomer: Quảng Bình's first
    // department, officer and viewer, each able to sign in.
    let who: Vec<&str> = loaded.sign_ins.iter().map(|s| s.who.as_str()).collect();
    assert_eq!(
        who,
        [
            "agency reporter of Văn phòng UBND tỉnh (000.00.01.H44)",
            "province officer of Quảng Bình",
            "viewer (leadership) of Quảng Bình"
        ]
    );
    for sign_in in &loaded.sign_ins {
        let token = a.token(&sign_in.client_id, &sign_in.secret).await;
        let (status, me) = a.get("/api/v1/session", &token).await;
        assert_eq!(status, 200, "{me}");
        assert_eq!(me["province_code"], "44", "{me}");
    }
    let admin_a = a.admin_token().await;

    let b = spawn_stack().await;
    let registered = chiso::demo::load_agencies(
        &format!("http://{}", b.registry_addr),
        &b.admin_client_id,
        &b.admin_secret,
    )
    .await
    .expect("demo agencies load");
    assert_eq!(registered.len(), PROVINCES.len(), "{registered:?}");
    let admin_b = b.admin_token().await;

    // Export from A, import into B: values as drafts, form by form and
    // province by province.
    let mut carried = Vec::new();
    let mut yearly = Vec::new();
    for form in [QUARTERLY, MONTHLY, YEARLY] {
        let seed = seed_form(form);
        for (_, root) in PROVINCES {
            let (values, registrations) = export(&a, &admin_a, form, root).await;
            if values.is_empty() {
                assert!(registrations.is_empty(), "{form} {root}: {registrations:?}");
                continue;
            }
            unlock_closed(&b, &admin_b, &seed, &values).await;
            import_values(&b, &admin_b, form, &values).await;
            // Drafts: nothing in B is complete yet.
            let (in_b, none) = export(&b, &admin_b, form, root).await;
            assert_eq!(value_keys(&in_b), value_keys(&values), "{form} {root}");
            assert!(none.is_empty(), "{form} {root}: {none:?}");
            if form == YEARLY {
                yearly.push((root, values, registrations));
            } else {
                carried.extend(registrations);
            }
        }
    }
    // The demo has quarterly and yearly reports, late and on time.
    assert!(carried.len() > 100, "{}", carried.len());
    assert_eq!(yearly.len(), PROVINCES.len());

    // The yearly registrations are refused, each by its index, and nothing
    // of the batch is stored.
    let yearly_registrations: Vec<Value> = yearly
        .iter()
        .flat_map(|(_, _, r)| r.iter().cloned())
        .collect();
    assert!(!yearly_registrations.is_empty());
    let (status, body) = post_registrations(&b, &admin_b, "", &yearly_registrations).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["status"], "ERROR");
    assert_eq!(
        body["importCount"],
        json!({"imported": 0, "updated": 0, "ignored": yearly_registrations.len(), "deleted": 0})
    );
    let conflicts = body["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), yearly_registrations.len(), "{body}");
    for (i, (conflict, registration)) in conflicts.iter().zip(&yearly_registrations).enumerate() {
        assert_eq!(
            conflict["object"],
            json!(format!(
                "{YEARLY}/{}/{}",
                registration["period"].as_str().unwrap(),
                registration["organisationUnit"].as_str().unwrap()
            )),
            "{conflict}"
        );
        assert_eq!(
            conflict["value"],
            "form it_application_yearly needs the agency's signature: the agency must sign and submit it through /api/v1/reports"
        );
        assert_eq!(conflict["indexes"], json!([i]));
    }

    // The others: a dry run stores nothing; then each report is submitted
    // with the day it was received; a second post finds them complete.
    let (status, body) = post_registrations(&b, &admin_b, "?dryRun=true", &carried).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["importCount"],
        json!({"imported": carried.len(), "updated": 0, "ignored": 0, "deleted": 0})
    );
    assert_eq!(body["importOptions"], json!({"dryRun": true}));
    let (_, none) = export(&b, &admin_b, QUARTERLY, PROVINCES[0].1).await;
    assert!(none.is_empty(), "a dry run stores nothing: {none:?}");
    let (status, body) = post_registrations(&b, &admin_b, "", &carried).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["importCount"],
        json!({"imported": carried.len(), "updated": 0, "ignored": 0, "deleted": 0})
    );
    let (status, body) = post_registrations(&b, &admin_b, "", &carried).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["importCount"]["ignored"], carried.len());

    // DHIS2's own view of B is A's: the same values and registrations
    // (dates, and so lateness, included); the yearly reports are drafts.
    for form in [QUARTERLY, MONTHLY, YEARLY] {
        for (_, root) in PROVINCES {
            let (values_a, registrations_a) = export(&a, &admin_a, form, root).await;
            let (values_b, registrations_b) = export(&b, &admin_b, form, root).await;
            assert_eq!(
                value_keys(&values_b),
                value_keys(&values_a),
                "{form} {root}"
            );
            if form == YEARLY {
                assert!(!registrations_a.is_empty(), "{root}");
                assert!(registrations_b.is_empty(), "{root}: {registrations_b:?}");
            } else {
                assert_eq!(registrations_b, registrations_a, "{form} {root}");
            }
        }
    }
    let reports = get_ok(
        &b,
        &admin_b,
        &format!("/api/v1/reports?form={YEARLY}&page_size=1000"),
    )
    .await;
    let statuses: BTreeSet<&str> = reports
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, BTreeSet::from(["draft"]));
    let yearly_reports: BTreeSet<(String, String)> = yearly
        .iter()
        .flat_map(|(_, values, _)| {
            values.iter().map(|v| {
                (
                    v["period"].as_str().unwrap().to_owned(),
                    v["orgUnit"].as_str().unwrap().to_owned(),
                )
            })
        })
        .collect();
    assert_eq!(reports.as_array().unwrap().len(), yearly_reports.len());

    // The aggregation services: the same answer to every question about
    // the quarterly and monthly forms.
    a.wait_for_feed(&admin_a).await;
    b.wait_for_feed(&admin_b).await;
    let catalogue = chiso_domain::seed::catalogue().unwrap();
    let mut questions = Vec::new();
    for form in [QUARTERLY, MONTHLY] {
        let form = seed_form(form);
        let elements: BTreeSet<&str> = form.elements().map(|e| e.code.as_str()).collect();
        for e in &elements {
            questions.push(format!("data_element={e}"));
        }
        for indicator in catalogue.indicators() {
            if indicator.elements().all(|e| elements.contains(e.as_str())) {
                questions.push(format!("indicator={}", indicator.code));
            }
        }
    }
    // A year's answer for these elements and indicators comes from the
    // yearly form (the demo has no quarters in 2024 and 2025), which B
    // holds as drafts only: nothing counts there.
    let (mut reporting, mut yearly_reporting) = (0, 0);
    for question in &questions {
        for (area, _) in PROVINCES {
            for period in chiso::demo::PERIODS {
                let path = format!("/api/v1/aggregates?{question}&area={area}&period={period}");
                let (status_a, answer_a) = a.get(&path, &admin_a).await;
                let (status_b, answer_b) = b.get(&path, &admin_b).await;
                let counted = answer_a["agencies_reporting"].as_i64().unwrap_or(0);
                if PeriodCode::parse(period).unwrap().period_type() == PeriodType::Yearly {
                    assert_eq!(status_b, 200, "{path}: {answer_b}");
                    assert_eq!(answer_b["agencies_reporting"], 0, "{path}: {answer_b}");
                    yearly_reporting += counted;
                } else {
                    assert_eq!((status_b, &answer_b), (status_a, &answer_a), "{path}");
                    reporting += counted;
                }
            }
        }
    }
    assert!(reporting > 0, "the answers compared hold data");
    assert!(
        yearly_reporting > 0,
        "A's years count its accepted yearly reports"
    );

    // Completeness: the same but for A's returned reports, drafts in B.
    let (mut returned, mut late) = (0, 0);
    let months: Vec<String> = (1..=12).map(|m| format!("2026{m:02}")).collect();
    let quarters = ["2026Q1", "2026Q2", "2026Q3", "2026Q4"];
    let forms: BTreeMap<&str, Vec<&str>> = BTreeMap::from([
        (QUARTERLY, quarters.to_vec()),
        (MONTHLY, months.iter().map(String::as_str).collect()),
    ]);
    for (form, periods) in &forms {
        for (area, _) in PROVINCES {
            for period in periods {
                let path = format!("/api/v1/completeness?form={form}&period={period}&area={area}");
                let (status_a, answer_a) = a.get(&path, &admin_a).await;
                let (status_b, answer_b) = b.get(&path, &admin_b).await;
                assert_eq!(status_b, status_a, "{path}: {answer_a} {answer_b}");
                if status_a != 200 {
                    assert_eq!(answer_b, answer_a, "{path}");
                    continue;
                }
                returned += answer_a["returned_count"].as_u64().unwrap();
                late += answer_a["late"].as_u64().unwrap();
                assert_eq!(
                    by_code(answer_b),
                    returned_as_missing(by_code(answer_a)),
                    "{path}"
                );
            }
        }
    }
    assert!(returned > 0 && late > 0, "returned {returned}, late {late}");
    b.shutdown().await;
    a.shutdown().await;
}

/// Whose completion date counts: an officer's or an admin's (paper
/// reports, back-dated) but not an agency's own (received today); a report
/// with nothing saved, an unknown unit, a replay and a returned report.
#[tokio::test]
async fn dhis2_roundtrip_completion_dates_follow_the_policy() {
    let stack = spawn_stack().await;
    let (admin, credentials) = register_quang_ngai(&stack).await;
    let agency = stack.token(&credentials[0].1, &credentials[0].2).await;
    let q = crate::this_quarter();
    let start = PeriodCode::parse(&q).unwrap().start();
    let backdated = chiso_domain::date::format_date(start + chrono::Days::new(3));
    let today = chiso_domain::date::format_date(chiso_domain::today());
    for (unit, sent, electronic) in [("000.00.15.H51", 120, 114), ("000.00.24.H51", 380, 266)] {
        let report = crate::documents_report(sent, electronic);
        let (status, body) = stack
            .put(
                &format!("/api/v1/reports/{QUARTERLY}/{q}/{unit}/draft"),
                &admin,
                &json!({"values": report["values"]}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let registration = |unit: &str| {
        json!({"dataSet": QUARTERLY, "period": q, "organisationUnit": unit,
               "attributeOptionCombo": "default", "date": backdated, "completed": true})
    };

    // Nothing saved for the committee, and a unit that does not exist: a
    // conflict each, and the department's draft is not submitted either.
    let (status, body) = post_registrations(
        &stack,
        &admin,
        "",
        &[
            registration("000.00.15.H51"),
            registration("000.00.00.H51"),
            registration("000.00.99.H51"),
        ],
    )
    .await;
    assert_eq!(status, 409, "{body}");
    let conflicts: Vec<(&str, &Value)> = body["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["object"].as_str().unwrap(), &c["indexes"]))
        .collect();
    assert_eq!(
        conflicts,
        [
            (
                format!("{QUARTERLY}/{q}/000.00.00.H51").as_str(),
                &json!([1])
            ),
            ("000.00.99.H51", &json!([2])),
        ],
        "{body}"
    );
    let path = format!(
        "/api/completeDataSetRegistrations?dataSet={QUARTERLY}&period={q}&orgUnit=000.00.00.H51&children=true"
    );
    let listed = get_ok(&stack, &admin, &path).await;
    assert_eq!(listed["completeDataSetRegistrations"], json!([]));

    // The agency completes its own: the date is not its to give.
    let (status, body) =
        post_registrations(&stack, &agency, "", &[registration("000.00.15.H51")]).await;
    assert_eq!(status, 200, "{body}");
    // The province's officer enters the district's paper report: its date
    // stands; with an Idempotency-Key a replay answers the same summary.
    let (id, secret) = crate::registry_credentials::officer(&stack, &admin, "51").await;
    let officer = stack.token(&id, &secret).await;
    for _ in 0..2 {
        let response = stack
            .http
            .post(format!(
                "{}/api/completeDataSetRegistrations",
                stack.gateway_url
            ))
            .bearer_auth(&officer)
            .header("idempotency-key", "complete-district")
            .json(&json!({"completeDataSetRegistrations": [registration("000.00.24.H51")]}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["importCount"],
            json!({"imported": 1, "updated": 0, "ignored": 0, "deleted": 0})
        );
    }
    let listed = get_ok(&stack, &admin, &path).await;
    let dates: Vec<(&str, &str)> = listed["completeDataSetRegistrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["organisationUnit"].as_str().unwrap(),
                r["date"].as_str().unwrap(),
            )
        })
        .collect();
    let mut dates = dates;
    dates.sort();
    assert_eq!(
        dates,
        [
            ("000.00.15.H51", today.as_str()),
            ("000.00.24.H51", backdated.as_str())
        ]
    );

    // Returned by the province, the district's report is no longer complete;
    // a registration resubmits it as it stands, in a new version.
    let (status, report) = stack
        .get(
            &format!("/api/v1/reports/by-key/{QUARTERLY}/{q}/000.00.24.H51"),
            &admin,
        )
        .await;
    assert_eq!(status, 200, "{report}");
    let id = report["id"].as_str().unwrap();
    let (status, body) = stack
        .post(
            &format!("/api/v1/reports/{id}/return"),
            Some(&admin),
            &json!({"comment": "Số liệu chưa khớp"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let listed = get_ok(&stack, &admin, &path).await;
    assert_eq!(
        listed["completeDataSetRegistrations"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let (status, body) =
        post_registrations(&stack, &admin, "", &[registration("000.00.24.H51")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["importCount"]["imported"], 1);
    let (_, report) = stack
        .get(
            &format!("/api/v1/reports/by-key/{QUARTERLY}/{q}/000.00.24.H51"),
            &admin,
        )
        .await;
    assert_eq!(
        (
            &report["status"],
            &report["version"],
            &report["received_on"]
        ),
        (&json!("submitted"), &json!(2), &json!(backdated))
    );
    stack.shutdown().await;
}
