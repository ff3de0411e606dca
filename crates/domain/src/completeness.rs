//! Completeness and timeliness (tính đầy đủ, kịp thời) of one form's reports
//! for one period over a group of agencies: who was expected, who reported,
//! on time or how late, who is missing, whose report was sent back.
//!
//! The rates follow DHIS2's definitions so integrations read them the same
//! way: REPORTING_RATE = reports received / reports expected × 100, and
//! REPORTING_RATE_ON_TIME = reports received on time / reports expected × 100.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::{AgencyCode, catalogue::Ratio};

/// Where one agency's report for the form and period stands, as far as
/// completeness is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Received {
    /// Nothing saved.
    Missing,
    /// Only a draft: not received yet.
    Draft,
    /// Submitted (or accepted), `days_late` after the deadline (0: on time).
    /// A revision in progress of a submitted or accepted report stays
    /// received, with the lateness of its first submission: the agency did
    /// report.
    Received { days_late: u32 },
    /// Sent back by the province; not received until resubmitted.
    Returned,
}

/// The answer for a group of agencies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Completeness {
    pub expected: u32,
    pub received: u32,
    pub on_time: u32,
    pub late: u32,
    /// Expected agencies with nothing received (drafts included), by code.
    pub missing: Vec<AgencyCode>,
    /// Of the missing, those with a draft started.
    pub drafts: Vec<AgencyCode>,
    /// Received late, with how many days, by code.
    pub late_agencies: Vec<(AgencyCode, u32)>,
    /// Returned and awaiting a revision, by code.
    pub returned: Vec<AgencyCode>,
    /// received / expected × 100; `None` when nobody is expected.
    pub reporting_rate: Option<Ratio>,
    /// on time / expected × 100; `None` when nobody is expected.
    pub on_time_rate: Option<Ratio>,
}

/// Completeness of the `expected` agencies given what each has: an agency
/// absent from `states` has nothing. States of agencies that are not
/// expected (reports from before a merger, say) are ignored: the rates are
/// about the agencies that had to report.
pub fn completeness(
    expected: &[AgencyCode],
    states: &BTreeMap<AgencyCode, Received>,
) -> Completeness {
    let mut expected: Vec<&AgencyCode> = expected.iter().collect();
    expected.sort();
    expected.dedup();
    let mut c = Completeness {
        expected: u32::try_from(expected.len()).unwrap_or(u32::MAX),
        received: 0,
        on_time: 0,
        late: 0,
        missing: Vec::new(),
        drafts: Vec::new(),
        late_agencies: Vec::new(),
        returned: Vec::new(),
        reporting_rate: None,
        on_time_rate: None,
    };
    for agency in expected {
        match states.get(agency).copied().unwrap_or(Received::Missing) {
            Received::Missing => c.missing.push(agency.clone()),
            Received::Draft => {
                c.missing.push(agency.clone());
                c.drafts.push(agency.clone());
            }
            Received::Returned => c.returned.push(agency.clone()),
            Received::Received { days_late: 0 } => {
                c.received += 1;
                c.on_time += 1;
            }
            Received::Received { days_late } => {
                c.received += 1;
                c.late += 1;
                c.late_agencies.push((agency.clone(), days_late));
            }
        }
    }
    let rate = |n: u32| Ratio::new(i128::from(n) * 100, i128::from(c.expected));
    c.reporting_rate = rate(c.received);
    c.on_time_rate = rate(c.on_time);
    c
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn code(n: u32) -> AgencyCode {
        AgencyCode::parse(&format!("000.00.{n:02}.H51")).unwrap()
    }

    #[test]
    fn every_kind_of_report_is_counted_where_it_belongs() {
        // Eight districts expected; a ninth agency (merged away) also reported.
        let expected: Vec<AgencyCode> = (1..=8).map(code).collect();
        let states = BTreeMap::from([
            (code(1), Received::Received { days_late: 0 }),
            (code(2), Received::Received { days_late: 0 }),
            (code(3), Received::Received { days_late: 12 }),
            (code(4), Received::Returned),
            (code(5), Received::Draft),
            (code(6), Received::Received { days_late: 0 }),
            // 7 and 8: nothing.
            (code(9), Received::Received { days_late: 0 }),
        ]);
        let c = completeness(&expected, &states);
        assert_eq!((c.expected, c.received, c.on_time, c.late), (8, 4, 3, 1));
        assert_eq!(c.missing, [code(5), code(7), code(8)]);
        assert_eq!(c.drafts, [code(5)]);
        assert_eq!(c.late_agencies, [(code(3), 12)]);
        assert_eq!(c.returned, [code(4)]);
        // 4 of 8 received: 50 %; 3 of 8 on time: 37.5 %.
        assert_eq!(c.reporting_rate.unwrap().to_f64(), 50.0);
        assert_eq!(c.on_time_rate.unwrap().to_f64(), 37.5);
    }

    #[test]
    fn nobody_expected_has_no_rate() {
        let c = completeness(&[], &BTreeMap::new());
        assert_eq!(
            (c.expected, c.reporting_rate, c.on_time_rate),
            (0, None, None)
        );
    }

    proptest! {
        #[test]
        fn the_counts_always_add_up(
            states in proptest::collection::vec(0u8..5, 0..40),
            lateness in proptest::collection::vec(0u32..30, 40),
        ) {
            let expected: Vec<AgencyCode> = (0..states.len() as u32).map(code).collect();
            let map: BTreeMap<AgencyCode, Received> = states
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let r = match s {
                        0 => Received::Missing,
                        1 => Received::Draft,
                        2 => Received::Returned,
                        _ => Received::Received { days_late: lateness[i] },
                    };
                    (code(i as u32), r)
                })
                .collect();
            let c = completeness(&expected, &map);
            prop_assert_eq!(c.received, c.on_time + c.late);
            prop_assert_eq!(
                c.expected as usize,
                c.received as usize + c.missing.len() + c.returned.len()
            );
            prop_assert_eq!(c.late as usize, c.late_agencies.len());
            if let (Some(all), Some(on_time)) = (c.reporting_rate, c.on_time_rate) {
                prop_assert!(on_time.compare(all) != std::cmp::Ordering::Greater);
            }
        }
    }
}
