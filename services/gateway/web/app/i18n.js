// Messages in Vietnamese (the default) and English, and the formats people
// in Vietnam read: 87,5 %, 1.234, dd/mm/yyyy, names in Vietnamese order.

const messages = {
  vi: {
    app_name: 'chiso — Chỉ số ứng dụng CNTT',
    loading: 'Đang tải…',
    switch_language: 'English',
    switch_language_label: 'Switch to English',
    sign_in: 'Đăng nhập',
    sign_in_title: 'Đăng nhập vào chiso',
    sign_in_help: 'Dùng mã ứng dụng (client id) và mật khẩu (client secret) do quản trị hoặc Sở cấp cho cơ quan của bạn.',
    client_id: 'Mã ứng dụng (client id)',
    client_secret: 'Mật khẩu (client secret)',
    signing_in: 'Đang đăng nhập…',
    sign_out: 'Đăng xuất',
    signed_in_as: 'Đăng nhập với vai trò',
    session_ended: 'Phiên làm việc đã kết thúc. Vui lòng đăng nhập lại.',
    role_admin: 'Quản trị hệ thống',
    role_province_officer: 'Cán bộ Sở',
    role_viewer: 'Lãnh đạo (xem)',
    role_agency_reporter: 'Cơ quan báo cáo',
    role_integrator: 'Hệ thống tích hợp',
    role_service: 'Dịch vụ',
    nav_reports: 'Báo cáo của cơ quan',
    nav_dashboard: 'Tổng quan',
    nav_review: 'Duyệt báo cáo',
    nav_completeness: 'Tình hình nộp báo cáo',
    not_found: 'Không tìm thấy trang này.',
    error: 'Lỗi',
    retry: 'Thử lại',
    // reporter
    my_reports: 'Báo cáo của cơ quan',
    form: 'Biểu mẫu',
    period: 'Kỳ báo cáo',
    deadline: 'Hạn nộp',
    status: 'Trạng thái',
    version: 'Phiên bản',
    actions: 'Thao tác',
    open_report: 'Nhập / xem',
    status_not_started: 'Chưa nhập',
    status_missing_late: 'Quá hạn, chưa nộp',
    status_draft: 'Bản nháp',
    status_submitted: 'Đã nộp',
    status_submitted_late: 'Nộp muộn {days} ngày',
    status_returned: 'Bị trả lại',
    status_accepted: 'Đã chấp nhận',
    status_locked: 'Đã khóa',
    officer_comment: 'Ý kiến của cán bộ Sở',
    no_forms: 'Cơ quan không phải nộp biểu mẫu nào.',
    // entry
    back_to_reports: '← Danh sách báo cáo',
    unit: 'Đơn vị',
    bounds: 'Giá trị từ {min} đến {max}',
    bound_min: 'Giá trị từ {min}',
    compulsory: 'bắt buộc',
    yes: 'Có',
    no: 'Không',
    choose: '— Chọn —',
    save_draft: 'Lưu nháp',
    submit: 'Nộp báo cáo',
    revise: 'Sửa lại báo cáo',
    saved: 'Đã lưu bản nháp.',
    submitted_ok: 'Đã nộp báo cáo.',
    revised_ok: 'Đã mở phiên bản mới để sửa.',
    errors_found: 'Báo cáo có {count} lỗi. Sửa các ô được đánh dấu rồi lưu hoặc nộp lại.',
    read_only: 'Báo cáo này hiện không sửa được.',
    download_template: 'Tải mẫu Excel (XLSX)',
    upload_template: 'Nộp bằng mẫu Excel đã điền',
    upload_help: 'Chọn tệp .xlsx đã tải ở trên và điền đủ số liệu; báo cáo được nộp ngay, hoặc mọi ô sai được liệt kê.',
    history: 'Lịch sử phiên bản',
    submitted_at: 'Nộp lúc',
    by: 'Người thực hiện',
    received_on: 'Ngày nhận',
    days_late: 'Số ngày muộn',
    // officer
    review_queue: 'Báo cáo chờ duyệt',
    agency: 'Cơ quan',
    accept: 'Chấp nhận',
    return: 'Trả lại',
    comment: 'Ý kiến (bắt buộc khi trả lại)',
    accepted_ok: 'Đã chấp nhận báo cáo.',
    returned_ok: 'Đã trả lại báo cáo.',
    nothing_to_review: 'Không có báo cáo nào chờ duyệt.',
    view: 'Xem',
    completeness: 'Tình hình nộp báo cáo',
    expected: 'Phải nộp',
    received: 'Đã nhận',
    on_time: 'Đúng hạn',
    late: 'Muộn',
    missing: 'Chưa nộp',
    returned: 'Bị trả lại',
    missing_agencies: 'Cơ quan chưa nộp',
    late_agencies: 'Cơ quan nộp muộn',
    copy_list: 'Sao chép danh sách',
    copied: 'Đã sao chép.',
    // dashboard
    dashboard: 'Tổng quan',
    plan: 'Kế hoạch',
    year: 'Năm',
    target: 'Chỉ tiêu',
    actual: 'Thực hiện',
    met: 'Đạt',
    not_met: 'Chưa đạt',
    gap: 'Còn thiếu',
    no_data: 'Chưa có số liệu',
    group: 'Nhóm',
    indicator: 'Chỉ số',
    trend: 'Diễn biến theo kỳ',
    value: 'Giá trị',
    numerator: 'Tử số',
    denominator: 'Mẫu số',
    agencies_reporting: 'Số cơ quan báo cáo',
    chart_table: 'Bảng số liệu của biểu đồ',
    area: 'Địa bàn',
    nav_rankings: 'Xếp hạng',
    rankings: 'Xếp hạng mức độ ứng dụng CNTT',
    ranking: 'Bảng xếp hạng',
    rank: 'Hạng',
    total: 'Điểm tổng (/100)',
    inputs: 'Chỉ số thành phần',
    score: 'Điểm (/100)',
    tied: 'đồng hạng',
    unranked: 'Không xếp hạng',
    download_csv: 'Tải CSV',
    download_xlsx: 'Tải Excel (XLSX)',
  },
  en: {
    app_name: 'chiso — IT-application indicators',
    loading: 'Loading…',
    switch_language: 'Tiếng Việt',
    switch_language_label: 'Chuyển sang tiếng Việt',
    sign_in: 'Sign in',
    sign_in_title: 'Sign in to chiso',
    sign_in_help: 'Use the client id and client secret your administrator or Department issued for your agency.',
    client_id: 'Client id',
    client_secret: 'Client secret',
    signing_in: 'Signing in…',
    sign_out: 'Sign out',
    signed_in_as: 'Signed in as',
    session_ended: 'Your session has ended. Please sign in again.',
    role_admin: 'Administrator',
    role_province_officer: 'Province officer',
    role_viewer: 'Leadership (read-only)',
    role_agency_reporter: 'Reporting agency',
    role_integrator: 'Integrator',
    role_service: 'Service',
    nav_reports: "Agency's reports",
    nav_dashboard: 'Dashboard',
    nav_review: 'Review',
    nav_completeness: 'Completeness',
    not_found: 'There is no such page.',
    error: 'Error',
    retry: 'Retry',
    my_reports: "Agency's reports",
    form: 'Form',
    period: 'Period',
    deadline: 'Deadline',
    status: 'Status',
    version: 'Version',
    actions: 'Actions',
    open_report: 'Enter / view',
    status_not_started: 'Not started',
    status_missing_late: 'Overdue, not submitted',
    status_draft: 'Draft',
    status_submitted: 'Submitted',
    status_submitted_late: 'Submitted {days} days late',
    status_returned: 'Returned',
    status_accepted: 'Accepted',
    status_locked: 'Locked',
    officer_comment: "Officer's comment",
    no_forms: 'This agency has no forms to report.',
    back_to_reports: '← All reports',
    unit: 'Unit',
    bounds: 'From {min} to {max}',
    bound_min: 'At least {min}',
    compulsory: 'required',
    yes: 'Yes',
    no: 'No',
    choose: '— Choose —',
    save_draft: 'Save draft',
    submit: 'Submit report',
    revise: 'Revise report',
    saved: 'Draft saved.',
    submitted_ok: 'Report submitted.',
    revised_ok: 'A new version is open for changes.',
    errors_found: 'The report has {count} errors. Fix the marked fields, then save or submit again.',
    read_only: 'This report cannot be changed now.',
    download_template: 'Download Excel template (XLSX)',
    upload_template: 'Submit a filled Excel template',
    upload_help: 'Choose the .xlsx downloaded above, filled in; the report is submitted at once, or every wrong cell is listed.',
    history: 'Version history',
    submitted_at: 'Submitted at',
    by: 'By',
    received_on: 'Received on',
    days_late: 'Days late',
    review_queue: 'Reports awaiting review',
    agency: 'Agency',
    accept: 'Accept',
    return: 'Return',
    comment: 'Comment (required to return)',
    accepted_ok: 'Report accepted.',
    returned_ok: 'Report returned.',
    nothing_to_review: 'No reports await review.',
    view: 'View',
    completeness: 'Completeness',
    expected: 'Expected',
    received: 'Received',
    on_time: 'On time',
    late: 'Late',
    missing: 'Missing',
    returned: 'Returned',
    missing_agencies: 'Agencies that have not reported',
    late_agencies: 'Agencies that reported late',
    copy_list: 'Copy the list',
    copied: 'Copied.',
    dashboard: 'Dashboard',
    plan: 'Plan',
    year: 'Year',
    target: 'Target',
    actual: 'Actual',
    met: 'Met',
    not_met: 'Not met',
    gap: 'Gap',
    no_data: 'No data yet',
    group: 'Group',
    indicator: 'Indicator',
    trend: 'Trend over periods',
    value: 'Value',
    numerator: 'Numerator',
    denominator: 'Denominator',
    agencies_reporting: 'Agencies reporting',
    chart_table: "The chart's figures",
    area: 'Area',
    nav_rankings: 'Rankings',
    rankings: 'IT-application rankings',
    ranking: 'Ranking',
    rank: 'Rank',
    total: 'Total (/100)',
    inputs: 'Inputs',
    score: 'Score (/100)',
    tied: 'tied',
    unranked: 'Not ranked',
    download_csv: 'Download CSV',
    download_xlsx: 'Download Excel (XLSX)',
  },
};

const KEY = 'chiso.lang';

/** The language chosen: Vietnamese unless English was picked (a preference,
 *  kept in localStorage; never a token). */
export function lang() {
  try {
    return localStorage.getItem(KEY) === 'en' ? 'en' : 'vi';
  } catch {
    return 'vi';
  }
}

export function setLang(value) {
  try {
    localStorage.setItem(KEY, value);
  } catch {
    // Private mode: the choice lasts until the page reloads.
  }
  document.documentElement.lang = value;
}

/** A message, with `{name}` filled from `params`. */
export function t(key, params = {}) {
  const text = messages[lang()][key] ?? messages.vi[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ''));
}

/** A name in the current language: `name_en` in English when there is one. */
export function named(item) {
  if (!item) return '';
  return lang() === 'en' && item.name_en ? item.name_en : item.name;
}

const locale = () => (lang() === 'en' ? 'en-GB' : 'vi-VN');

/** 1.234 (vi) or 1,234 (en); decimals as given, at most `digits`. */
export function formatNumber(value, digits = 2) {
  if (value === null || value === undefined || value === '') return '';
  const number = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(number)) return String(value);
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(number);
}

/** A value with its unit: `87,5 %`, `1.234 văn bản`. */
export function formatValue(value, unit, digits = 1) {
  if (value === null || value === undefined) return '';
  const shown = formatNumber(value, digits);
  return unit ? `${shown}\u00a0${unit}` : shown;
}

/** dd/mm/yyyy from an ISO date or instant. */
export function formatDate(iso) {
  if (!iso) return '';
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  return m ? `${m[3]}/${m[2]}/${m[1]}` : iso;
}

/** dd/mm/yyyy hh:mm in Vietnam's time from an RFC 3339 instant. */
export function formatInstant(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Asia/Ho_Chi_Minh', day: '2-digit', month: '2-digit', year: 'numeric',
    hour: '2-digit', minute: '2-digit', hour12: false,
  }).formatToParts(date);
  const get = (type) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('day')}/${get('month')}/${get('year')} ${get('hour')}:${get('minute')}`;
}

/** DHIS2 period codes as people say them: Quý 4/2026, Tháng 07/2025. */
export function formatPeriod(code) {
  let m = /^(\d{4})Q([1-4])$/.exec(code);
  if (m) return lang() === 'en' ? `Q${m[2]} ${m[1]}` : `Quý ${m[2]}/${m[1]}`;
  m = /^(\d{4})(\d{2})$/.exec(code);
  if (m) return lang() === 'en' ? `${m[2]}/${m[1]}` : `Tháng ${m[2]}/${m[1]}`;
  m = /^(\d{4})S([12])$/.exec(code);
  if (m) return lang() === 'en' ? `H${m[2]} ${m[1]}` : `6 tháng ${m[2] === '1' ? 'đầu' : 'cuối'} ${m[1]}`;
  return lang() === 'en' ? code : /^\d{4}$/.test(code) ? `Năm ${code}` : code;
}

const collator = new Intl.Collator('vi');

/** Sorts by name in Vietnamese order (Đ after D, tones after the letter). */
export function byName(items, name = (item) => item.name) {
  return [...items].sort((a, b) => collator.compare(name(a), name(b)));
}
