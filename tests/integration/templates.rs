//! A report as a spreadsheet: the XLSX template downloaded, filled by the
//! test with a spreadsheet library (umya-spreadsheet, as an officer's Excel
//! would), and uploaded; a bad cell is named by its reference and nothing is
//! stored until the file is right.

use std::io::Cursor;

use chiso_tests::TestStack;
use serde_json::Value;

use crate::{register_quang_ngai, this_quarter};

const SHEET: &str = "Báo cáo";

async fn download(stack: &TestStack, token: &str, path: &str) -> Vec<u8> {
    let response = stack
        .http
        .get(format!("{}{path}", stack.gateway_url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    response.bytes().await.unwrap().to_vec()
}

async fn upload(stack: &TestStack, token: &str, path: &str, file: Vec<u8>) -> (u16, Value) {
    let response = stack
        .http
        .post(format!("{}{path}", stack.gateway_url))
        .bearer_auth(token)
        .header(
            "content-type",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        .body(file)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The template with `values` typed into the cells of the given codes (found
/// by the hidden code column F); returns the file and each code's cell.
fn fill(template: &[u8], values: &[(&str, &str)]) -> (Vec<u8>, Vec<(String, String)>) {
    let mut book =
        umya_spreadsheet::reader::xlsx::read_reader(Cursor::new(template), true).unwrap();
    let sheet = book.get_sheet_by_name_mut(SHEET).unwrap();
    let mut cells = Vec::new();
    for row in 1..=60u32 {
        let code = sheet.get_value((6, row));
        if code.is_empty() {
            continue;
        }
        let reference = format!("E{row}");
        if let Some((_, value)) = values.iter().find(|(c, _)| *c == code) {
            match value.parse::<f64>() {
                Ok(n) => {
                    sheet.get_cell_mut(reference.as_str()).set_value_number(n);
                }
                Err(_) => {
                    sheet
                        .get_cell_mut(reference.as_str())
                        .set_value_string(*value);
                }
            }
        }
        cells.push((code, reference));
    }
    let mut out = Vec::new();
    umya_spreadsheet::writer::xlsx::write_writer(&book, &mut out).unwrap();
    (out, cells)
}

#[tokio::test]
async fn an_xlsx_template_downloads_fills_and_uploads_with_bad_cells_named() {
    let stack = chiso_tests::spawn_stack().await;
    let (_, credentials) = register_quang_ngai(&stack).await;
    let token = stack.token(&credentials[0].1, &credentials[0].2).await;
    let quarter = this_quarter();
    let path = format!("/api/v1/reports/it_fast_quarterly/{quarter}/000.00.15.H51/template");
    let template = download(&stack, &token, &path).await;

    let reader = umya_spreadsheet::reader::xlsx::read_reader(Cursor::new(&template), true).unwrap();
    let sheet = reader.get_sheet_by_name(SHEET).unwrap();
    assert_eq!(sheet.get_value("B2"), "it_fast_quarterly");
    assert_eq!(sheet.get_value("B3"), "000.00.15.H51");
    assert_eq!(sheet.get_value("B4"), quarter);
    assert_eq!(
        sheet.get_value("F12"),
        "documents_to_higher_levels_electronic"
    );

    let mut values = vec![
        ("documents_sent", "120"),
        ("documents_sent_electronic", "114"),
        ("documents_signed_digitally", "50"),
        ("documents_to_higher_levels", "10"),
        ("documents_to_higher_levels_electronic", "-3"),
        ("online_meetings", "2"),
        ("has_electronic_one_stop_shop", "Có"),
    ];
    let (bad, cells) = fill(&template, &values);
    let cell_of = |code: &str| cells.iter().find(|(c, _)| c == code).unwrap().1.clone();
    assert_eq!(cell_of("documents_to_higher_levels_electronic"), "E12");
    let (status, body) = upload(&stack, &token, &path, bad).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "E12", "{body}");
    let message = body["errors"][0]["detail"].as_str().unwrap();
    assert!(
        message.contains("documents_to_higher_levels_electronic"),
        "{message}"
    );
    assert!(message.contains("-3"), "{message}");
    let (status, body) = stack
        .get(
            &format!("/api/v1/reports/by-key/it_fast_quarterly/{quarter}/000.00.15.H51"),
            &token,
        )
        .await;
    assert_eq!(status, 404, "nothing stored: {body}");

    values[4] = ("documents_to_higher_levels_electronic", "8");
    // A compulsory value left empty is named by its own empty cell.
    let without: Vec<(&str, &str)> = values
        .iter()
        .copied()
        .filter(|(c, _)| *c != "online_meetings")
        .collect();
    let (missing, _) = fill(&template, &without);
    let (status, body) = upload(&stack, &token, &path, missing.clone()).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["field"] == cell_of("online_meetings")),
        "{body}"
    );
    // ... unless the user asked for a draft.
    let (status, body) = upload(&stack, &token, &format!("{path}?draft=true"), missing).await;
    assert_eq!(
        (status, &body["status"]),
        (201, &Value::from("draft")),
        "{body}"
    );

    let (good, _) = fill(&template, &values);
    // The file says which report it is for.
    let elsewhere = "/api/v1/reports/it_fast_quarterly/2020Q1/000.00.15.H51/template";
    let (status, body) = upload(&stack, &token, elsewhere, good.clone()).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "B4", "{body}");

    let (status, body) = upload(&stack, &token, &path, good).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["status"], "submitted");
    let stored: Vec<(String, String)> = body["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["data_element"].as_str().unwrap().to_owned(),
                v["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        stored.contains(&("documents_sent".into(), "120".into())),
        "{stored:?}"
    );
    assert!(
        stored.contains(&("has_electronic_one_stop_shop".into(), "yes".into())),
        "{stored:?}"
    );

    // Downloaded again, the template shows what was reported.
    let again = download(&stack, &token, &path).await;
    let reader = umya_spreadsheet::reader::xlsx::read_reader(Cursor::new(&again), true).unwrap();
    let sheet = reader.get_sheet_by_name(SHEET).unwrap();
    assert_eq!(sheet.get_value("E8"), "120");
    assert_eq!(
        sheet.get_value(cell_of("has_electronic_one_stop_shop").as_str()),
        "Có"
    );
    stack.shutdown().await;
}
