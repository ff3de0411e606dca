//! Plausible, repeatable report values for the seed forms: the demo data
//! `chiso up` loads and the reports tests submit. Every value satisfies the
//! seed catalogue's validation rules, so a sample report always submits.
//!
//! A small fixed generator (SplitMix64) rather than a `rand` dependency: the
//! same seed gives the same demo on every machine and every version.

use std::collections::BTreeMap;

use crate::Form;

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, and its stream never changes.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    /// `share` percent of `n`, give or take nothing: deterministic rounding down.
    fn pct(n: u64, share: u64) -> u64 {
        n * share.min(100) / 100
    }

    fn yes(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// A seed for an agency code: the same code always gives the same values.
pub fn seed_of(code: &str) -> u64 {
    code.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3)
    })
}

/// Values for every element on `form` (compulsory or not) that the seed
/// catalogue defines, as (code, text) in form order. `progress` (0, 1, 2, …)
/// moves the shares up, as years go by.
pub fn sample_values(form: &Form, seed: u64, progress: u64) -> Vec<(String, String)> {
    let mut rng = Mix(seed ^ progress.wrapping_mul(0x9E37_79B9));
    let up = |base: u64, step: u64| base + step * progress;
    let mut v: BTreeMap<&str, String> = BTreeMap::new();
    let mut set = |code: &'static str, n: u64| {
        v.insert(code, n.to_string());
    };

    // People.
    let civil = rng.between(15, 180);
    let public = rng.between(5, 140);
    let officials = civil + public;
    let civil_pc = Mix::pct(civil, rng.between(up(80, 4), 100));
    let public_pc = Mix::pct(public, rng.between(up(60, 5), 100));
    set("civil_servants", civil);
    set("public_employees", public);
    set("officials", officials);
    set("civil_servants_with_computer", civil_pc);
    set("public_employees_with_computer", public_pc);
    set("officials_with_computer", civil_pc + public_pc);
    set(
        "civil_servants_with_email",
        Mix::pct(civil, rng.between(up(70, 6), 100)),
    );
    set(
        "public_employees_with_email",
        Mix::pct(public, rng.between(up(50, 8), 100)),
    );
    set(
        "officials_using_email_regularly",
        Mix::pct(officials, rng.between(up(40, 8), 95)),
    );
    set(
        "officials_trained_in_it",
        Mix::pct(officials, rng.between(20, 80)),
    );

    // Infrastructure.
    let computers = civil_pc + public_pc + rng.between(0, 10);
    let in_lan = Mix::pct(computers, rng.between(up(70, 5), 100));
    set("computers", computers);
    set("computers_in_lan", in_lan);
    set(
        "computers_on_government_network",
        Mix::pct(in_lan, rng.between(up(30, 10), 100)),
    );
    set(
        "computers_with_antivirus",
        Mix::pct(computers, rng.between(up(50, 10), 100)),
    );
    set("servers", rng.between(0, 4));
    set("video_conference_points", rng.between(0, 3));
    let has_lan = rng.yes(up(85, 5));
    let yes_no = |b: bool| if b { "yes".to_owned() } else { "no".to_owned() };
    v.insert("has_lan", yes_no(has_lan));
    v.insert(
        "lan_with_security_device",
        yes_no(has_lan && rng.yes(up(60, 10))),
    );
    v.insert("has_fibre_internet", yes_no(rng.yes(up(75, 8))));
    v.insert("has_broadband", yes_no(rng.yes(95)));
    v.insert(
        "connected_to_provincial_network",
        yes_no(rng.yes(up(55, 10))),
    );

    // Documents, scaled to a quarter on a quarterly form.
    let per_year = if form.period_type == crate::PeriodType::Yearly {
        4
    } else {
        1
    };
    let sent = rng.between(150, 1200) * per_year;
    let electronic = Mix::pct(sent, rng.between(up(55, 7), 100));
    let higher = Mix::pct(sent, rng.between(10, 40));
    let mut set = |code: &'static str, n: u64| {
        v.insert(code, n.to_string());
    };
    set("documents_sent", sent);
    set("documents_sent_electronic", electronic);
    set(
        "documents_signed_digitally",
        Mix::pct(electronic, rng.between(up(30, 12), 100)),
    );
    set("documents_to_higher_levels", higher);
    set(
        "documents_to_higher_levels_electronic",
        Mix::pct(higher, rng.between(up(50, 8), 100)).min(electronic),
    );
    // Meetings a year, spread over four quarters on a quarterly form.
    let meetings = rng.between(up(4, 3), up(18, 3));
    set(
        "online_meetings",
        if per_year == 4 {
            meetings
        } else {
            meetings / 4
        },
    );

    // Processes, databases, services.
    let processes = rng.between(5, 60);
    set("business_processes", processes);
    set(
        "business_processes_computerised",
        Mix::pct(processes, rng.between(up(30, 10), 100)),
    );
    let databases = rng.between(0, 5);
    set("sector_databases", databases);
    set("sector_databases_upgraded", rng.between(0, databases));
    let total = rng.between(20, 300);
    let l2 = Mix::pct(total, rng.between(up(60, 8), 100));
    let l3 = Mix::pct(l2, rng.between(up(30, 10), 100));
    let l4 = Mix::pct(l3, rng.between(up(10, 10), 100));
    set("public_services_total", total);
    set("public_services_level2", l2);
    set("public_services_level3", l3);
    set("public_services_level4", l4);
    let it_staff = rng.between(0, 4);
    set("it_staff", it_staff);
    set("staff_trained_in_security", rng.between(0, it_staff));
    let yes_no = |b: bool| if b { "yes".to_owned() } else { "no".to_owned() };
    v.insert("has_it_staff", yes_no(it_staff > 0));
    let portal = rng.yes(up(80, 5));
    v.insert("has_portal", yes_no(portal));
    v.insert(
        "portal_integrated_with_provincial_portal",
        yes_no(portal && rng.yes(up(60, 10))),
    );
    v.insert(
        "uses_document_management_software",
        yes_no(rng.yes(up(75, 8))),
    );
    v.insert("sends_documents_by_email", yes_no(rng.yes(90)));
    v.insert("signs_documents_digitally", yes_no(rng.yes(up(60, 12))));
    v.insert("has_electronic_one_stop_shop", yes_no(rng.yes(up(65, 10))));
    // Applications a month, times the months of the period (drawn last, so
    // the values above stay what they were before these elements existed).
    let received = rng.between(50, 2000) * u64::from(form.period_type.months());
    let mut set = |code: &'static str, n: u64| {
        v.insert(code, n.to_string());
    };
    set("applications_received", received);
    set(
        "applications_received_online",
        Mix::pct(received, rng.between(up(20, 8), 100)),
    );

    form.elements()
        .filter_map(|e| {
            v.get(e.code.as_str())
                .map(|text| (e.code.to_string(), text.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DataElementCode, parse_values};

    /// Every sample of every seed form is complete and passes every rule.
    #[test]
    fn samples_submit_on_every_seed_form() {
        let cat = crate::seed::catalogue().unwrap();
        for form in crate::seed::forms(&cat).unwrap() {
            for seed in 0..300u64 {
                for progress in 0..4 {
                    let sample = sample_values(&form, seed.wrapping_mul(7919), progress);
                    let values = parse_values(&sample, &cat, |_| Ok(())).unwrap();
                    let present = values.keys().cloned().collect();
                    assert!(
                        form.missing_compulsory(&present).is_empty(),
                        "{}: {:?}",
                        form.code,
                        form.missing_compulsory(&present)
                    );
                    let failures = cat.check_report(values.iter());
                    assert!(
                        failures.is_empty(),
                        "{} seed {seed}: {failures:?}",
                        form.code
                    );
                }
            }
            // Every element of the form has a sample value.
            let sample = sample_values(&form, 1, 0);
            assert_eq!(sample.len(), form.elements().count(), "{}", form.code);
        }
        let _ = DataElementCode::parse("officials").unwrap();
    }

    #[test]
    fn the_same_seed_gives_the_same_values() {
        let cat = crate::seed::catalogue().unwrap();
        let form = &crate::seed::forms(&cat).unwrap()[0];
        assert_eq!(
            sample_values(form, seed_of("000.00.15.H44"), 1),
            sample_values(form, seed_of("000.00.15.H44"), 1)
        );
        assert_ne!(
            sample_values(form, seed_of("000.00.15.H44"), 1),
            sample_values(form, seed_of("000.00.16.H44"), 1)
        );
    }
}
