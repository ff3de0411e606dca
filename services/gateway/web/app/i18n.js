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
    // dashboard filters, bars, completeness
    filters: 'Bộ lọc',
    district: 'Huyện',
    commune: 'Xã',
    whole_province: 'Toàn tỉnh',
    whole_district: 'Toàn huyện',
    bars_by: 'Chia theo',
    area_total: 'Cả địa bàn',
    by_area: 'Địa bàn (huyện, xã)',
    by_agency: 'Cơ quan',
    no_rows: 'Không có đơn vị con nào để so sánh.',
    // own results
    nav_results: 'Kết quả so với chỉ tiêu',
    own_results: 'Kết quả của cơ quan so với chỉ tiêu kế hoạch',
    no_plan: 'Chưa có kế hoạch nào.',
    no_targets_for_agency: 'Kế hoạch không có chỉ tiêu nào áp dụng cho cơ quan trong năm này.',
    // registry and reference pages
    nav_unlock: 'Mở khóa báo cáo',
    nav_agencies: 'Cây tổ chức',
    nav_registrations: 'Đăng ký cơ quan',
    nav_plans: 'Kế hoạch, chỉ tiêu',
    nav_catalogue: 'Danh mục, biểu mẫu',
    agency_tree: 'Cây tổ chức của tỉnh',
    as_of: 'Tại ngày',
    show: 'Xem',
    agencies_on: '{count} cơ quan tại ngày {date}',
    kind: 'Loại',
    admin_unit: 'Mã đơn vị hành chính',
    valid: 'Hiệu lực',
    valid_from: 'Từ ngày',
    valid_to: 'Đến ngày',
    name: 'Tên',
    parent: 'Cơ quan cấp trên',
    predecessors: 'Tiền thân',
    successors: 'Kế thừa',
    kind_provincial_committee: 'UBND tỉnh',
    kind_department: 'Sở, ban, ngành',
    kind_district_committee: 'UBND cấp huyện',
    kind_commune_committee: 'UBND cấp xã',
    registrations: 'Yêu cầu đăng ký cơ quan',
    registration_pending: 'Chờ duyệt',
    registration_approved: 'Đã duyệt',
    registration_rejected: 'Đã từ chối',
    contact: 'Người liên hệ',
    filed_at: 'Gửi lúc',
    reject_reason: 'Lý do (bắt buộc khi từ chối)',
    approve: 'Duyệt',
    reject: 'Từ chối',
    approved_ok: 'Đã duyệt: cơ quan {code} được tạo cùng tài khoản dưới đây.',
    rejected_ok: 'Đã từ chối yêu cầu.',
    secret_once: 'Mật khẩu chỉ hiện một lần: hãy chuyển ngay cho cơ quan qua kênh an toàn.',
    no_registrations: 'Không có yêu cầu nào.',
    unlock_title: 'Mở khóa báo cáo đã khóa',
    unlock_help: 'Cho phép cơ quan sửa báo cáo của một kỳ đã khóa sổ, đến thời điểm đã chọn (tối đa 90 ngày), kèm lý do.',
    agency_code: 'Mã cơ quan',
    unlock_reason: 'Lý do mở khóa',
    unlock_until: 'Mở đến',
    unlock: 'Mở khóa',
    unlocked_ok: 'Đã mở khóa báo cáo {period} của {agency} đến {until}.',
    plans: 'Kế hoạch và chỉ tiêu',
    plans_read_only: 'Kế hoạch được nạp từ văn bản của tỉnh; API chưa cho sửa, nên trang này chỉ để xem.',
    plan_number: 'Số hiệu',
    plan_date: 'Ngày ban hành',
    plan_years: 'Giai đoạn',
    wording: 'Nội dung chỉ tiêu',
    catalogue: 'Danh mục',
    catalogue_forms: 'Biểu mẫu',
    catalogue_indicators: 'Chỉ số',
    catalogue_elements: 'Chỉ tiêu thu thập',
    period_type_yearly: 'Hằng năm',
    period_type_six_monthly: '6 tháng',
    period_type_quarterly: 'Hằng quý',
    period_type_monthly: 'Hằng tháng',
    opens: 'từ kỳ',
    retired: 'Ngừng sử dụng',
    data_element: 'Chỉ tiêu',
    value_type: 'Kiểu giá trị',
    bounds_title: 'Giới hạn',
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
    filters: 'Filters',
    district: 'District',
    commune: 'Commune',
    whole_province: 'Whole province',
    whole_district: 'Whole district',
    bars_by: 'Broken down by',
    area_total: 'Whole area',
    by_area: 'Area (districts, communes)',
    by_agency: 'Agency',
    no_rows: 'There are no parts to compare.',
    nav_results: 'Results against targets',
    own_results: "The agency's results against the plan's targets",
    no_plan: 'There is no plan yet.',
    no_targets_for_agency: 'The plan has no targets for this agency in this year.',
    nav_unlock: 'Unlock a report',
    nav_agencies: 'Agency tree',
    nav_registrations: 'Registrations',
    nav_plans: 'Plans and targets',
    nav_catalogue: 'Catalogue and forms',
    agency_tree: "The province's agency tree",
    as_of: 'As of',
    show: 'Show',
    agencies_on: '{count} agencies on {date}',
    kind: 'Kind',
    admin_unit: 'Administrative unit',
    valid: 'Valid',
    valid_from: 'From',
    valid_to: 'To',
    name: 'Name',
    parent: 'Parent',
    predecessors: 'Predecessors',
    successors: 'Successors',
    kind_provincial_committee: "Provincial People's Committee",
    kind_department: 'Department',
    kind_district_committee: "District People's Committee",
    kind_commune_committee: "Commune People's Committee",
    registrations: 'Agency registration requests',
    registration_pending: 'Pending',
    registration_approved: 'Approved',
    registration_rejected: 'Rejected',
    contact: 'Contact',
    filed_at: 'Filed at',
    reject_reason: 'Reason (required to reject)',
    approve: 'Approve',
    reject: 'Reject',
    approved_ok: 'Approved: agency {code} was created with the credentials below.',
    rejected_ok: 'Request rejected.',
    secret_once: 'The secret is shown only once: hand it to the agency over a safe channel now.',
    no_registrations: 'There are no requests.',
    unlock_title: 'Unlock a locked report',
    unlock_help: 'Lets an agency change its report of a closed period until the instant chosen (at most 90 days ahead), with a reason.',
    agency_code: 'Agency code',
    unlock_reason: 'Reason for unlocking',
    unlock_until: 'Unlocked until',
    unlock: 'Unlock',
    unlocked_ok: 'The report of {period} of {agency} is unlocked until {until}.',
    plans: 'Plans and targets',
    plans_read_only: "Plans are loaded from the province's documents; the API does not edit them yet, so this page is read-only.",
    plan_number: 'Number',
    plan_date: 'Issued on',
    plan_years: 'Years',
    wording: 'Target as worded',
    catalogue: 'Catalogue',
    catalogue_forms: 'Forms',
    catalogue_indicators: 'Indicators',
    catalogue_elements: 'Data elements',
    period_type_yearly: 'Yearly',
    period_type_six_monthly: 'Six-monthly',
    period_type_quarterly: 'Quarterly',
    period_type_monthly: 'Monthly',
    opens: 'from',
    retired: 'Retired',
    data_element: 'Data element',
    value_type: 'Value type',
    bounds_title: 'Bounds',
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
