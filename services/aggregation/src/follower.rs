//! Follows the submission change feed from the durable cursor, so a restart
//! neither loses nor repeats a report.

use std::sync::Arc;

use anyhow::Context;
use chiso_domain::Catalogue;
use chiso_proto::{
    convert::{aggregation::decode_agency_history, submission::decode_report},
    registry::v1::{WatchAgenciesRequest, agency_service_client::AgencyServiceClient},
    submission::v1::{
        CatalogueChange, ChangeEvent, ReportChange, ReportChangeKind, WatchChangesRequest,
        catalogue_change::Definition, change_event::Change,
        change_feed_service_client::ChangeFeedServiceClient,
    },
};
use chiso_runtime::{feed, grpc::with_bearer};
use futures::FutureExt;
use prost::Message;
use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use tracing::{debug, info};

use crate::{
    catalogue::{self, CatalogueCache},
    model::SharedModel,
    store::{self, FeedEvent, ReportEvent},
    token::ServiceToken,
};

/// Everything the followers need.
#[derive(Clone)]
pub struct Follower {
    pub db: DatabaseConnection,
    pub submission: Channel,
    pub registry: Channel,
    pub token: Arc<ServiceToken>,
    pub catalogue: CatalogueCache,
    /// Changed after each batch commits, so it never runs ahead of the tables.
    pub model: SharedModel,
}

impl Follower {
    /// Follows both feeds until `stop` is cancelled.
    pub async fn run(self, stop: CancellationToken) {
        let agencies = self.clone();
        tokio::join!(
            feed::retrying("submission", stop.clone(), || self.follow_reports()),
            feed::retrying("registry", stop, || agencies.follow_agencies()),
        );
    }

    async fn follow_reports(&self) -> anyhow::Result<()> {
        let after_seq = store::cursor(&self.db, store::SUBMISSION_FEED).await?;
        // A batch committed whose answers the model never took (reading it
        // back failed after the commit): the tables are the truth.
        if self.model.read().submission_seq < after_seq {
            let reloaded = crate::model::Model::load(&self.db).await?;
            *self.model.write() = reloaded;
        }
        let token = self.token.get().await?;
        let mut client = ChangeFeedServiceClient::new(self.submission.clone());
        let response = client
            .watch_changes(with_bearer(WatchChangesRequest { after_seq }, &token)?)
            .await;
        let stream = self.opened(response, "submission").await?;
        info!(after_seq, "following the submission change feed");
        let mut batches = Batches::new(stream);
        while let Some(batch) = batches
            .next(joins_batch)
            .await
            .context("change feed broke")?
        {
            self.apply_events(batch).await?;
        }
        Ok(())
    }

    /// Decodes and applies one batch in one transaction, then reloads the
    /// catalogue once if the batch stored a definition.
    async fn apply_events(&self, batch: Vec<ChangeEvent>) -> anyhow::Result<()> {
        let catalogue = self.catalogue.get();
        let committed = batch.last().and_then(|e| e.at).and_then(|at| {
            chrono::DateTime::from_timestamp(at.seconds, u32::try_from(at.nanos).unwrap_or(0))
        });
        let events = batch
            .into_iter()
            .map(|event| Ok((event.seq, decode_event(event, &catalogue)?)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let applied = store::apply_batch(&self.db, &events, |form, period, agency| {
            let model = self.model.read();
            let id = model.tree.id(agency)?;
            model.states.get(form, period, id)
        })
        .await?;
        if applied.definitions > 0 {
            self.catalogue.reload(&self.db).await?;
        }
        // Read back what the batch left for the keys it touched, then swap
        // it in under the lock in one go: queries see the batch whole. The
        // batch is committed by now; should reading it back fail, the error
        // ends this connection and the next one, finding the model behind
        // the cursor, reloads it from the tables.
        let rows = store::facts_of(&self.db, &applied.touched)
            .await
            .context("reading back a committed batch")?;
        {
            let mut model = self.model.write();
            model.apply_facts(&applied.touched, &rows, &applied.states)?;
            if let Some((last, _)) = events.last() {
                model.submission_seq = model.submission_seq.max(*last);
            }
        }
        if let Some((last, _)) = events.last() {
            chiso_runtime::metrics::feed_applied(
                "aggregation",
                "submission.changes",
                *last,
                committed,
            );
        }
        debug!(
            first = events.first().map(|(seq, _)| *seq),
            last = events.last().map(|(seq, _)| *seq),
            received = events.len(),
            applied = applied.events,
            definitions = applied.definitions,
            "change feed batch"
        );
        Ok(())
    }
}

/// Whether `next` may join a batch that ends with `last`. Every report in a
/// batch is decoded with the catalogue as it stood before the batch, so an
/// event never joins after a catalogue event unless it is one too: it starts
/// the next batch, decoded with the catalogue reloaded once this one
/// committed. Splitting is simpler than building catalogues mid-batch, and
/// costs nothing at scale: definitions come in runs (the seed, an
/// administrator's edit) that still share a batch, as do the reports before them.
fn joins_batch(last: &ChangeEvent, next: &ChangeEvent) -> bool {
    let definition = |e: &ChangeEvent| matches!(e.change, Some(Change::Catalogue(_)));
    !definition(last) || definition(next)
}

/// What happened to the report; `None` for an unlock (which may come before
/// any report exists) or a kind this build does not know.
fn report_event(change: &ReportChange) -> Option<ReportEvent> {
    match ReportChangeKind::try_from(change.kind).unwrap_or_default() {
        ReportChangeKind::Submitted => Some(ReportEvent::Submitted),
        ReportChangeKind::Accepted => Some(ReportEvent::Accepted),
        ReportChangeKind::Returned => Some(ReportEvent::Returned),
        ReportChangeKind::Revised => Some(ReportEvent::Revised),
        _ => None,
    }
}

/// A feed event decoded into what the store applies.
fn decode_event(event: ChangeEvent, catalogue: &Catalogue) -> anyhow::Result<FeedEvent> {
    let seq = event.seq;
    Ok(match event.change {
        Some(Change::Report(change)) => match report_event(&change) {
            Some(event) => {
                let wire = change
                    .report
                    .as_ref()
                    .with_context(|| format!("feed event {seq} has no report"))?;
                let report = decode_report(wire, catalogue)
                    .with_context(|| format!("feed event {seq} is not a valid report"))?;
                FeedEvent::Report {
                    report,
                    event,
                    counts: change.counts,
                }
            }
            None => FeedEvent::Nothing,
        },
        Some(Change::Catalogue(CatalogueChange { definition })) => match definition {
            Some(Definition::DataElement(d)) => FeedEvent::Definition {
                kind: catalogue::DATA_ELEMENT,
                code: d.code.clone(),
                payload: d.encode_to_vec(),
            },
            Some(Definition::Indicator(i)) => FeedEvent::Definition {
                kind: catalogue::INDICATOR,
                code: i.code.clone(),
                payload: i.encode_to_vec(),
            },
            Some(Definition::Rule(r)) => FeedEvent::Definition {
                kind: catalogue::RULE,
                code: r.code.clone(),
                payload: r.encode_to_vec(),
            },
            Some(Definition::Form(f)) => FeedEvent::Definition {
                kind: catalogue::FORM,
                code: f.code.clone(),
                payload: f.encode_to_vec(),
            },
            None => FeedEvent::Nothing,
        },
        // Still moves the cursor: an event this build does not know is
        // skipped once, not read again on every restart.
        None => FeedEvent::Nothing,
    })
}

/// Most feed events applied in one transaction.
const MAX_BATCH: usize = 500;

/// A feed's events in batches: each waits for one event, then takes
/// whatever has already arrived, up to [`MAX_BATCH`], without waiting for
/// more. An idle feed thus costs no latency (a lone event is applied at
/// once), and batches grow by themselves exactly when the follower falls
/// behind: whatever piled up while one batch committed is the next batch.
struct Batches<T> {
    stream: tonic::Streaming<T>,
    /// An event that arrived but did not join the last batch: the next one starts with it.
    held: Option<T>,
}

impl<T> Batches<T> {
    fn new(stream: tonic::Streaming<T>) -> Self {
        Self { stream, held: None }
    }

    /// The next batch; `joins(last, next)` says whether an event that has
    /// arrived may follow the batch's last one. `None` when the feed ended.
    /// An error drops the batch: nothing of it was applied, and the next
    /// connection resends it from the durable cursor.
    async fn next(
        &mut self,
        joins: impl Fn(&T, &T) -> bool,
    ) -> Result<Option<Vec<T>>, tonic::Status> {
        let first = match self.held.take() {
            Some(event) => event,
            None => match self.stream.message().await? {
                Some(event) => event,
                None => return Ok(None),
            },
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            // `message` keeps its state in the stream, so a poll that finds
            // nothing yet loses nothing.
            match self.stream.message().now_or_never() {
                Some(Ok(Some(event))) => {
                    if joins(batch.last().expect("never empty"), &event) {
                        batch.push(event);
                    } else {
                        self.held = Some(event);
                        break;
                    }
                }
                Some(Err(status)) => return Err(status),
                // Nothing more yet, or the feed ended (the next read says so).
                Some(Ok(None)) | None => break,
            }
        }
        Ok(Some(batch))
    }
}

impl Follower {
    async fn follow_agencies(&self) -> anyhow::Result<()> {
        let after_seq = store::cursor(&self.db, store::REGISTRY_FEED).await?;
        let token = self.token.get().await?;
        let response = AgencyServiceClient::new(self.registry.clone())
            .watch_agencies(with_bearer(WatchAgenciesRequest { after_seq }, &token)?)
            .await;
        let stream = self.opened(response, "registry").await?;
        info!(after_seq, "following the registry agency feed");
        let mut batches = Batches::new(stream);
        while let Some(batch) = batches
            .next(|_, _| true)
            .await
            .context("agency feed broke")?
        {
            let entries = batch
                .iter()
                .map(|change| {
                    let history = change
                        .agency
                        .as_ref()
                        .map(|agency| {
                            decode_agency_history(agency, &change.versions, &change.successor_codes)
                        })
                        .transpose()
                        .with_context(|| {
                            format!("agency feed entry {} is not a valid agency", change.seq)
                        })?;
                    Ok((change.seq, history))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let applied = store::apply_agencies(&self.db, &entries).await?;
            {
                let mut model = self.model.write();
                if applied > 0 {
                    for (_, history) in &entries {
                        if let Some(history) = history {
                            model.tree.upsert(history);
                        }
                    }
                }
                if let Some((last, _)) = entries.last() {
                    model.agency_seq = model.agency_seq.max(*last);
                }
            }
            if let Some((last, _)) = entries.last() {
                chiso_runtime::metrics::feed_applied(
                    "aggregation",
                    "registry.agencies",
                    *last,
                    None,
                );
            }
            debug!(
                first = entries.first().map(|(seq, _)| *seq),
                last = entries.last().map(|(seq, _)| *seq),
                received = entries.len(),
                applied,
                "agency feed batch"
            );
        }
        Ok(())
    }

    /// The stream of an opened feed; a rejected token is dropped so the next attempt gets a new one.
    async fn opened<T>(
        &self,
        response: Result<tonic::Response<tonic::Streaming<T>>, tonic::Status>,
        feed: &str,
    ) -> anyhow::Result<tonic::Streaming<T>> {
        match response {
            Ok(r) => Ok(r.into_inner()),
            Err(status) if status.code() == tonic::Code::Unauthenticated => {
                self.token.invalidate().await;
                Err(status).with_context(|| format!("{feed} rejected the service token"))
            }
            Err(status) => Err(status).with_context(|| format!("failed to open the {feed} feed")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_kinds_map_to_events_and_unlocks_to_nothing() {
        let change = |kind: ReportChangeKind| ReportChange {
            kind: kind.into(),
            ..Default::default()
        };
        use ReportChangeKind as K;
        assert_eq!(
            report_event(&change(K::Submitted)),
            Some(ReportEvent::Submitted)
        );
        assert_eq!(
            report_event(&change(K::Accepted)),
            Some(ReportEvent::Accepted)
        );
        assert_eq!(
            report_event(&change(K::Returned)),
            Some(ReportEvent::Returned)
        );
        assert_eq!(
            report_event(&change(K::Revised)),
            Some(ReportEvent::Revised)
        );
        assert_eq!(report_event(&change(K::Unlocked)), None);
    }

    #[test]
    fn reports_never_follow_a_definition_in_one_batch() {
        let report = ChangeEvent {
            change: Some(Change::Report(ReportChange::default())),
            ..Default::default()
        };
        let definition = ChangeEvent {
            change: Some(Change::Catalogue(CatalogueChange::default())),
            ..Default::default()
        };
        assert!(joins_batch(&report, &report));
        assert!(joins_batch(&report, &definition));
        assert!(joins_batch(&definition, &definition));
        assert!(!joins_batch(&definition, &report));
        assert!(!joins_batch(&definition, &ChangeEvent::default()));
    }

    #[test]
    fn events_that_change_nothing_need_no_report() {
        let catalogue = Catalogue::default();
        let unknown = ChangeEvent {
            seq: 7,
            change: None,
            ..Default::default()
        };
        assert!(matches!(
            decode_event(unknown, &catalogue).unwrap(),
            FeedEvent::Nothing
        ));
        let unlock = ChangeEvent {
            seq: 8,
            change: Some(Change::Report(ReportChange {
                kind: ReportChangeKind::Unlocked.into(),
                ..Default::default()
            })),
            ..Default::default()
        };
        assert!(matches!(
            decode_event(unlock, &catalogue).unwrap(),
            FeedEvent::Nothing
        ));
        let counting = ChangeEvent {
            seq: 9,
            change: Some(Change::Report(ReportChange {
                kind: ReportChangeKind::Submitted.into(),
                counts: true,
                ..Default::default()
            })),
            ..Default::default()
        };
        let error = decode_event(counting, &catalogue).unwrap_err();
        assert_eq!(error.to_string(), "feed event 9 has no report");
    }
}
