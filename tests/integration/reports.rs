//! The reporting core over gRPC: the lifecycle, locks and unlocks, paper
//! reports, signatures and revoked keys, idempotent replays, stale etags,
//! the audit trail, expected reports across a merger, and the feed events
//! of every state change.

use std::time::Duration;

use base64::{Engine, engine::general_purpose::STANDARD};
use chiso_domain::{
    AgencyCode, FormCode, PeriodCode, PeriodType, ReportKey, parse_values, sample::sample_values,
    seed, signature::signed_content,
};
use chiso_runtime::{error::field_violations, grpc::with_bearer};
use chiso_tests::{
    TestStack,
    proto::submission::v1::{
        self as pb, change_event::Change, change_feed_service_client::ChangeFeedServiceClient,
        form_service_client::FormServiceClient, report_service_client::ReportServiceClient,
    },
    spawn_stack,
};
use ed25519_dalek::Signer;
use serde_json::json;
use tonic::{Code, Request, Status, transport::Channel};

use crate::{
    register_quang_ngai, registry_credentials::officer, registry_history::create_all, this_quarter,
};

const DEPARTMENT: &str = "000.00.15.H51";
const DISTRICT: &str = "000.00.24.H51";
const QUARTERLY: &str = "it_fast_quarterly";
const YEARLY: &str = "it_application_yearly";

/// Tokens of the people in these tests.
struct People {
    admin: String,
    /// Sở Thông tin và Truyền thông of Quảng Ngãi.
    department: String,
    department_id: String,
    /// UBND huyện Bình Sơn.
    district: String,
    /// A province officer of Quảng Ngãi (51).
    officer: String,
    officer_id: String,
}

fn call<T>(message: T, token: &str) -> Request<T> {
    with_bearer(message, token).expect("request")
}

fn reports(stack: &TestStack) -> ReportServiceClient<Channel> {
    ReportServiceClient::new(stack.channel(stack.submission_addr))
}

fn forms(stack: &TestStack) -> FormServiceClient<Channel> {
    FormServiceClient::new(stack.channel(stack.submission_addr))
}

/// The field names of an INVALID_ARGUMENT answer.
fn fields(status: &Status) -> Vec<String> {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    field_violations(status)
        .into_iter()
        .map(|(f, _)| f)
        .collect()
}

/// The message of the first violation of `field`.
fn violation(status: &Status, field: &str) -> String {
    field_violations(status)
        .into_iter()
        .find(|(f, _)| f == field)
        .map(|(_, m)| m)
        .unwrap_or_else(|| panic!("no violation of {field} in {status:?}"))
}

fn values(pairs: &[(&str, &str)]) -> Vec<pb::DataValue> {
    pairs
        .iter()
        .map(|(c, v)| pb::DataValue::new(*c, *v))
        .collect()
}

/// A quarterly report that passes every rule.
fn documents(sent: i64, electronic: i64) -> Vec<pb::DataValue> {
    let (sent, electronic) = (sent.to_string(), electronic.to_string());
    values(&[
        ("documents_sent", &sent),
        ("documents_sent_electronic", &electronic),
        ("documents_signed_digitally", "0"),
        ("documents_to_higher_levels", "0"),
        ("documents_to_higher_levels_electronic", "0"),
        ("online_meetings", "2"),
    ])
}

fn shown(values: &[pb::DataValue]) -> Vec<(String, String)> {
    values
        .iter()
        .map(|v| (v.data_element.clone(), v.value.clone()))
        .collect()
}

/// Expected reports of a form and period in province 51, as agency codes.
async fn expected(stack: &TestStack, token: &str, form: &str, period: &str) -> Vec<String> {
    forms(stack)
        .list_expected_reports(call(
            pb::ListExpectedReportsRequest {
                form: form.into(),
                period: period.into(),
                province_code: "51".into(),
            },
            token,
        ))
        .await
        .expect("expected reports")
        .into_inner()
        .reports
        .into_iter()
        .map(|r| r.agency_code)
        .collect()
}

/// Waits until the submission service's copy of the tree shows `codes`
/// expected for (form, period): it follows the registry's feed.
async fn wait_for_agencies(
    stack: &TestStack,
    token: &str,
    form: &str,
    period: &str,
    codes: &[&str],
) {
    for _ in 0..200 {
        let got = expected(stack, token, form, period).await;
        if codes.iter().all(|c| got.iter().any(|g| g == c)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the submission service never saw {codes:?} for {form} {period}");
}

async fn people(stack: &TestStack) -> People {
    let (admin, credentials) = register_quang_ngai(stack).await;
    let (officer_id, officer_secret) = officer(stack, &admin, "51").await;
    let token = |i: usize| stack.grpc_token(&credentials[i].1, &credentials[i].2);
    let people = People {
        department: token(0).await,
        department_id: credentials[0].1.clone(),
        district: token(1).await,
        officer: stack.grpc_token(&officer_id, &officer_secret).await,
        officer_id,
        admin,
    };
    wait_for_agencies(
        stack,
        &people.admin,
        QUARTERLY,
        &this_quarter(),
        &[DEPARTMENT, DISTRICT],
    )
    .await;
    people
}

/// Feed events after `after`, until `n` arrived.
async fn feed_events(stack: &TestStack, token: &str, after: i64, n: usize) -> Vec<pb::ChangeEvent> {
    let mut stream = ChangeFeedServiceClient::new(stack.channel(stack.submission_addr))
        .watch_changes(call(pb::WatchChangesRequest { after_seq: after }, token))
        .await
        .expect("feed opens")
        .into_inner();
    let mut events = Vec::new();
    while events.len() < n {
        let next = tokio::time::timeout(Duration::from_secs(10), stream.message())
            .await
            .unwrap_or_else(|_| panic!("only {} of {n} feed events: {events:?}", events.len()))
            .expect("feed broke")
            .expect("feed ended");
        events.push(next);
    }
    events
}

/// (kind, version, status, counts) of report events.
fn report_events(
    events: &[pb::ChangeEvent],
) -> Vec<(pb::ReportChangeKind, i32, pb::ReportStatus, bool)> {
    events
        .iter()
        .map(|e| match &e.change {
            Some(Change::Report(r)) => {
                let report = r.report.as_ref().expect("report");
                (r.kind(), report.version, report.status(), r.counts)
            }
            other => panic!("not a report event: {other:?}"),
        })
        .collect()
}

fn save(
    form: &str,
    period: &str,
    agency: &str,
    values: Vec<pb::DataValue>,
) -> pb::SaveDraftRequest {
    pb::SaveDraftRequest {
        form: form.into(),
        period: period.into(),
        agency_code: agency.into(),
        values,
        ..Default::default()
    }
}

fn submit(
    form: &str,
    period: &str,
    agency: &str,
    values: Vec<pb::DataValue>,
) -> pb::SubmitReportRequest {
    pb::SubmitReportRequest {
        form: form.into(),
        period: period.into(),
        agency_code: agency.into(),
        values,
        ..Default::default()
    }
}

fn review(id: &str, comment: &str) -> pb::ReviewReportRequest {
    pb::ReviewReportRequest {
        report_id: id.into(),
        comment: comment.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_report_is_drafted_submitted_reviewed_and_revised_with_audit_and_feed() {
    let stack = spawn_stack().await;
    let p = people(&stack).await;
    let quarter = this_quarter();
    let mut client = reports(&stack);
    let head = stack.submission_head(&p.admin).await;

    // A partial draft: only type and bounds are checked. The agency's own
    // token may leave its code empty.
    let draft = client
        .save_draft(call(
            save(QUARTERLY, &quarter, "", values(&[("documents_sent", "10")])),
            &p.department,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (draft.version, draft.status()),
        (1, pb::ReportStatus::Draft)
    );
    assert_eq!(
        (draft.agency_code.as_str(), draft.province_code.as_str()),
        (DEPARTMENT, "51")
    );
    assert_eq!(
        shown(&draft.values),
        [("documents_sent".to_owned(), "10".to_owned())]
    );
    assert!(draft.editable);
    assert!(!draft.etag.is_empty());

    // Bad values, periods and agencies are all named.
    let bad = client
        .save_draft(call(
            save(
                QUARTERLY,
                &quarter,
                "",
                values(&[("documents_sent", "-1"), ("has_lan", "yes"), ("nope", "1")]),
            ),
            &p.department,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        fields(&bad),
        [
            "values[0].value",
            "values[1].data_element",
            "values[2].data_element"
        ]
    );
    assert!(violation(&bad, "values[1].data_element").contains("not on form it_fast_quarterly"));
    let next_quarter = PeriodCode::parse(&quarter)
        .unwrap()
        .next()
        .unwrap()
        .to_string();
    for (period, agency, field, says) in [
        (next_quarter.as_str(), "", "period", "has not begun"),
        ("2026", "", "period", "not a quarterly period"),
        ("2018Q4", "", "period", "opens with period 2019Q1"),
        (
            quarter.as_str(),
            "000.00.99.H51",
            "agency_code",
            "no agency has code",
        ),
    ] {
        let token = if agency.is_empty() {
            &p.department
        } else {
            &p.officer
        };
        let err = client
            .save_draft(call(
                save(QUARTERLY, period, agency, documents(1, 1)),
                token,
            ))
            .await
            .unwrap_err();
        assert_eq!(fields(&err), [field], "{period} {agency}");
        assert!(violation(&err, field).contains(says), "{err:?}");
    }
    // An agency acts only for itself.
    let err = client
        .save_draft(call(
            save(QUARTERLY, &quarter, DISTRICT, documents(1, 1)),
            &p.department,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");

    // Submitting the draft as saved: one violation per missing compulsory element.
    let err = client
        .submit_report(call(submit(QUARTERLY, &quarter, "", vec![]), &p.department))
        .await
        .unwrap_err();
    assert_eq!(fields(&err), ["values"; 5]);
    assert!(violation(&err, "values").contains("`documents_sent_electronic` is compulsory"));
    // A broken rule is named with both messages and its numbers.
    let err = client
        .submit_report(call(
            submit(QUARTERLY, &quarter, "", documents(10, 20)),
            &p.department,
        ))
        .await
        .unwrap_err();
    assert_eq!(fields(&err), ["values"]);
    let message = violation(&err, "values");
    assert!(message.contains("rule document_chain"), "{message}");
    assert!(
        message.contains("cannot exceed documents sent"),
        "{message}"
    );
    assert!(
        message.contains("documents_sent_electronic = 20"),
        "{message}"
    );

    // A stale etag aborts and writes nothing.
    let mut stale = submit(QUARTERLY, &quarter, "", documents(30, 20));
    stale.if_match = "999".into();
    let err = client
        .submit_report(call(stale.clone(), &p.department))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Aborted, "{err:?}");
    let unchanged = client
        .get_report(call(
            pb::GetReportRequest {
                id: draft.id.clone(),
                ..Default::default()
            },
            &p.department,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (unchanged.etag.as_str(), unchanged.status()),
        (draft.etag.as_str(), pb::ReportStatus::Draft)
    );

    // With the current etag it submits; the audit sees the address and
    // request id a trusted caller (here: one from loopback, as the gateway
    // is) forwards.
    stale.if_match = draft.etag.clone();
    let mut request = call(stale, &p.department);
    request
        .metadata_mut()
        .insert("x-forwarded-for", "203.0.113.7".parse().unwrap());
    request
        .metadata_mut()
        .insert("x-request-id", "req-submit-1".parse().unwrap());
    let submitted = client.submit_report(request).await.unwrap().into_inner();
    assert_eq!(
        (submitted.version, submitted.status()),
        (1, pb::ReportStatus::Submitted)
    );
    assert_ne!(submitted.etag, draft.etag);
    assert_eq!(submitted.days_late, 0);
    assert_eq!(
        submitted.received_on,
        chiso_domain::date::format_date(chiso_domain::today())
    );
    assert_eq!(submitted.submitted_by, p.department_id);
    assert_eq!(submitted.id, draft.id, "one id per form, period and agency");

    // Saving over a submitted report is refused: it must be revised.
    let err = client
        .save_draft(call(
            save(QUARTERLY, &quarter, "", documents(1, 1)),
            &p.department,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("revise it"), "{err:?}");

    // Reviews: not by the agency; another agency does not even see the report.
    let err = client
        .accept_report(call(review(&submitted.id, ""), &p.department))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = client
        .get_report(call(
            pb::GetReportRequest {
                id: submitted.id.clone(),
                ..Default::default()
            },
            &p.district,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = client
        .return_report(call(review(&submitted.id, " "), &p.officer))
        .await
        .unwrap_err();
    assert_eq!(fields(&err), ["comment"]);
    let accepted = client
        .accept_report(call(review(&submitted.id, "Đạt"), &p.officer))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(accepted.status(), pb::ReportStatus::Accepted);
    let reviewed = accepted.review.as_ref().unwrap();
    assert_eq!(
        (reviewed.reviewed_by.as_str(), reviewed.comment.as_str()),
        (p.officer_id.as_str(), "Đạt")
    );
    let returned = client
        .return_report(call(
            review(&submitted.id, "Số văn bản điện tử chưa khớp sổ"),
            &p.officer,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(returned.status(), pb::ReportStatus::Returned);

    // A revision is a new draft copying the values; every version stays readable.
    let revised = client
        .revise_report(call(
            pb::ReviseReportRequest {
                report_id: submitted.id.clone(),
                reason: "Sửa theo góp ý".into(),
                ..Default::default()
            },
            &p.department,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (revised.version, revised.status()),
        (2, pb::ReportStatus::Draft)
    );
    assert_eq!(revised.values, submitted.values);
    let mut again = submit(QUARTERLY, &quarter, "", documents(30, 25));
    again.if_match = revised.etag.clone();
    let resubmitted = client
        .submit_report(call(again, &p.department))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (resubmitted.version, resubmitted.status()),
        (2, pb::ReportStatus::Submitted)
    );

    let versions = client
        .list_report_versions(call(
            pb::ListReportVersionsRequest {
                report_id: submitted.id.clone(),
            },
            &p.officer,
        ))
        .await
        .unwrap()
        .into_inner()
        .versions;
    let states: Vec<(i32, pb::ReportStatus)> =
        versions.iter().map(|v| (v.version, v.status())).collect();
    assert_eq!(
        states,
        [
            (1, pb::ReportStatus::Returned),
            (2, pb::ReportStatus::Submitted)
        ]
    );
    assert_eq!(versions[0].values, submitted.values);
    let first = client
        .get_report(call(
            pb::GetReportRequest {
                form: QUARTERLY.into(),
                period: quarter.clone(),
                version: 1,
                ..Default::default()
            },
            &p.department,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (first.version, first.values.clone()),
        (1, submitted.values.clone())
    );

    // The audit trail, oldest first, with statuses and values before and after.
    let audit = client
        .list_audit_entries(call(
            pb::ListAuditEntriesRequest {
                report_id: submitted.id.clone(),
                ..Default::default()
            },
            &p.officer,
        ))
        .await
        .unwrap()
        .into_inner()
        .entries;
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "save_draft",
            "submit",
            "accept",
            "return",
            "revise",
            "submit"
        ]
    );
    let submit_entry = &audit[1];
    assert_eq!(
        (
            submit_entry.address.as_str(),
            submit_entry.request_id.as_str()
        ),
        ("203.0.113.7", "req-submit-1")
    );
    assert_eq!(
        (
            submit_entry.actor.as_str(),
            submit_entry.actor_role.as_str()
        ),
        (p.department_id.as_str(), "agency_reporter")
    );
    assert_eq!(submit_entry.values_before, draft.values);
    assert_eq!(submit_entry.values_after, submitted.values);
    let revise_entry = &audit[4];
    assert_eq!(revise_entry.version, 2);
    assert_eq!(
        (revise_entry.status_before(), revise_entry.status_after()),
        (pb::ReportStatus::Returned, pb::ReportStatus::Draft)
    );
    assert_eq!(revise_entry.values_before, submitted.values);
    assert_eq!(revise_entry.comment, "Sửa theo góp ý");
    assert_eq!(audit[3].comment, "Số văn bản điện tử chưa khớp sổ");
    assert_eq!(audit[5].values_after, resubmitted.values);
    assert_eq!(audit[0].address, "127.0.0.1", "the caller itself");
    // The agency's audit lists the same entries.
    let by_agency = client
        .list_audit_entries(call(
            pb::ListAuditEntriesRequest {
                agency_code: DEPARTMENT.into(),
                ..Default::default()
            },
            &p.officer,
        ))
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert_eq!(by_agency, audit);

    // One feed event per state change; drafts publish nothing. Quarterly
    // reports count once submitted; a return takes the values out.
    let events = feed_events(&stack, &p.admin, head, 5).await;
    use pb::{ReportChangeKind as K, ReportStatus as S};
    assert_eq!(
        report_events(&events),
        [
            (K::Submitted, 1, S::Submitted, true),
            (K::Accepted, 1, S::Accepted, true),
            (K::Returned, 1, S::Returned, false),
            (K::Revised, 2, S::Draft, false),
            (K::Submitted, 2, S::Submitted, true),
        ]
    );
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (head + 1..=head + 5).collect::<Vec<_>>());
    let Some(Change::Report(last)) = &events[4].change else {
        unreachable!()
    };
    assert_eq!(last.report.as_ref().unwrap().values, resubmitted.values);
    stack.shutdown().await;
}

/// A quarter at least a year back: locked on the quarterly form.
fn locked_quarter() -> PeriodCode {
    let mut period = PeriodCode::parse(&this_quarter()).unwrap();
    for _ in 0..4 {
        period = period.previous().unwrap();
    }
    period
}

#[tokio::test]
async fn locked_periods_need_an_unlock_and_paper_reports_count_late_by_their_date() {
    let stack = spawn_stack().await;
    let p = people(&stack).await;
    let mut client = reports(&stack);
    let period = locked_quarter();
    let deadline = period.end() + chrono::Days::new(10);
    let lock = deadline + chrono::Days::new(30);
    let head = stack.submission_head(&p.admin).await;

    let err = client
        .submit_report(call(
            submit(QUARTERLY, &period.to_string(), "", documents(5, 5)),
            &p.department,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(
        err.message().contains(&format!("closed on {lock}")),
        "{err:?}"
    );

    // Only officers unlock, with a reason, for at most 90 days.
    let unlock = |reason: &str, days: i64| pb::UnlockReportRequest {
        form: QUARTERLY.into(),
        period: period.to_string(),
        agency_code: DEPARTMENT.into(),
        reason: reason.into(),
        until: (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339(),
        request_id: String::new(),
    };
    let err = client
        .unlock_report(call(unlock("x", 7), &p.department))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = client
        .unlock_report(call(unlock("", 91), &p.officer))
        .await
        .unwrap_err();
    assert_eq!(fields(&err), ["reason", "until"]);
    let granted = client
        .unlock_report(call(unlock("Bổ sung báo cáo giấy", 7), &p.officer))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (granted.granted_by.as_str(), granted.reason.as_str()),
        (p.officer_id.as_str(), "Bổ sung báo cáo giấy")
    );

    // A paper report: only officers give the date it was received.
    let paper = |received_on: String| pb::SubmitReportRequest {
        received_on,
        ..submit(QUARTERLY, &period.to_string(), DEPARTMENT, documents(8, 6))
    };
    let five_late = (deadline + chrono::Days::new(5)).to_string();
    let err = client
        .submit_report(call(paper(five_late.clone()), &p.department))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let tomorrow = (chiso_domain::today() + chrono::Days::new(1)).to_string();
    let err = client
        .submit_report(call(paper(tomorrow), &p.officer))
        .await
        .unwrap_err();
    assert_eq!(fields(&err), ["received_on"]);
    assert!(violation(&err, "received_on").contains("future"));
    let entered = client
        .submit_report(call(paper(five_late.clone()), &p.officer))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(entered.status(), pb::ReportStatus::Submitted);
    assert_eq!(
        (entered.received_on.as_str(), entered.days_late),
        (five_late.as_str(), 5)
    );
    assert_eq!(entered.deadline, deadline.to_string());
    assert_eq!(entered.lock_date, lock.to_string());
    assert!(entered.editable, "unlocked until next week");

    // Without a date of its own, lateness is judged by today (the district, unlocked too).
    let mut district_unlock = unlock("Bổ sung", 7);
    district_unlock.agency_code = DISTRICT.into();
    client
        .unlock_report(call(district_unlock, &p.officer))
        .await
        .unwrap();
    let late = client
        .submit_report(call(
            submit(QUARTERLY, &period.to_string(), "", documents(3, 1)),
            &p.district,
        ))
        .await
        .unwrap()
        .into_inner();
    let expected_late = (chiso_domain::today() - deadline).num_days();
    assert_eq!(i64::from(late.days_late), expected_late);

    // The expected reports of that quarter show both, late.
    let listed = forms(&stack)
        .list_expected_reports(call(
            pb::ListExpectedReportsRequest {
                form: QUARTERLY.into(),
                period: period.to_string(),
                province_code: String::new(),
            },
            &p.officer,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.deadline, deadline.to_string());
    let rows: Vec<(&str, pb::ReportStatus, i32)> = listed
        .reports
        .iter()
        .map(|r| (r.agency_code.as_str(), r.status(), r.days_late))
        .collect();
    assert_eq!(
        rows,
        [
            ("000.00.00.H51", pb::ReportStatus::Unspecified, 0),
            (DEPARTMENT, pb::ReportStatus::Submitted, 5),
            (
                DISTRICT,
                pb::ReportStatus::Submitted,
                i32::try_from(expected_late).unwrap()
            ),
        ]
    );

    // The feed: each unlock, then each submission.
    let events = feed_events(&stack, &p.admin, head, 4).await;
    use pb::ReportChangeKind as K;
    let kinds: Vec<K> = report_events(&events).into_iter().map(|e| e.0).collect();
    assert_eq!(
        kinds,
        [K::Unlocked, K::Submitted, K::Unlocked, K::Submitted]
    );
    let Some(Change::Report(first)) = &events[0].change else {
        unreachable!()
    };
    assert_eq!(
        first.unlock.as_ref().unwrap().reason,
        "Bổ sung báo cáo giấy"
    );
    assert!(!first.counts);
    stack.shutdown().await;
}

/// Sample yearly values that pass every rule, and the typed values an agency signs.
fn yearly_values() -> (Vec<pb::DataValue>, chiso_domain::ReportValues) {
    let catalogue = seed::catalogue().unwrap();
    let forms = seed::forms(&catalogue).unwrap();
    let form = forms.iter().find(|f| f.code.as_str() == YEARLY).unwrap();
    let pairs = sample_values(form, 7, 2);
    let typed = parse_values(&pairs, &catalogue, |_| Ok(())).unwrap();
    let wire = pairs
        .iter()
        .map(|(c, v)| pb::DataValue::new(c.clone(), v.clone()))
        .collect();
    (wire, typed)
}

#[tokio::test]
async fn signatures_verify_and_a_revoked_key_signs_nothing_new() {
    let stack = spawn_stack().await;
    let p = people(&stack).await;
    let mut client = reports(&stack);
    let year = PeriodCode::containing(PeriodType::Yearly, chiso_domain::today()).unwrap();
    let (wire, typed) = yearly_values();
    let key = ReportKey {
        form: FormCode::parse(YEARLY).unwrap(),
        period: year,
        agency: AgencyCode::parse(DEPARTMENT).unwrap(),
    };
    let secret = ed25519_dalek::SigningKey::from_bytes(&[21u8; 32]);
    let (status, registered) = stack
        .post(
            &format!("/api/v1/agencies/{DEPARTMENT}/keys"),
            Some(&p.department),
            &json!({"public_key": STANDARD.encode(secret.verifying_key().as_bytes()), "label": "Máy chủ báo cáo"}),
        )
        .await;
    assert_eq!(status, 201, "{registered}");
    let key_id = registered["key_id"].as_str().unwrap().to_owned();
    let sign = |version: i32, with: &ed25519_dalek::SigningKey, key_id: &str| pb::Signature {
        key_id: key_id.into(),
        signature: STANDARD.encode(with.sign(&signed_content(&key, version, &typed)).to_bytes()),
        signed_at: None,
    };
    let signed = |signature: Option<pb::Signature>| pb::SubmitReportRequest {
        signature,
        ..submit(YEARLY, &year.to_string(), "", wire.clone())
    };

    // The form needs a signature; a wrong one, or an unknown key, is named.
    let err = client
        .submit_report(call(signed(None), &p.department))
        .await
        .unwrap_err();
    assert_eq!(fields(&err), ["signature.key_id", "signature.signature"]);
    let err = client
        .submit_report(call(signed(Some(sign(2, &secret, &key_id))), &p.department))
        .await
        .unwrap_err();
    assert_eq!(fields(&err), ["signature.signature"]);
    assert!(violation(&err, "signature.signature").contains("does not verify"));
    let err = client
        .submit_report(call(
            signed(Some(sign(1, &secret, "key-unknown"))),
            &p.department,
        ))
        .await
        .unwrap_err();
    assert_eq!(fields(&err), ["signature.key_id"]);

    let submitted = client
        .submit_report(call(signed(Some(sign(1, &secret, &key_id))), &p.department))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(submitted.status(), pb::ReportStatus::Submitted);
    let stored = submitted.signature.clone().unwrap();
    assert_eq!(stored.key_id, key_id);
    assert!(stored.signed_at.is_some());
    let verify = |version: i32| pb::VerifySignatureRequest {
        report_id: submitted.id.clone(),
        version,
    };
    let checked = client
        .verify_signature(call(verify(0), &p.officer))
        .await
        .unwrap()
        .into_inner();
    assert!(checked.valid, "{checked:?}");
    assert_eq!(
        (checked.key_id.as_str(), checked.key_label.as_str()),
        (key_id.as_str(), "Máy chủ báo cáo")
    );
    assert_eq!(
        checked.signed_content.as_bytes(),
        signed_content(&key, 1, &typed)
    );
    assert!(checked.signed_content.starts_with(&format!(
        r#"{{"agency":"{DEPARTMENT}","form":"{YEARLY}","period":"{year}","values":{{"#
    )));

    // The key is revoked; the officer returns the report and the agency revises it.
    let (status, revoked) = stack
        .post(
            &format!("/api/v1/agencies/{DEPARTMENT}/keys/{key_id}/revoke"),
            Some(&p.department),
            &json!({"reason": "lộ khoá"}),
        )
        .await;
    assert_eq!(status, 200, "{revoked}");
    client
        .return_report(call(review(&submitted.id, "Ký lại"), &p.officer))
        .await
        .unwrap();
    client
        .revise_report(call(
            pb::ReviseReportRequest {
                report_id: submitted.id.clone(),
                reason: "Ký lại".into(),
                ..Default::default()
            },
            &p.department,
        ))
        .await
        .unwrap();
    let err = client
        .submit_report(call(signed(Some(sign(2, &secret, &key_id))), &p.department))
        .await
        .unwrap_err();
    assert_eq!(fields(&err), ["signature.key_id"]);
    assert!(
        violation(&err, "signature.key_id").contains("revoked"),
        "{err:?}"
    );

    // What was signed before the revocation still verifies.
    let checked = client
        .verify_signature(call(verify(1), &p.officer))
        .await
        .unwrap()
        .into_inner();
    assert!(checked.valid, "{checked:?}");
    let unsigned = client
        .verify_signature(call(verify(2), &p.officer))
        .await
        .unwrap()
        .into_inner();
    assert!(!unsigned.valid);
    assert_eq!(unsigned.reason, "version 2 is not signed");

    // A new key signs version 2.
    let second = ed25519_dalek::SigningKey::from_bytes(&[22u8; 32]);
    let (status, registered) = stack
        .post(
            &format!("/api/v1/agencies/{DEPARTMENT}/keys"),
            Some(&p.department),
            &json!({"public_key": STANDARD.encode(second.verifying_key().as_bytes())}),
        )
        .await;
    assert_eq!(status, 201, "{registered}");
    let second_id = registered["key_id"].as_str().unwrap();
    let resubmitted = client
        .submit_report(call(
            signed(Some(sign(2, &second, second_id))),
            &p.department,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (
            resubmitted.version,
            resubmitted.signature.unwrap().key_id.as_str()
        ),
        (2, second_id)
    );
    stack.shutdown().await;
}

#[tokio::test]
async fn replays_answer_once_and_a_reused_request_id_is_refused() {
    let stack = spawn_stack().await;
    let p = people(&stack).await;
    let mut client = reports(&stack);
    let quarter = this_quarter();
    let mut first = submit(QUARTERLY, &quarter, "", documents(12, 6));
    first.request_id = "nop-bao-cao-quy-1".into();
    let answer = client
        .submit_report(call(first.clone(), &p.department))
        .await
        .unwrap()
        .into_inner();
    let audit = |client: &mut ReportServiceClient<Channel>| {
        let request = call(
            pb::ListAuditEntriesRequest {
                report_id: answer.id.clone(),
                ..Default::default()
            },
            &p.officer,
        );
        let mut client = client.clone();
        async move {
            client
                .list_audit_entries(request)
                .await
                .unwrap()
                .into_inner()
                .entries
        }
    };
    let audited = audit(&mut client).await;
    assert_eq!(audited.len(), 1);
    assert_eq!(
        audited[0].request_id, "nop-bao-cao-quy-1",
        "the key names the request without x-request-id"
    );
    let events = feed_events(&stack, &p.admin, 0, 1).await;
    assert!(!events.is_empty());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let head = stack.submission_head(&p.admin).await;

    // The same request again: the same answer, nothing written — even after
    // the report moved on.
    let replay = client
        .submit_report(call(first.clone(), &p.department))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(replay, answer);
    client
        .accept_report(call(review(&answer.id, ""), &p.officer))
        .await
        .unwrap();
    let replay = client
        .submit_report(call(first.clone(), &p.department))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(replay, answer);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        stack.submission_head(&p.admin).await,
        head + 1,
        "only the acceptance was published"
    );
    let actions: Vec<String> = audit(&mut client)
        .await
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(actions, ["submit", "accept"]);

    // The same key with another request, and keys that are not keys.
    let mut other = first.clone();
    other.values = documents(13, 6);
    let err = client
        .submit_report(call(other, &p.department))
        .await
        .unwrap_err();
    assert_eq!(fields(&err), ["request_id"]);
    assert_eq!(
        violation(&err, "request_id"),
        "was already used for a different request"
    );
    let mut long = first.clone();
    long.request_id = "k".repeat(129);
    let err = client
        .submit_report(call(long, &p.department))
        .await
        .unwrap_err();
    assert_eq!(fields(&err), ["request_id"]);
    // Keys are the caller's own: another agency may use the same one.
    let mut district = submit(QUARTERLY, &quarter, "", documents(2, 2));
    district.request_id = "nop-bao-cao-quy-1".into();
    let theirs = client
        .submit_report(call(district, &p.district))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(theirs.agency_code, DISTRICT);
    stack.shutdown().await;
}

#[tokio::test]
async fn a_merged_agency_is_expected_while_it_existed_and_its_successor_from_its_start() {
    let stack = spawn_stack().await;
    let (admin, _) = register_quang_ngai(&stack).await;
    create_all(
        &stack,
        &admin,
        &[json!({"code": "000.00.25.H51", "admin_unit_code": "525", "name": "UBND huyện Trà Bồng",
                 "kind": "district_committee", "parent_code": "000.00.00.H51", "valid_from": "1989-07-01"})],
    )
    .await;
    // The merger takes effect in the middle of the last quarter.
    let current = PeriodCode::parse(&this_quarter()).unwrap();
    let (before, during) = (
        current.previous().unwrap().previous().unwrap(),
        current.previous().unwrap(),
    );
    let effective = during.start() + chrono::Days::new(40);
    let (status, body) = stack
        .post(
            "/api/v1/agencies/reorganisations",
            Some(&admin),
            &json!({
                "effective_date": effective.to_string(),
                "legal_basis": "Nghị quyết 1234/NQ-UBTVQH15",
                "operations": [{"type": "merge", "source_codes": [DISTRICT, "000.00.25.H51"],
                    "into": {"new_agency": {"code": "000.00.30.H51", "admin_unit_code": "530",
                        "name": "UBND huyện Bình Sơn - Trà Bồng", "kind": "district_committee",
                        "parent_code": "000.00.00.H51"}}}],
            }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    wait_for_agencies(
        &stack,
        &admin,
        QUARTERLY,
        &current.to_string(),
        &["000.00.30.H51"],
    )
    .await;
    let province = ["000.00.00.H51", DEPARTMENT];
    let with = |districts: &[&str]| {
        let mut all: Vec<String> = province
            .iter()
            .chain(districts)
            .map(|c| c.to_string())
            .collect();
        all.sort();
        all
    };
    assert_eq!(
        expected(&stack, &admin, QUARTERLY, &before.to_string()).await,
        with(&[DISTRICT, "000.00.25.H51"])
    );
    assert_eq!(
        expected(&stack, &admin, QUARTERLY, &during.to_string()).await,
        with(&[DISTRICT, "000.00.25.H51", "000.00.30.H51"])
    );
    assert_eq!(
        expected(&stack, &admin, QUARTERLY, &current.to_string()).await,
        with(&["000.00.30.H51"])
    );
    // The merged district can no longer report this quarter.
    let err = reports(&stack)
        .save_draft(call(
            save(QUARTERLY, &current.to_string(), DISTRICT, documents(1, 1)),
            &admin,
        ))
        .await
        .unwrap_err();
    assert_eq!(fields(&err), ["agency_code"]);
    assert!(
        violation(&err, "agency_code").contains("did not exist during period"),
        "{err:?}"
    );
    stack.shutdown().await;
}
