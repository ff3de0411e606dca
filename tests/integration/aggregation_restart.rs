//! Killing aggregation (the stand-in for SIGKILL: its task aborted, no
//! graceful shutdown) while reports stream in, then restarting it, loses and
//! repeats nothing: every answer equals that of an uninterrupted run.

use chiso_tests::TestStack;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::{documents_rate_path, documents_report, register_quang_ngai, registry_credentials};

const SO_NOI_VU: &str = "000.00.16.H51";
const BINH_SON: &str = "000.00.24.H51";
const BINH_THANH: &str = "000.01.24.H51";
const BINH_CHANH: &str = "000.02.24.H51";
const BINH_DUONG: &str = "000.03.24.H51";

/// The gateway as the submitting side sees it: used from a task of its own
/// while the test kills and restarts aggregation.
struct Gateway {
    http: reqwest::Client,
    url: String,
    admin: String,
    officer: String,
}

impl Gateway {
    async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        let mut request = self.http.post(format!("{}{path}", self.url)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("gateway unreachable");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Registers an agency and returns a token of its own.
    async fn register(&self, agency: Value) -> String {
        let (status, body) = self
            .post("/api/v1/agencies", Some(&self.admin), &agency)
            .await;
        assert_eq!(status, 201, "{body}");
        let path = format!(
            "/api/v1/agencies/{}/credentials",
            agency["code"].as_str().unwrap()
        );
        let (status, credentials) = self.post(&path, Some(&self.admin), &json!({})).await;
        assert_eq!(status, 201, "{credentials}");
        let (status, token) = self
            .post(
                "/api/v1/auth/token",
                None,
                &json!({"client_id": credentials["client_id"],
                        "client_secret": credentials["client_secret"]}),
            )
            .await;
        assert_eq!(status, 200, "{token}");
        token["access_token"].as_str().unwrap().to_owned()
    }

    /// Submits this quarter's report; returns its id.
    async fn submit(&self, agency: &str, sent: i64, electronic: i64) -> String {
        let (status, body) = self
            .post(
                "/api/v1/reports",
                Some(agency),
                &documents_report(sent, electronic),
            )
            .await;
        assert!(status == 200 || status == 201, "{status} {body}");
        assert_eq!(body["status"], "submitted");
        body["id"].as_str().unwrap().to_owned()
    }

    /// Starts a new version of a report (a draft: nothing changes in the aggregates).
    async fn revise(&self, agency: &str, id: &str) {
        let path = format!("/api/v1/reports/{id}/revise");
        let (status, body) = self
            .post(&path, Some(agency), &json!({"reason": "sửa số liệu"}))
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["status"], "draft");
    }

    /// The province officer returns a report: it stops counting.
    async fn return_report(&self, id: &str) {
        let path = format!("/api/v1/reports/{id}/return");
        let (status, body) = self
            .post(
                &path,
                Some(&self.officer),
                &json!({"comment": "số liệu chưa khớp"}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["status"], "returned");
    }
}

/// One agency's place in the stream: its token and its report's id.
struct Reporter {
    token: String,
    report: String,
}

/// The stream of submissions; `progress` counts the calls made, so the
/// test can kill aggregation at chosen points of it. Where each agency ends
/// (what an uninterrupted run counts):
///
/// | agency                  | area  | last counting version | sent | electronic |
/// |-------------------------|-------|-----------------------|------|------------|
/// | Sở TT&TT                | 51    | v5, after a return    | 90   | 81         |
/// | Sở Nội vụ               | 51    | v4                    | 230  | 180        |
/// | UBND huyện Bình Sơn     | 524   | v2, after a return    | 400  | 300        |
/// | UBND xã Bình Thạnh      | 524   | v4                    | 55   | 30         |
/// | UBND xã Bình Chánh      | 524   | none: returned        | -    | -          |
/// | UBND xã Bình Dương (new)| 524   | v1                    | 30   | 27         |
async fn submissions(gateway: Gateway, tokens: Vec<String>, progress: watch::Sender<usize>) {
    let step = || progress.send_modify(|n| *n += 1);
    let mut reporters = Vec::new();
    // Everyone's first report: (sent, electronic).
    for (token, (sent, electronic)) in
        tokens
            .into_iter()
            .zip([(120, 114), (200, 150), (380, 266), (40, 18), (60, 30)])
    {
        let report = gateway.submit(&token, sent, electronic).await;
        reporters.push(Reporter { token, report });
        step();
    }
    let [so_tttt, so_noi_vu, binh_son, binh_thanh, binh_chanh] = &reporters[..] else {
        unreachable!("five agencies")
    };
    // Three rounds of revisions by three agencies: each a draft, then the
    // resubmission whose figures replace the agency's.
    for round in 1..=3 {
        for (reporter, (sent, electronic)) in [
            (so_tttt, (120 - 5 * round, 100 + round)),
            (so_noi_vu, (200 + 10 * round, 150 + 10 * round)),
            (binh_thanh, (40 + 5 * round, 18 + 4 * round)),
        ] {
            gateway.revise(&reporter.token, &reporter.report).await;
            step();
            let id = gateway.submit(&reporter.token, sent, electronic).await;
            assert_eq!(id, reporter.report, "a revision keeps the report");
            step();
        }
    }
    gateway.return_report(&binh_son.report).await;
    step();
    gateway.return_report(&binh_chanh.report).await;
    step();
    // A new commune joins mid-stream (an agency-feed entry) and reports.
    let binh_duong = gateway
        .register(json!({"code": BINH_DUONG, "admin_unit_code": "21031", "name": "UBND xã Bình Dương",
                         "kind": "commune_committee", "parent_code": BINH_SON, "valid_from": "1989-07-01"}))
        .await;
    step();
    gateway.submit(&binh_duong, 30, 27).await;
    step();
    gateway.revise(&binh_son.token, &binh_son.report).await;
    step();
    gateway.submit(&binh_son.token, 400, 300).await;
    step();
    gateway.return_report(&so_tttt.report).await;
    step();
    gateway.revise(&so_tttt.token, &so_tttt.report).await;
    step();
    gateway.submit(&so_tttt.token, 90, 81).await;
    step();
}

/// Calls [`submissions`] makes in all.
const STEPS: usize = 5 + 3 * 3 * 2 + 9;

#[tokio::test]
async fn killed_aggregation_restarts_to_the_uninterrupted_answers() {
    let mut stack = chiso_tests::spawn_stack().await;
    let (admin, credentials) = register_quang_ngai(&stack).await;
    let (officer_id, officer_secret) = registry_credentials::officer(&stack, &admin, "51").await;
    let gateway = Gateway {
        http: stack.http.clone(),
        url: stack.gateway_url.clone(),
        officer: stack.token(&officer_id, &officer_secret).await,
        admin: admin.clone(),
    };
    let so_tttt = stack.token(&credentials[0].1, &credentials[0].2).await;
    let binh_son = stack.token(&credentials[1].1, &credentials[1].2).await;
    let so_noi_vu = gateway
        .register(
            json!({"code": SO_NOI_VU, "name": "Sở Nội vụ", "kind": "department",
                         "parent_code": "000.00.00.H51", "valid_from": "2008-04-01"}),
        )
        .await;
    let commune = |code: &str, area: &str, name: &str| {
        json!({"code": code, "admin_unit_code": area, "name": name, "kind": "commune_committee",
               "parent_code": BINH_SON, "valid_from": "1989-07-01"})
    };
    let binh_thanh = gateway
        .register(commune(BINH_THANH, "21025", "UBND xã Bình Thạnh"))
        .await;
    let binh_chanh = gateway
        .register(commune(BINH_CHANH, "21028", "UBND xã Bình Chánh"))
        .await;
    let tokens = vec![so_tttt, so_noi_vu, binh_son, binh_thanh, binh_chanh];
    stack.wait_for_feed(&admin).await;

    let (progress, mut reached) = watch::channel(0);
    let stream = tokio::spawn(submissions(gateway, tokens, progress));
    // Down during the first reports, so a backlog builds up; killed again
    // just after the restart, while it catches up on that backlog; and a
    // third time late in the stream, to restart after it ended.
    at(&mut reached, 3).await;
    stack.kill_aggregation().await;
    at(&mut reached, 8).await;
    stack.start_aggregation().await;
    at(&mut reached, 9).await;
    stack.kill_aggregation().await;
    at(&mut reached, 12).await;
    stack.start_aggregation().await;
    at(&mut reached, 20).await;
    stack.kill_aggregation().await;
    stream.await.expect("the submissions went through");
    assert_eq!(*reached.borrow(), STEPS);
    stack.start_aggregation().await;
    stack.wait_for_feed(&admin).await;
    assert_uninterrupted_answers(&stack, &admin).await;

    // A kill with nothing new to apply replays nothing.
    stack.kill_aggregation().await;
    stack.start_aggregation().await;
    stack.wait_for_feed(&admin).await;
    assert_uninterrupted_answers(&stack, &admin).await;
    stack.shutdown().await;
}

/// Waits until the submissions made `step` calls.
async fn at(reached: &mut watch::Receiver<usize>, step: usize) {
    // An error means the stream ended early: its task says why when joined.
    let _ = reached.wait_for(|n| *n >= step).await;
}

/// The answers of an uninterrupted run, from the table on [`submissions`].
async fn assert_uninterrupted_answers(stack: &TestStack, admin: &str) {
    // Province: Sở TT&TT, Sở Nội vụ, Bình Sơn, Bình Thạnh and Bình Dương.
    //   sent       90 + 230 + 400 + 55 + 30 = 805
    //   electronic 81 + 180 + 300 + 30 + 27 = 618
    assert_eq!(
        answer(stack, admin, "51").await,
        (618, 805, 5, rate(618, 805))
    );
    // District 524: Bình Sơn, Bình Thạnh and Bình Dương.
    //   sent       400 + 55 + 30 = 485
    //   electronic 300 + 30 + 27 = 357
    assert_eq!(
        answer(stack, admin, "524").await,
        (357, 485, 3, rate(357, 485))
    );
    // Each commune alone; Bình Chánh's only report was returned.
    assert_eq!(
        answer(stack, admin, "21025").await,
        (30, 55, 1, rate(30, 55))
    );
    assert_eq!(answer(stack, admin, "21028").await, (0, 0, 0, None));
    assert_eq!(answer(stack, admin, "21031").await, (27, 30, 1, Some(90.0)));
    // Where each report stands survives the kills as the facts do: seven
    // expected (the provincial committee too), five received on time, the
    // committee missing, Bình Chánh returned.
    let path = format!(
        "/api/v1/completeness?form=it_fast_quarterly&period={}&area=51",
        crate::this_quarter()
    );
    let (status, c) = stack.get(&path, admin).await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(
        [
            &c["expected"],
            &c["received"],
            &c["on_time"],
            &c["missing_count"],
            &c["returned_count"]
        ],
        [&json!(7), &json!(5), &json!(5), &json!(1), &json!(1)],
        "{c}"
    );
    assert_eq!(c["missing"][0]["code"], "000.00.00.H51", "{c}");
    assert_eq!(c["returned"][0]["code"], BINH_CHANH, "{c}");
}

/// A percentage to nine decimals, as [`answer`] reads it.
fn rate(numerator: i64, denominator: i64) -> Option<f64> {
    Some(rounded(100.0 * numerator as f64 / denominator as f64))
}

fn rounded(value: f64) -> f64 {
    (value * 1e9).round() / 1e9
}

/// (numerator, denominator, agencies reporting, value) of the share of
/// documents sent electronically in `area` this quarter; the value rounded
/// to 1e-9 so that equal ratios compare equal however the division went.
async fn answer(stack: &TestStack, admin: &str, area: &str) -> (i64, i64, i64, Option<f64>) {
    let (status, body) = stack.get(&documents_rate_path(area), admin).await;
    assert_eq!(status, 200, "{body}");
    (
        body["numerator"].as_i64().unwrap(),
        body["denominator"].as_i64().unwrap(),
        body["agencies_reporting"].as_i64().unwrap(),
        body["value"].as_f64().map(rounded),
    )
}

/// A kill that certainly lands mid-transaction: a session of the test's own
/// holds the submission cursor's row, so the follower's batch deletes and
/// inserts its facts and then waits on the cursor, uncommitted, when it is
/// killed. Nothing of the batch may survive, and the restart applies it once.
/// PostgreSQL only: SQLite's writer takes its lock at BEGIN, so a wait there
/// would come before the transaction did anything.
#[tokio::test]
#[ignore = "needs PostgreSQL: set CHISO_TEST_DATABASE_URL"]
async fn postgres_kill_mid_transaction_leaves_nothing_of_the_batch() {
    use sea_orm::{ConnectionTrait, Statement, TransactionTrait};

    assert!(chiso_tests::on_postgres(), "needs CHISO_TEST_DATABASE_URL");
    let mut stack = chiso_tests::spawn_stack().await;
    let (admin, credentials) = register_quang_ngai(&stack).await;
    let so_tttt = stack.token(&credentials[0].1, &credentials[0].2).await;
    let binh_son = stack.token(&credentials[1].1, &credentials[1].2).await;
    let (status, body) = stack
        .post(
            "/api/v1/reports",
            Some(&so_tttt),
            &documents_report(120, 114),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    stack.wait_for_feed(&admin).await;
    assert_eq!(
        answer(&stack, &admin, "51").await,
        (114, 120, 1, rate(114, 120))
    );

    let db = stack.service_db("aggregation").await;
    let sql = |sql: &str| Statement::from_string(db.get_database_backend(), sql);
    let cursor_row = "SELECT last_seq FROM feed_cursors WHERE feed = 'submission' FOR UPDATE";
    let holder = db.begin().await.unwrap();
    let row = holder
        .query_one_raw(sql(cursor_row))
        .await
        .unwrap()
        .unwrap();
    let cursor: i64 = row.try_get("", "last_seq").unwrap();

    let (status, body) = stack
        .post(
            "/api/v1/reports",
            Some(&binh_son),
            &documents_report(380, 266),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    // The follower's transaction is in: facts written, waiting on the cursor.
    let waiting = "SELECT COUNT(*) AS n FROM pg_stat_activity \
                   WHERE datname = current_database() AND wait_event_type = 'Lock'";
    let mut blocked = false;
    for _ in 0..200 {
        let row = db.query_one_raw(sql(waiting)).await.unwrap().unwrap();
        if row.try_get::<i64>("", "n").unwrap() > 0 {
            blocked = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(blocked, "the follower never waited on the cursor");

    stack.kill_aggregation().await;
    holder.rollback().await.unwrap();
    // Taking the row again waits for the killed transaction to end: it
    // must end, and must have committed nothing.
    let after = db.begin().await.unwrap();
    let row = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        after.query_one_raw(sql(cursor_row)),
    )
    .await
    .expect("the killed transaction released the cursor")
    .unwrap()
    .unwrap();
    assert_eq!(row.try_get::<i64>("", "last_seq").unwrap(), cursor);
    let row = after
        .query_one_raw(sql(&format!(
            "SELECT COUNT(*) AS n FROM facts WHERE agency_code = '{BINH_SON}'"
        )))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.try_get::<i64>("", "n").unwrap(),
        0,
        "no fact of the killed batch"
    );
    after.rollback().await.unwrap();

    stack.start_aggregation().await;
    stack.wait_for_feed(&admin).await;
    assert_eq!(
        answer(&stack, &admin, "51").await,
        (380, 500, 2, rate(380, 500))
    );
    assert_eq!(
        answer(&stack, &admin, "524").await,
        (266, 380, 1, rate(266, 380))
    );
    db.close().await.ok();
    stack.shutdown().await;
}
