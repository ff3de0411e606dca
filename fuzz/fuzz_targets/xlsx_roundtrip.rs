//! A template built for a report reads back as it was written: the
//! identity cells, and every value (counts, decimals, yes/no) at its
//! element's row, numbers equal as numbers.
#![no_main]

use arbitrary::Arbitrary;
use chiso_gateway::routes::templates::sheet::{self, Identity};
use chiso_proto::submission::v1 as pb;
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
enum Sent {
    Blank,
    Count(u64),
    /// Hundredths, written with two decimals.
    Decimal(u64),
    YesNo(bool),
}

#[derive(Debug, Arbitrary)]
struct Input {
    form: String,
    agency: String,
    period: String,
    values: Vec<Sent>,
}

/// Cell text as the API's codes are: no edge spaces, no control characters.
fn code_like(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect::<String>().trim().to_owned()
}

fuzz_target!(|input: Input| {
    let id = Identity {
        form: code_like(&input.form),
        agency: code_like(&input.agency),
        period: code_like(&input.period),
    };
    let max = chiso_domain::catalogue::MAX_VALUE as u64;
    let mut elements = Vec::new();
    let mut existing = Vec::new();
    for (i, sent) in input.values.iter().take(200).enumerate() {
        let code = format!("element_{i}");
        let (value_type, text) = match sent {
            Sent::Blank => (pb::ValueType::Count, None),
            Sent::Count(n) => (pb::ValueType::Count, Some((n % max).to_string())),
            Sent::Decimal(n) => {
                let n = n % (max * 100);
                (pb::ValueType::Decimal, Some(format!("{}.{:02}", n / 100, n % 100)))
            }
            Sent::YesNo(b) => (pb::ValueType::YesNo, Some(if *b { "yes" } else { "no" }.to_owned())),
        };
        elements.push(pb::DataElement {
            code: code.clone(),
            name: format!("Chỉ tiêu {i}"),
            value_type: value_type.into(),
            min: "0".into(),
            max: max.to_string(),
            ..Default::default()
        });
        if let Some(text) = text {
            existing.push((code, text));
        }
    }
    let form = pb::Form {
        code: id.form.clone(),
        name: "Biểu mẫu".into(),
        sections: vec![pb::FormSection {
            name: "Phần 1".into(),
            elements: elements
                .iter()
                .map(|e| pb::FormElement {
                    data_element: e.code.clone(),
                    compulsory: true,
                })
                .collect(),
            ..Default::default()
        }],
        ..Default::default()
    };
    let bytes = sheet::build(&form, &elements, &id, "Cơ quan", &existing).expect("a template builds");
    let filled = sheet::read(&bytes).expect("a built template reads");
    assert_eq!(filled.identity, id);
    assert_eq!(filled.cells.len(), elements.len());
    assert_eq!(filled.values.len(), existing.len());
    for ((code, text), (read_code, read_text, _)) in existing.iter().zip(&filled.values) {
        assert_eq!(code, read_code);
        match (text.parse::<f64>(), read_text.parse::<f64>()) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{text} read back as {read_text}"),
            _ => assert_eq!(text, read_text),
        }
    }
});
