//! The words of an error answer in each language.
//!
//! Back services write their messages in English, specific to the request
//! ("agency 000.00.99.H51 not found"). Translating every such message where
//! it is written would put two languages into every service and every test;
//! instead the gateway keeps one Vietnamese catalogue keyed by the stable
//! `code`: English readers get the service's specific text as `detail`,
//! Vietnamese readers the catalogue's text for the code (and the gateway's
//! own Vietnamese text when it raised the error itself). What stays specific
//! in Vietnamese is carried by `errors`: each field keeps its name, and the
//! most common field messages are translated by [`FIELD_PHRASES`]. Adding a
//! code means adding one row to [`CODES`]; a test fails otherwise.

use axum::http::StatusCode;

/// The language of an answer, from `Accept-Language`; Vietnamese unless
/// the client prefers English.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    /// The language tag for `Content-Language`.
    pub fn tag(self) -> &'static str {
        match self {
            Self::Vi => "vi",
            Self::En => "en",
        }
    }

    /// The preferred of the two languages in an `Accept-Language` header
    /// (RFC 9110 §12.5.4): the highest q-value wins, the first listed among
    /// equals; `vi-VN` counts as `vi`, `en-GB` as `en`, `*` as Vietnamese;
    /// anything else, or nothing, is Vietnamese.
    pub fn negotiate(header: &str) -> Self {
        let mut best: Option<(u16, Self)> = None;
        for range in header.split(',') {
            let mut parts = range.split(';');
            let tag = parts.next().unwrap_or_default().trim();
            let primary = tag.split('-').next().unwrap_or_default();
            let lang = if primary.eq_ignore_ascii_case("en") {
                Self::En
            } else if primary.eq_ignore_ascii_case("vi") || tag == "*" {
                Self::Vi
            } else {
                continue;
            };
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
                .find_map(quality)
                .unwrap_or(1000);
            if q > 0 && best.is_none_or(|(top, _)| q > top) {
                best = Some((q, lang));
            }
        }
        best.map_or(Self::Vi, |(_, lang)| lang)
    }
}

/// A q-value in thousandths (`0.8` is 800); `None` when malformed.
fn quality(raw: &str) -> Option<u16> {
    let raw = raw.trim();
    let (whole, fraction) = raw.split_once('.').unwrap_or((raw, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{fraction:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// One code's words: English title, Vietnamese title, and the texts used
/// when no specific one exists (English for framework refusals, Vietnamese
/// for every error of the code).
struct Words {
    code: &'static str,
    title_en: &'static str,
    title_vi: &'static str,
    detail_en: &'static str,
    detail_vi: &'static str,
}

const fn words(
    code: &'static str,
    title_en: &'static str,
    title_vi: &'static str,
    detail_en: &'static str,
    detail_vi: &'static str,
) -> Words {
    Words {
        code,
        title_en,
        title_vi,
        detail_en,
        detail_vi,
    }
}

/// Every code an answer can carry. The README's "Errors" section lists the same.
const CODES: &[Words] = &[
    words(
        "invalid_argument",
        "Invalid input",
        "Dữ liệu không hợp lệ",
        "the request is not valid",
        "Yêu cầu có dữ liệu không hợp lệ; xem danh sách lỗi theo từng trường.",
    ),
    words(
        "out_of_range",
        "Out of range",
        "Giá trị ngoài phạm vi",
        "a value is out of range",
        "Có giá trị nằm ngoài phạm vi cho phép.",
    ),
    words(
        "not_found",
        "Not found",
        "Không tìm thấy",
        "nothing is found at this address",
        "Không tìm thấy tài nguyên được yêu cầu.",
    ),
    words(
        "method_not_allowed",
        "Method not allowed",
        "Phương thức không được hỗ trợ",
        "this address does not take this method; see the Allow header",
        "Đường dẫn này không nhận phương thức HTTP đã dùng; xem tiêu đề Allow.",
    ),
    words(
        "already_exists",
        "Already exists",
        "Đã tồn tại",
        "this already exists",
        "Dữ liệu này đã tồn tại hoặc trùng với dữ liệu đã có.",
    ),
    words(
        "failed_precondition",
        "Not possible in the current state",
        "Không thực hiện được ở trạng thái hiện tại",
        "this cannot be done in the current state",
        "Thao tác không thực hiện được ở trạng thái hiện tại của dữ liệu.",
    ),
    words(
        "precondition_failed",
        "Precondition failed",
        "Dữ liệu đã thay đổi",
        "the resource changed since it was read",
        "Dữ liệu đã thay đổi kể từ lần đọc trước (If-Match không khớp); hãy tải lại rồi thử lại.",
    ),
    words(
        "unauthenticated",
        "Unauthenticated",
        "Chưa xác thực",
        "valid credentials or a valid bearer token are required",
        "Chưa xác thực: thông tin đăng nhập hoặc mã truy cập (bearer token) không hợp lệ hoặc còn thiếu.",
    ),
    words(
        "permission_denied",
        "Permission denied",
        "Không có quyền",
        "the caller may not do this",
        "Tài khoản không có quyền thực hiện thao tác này.",
    ),
    words(
        "resource_exhausted",
        "Too many requests",
        "Quá nhiều yêu cầu",
        "too many requests, try again later",
        "Quá nhiều yêu cầu; hãy thử lại sau số giây ghi trong tiêu đề Retry-After.",
    ),
    words(
        "payload_too_large",
        "Payload too large",
        "Nội dung quá lớn",
        "the body is larger than this route takes",
        "Nội dung yêu cầu vượt quá dung lượng mà đường dẫn này nhận.",
    ),
    words(
        "unsupported_media_type",
        "Unsupported media type",
        "Kiểu nội dung không được hỗ trợ",
        "this route does not take this Content-Type",
        "Đường dẫn này không nhận kiểu nội dung (Content-Type) đã gửi.",
    ),
    words(
        "bad_request",
        "Bad request",
        "Yêu cầu không đọc được",
        "the request could not be read",
        "Không đọc được yêu cầu.",
    ),
    words(
        "request_timeout",
        "Request timeout",
        "Hết thời gian gửi yêu cầu",
        "the request was not received in time",
        "Yêu cầu không được gửi đầy đủ trong thời gian cho phép.",
    ),
    words(
        "cancelled",
        "Cancelled",
        "Yêu cầu đã bị hủy",
        "the request was cancelled",
        "Yêu cầu đã bị hủy.",
    ),
    words(
        "unimplemented",
        "Not implemented",
        "Chưa hỗ trợ",
        "this is not implemented",
        "Chức năng này chưa được hỗ trợ.",
    ),
    words(
        "unavailable",
        "Service unavailable",
        "Dịch vụ tạm thời không khả dụng",
        "service temporarily unavailable, try again",
        "Dịch vụ tạm thời không khả dụng; hãy thử lại sau số giây ghi trong tiêu đề Retry-After.",
    ),
    words(
        "overloaded",
        "Server busy",
        "Máy chủ đang quá tải",
        "the gateway is busy, try again shortly",
        "Máy chủ đang xử lý quá nhiều yêu cầu; hãy thử lại sau số giây ghi trong tiêu đề Retry-After.",
    ),
    words(
        "deadline_exceeded",
        "Deadline exceeded",
        "Quá thời hạn xử lý",
        "the service did not answer in time, try again",
        "Dịch vụ không trả lời kịp thời hạn; hãy thử lại sau.",
    ),
    words(
        "internal",
        "Internal error",
        "Lỗi hệ thống",
        "internal error",
        "Đã xảy ra lỗi hệ thống; hãy thử lại sau hoặc báo quản trị viên kèm request_id.",
    ),
    words(
        "data_loss",
        "Internal error",
        "Lỗi hệ thống",
        "internal error",
        "Đã xảy ra lỗi hệ thống; hãy thử lại sau hoặc báo quản trị viên kèm request_id.",
    ),
    words("ok", "OK", "Thành công", "ok", "Thành công."),
    words(
        "unknown",
        "Service unavailable",
        "Dịch vụ tạm thời không khả dụng",
        "service temporarily unavailable, try again",
        "Dịch vụ tạm thời không khả dụng; hãy thử lại sau.",
    ),
];

fn lookup(code: &str) -> &'static Words {
    CODES
        .iter()
        .find(|w| w.code == code)
        .unwrap_or_else(|| lookup_internal())
}

fn lookup_internal() -> &'static Words {
    CODES
        .iter()
        .find(|w| w.code == "internal")
        .expect("the catalogue has `internal`")
}

/// The title of `code` in `lang`.
pub fn title(code: &str, lang: Lang) -> &'static str {
    let words = lookup(code);
    match lang {
        Lang::Vi => words.title_vi,
        Lang::En => words.title_en,
    }
}

/// The English text of a code when nothing more specific is known.
pub fn generic_en(code: &str) -> &'static str {
    lookup(code).detail_en
}

/// The Vietnamese text of a code.
pub fn generic_vi(code: &str) -> &'static str {
    lookup(code).detail_vi
}

/// The code of a framework refusal's status.
pub fn code_for_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "unauthenticated",
        403 => "permission_denied",
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "request_timeout",
        409 => "already_exists",
        412 => "precondition_failed",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        422 => "invalid_argument",
        429 => "resource_exhausted",
        501 => "unimplemented",
        503 => "unavailable",
        504 => "deadline_exceeded",
        400..=499 => "bad_request",
        _ => "internal",
    }
}

/// The most frequent field messages of the domain and the gateway, as
/// (English fragment, Vietnamese). A message containing a fragment is
/// shown as the Vietnamese text followed by the English original in
/// parentheses, which keeps the values it quotes (`H51`, `-1`); other
/// messages stay English.
const FIELD_PHRASES: &[(&str, &str)] = &[
    ("is required", "Trường này là bắt buộc"),
    ("missing field", "Thiếu trường bắt buộc"),
    ("must not be empty", "Không được để trống"),
    ("is not a field of this request", "Trường không được hỗ trợ"),
    ("duplicate key", "Khóa bị lặp lại"),
    ("duplicate field", "Khóa bị lặp lại"),
    ("is not an agency code", "Không phải mã cơ quan hợp lệ"),
    (
        "is not an administrative-unit code",
        "Không phải mã đơn vị hành chính hợp lệ",
    ),
    ("not a whole number", "Không phải số nguyên"),
    ("unknown data element", "Chỉ tiêu không có trong danh mục"),
    ("invisible character", "Chứa ký tự ẩn không được phép"),
    ("is not a period type", "Không phải loại kỳ báo cáo hợp lệ"),
    ("is not a period", "Không phải mã kỳ báo cáo hợp lệ"),
    ("is not a date", "Không phải ngày hợp lệ"),
    ("must be zero or more", "Phải lớn hơn hoặc bằng 0"),
    ("control character", "Không được chứa ký tự điều khiển"),
    (
        "invisible or direction",
        "Không được chứa ký tự ẩn hoặc ký tự đổi chiều văn bản",
    ),
    ("must be at most", "Vượt quá mức tối đa cho phép"),
    ("is not one of", "Không thuộc các giá trị cho phép"),
    ("invalid type", "Sai kiểu dữ liệu"),
    ("unknown variant", "Không thuộc các giá trị cho phép"),
    ("is not valid JSON", "Không phải JSON hợp lệ"),
    ("trailing", "Có dữ liệu thừa sau giá trị JSON"),
];

/// A field message for Vietnamese readers.
pub fn field_vi(message: &str) -> String {
    FIELD_PHRASES
        .iter()
        .find(|(en, _)| message.contains(en))
        .map_or_else(|| message.to_owned(), |(_, vi)| format!("{vi} ({message})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_preferred_of_vietnamese_and_english() {
        for (header, lang) in [
            ("", Lang::Vi),
            ("en", Lang::En),
            ("EN-gb", Lang::En),
            ("vi-VN,vi;q=0.9,en;q=0.8", Lang::Vi),
            ("en;q=0.5, vi;q=0.4", Lang::En),
            ("vi;q=0.3, en;q=0.7", Lang::En),
            ("fr, en;q=0.1", Lang::En),
            ("fr, de", Lang::Vi),
            ("en;q=0", Lang::Vi),
            ("*", Lang::Vi),
            ("en;q=bad, vi;q=0.2", Lang::En),
            ("en;q=0.5, vi;q=0.5", Lang::En),
            ("ja;q=1, en-US;q=0.001", Lang::En),
        ] {
            assert_eq!(Lang::negotiate(header), lang, "{header:?}");
        }
    }

    #[test]
    fn every_code_of_every_status_has_words() {
        use chiso_runtime::error::code_name;
        let codes = (0..=16).map(|c| code_name(tonic::Code::from_i32(c)));
        let statuses = (400..600).filter_map(|s| StatusCode::from_u16(s).ok());
        let framework = statuses.map(code_for_status);
        let own = [
            "payload_too_large",
            "unsupported_media_type",
            "request_timeout",
            "overloaded",
        ];
        for code in codes.chain(framework).chain(own) {
            assert!(
                CODES.iter().any(|w| w.code == code),
                "{code} missing from the catalogue"
            );
        }
    }

    #[test]
    fn common_field_messages_are_translated_keeping_their_values() {
        assert_eq!(
            field_vi("`H51` is not an agency code"),
            "Không phải mã cơ quan hợp lệ (`H51` is not an agency code)"
        );
        assert_eq!(
            field_vi("`yearl` is not a period type: yearly, six_monthly, quarterly or monthly"),
            "Không phải loại kỳ báo cáo hợp lệ (`yearl` is not a period type: yearly, six_monthly, quarterly or monthly)"
        );
        assert_eq!(field_vi("a rare complaint"), "a rare complaint");
    }
}
