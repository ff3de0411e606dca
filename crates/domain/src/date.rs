//! Calendar dates as chiso reads and writes them: `YYYY-MM-DD`, and "today"
//! as a Vietnamese office sees it.

use chrono::{FixedOffset, NaiveDate, Utc};

/// Why a date did not parse; the message shows the valid form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a date of the form YYYY-MM-DD")]
pub struct DateError(String);

/// Parses an ISO 8601 calendar date (`2025-07-01`), ignoring surrounding blanks.
pub fn parse_date(raw: &str) -> Result<NaiveDate, DateError> {
    let raw = raw.trim();
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| DateError(raw.to_owned()))
}

/// Formats a date as `YYYY-MM-DD`.
pub fn format_date(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// Vietnam's offset from UTC: +7 hours, with no daylight saving.
pub fn vietnam_offset() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset")
}

/// Today in Vietnam: the default date of registrations and "as of" queries.
pub fn today() -> NaiveDate {
    Utc::now().with_timezone(&vietnam_offset()).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_trimmed_and_bad_ones_show_the_form() {
        assert_eq!(
            parse_date(" 2025-07-01 ").unwrap(),
            NaiveDate::from_ymd_opt(2025, 7, 1).unwrap()
        );
        assert_eq!(
            parse_date("01/07/2025").unwrap_err().to_string(),
            "`01/07/2025` is not a date of the form YYYY-MM-DD"
        );
        assert!(parse_date("2025-02-30").is_err());
        assert_eq!(
            format_date(NaiveDate::from_ymd_opt(2025, 7, 1).unwrap()),
            "2025-07-01"
        );
    }

    #[test]
    fn today_in_vietnam_is_never_behind_utc() {
        let utc = Utc::now().date_naive();
        let vn = today();
        assert!(vn == utc || vn == utc.succ_opt().unwrap());
    }
}
