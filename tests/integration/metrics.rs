//! Prometheus metrics on every back service (issue 11, "Operations"): each
//! serves `/metrics` on a listener of its own, with its gRPC calls counted
//! by method and status code and timed, its feeds' head and applied
//! sequence numbers, and its database pool.
//!
//! Tests share one process, and so one recorder: counters are at least
//! what this test did, and gauges are whichever stack set them last.

use std::collections::BTreeMap;

use chiso_proto::submission::v1::{GetReportRequest, report_service_client::ReportServiceClient};
use chiso_tests::spawn_stack;

use crate::{documents_report, register_quang_ngai};

/// One sample of the text exposition format.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

fn parse(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("a value");
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let labels = labels
                .split("\",")
                .filter(|p| !p.is_empty())
                .map(|pair| {
                    let (k, v) = pair.split_once('=').expect("label=value");
                    (k.to_owned(), v.trim_matches('"').to_owned())
                })
                .collect();
            Sample {
                name: name.to_owned(),
                labels,
                value: value.parse().expect("a number"),
            }
        })
        .collect()
}

/// The samples named `name` whose labels include every pair of `with`.
fn find<'a>(samples: &'a [Sample], name: &str, with: &[(&str, &str)]) -> Vec<&'a Sample> {
    samples
        .iter()
        .filter(|s| {
            s.name == name
                && with
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .collect()
}

fn total(samples: &[Sample], name: &str, with: &[(&str, &str)]) -> f64 {
    find(samples, name, with).iter().map(|s| s.value).sum()
}

#[tokio::test]
async fn every_back_service_serves_its_calls_feeds_and_pool_on_its_own_listener() {
    let stack = spawn_stack().await;
    let (admin, credentials) = register_quang_ngai(&stack).await;
    let agency = stack.token(&credentials[0].1, &credentials[0].2).await;
    let (status, report) = stack
        .post(
            "/api/v1/reports",
            Some(&agency),
            &documents_report(120, 114),
        )
        .await;
    assert_eq!(status, 201, "{report}");
    stack.wait_for_feed(&admin).await;

    // Straight to the submission service: a call without a token, and one
    // to a method no service has (its own series would grow for ever).
    let submission = stack.channel(stack.submission_addr);
    let refused = ReportServiceClient::new(submission.clone())
        .get_report(GetReportRequest::default())
        .await
        .expect_err("no token");
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);
    let mut raw = tonic::client::Grpc::new(submission);
    raw.ready().await.unwrap();
    let invented = raw
        .unary::<(), (), _>(
            tonic::Request::new(()),
            tonic::codegen::http::uri::PathAndQuery::from_static(
                "/chiso.invented.v1.Nothing/Invented",
            ),
            tonic_prost::ProstCodec::default(),
        )
        .await
        .expect_err("no such method");
    assert_eq!(invented.code(), tonic::Code::Unimplemented);

    let scrape = |url: String| {
        let http = stack.http.clone();
        async move {
            let answer = http.get(&url).send().await.expect("metrics answer");
            assert_eq!(answer.status(), 200, "{url}");
            parse(&answer.text().await.unwrap())
        }
    };
    let [registry, submission, aggregation] = stack.back_metrics_urls.clone();
    let (registry, submission, aggregation) = (
        scrape(registry).await,
        scrape(submission).await,
        scrape(aggregation).await,
    );

    // Calls, by method and status code.
    let handled = "grpc_server_handled_total";
    assert!(
        total(
            &registry,
            handled,
            &[
                ("server", "registry"),
                ("grpc_service", "chiso.registry.v1.CredentialService"),
                ("grpc_method", "IssueToken"),
                ("grpc_code", "OK"),
            ]
        ) >= 2.0,
        "the admin's and the agency's tokens"
    );
    assert!(
        total(
            &submission,
            handled,
            &[
                ("server", "submission"),
                ("grpc_service", "chiso.submission.v1.ReportService"),
                ("grpc_method", "SubmitReport"),
                ("grpc_code", "OK"),
            ]
        ) >= 1.0
    );
    assert!(
        total(
            &submission,
            handled,
            &[
                ("server", "submission"),
                ("grpc_method", "GetReport"),
                ("grpc_code", "Unauthenticated"),
            ]
        ) >= 1.0
    );
    assert!(
        total(
            &submission,
            handled,
            &[
                ("server", "submission"),
                ("grpc_service", "other"),
                ("grpc_method", "other"),
                ("grpc_code", "Unimplemented"),
            ]
        ) >= 1.0,
        "an invented method is counted as `other`"
    );
    assert!(
        find(&submission, handled, &[("grpc_method", "Invented")]).is_empty(),
        "an invented method gets no series of its own"
    );
    // Latency of calls; not of the feeds, which last as long as their follower.
    assert!(
        total(
            &submission,
            "grpc_server_handling_seconds_count",
            &[("server", "submission"), ("grpc_method", "SubmitReport"),]
        ) >= 1.0
    );
    assert!(
        find(
            &submission,
            "grpc_server_handling_seconds_count",
            &[("grpc_method", "WatchChanges")]
        )
        .is_empty()
    );

    // Feeds: what each publishes and how far each follower has applied.
    for (samples, name, labels) in [
        (
            &submission,
            "feed_head_seq",
            [("server", "submission"), ("feed", "submission.changes")],
        ),
        (
            &registry,
            "feed_head_seq",
            [("server", "registry"), ("feed", "registry.agencies")],
        ),
        (
            &aggregation,
            "feed_applied_seq",
            [("server", "aggregation"), ("feed", "submission.changes")],
        ),
        (
            &aggregation,
            "feed_applied_seq",
            [("server", "aggregation"), ("feed", "registry.agencies")],
        ),
        (
            &submission,
            "feed_applied_seq",
            [("server", "submission"), ("feed", "registry.agencies")],
        ),
        (
            &aggregation,
            "feed_lag_seconds",
            [("server", "aggregation"), ("feed", "submission.changes")],
        ),
    ] {
        let found = find(samples, name, &labels);
        assert_eq!(found.len(), 1, "{name} {labels:?}");
        assert!(
            found[0].value >= 0.0,
            "{name} {labels:?}: {}",
            found[0].value
        );
        if name != "feed_lag_seconds" {
            assert!(
                found[0].value >= 1.0,
                "{name} {labels:?}: {}",
                found[0].value
            );
        }
    }

    // The database pool of each.
    for (samples, server) in [
        (&registry, "registry"),
        (&submission, "submission"),
        (&aggregation, "aggregation"),
    ] {
        let max = find(samples, "db_pool_max_connections", &[("server", server)]);
        assert_eq!(max.len(), 1, "{server}");
        assert!(max[0].value >= 1.0, "{server}");
        for state in ["idle", "in_use"] {
            assert_eq!(
                find(
                    samples,
                    "db_pool_connections",
                    &[("server", server), ("state", state)]
                )
                .len(),
                1,
                "{server} {state}"
            );
        }
    }
}
