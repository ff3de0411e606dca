//! The province's answers on one scenario, every number computed by hand
//! here: a revision, a returned report, a late report, a missing report, a
//! merger between two quarters (as the tree stood, and comparable), a yes/no
//! share, months rolled up into a quarter, an absolute target, and a ranking
//! with a tie and an unranked agency; then completeness, trends, exports and
//! who may read what.
//!
//! Quảng Ngãi (51): the provincial committee P, the department D, and four
//! district committees A (524), B (525), C (526), E (527). On 1 July 2025 A
//! and B merge into N (530). Everything is 2025, entered by the province's
//! officer from paper with the date each report was received (the periods
//! are locked by now, so each is unlocked first).

use chiso_tests::{TestStack, spawn_stack};
use serde_json::{Value, json};

use crate::registry_credentials::{agency_credentials, officer};

const P: &str = "000.00.00.H51";
const D: &str = "000.00.15.H51";
const A: &str = "000.00.24.H51";
const B: &str = "000.00.25.H51";
const C: &str = "000.00.26.H51";
const E: &str = "000.00.27.H51";
const N: &str = "000.00.30.H51";
const QUARTERLY: &str = "it_fast_quarterly";
const MONTHLY: &str = "online_applications_monthly";

/// The quarterly quick report's values.
fn quick(sent: i64, electronic: i64, signed: i64, meetings: i64, one_stop: Option<bool>) -> Value {
    let mut values = vec![
        json!({"data_element": "documents_sent", "value": sent.to_string()}),
        json!({"data_element": "documents_sent_electronic", "value": electronic.to_string()}),
        json!({"data_element": "documents_signed_digitally", "value": signed.to_string()}),
        json!({"data_element": "documents_to_higher_levels", "value": "0"}),
        json!({"data_element": "documents_to_higher_levels_electronic", "value": "0"}),
        json!({"data_element": "online_meetings", "value": meetings.to_string()}),
    ];
    if let Some(yes) = one_stop {
        values.push(json!({"data_element": "has_electronic_one_stop_shop",
                           "value": if yes { "yes" } else { "no" }}));
    }
    Value::Array(values)
}

fn monthly(received: i64, online: i64) -> Value {
    json!([
        {"data_element": "applications_received", "value": received.to_string()},
        {"data_element": "applications_received_online", "value": online.to_string()},
    ])
}

struct Province<'a> {
    stack: &'a TestStack,
    admin: String,
    officer: String,
}

impl Province<'_> {
    /// Unlocks the period for the agency, then enters its paper report.
    async fn paper(
        &self,
        form: &str,
        period: &str,
        agency: &str,
        values: Value,
        received: &str,
    ) -> Value {
        self.unlock(form, period, agency).await;
        let (status, body) = self
            .stack
            .post(
                "/api/v1/reports",
                Some(&self.officer),
                &json!({"form": form, "period": period, "agency_code": agency,
                        "values": values, "received_on": received}),
            )
            .await;
        assert_eq!(status, 201, "{form} {period} {agency}: {body}");
        body
    }

    async fn unlock(&self, form: &str, period: &str, agency: &str) {
        let until = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
        let (status, body) = self
            .stack
            .post(
                "/api/v1/unlocks",
                Some(&self.officer),
                &json!({"form": form, "period": period, "agency_code": agency,
                        "reason": "Nhập báo cáo giấy", "until": until}),
            )
            .await;
        assert_eq!(status, 201, "unlock {form} {period} {agency}: {body}");
    }

    async fn get(&self, path: &str) -> Value {
        let (status, body) = self.stack.get(path, &self.officer).await;
        assert_eq!(status, 200, "{path}: {body}");
        body
    }
}

/// (numerator, denominator, value_text, reporting, expected) of an answer.
fn figures(a: &Value) -> (Value, Value, Value, Value, Value) {
    (
        a["numerator_exact"].clone(),
        a["denominator_exact"].clone(),
        a["value_text"].clone(),
        a["agencies_reporting"].clone(),
        a["agencies_expected"].clone(),
    )
}

fn f(
    num: &str,
    den: Option<&str>,
    text: Option<&str>,
    reporting: i64,
    expected: i64,
) -> (Value, Value, Value, Value, Value) {
    (
        json!(num),
        den.map_or(Value::Null, |d| json!(d)),
        text.map_or(Value::Null, |t| json!(t)),
        json!(reporting),
        json!(expected),
    )
}

async fn setup(stack: &TestStack) -> Province<'_> {
    let admin = stack.admin_token().await;
    let agencies = [
        json!({"code": P, "admin_unit_code": "51", "name": "UBND tỉnh Quảng Ngãi",
               "kind": "provincial_committee", "valid_from": "1989-07-01"}),
        json!({"code": D, "name": "Sở Thông tin và Truyền thông", "kind": "department",
               "parent_code": P, "valid_from": "2008-04-01"}),
        json!({"code": A, "admin_unit_code": "524", "name": "UBND huyện Bình Sơn",
               "kind": "district_committee", "parent_code": P, "valid_from": "1989-07-01"}),
        json!({"code": B, "admin_unit_code": "525", "name": "UBND huyện Trà Bồng",
               "kind": "district_committee", "parent_code": P, "valid_from": "1989-07-01"}),
        json!({"code": C, "admin_unit_code": "526", "name": "UBND huyện Sơn Tịnh",
               "kind": "district_committee", "parent_code": P, "valid_from": "1989-07-01"}),
        json!({"code": E, "admin_unit_code": "527", "name": "UBND huyện Tư Nghĩa",
               "kind": "district_committee", "parent_code": P, "valid_from": "1989-07-01"}),
    ];
    for agency in &agencies {
        let (status, body) = stack.post("/api/v1/agencies", Some(&admin), agency).await;
        assert_eq!(status, 201, "{body}");
    }
    let (id, secret) = officer(stack, &admin, "51").await;
    let officer = stack.token(&id, &secret).await;
    Province {
        stack,
        admin,
        officer,
    }
}

/// Enters the whole scenario and waits until aggregation has it.
async fn scenario(p: &Province<'_>) {
    // 2025Q1, due 10 April 2025.
    p.paper(
        QUARTERLY,
        "2025Q1",
        P,
        quick(100, 80, 40, 6, None),
        "2025-04-08",
    )
    .await;
    let d = p
        .paper(
            QUARTERLY,
            "2025Q1",
            D,
            quick(200, 150, 30, 1, None),
            "2025-04-08",
        )
        .await;
    p.paper(
        QUARTERLY,
        "2025Q1",
        A,
        quick(300, 270, 135, 2, Some(true)),
        "2025-04-08",
    )
    .await;
    // Five days late.
    p.paper(
        QUARTERLY,
        "2025Q1",
        B,
        quick(100, 90, 45, 0, Some(true)),
        "2025-04-15",
    )
    .await;
    // Revised: the second version replaces the first; it stays on time.
    let c = p
        .paper(
            QUARTERLY,
            "2025Q1",
            C,
            quick(400, 280, 100, 1, Some(false)),
            "2025-04-09",
        )
        .await;
    let c_id = c["id"].as_str().unwrap();
    let (status, body) = p
        .stack
        .post(
            &format!("/api/v1/reports/{c_id}/revise"),
            Some(&p.officer),
            &json!({"reason": "Sai số liệu"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = p
        .stack
        .put(
            &format!("/api/v1/reports/{QUARTERLY}/2025Q1/{C}/draft"),
            &p.officer,
            &json!({"values": quick(400, 360, 200, 1, Some(false))}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = p
        .stack
        .post(
            &format!("/api/v1/reports/{c_id}/submit"),
            Some(&p.officer),
            &json!({"received_on": "2025-04-20"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], 2);
    // Returned, awaiting a revision: it stops counting.
    let d_id = d["id"].as_str().unwrap();
    let (status, body) = p
        .stack
        .post(
            &format!("/api/v1/reports/{d_id}/return"),
            Some(&p.officer),
            &json!({"comment": "Thiếu số liệu"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // E reports nothing.

    // Months of Q1 on the monthly form: D all three, C January only.
    p.paper(MONTHLY, "202501", D, monthly(100, 20), "2025-02-03")
        .await;
    p.paper(MONTHLY, "202502", D, monthly(120, 30), "2025-03-03")
        .await;
    p.paper(MONTHLY, "202503", D, monthly(80, 50), "2025-04-03")
        .await;
    p.paper(MONTHLY, "202501", C, monthly(50, 25), "2025-02-03")
        .await;

    p.paper(
        QUARTERLY,
        "2025Q2",
        P,
        quick(100, 100, 0, 0, None),
        "2025-07-05",
    )
    .await;
    // A year before Q3, for the year-on-year change.
    p.paper(
        QUARTERLY,
        "2024Q3",
        P,
        quick(100, 50, 10, 1, None),
        "2024-10-05",
    )
    .await;

    // 1 July 2025: A and B merge into N.
    let (status, body) = p
        .stack
        .post(
            "/api/v1/agencies/reorganisations",
            Some(&p.admin),
            &json!({"effective_date": "2025-07-01", "legal_basis": "Nghị quyết 1234/NQ-UBTVQH15",
                    "operations": [{"type": "merge", "source_codes": [A, B],
                        "into": {"new_agency": {"code": N, "admin_unit_code": "530",
                            "name": "UBND huyện Bình Sơn - Trà Bồng", "kind": "district_committee",
                            "parent_code": P}}}]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    // 2025Q3, after the merger.
    p.paper(
        QUARTERLY,
        "2025Q3",
        P,
        quick(200, 150, 50, 3, None),
        "2025-10-05",
    )
    .await;
    p.paper(
        QUARTERLY,
        "2025Q3",
        N,
        quick(500, 400, 100, 2, Some(true)),
        "2025-10-05",
    )
    .await;
    p.paper(
        QUARTERLY,
        "2025Q3",
        C,
        quick(400, 200, 100, 1, Some(true)),
        "2025-10-05",
    )
    .await;
    p.stack.wait_for_feed(&p.admin).await;
}

const RATE_Q1: &str = "/api/v1/aggregates?indicator=electronic_document_rate&area=51&period=2025Q1";

#[tokio::test]
async fn the_provinces_answers_are_exact_on_one_scenario() {
    let stack = spawn_stack().await;
    let p = setup(&stack).await;
    scenario(&p).await;
    let today = chiso_domain::today().to_string();

    // Values as the tree stood: P 80/100, A 270/300, B 90/100 and C's
    // revision 360/400 count; D was returned; E is missing. 800/900.
    let province = p.get(RATE_Q1).await;
    assert_eq!(
        figures(&province),
        f("800", Some("900"), Some("88.9"), 4, 6)
    );
    assert_eq!(
        (
            province["numerator"].as_i64(),
            province["denominator"].as_i64()
        ),
        (Some(800), Some(900))
    );
    assert_eq!(province["as_of"], "2025-03-31");
    assert_eq!(province["name"], "UBND tỉnh Quảng Ngãi");
    // Comparable: today's tree, A and B counted under N; same totals, one
    // agency fewer reporting (N for A and B) and expected (D, E, N, C, P).
    let comparable = p.get(&format!("{RATE_Q1}&comparable=true")).await;
    assert_eq!(
        figures(&comparable),
        f("800", Some("900"), Some("88.9"), 3, 5)
    );
    assert_eq!(comparable["as_of"], today);

    // The districts, as they stood and comparably.
    let rows = |b: &Value| -> Vec<(String, Value, Value, Value)> {
        b["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["area"].as_str().unwrap().to_owned(),
                    r["numerator_exact"].clone(),
                    r["denominator_exact"].clone(),
                    r["agencies_expected"].clone(),
                )
            })
            .collect()
    };
    let stood = p.get("/api/v1/aggregates/breakdown?indicator=electronic_document_rate&area=51&period=2025Q1&breakdown=child_areas&group=district_committee").await;
    assert_eq!(
        rows(&stood),
        [
            ("524".into(), json!("270"), json!("300"), json!(1)),
            ("525".into(), json!("90"), json!("100"), json!(1)),
            ("526".into(), json!("360"), json!("400"), json!(1)),
            ("527".into(), Value::Null, Value::Null, json!(1)),
        ]
    );
    assert_eq!(
        figures(&stood["total"]),
        f("720", Some("800"), Some("90.0"), 3, 4)
    );
    let merged = p.get("/api/v1/aggregates/breakdown?indicator=electronic_document_rate&area=51&period=2025Q1&breakdown=child_areas&comparable=true").await;
    assert_eq!(
        rows(&merged),
        [
            ("526".into(), json!("360"), json!("400"), json!(1)),
            ("527".into(), Value::Null, Value::Null, json!(1)),
            ("530".into(), json!("360"), json!("400"), json!(1)),
        ]
    );
    // N on its own: nothing before it existed, A and B's figures comparably.
    let n = p
        .get(&format!(
            "/api/v1/aggregates?data_element=documents_sent&agency={N}&period=2025Q1"
        ))
        .await;
    assert_eq!(
        figures(&n),
        (Value::Null, Value::Null, Value::Null, json!(0), json!(0))
    );
    let n = p.get(&format!("/api/v1/aggregates?data_element=documents_sent&agency={N}&period=2025Q1&comparable=true")).await;
    assert_eq!(figures(&n), f("400", None, Some("400"), 1, 1));
    // The revision replaced the first version; the returned report counts nothing.
    let c = p
        .get(&format!(
            "/api/v1/aggregates?data_element=documents_sent_electronic&agency={C}&period=2025Q1"
        ))
        .await;
    assert_eq!(c["numerator_exact"], "360");
    let d = p
        .get(&format!(
            "/api/v1/aggregates?data_element=documents_sent&agency={D}&period=2025Q1"
        ))
        .await;
    assert_eq!(
        figures(&d),
        (Value::Null, Value::Null, Value::Null, json!(0), json!(1))
    );

    // A yes/no share: A and B yes, C no, E silent; 2 of 3 answering.
    let share = p.get("/api/v1/aggregates?data_element=has_electronic_one_stop_shop&area=51&group=district_committee&period=2025Q1").await;
    assert_eq!(figures(&share), f("2", Some("3"), Some("66.7"), 3, 4));
    assert_eq!(share["unit"], "%");

    // Months into the quarter: D 20+30+50 of 100+120+80, C 25 of 50.
    let d = p
        .get(&format!(
            "/api/v1/aggregates?indicator=online_application_rate&agency={D}&period=2025Q1"
        ))
        .await;
    assert_eq!(figures(&d), f("100", Some("300"), Some("33.3"), 1, 1));
    // Expected on the monthly form: D and the four districts of Q1.
    let all = p
        .get("/api/v1/aggregates?indicator=online_application_rate&area=51&period=2025Q1")
        .await;
    assert_eq!(figures(&all), f("125", Some("350"), Some("35.7"), 2, 5));

    // A series: Q1 800/900, Q2 100/100 (P alone), Q3 750/1100 (P 150/200, N 400/500, C 200/400).
    let (status, trend) = stack
        .get(
            "/api/v1/trends?indicator=electronic_document_rate&area=51&from=2025Q1&to=2025Q3",
            &p.officer,
        )
        .await;
    assert_eq!(status, 200, "{trend}");
    let points: Vec<(Value, Value, Value)> = trend
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["period"].clone(),
                t["numerator_exact"].clone(),
                t["denominator_exact"].clone(),
            )
        })
        .collect();
    assert_eq!(
        points,
        [
            (json!("2025Q1"), json!("800"), json!("900")),
            (json!("2025Q2"), json!("100"), json!("100")),
            (json!("2025Q3"), json!("750"), json!("1100")),
        ]
    );
    let close = |v: &Value, want: f64| v.as_f64().is_some_and(|v| (v - want).abs() < 1e-9);
    assert!(trend[0]["change"].is_null(), "{trend}");
    assert!(close(&trend[1]["change"], 100.0 - 800.0 / 9.0), "{trend}");
    assert!(close(&trend[2]["change"], 750.0 / 11.0 - 100.0), "{trend}");
    // 2024Q3 was 50/100 (P alone).
    let before = p
        .get("/api/v1/aggregates?indicator=electronic_document_rate&area=51&period=2024Q3")
        .await;
    assert_eq!(figures(&before), f("50", Some("100"), Some("50.0"), 1, 6));
    assert!(trend[0]["change_year_on_year"].is_null(), "{trend}");
    assert!(
        close(&trend[2]["change_year_on_year"], 750.0 / 11.0 - 50.0),
        "{trend}"
    );

    // Completeness of Q1: P, A on time, C on time (its first submission), B
    // five days late; D returned; E missing.
    let c = p
        .get("/api/v1/completeness?form=it_fast_quarterly&period=2025Q1&area=51")
        .await;
    assert_eq!(
        (
            &c["expected"],
            &c["received"],
            &c["on_time"],
            &c["late"],
            &c["missing_count"],
            &c["returned_count"]
        ),
        (
            &json!(6),
            &json!(4),
            &json!(3),
            &json!(1),
            &json!(1),
            &json!(1)
        )
    );
    assert_eq!(
        c["late_agencies"],
        json!([{"code": B, "name": "UBND huyện Trà Bồng", "days_late": 5}])
    );
    assert_eq!(
        c["missing"],
        json!([{"code": E, "name": "UBND huyện Tư Nghĩa"}])
    );
    assert_eq!(
        c["returned"],
        json!([{"code": D, "name": "Sở Thông tin và Truyền thông"}])
    );
    assert!(close(&c["reporting_rate"], 400.0 / 6.0), "{c}");
    assert!(close(&c["on_time_rate"], 50.0), "{c}");
    assert_eq!(c["deadline"], "2025-04-10");
    // Q3: A and B are gone, N is expected; D and E missing.
    let c = p
        .get("/api/v1/completeness?form=it_fast_quarterly&period=2025Q3&area=51")
        .await;
    assert_eq!((&c["expected"], &c["received"]), (&json!(5), &json!(3)));
    assert_eq!(c["missing"].as_array().unwrap().len(), 2, "{c}");

    // The 2018 plan measured on 2025: P held 6 + 0 + 3 = 9 online meetings,
    // one short of the absolute target of 10; the district committees of
    // the year's end (N, C, E) have the one-stop shop as each last said
    // (N yes in Q3, C no in Q1 then yes in Q3): 2 of 2, above 70 %.
    let a = p
        .get("/api/v1/attainment?plan=quang_ngai_2018&year=2018&period=2025")
        .await;
    let target = |indicator: &str, group: &str| {
        a["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["target"]["indicator"] == indicator && t["target"]["group"] == group)
            .unwrap_or_else(|| panic!("no target {indicator} {group}: {a}"))
            .clone()
    };
    let meetings = target("online_meetings_held", "provincial_committee");
    assert_eq!(meetings["target"]["kind"], "absolute");
    assert_eq!(meetings["actual"]["numerator_exact"], "9");
    assert_eq!(
        (&meetings["attained"], &meetings["gap"]),
        (&json!(false), &json!(1.0))
    );
    assert_eq!(
        meetings["below"],
        json!([{"agency": P, "name": "UBND tỉnh Quảng Ngãi", "value": 9.0, "attained": false, "gap": 1.0}])
    );
    let one_stop = target("one_stop_shop_rate", "district_committee");
    assert_eq!(
        figures(&one_stop["actual"]),
        f("2", Some("2"), Some("100.0"), 2, 3)
    );
    assert_eq!(
        (&one_stop["attained"], &one_stop["gap"]),
        (&json!(true), &json!(-30.0))
    );
    assert_eq!(one_stop["below"], json!([]));

    // The quarterly quick ranking of Q1's district committees: electronic
    // documents against 90 % (all three at 90 %: 1), signed documents
    // min-max (A, B 45 %: 0; C 50 %: 1), one-stop shop against 100 %.
    // A = B = ½·(½·1 + ½·0) + ½·1 = ¾; C = ½·1 + ½·0 = ½; E has nothing.
    let r = p
        .get("/api/v1/rankings/district_committees_quarterly?area=51&period=2025Q1")
        .await;
    let standings: Vec<(Value, Value, Value)> = r["agencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["agency"].clone(),
                s["rank"].clone(),
                s["total"]["exact"].clone(),
            )
        })
        .collect();
    assert_eq!(
        standings,
        [
            (json!(A), json!(1), json!("3/4")),
            (json!(B), json!(1), json!("3/4")),
            (json!(C), json!(3), json!("1/2")),
            (json!(E), Value::Null, Value::Null),
        ]
    );
    assert!(
        r["agencies"][3]["unranked_reason"]
            .as_str()
            .unwrap()
            .starts_with("missing: "),
        "{r}"
    );
    let inputs: Vec<(Value, Value)> = r["agencies"][0]["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["indicator"].clone(), i["value"].clone()))
        .collect();
    assert_eq!(
        inputs,
        [
            (json!("electronic_document_rate"), json!(90.0)),
            (json!("digitally_signed_document_rate"), json!(45.0)),
            (json!("one_stop_shop_rate"), json!(100.0)),
        ]
    );

    exports(&p).await;
    scopes(&p).await;
    stack.shutdown().await;
}

/// CSV, SDMX-CSV and XLSX of a breakdown.
async fn exports(p: &Province<'_>) {
    let path = "/api/v1/exports/aggregates?indicator=electronic_document_rate&area=51&period=2025Q1&breakdown=child_areas&group=district_committee";
    let (status, headers, body) = p
        .stack
        .get_with_headers(&format!("{path}&format=sdmx_csv"), &p.officer)
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/vnd.sdmx.data+csv")
    );
    let text = body.as_str().unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "STRUCTURE,STRUCTURE_ID,ACTION,REF_AREA,INDICATOR,TIME_PERIOD,OBS_VALUE,UNIT_MEASURE,UNIT_MULT,OBS_STATUS",
            "dataflow,VN_CHISO:IT_APPLICATION(1.0),I,51,electronic_document_rate,2025-Q1,90,%,0,A",
            "dataflow,VN_CHISO:IT_APPLICATION(1.0),I,524,electronic_document_rate,2025-Q1,90,%,0,A",
            "dataflow,VN_CHISO:IT_APPLICATION(1.0),I,525,electronic_document_rate,2025-Q1,90,%,0,A",
            "dataflow,VN_CHISO:IT_APPLICATION(1.0),I,526,electronic_document_rate,2025-Q1,90,%,0,A",
            "dataflow,VN_CHISO:IT_APPLICATION(1.0),I,527,electronic_document_rate,2025-Q1,,%,0,M",
        ]
    );
    let (status, headers, body) = p
        .stack
        .get_with_headers(&format!("{path}&format=csv"), &p.officer)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        headers["content-disposition"].to_str().unwrap(),
        "attachment; filename=\"chi_so.csv\""
    );
    let text = body.as_str().unwrap().trim_start_matches('\u{feff}');
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("Mã địa bàn,Mã cơ quan,Tên,Chỉ tiêu,Kỳ báo cáo"),
        "{text}"
    );
    assert!(lines.any(|l| l.starts_with("524,,UBND huyện Bình Sơn,electronic_document_rate,2025Q1,district_committee,90,%,270,300,1,1,2025-03-31")), "{text}");
    let (status, headers, _) = p
        .stack
        .get_with_headers(&format!("{path}&format=xlsx"), &p.officer)
        .await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    let (status, body) = p.stack.get(&format!("{path}&format=pdf"), &p.officer).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "format");
}

/// Who may read what: an officer its province; an agency its own figures
/// and groups of at least three; bad questions name their field.
async fn scopes(p: &Province<'_>) {
    let stack = p.stack;
    let (status, body) = stack
        .post(
            "/api/v1/agencies",
            Some(&p.admin),
            &json!({"code": "000.00.00.H62", "admin_unit_code": "62", "name": "UBND tỉnh Kon Tum",
                    "kind": "provincial_committee", "valid_from": "1991-08-12"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (id, secret) = officer(stack, &p.admin, "62").await;
    let other = stack.token(&id, &secret).await;
    let (status, body) = stack.get(RATE_Q1, &other).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = stack
        .get(
            "/api/v1/aggregates?indicator=electronic_document_rate&period=2025Q1",
            &other,
        )
        .await;
    assert_eq!(
        status, 403,
        "the whole country is more than one province: {body}"
    );

    let (id, secret) = agency_credentials(stack, &p.admin, C).await;
    let c = stack.token(&id, &secret).await;
    let (status, body) = stack.get(RATE_Q1, &c).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["numerator_exact"], "800");
    let (status, body) = stack
        .get(
            &format!("/api/v1/aggregates?data_element=documents_sent&agency={C}&period=2025Q1"),
            &c,
        )
        .await;
    assert_eq!(
        (status, &body["numerator_exact"]),
        (200, &json!("400")),
        "{body}"
    );
    let (status, body) = stack
        .get(
            &format!("/api/v1/aggregates?data_element=documents_sent&agency={A}&period=2025Q1"),
            &c,
        )
        .await;
    assert_eq!(status, 403, "{body}");
    // One provincial committee is a group of one: its counts stay hidden.
    let (status, body) = stack.get("/api/v1/aggregates?data_element=online_meetings&area=51&group=provincial_committee&period=2025Q1", &c).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = stack
        .get("/api/v1/aggregates/breakdown?data_element=documents_sent&area=51&period=2025Q1&breakdown=agencies", &c)
        .await;
    assert_eq!(status, 200, "{body}");
    for row in body["rows"].as_array().unwrap() {
        if row["agency"] == C {
            assert_eq!(row["numerator_exact"], "400");
        } else {
            assert!(
                row["error"].as_str().unwrap().starts_with("withheld"),
                "{row}"
            );
            assert!(row["numerator_exact"].is_null(), "{row}");
        }
    }

    for (path, field) in [
        (
            "/api/v1/aggregates?indicator=nope&area=51&period=2025Q1",
            "indicator",
        ),
        ("/api/v1/aggregates?area=51&period=2025Q1", "indicator"),
        (
            "/api/v1/aggregates?indicator=electronic_document_rate&area=524&period=2025Q3",
            "area",
        ),
        (
            "/api/v1/aggregates?indicator=electronic_document_rate&area=51&period=2025Q5",
            "period",
        ),
        (
            "/api/v1/aggregates/breakdown?indicator=electronic_document_rate&area=51&period=2025Q1&breakdown=provinces",
            "breakdown",
        ),
        (
            "/api/v1/trends?indicator=electronic_document_rate&area=51&from=2025Q1&to=2025",
            "to",
        ),
        (
            "/api/v1/completeness?form=it_fast_quarterly&period=2025&area=51",
            "period",
        ),
    ] {
        let (status, body) = stack.get(path, &p.officer).await;
        assert_eq!(status, 422, "{path}: {body}");
        assert_eq!(body["errors"][0]["field"], field, "{path}: {body}");
    }
}
