//! The shapes of the API's requests and answers as the OpenAPI document describes them. Most
//! answers are built with `json!` in the handlers (they keep the original's exact shapes), so
//! these types describe them; `tests/it/openapi.rs` checks every answer a scenario gets against
//! the document, so a field added on one side only fails a test. Objects marked
//! `deny_unknown_fields` list every key the service sends.

#![allow(dead_code)]

use serde_json::Value;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{RefOr, schema::SchemaType};
use utoipa::{PartialSchema, ToSchema};

/// Every error answer: `error` and/or `detail` sentences a person can act on; a 400 about the
/// fields of a form names each field with its messages (`{"username": ["…"]}`), as the
/// original did; `non_field_errors` holds those about the whole form.
pub(crate) struct ErrorBody;

impl PartialSchema for ErrorBody {
    fn schema() -> RefOr<Schema> {
        let text = || ObjectBuilder::new().schema_type(SchemaType::Type(Type::String));
        ObjectBuilder::new()
            .description(Some(
                "An error. `error` and `detail` are sentences to show; other keys name a form field \
                 and list its messages.",
            ))
            .property("error", text())
            .property("detail", text())
            .property(
                "details",
                ObjectBuilder::new()
                    .schema_type(SchemaType::Type(Type::Object))
                    .description(Some("Field messages, keyed by field name (the token refresh answer).")),
            )
            .additional_properties(Some(ArrayBuilder::new().items(text())))
            .into()
    }
}

impl ToSchema for ErrorBody {}

/// Raw bytes: a file, a photo, an export.
pub(crate) struct Binary;

impl PartialSchema for Binary {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Binary)))
            .into()
    }
}

impl ToSchema for Binary {}

/// The submission's review status.
#[derive(ToSchema)]
pub(crate) enum Status {
    Pending,
    Approved,
    Rejected,
}

/// Which photo plan a report follows: 8 cleaning photos in 3 sections, or 19 electrical ones
/// in 4 sections.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum PlanKind {
    Cleaning,
    Electrical,
}

/// The job that renders an approved report's PDF and e-mails it to the client.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReportJob {
    /// `pending`, `done` or `failed`.
    state: String,
    /// `pending`, `generated` or `failed`.
    pdf_status: String,
    /// `pending`, `sent`, `failed` or `not_configured`.
    email_status: String,
    attempts: i64,
    last_error: Option<String>,
    email_sent_at: Option<String>,
}

/// A user as sign-in answers show them.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct User {
    id: i64,
    username: String,
    /// `host`, `technician` or `supervisor`.
    role: String,
    /// The technician's city; null for other roles.
    city: Option<String>,
}

/// Username and password (JSON or form-encoded).
#[derive(ToSchema)]
pub(crate) struct Credentials {
    username: String,
    password: String,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenPair {
    /// A Bearer access token (1 hour).
    access: String,
    /// A refresh token for `POST /api/auth/refresh/` (7 days).
    refresh: String,
    user: User,
}

#[derive(ToSchema)]
pub(crate) struct RefreshRequest {
    refresh: String,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccessToken {
    access: String,
}

/// A page session: the cookie `atm_session` is set with the answer; unsafe requests send
/// `csrf_token` back in `X-CSRF-Token`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Session {
    user: User,
    csrf_token: String,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Technician {
    id: i64,
    username: String,
    role: String,
    city: Option<String>,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreatedTechnician {
    id: i64,
    username: String,
    role: String,
    city: Option<String>,
    created_at: String,
}

#[derive(ToSchema)]
pub(crate) struct NewTechnician {
    username: String,
    password: String,
    /// One of the cities in `GET /api/ui/config`.
    city: String,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileCounts {
    pdfs: i64,
    photos: i64,
    excel_files: i64,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeletedData {
    device_assignments: i64,
    submissions: i64,
    excel_uploads: i64,
    physical_files: FileCounts,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeletedTechnician {
    message: String,
    deleted_data: DeletedData,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UploadedTypes {
    uploaded_types: Vec<String>,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UploadedFile {
    id: i64,
    device_type: String,
    file_name: String,
    upload_date: String,
    row_count: i64,
    uploaded_by: String,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UploadedFiles {
    files: Vec<UploadedFile>,
}

/// The Excel upload form (`multipart/form-data`).
#[derive(ToSchema)]
pub(crate) struct ExcelUploadForm {
    technician_id: i64,
    /// `cleaning`, `electrical`, `security`, `acs`, `ups`, …: see `device_types` in `GET /api/ui/config`.
    device_type: String,
    /// The `.xlsx` or `.xls` file, at most 20 MB.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// `true`: parse and answer with a preview; nothing is stored.
    dry_run: Option<bool>,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TechnicianRef {
    id: i64,
    username: String,
    city: Option<String>,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReplacedUpload {
    file_name: String,
    row_count: i64,
    upload_date: String,
}

/// The answer to an Excel upload: `status` is `success` (stored, 201) or `preview` (a dry
/// run, 200: `replaces` names the list it would replace).
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExcelUploaded {
    status: String,
    message: String,
    upload_id: Option<i64>,
    file_name: String,
    total_rows: i64,
    devices_created: Option<i64>,
    /// The first rows as parsed, keyed by the sheet's column headers.
    data: Vec<Value>,
    replaces: Option<ReplacedUpload>,
    technician: TechnicianRef,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecentTechnician {
    id: i64,
    username: String,
    city: Option<String>,
    device_count: i64,
    created_at: String,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct HostStats {
    total_technicians: i64,
    total_devices: i64,
    technicians_with_devices: Vec<RecentTechnician>,
}

/// One line of the loss report of an import from the original system.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImportFinding {
    /// `photo_missing`, `photo_damaged`, `pdf_missing`, `excel_missing`, `no_photos`, `unreferenced_file`, …
    kind: String,
    /// What in the original it is about: `photo:4`, `submission:12`, `file:pdfs/…`.
    source_ref: String,
    submission_id: Option<i64>,
    section: Option<i64>,
    order_index: Option<i64>,
    path: Option<String>,
    detail: String,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImportReport {
    /// Findings per kind.
    #[schema(value_type = std::collections::BTreeMap<String, i64>)]
    counts: Value,
    findings: Vec<ImportFinding>,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditEntry {
    id: i64,
    at: String,
    actor_id: Option<i64>,
    actor: String,
    action: String,
    target: Option<String>,
    /// What the action was about (its fields differ per action).
    detail: Value,
    /// The client's address as seen by the service.
    client: String,
    /// SHA-256 of the previous row's hash and this row's fields.
    hash: String,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditPage {
    count: i64,
    page: i64,
    page_size: i64,
    total_pages: i64,
    /// Every action name the log records (for the filter).
    actions: Vec<String>,
    entries: Vec<AuditEntry>,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NextDue {
    date: String,
    /// For half-monthly types.
    half_month: Option<i64>,
    /// For monthly types.
    month: Option<String>,
    description: String,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Device {
    id: i64,
    interaction_id: String,
    gfm_cost_center: String,
    region: String,
    gfm_problem_type: String,
    gfm_problem_date: Option<String>,
    city: String,
    #[serde(rename = "type")]
    device_type: String,
    /// `submitted` in the current half-month, else `pending`.
    submission_status: String,
    /// Null for types without a schedule.
    next_due_date: Option<NextDue>,
    created_at: String,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeviceList {
    count: i64,
    devices: Vec<Device>,
}

/// One uploaded list with its rows; every row (keyed by the sheet's headers) also carries
/// `submission_status`, `submission_remarks`, `device_id` and `last_visit_date`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TechnicianUpload {
    id: i64,
    file_name: String,
    upload_date: String,
    row_count: i64,
    device_type: String,
    uploaded_by: Option<String>,
    parsed_data: Vec<Value>,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MyExcelData {
    technician: TechnicianRef,
    total_uploads: i64,
    uploads: Vec<TechnicianUpload>,
}

/// One list's rows; when the technician has no list of that type, `data` is empty and
/// `message` says so.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExcelData {
    data: Vec<Value>,
    device_type: String,
    file_name: Option<String>,
    upload_date: Option<String>,
    message: Option<String>,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SubmissionList {
    status: String,
    count: i64,
    /// How many of the matching reports have findings not yet checked (the supervisor's list).
    flagged: Option<i64>,
    #[schema(value_type = Vec<crate::http::submission_json::SubmissionJson>)]
    submissions: Vec<Value>,
    /// Present when `page` or `page_size` was asked for.
    page: Option<i64>,
    page_size: Option<i64>,
    total_pages: Option<i64>,
}

/// A supervisor's note on what they checked about a finding.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckNote {
    /// 1 to 2000 characters.
    note: String,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckedFinding {
    status: String,
    message: String,
    #[schema(value_type = crate::http::submission_json::FindingJson)]
    finding: Value,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OneSubmission {
    status: String,
    message: Option<String>,
    #[schema(value_type = crate::http::submission_json::SubmissionJson)]
    submission: Value,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Approved {
    status: String,
    message: String,
    #[schema(value_type = crate::http::submission_json::SubmissionJson)]
    submission: Value,
    pdf_status: Option<String>,
    email_status: Option<String>,
}

/// Remarks for the technician: optional on approval; on rejection 10 to 2000 characters.
#[derive(ToSchema)]
pub(crate) struct Remarks {
    remarks: Option<String>,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PreviewPdf {
    status: String,
    message: String,
    /// A signed link to the PDF, valid for a limited time.
    pdf_url: String,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SupervisorStats {
    total_submissions: i64,
    pending_submissions: i64,
    approved_submissions: i64,
    rejected_submissions: i64,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TechnicianList {
    technicians: Vec<TechnicianRef>,
}

/// A visit report sent whole (`multipart/form-data`): the fields and one file part per photo
/// slot, named `section{S}_{O}` (see the device's plan in `GET /api/ui/config`). Every photo is
/// JPEG, PNG or WebP, at most 10 MB.
#[derive(ToSchema)]
pub(crate) struct SubmitForm {
    device_id: i64,
    /// `YYYY-MM-DD`, not in the future.
    visit_date: String,
    /// `Ok` or `Not Ok`.
    job_status: String,
    /// At most 200 characters.
    job_description: String,
    /// At most 500 characters.
    remarks: Option<String>,
    /// One part per slot, e.g. `section1_1`.
    #[schema(value_type = String, format = Binary)]
    section1_1: Vec<u8>,
}

/// The report's fields when a draft is finalized (JSON or form-encoded).
#[derive(ToSchema)]
pub(crate) struct FinalizeDraft {
    /// Defaults to the draft's visit date.
    visit_date: Option<String>,
    job_status: String,
    job_description: String,
    remarks: Option<String>,
}

#[derive(ToSchema)]
pub(crate) struct OpenDraft {
    device_id: i64,
    /// `YYYY-MM-DD`; today when left out.
    visit_date: Option<String>,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DraftPhoto {
    field: String,
    sha256: String,
    size: i64,
    width: i64,
    height: i64,
    content_type: String,
    url: String,
    thumb_url: String,
    /// The photo's facts as read at upload; `findings` stay empty until the report is filed.
    #[schema(value_type = crate::http::submission_json::EvidenceJson)]
    evidence: Value,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DraftSlot {
    field: String,
    label: String,
    order: i64,
    /// Null until the slot's photo is received.
    photo: Option<DraftPhoto>,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DraftSection {
    section: i64,
    title: String,
    slots: Vec<DraftSlot>,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DraftDevice {
    interaction_id: String,
    gfm_cost_center: String,
    city: String,
    #[serde(rename = "type")]
    device_type: String,
    gfm_problem_type: String,
}

/// A visit report being filled photo by photo; each photo is kept as soon as it arrives.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Draft {
    id: i64,
    device_id: i64,
    device: DraftDevice,
    visit_date: String,
    created_at: String,
    updated_at: String,
    /// When an untouched draft is thrown away.
    expires_at: Option<String>,
    plan: PlanKind,
    /// Photos the plan asks for.
    required: i64,
    /// Photos received so far.
    received: i64,
    sections: Vec<DraftSection>,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DraftSummary {
    id: i64,
    device_id: i64,
    visit_date: String,
    updated_at: String,
    received: i64,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DraftList {
    drafts: Vec<DraftSummary>,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct InsightPeriod {
    /// `YYYY-MM-H`.
    key: String,
    label: String,
    from: String,
    to: String,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct InsightCounts {
    pending: i64,
    approved: i64,
    rejected: i64,
    total: i64,
    /// Reports of the period with findings not yet checked.
    flagged: i64,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DayFilings {
    date: String,
    #[serde(rename = "Pending")]
    pending: i64,
    #[serde(rename = "Approved")]
    approved: i64,
    #[serde(rename = "Rejected")]
    rejected: i64,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CityCoverage {
    city: String,
    due: i64,
    filed: i64,
    approved: i64,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TechnicianCoverage {
    technician: String,
    technician_id: i64,
    due: i64,
    filed: i64,
    approved: i64,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Coverage {
    by_city: Vec<CityCoverage>,
    by_technician: Vec<TechnicianCoverage>,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Waiting {
    id: i64,
    interaction_id: String,
    technician: String,
    city: String,
    visit_date: String,
    created_at: String,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UnfiledDevice {
    device_id: i64,
    interaction_id: String,
    city: String,
    #[serde(rename = "type")]
    device_type: String,
    technician: String,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NotFiled {
    /// Exact; `devices` lists at most 200.
    count: i64,
    devices: Vec<UnfiledDevice>,
}

/// The dashboard of one half-month.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Insights {
    period: InsightPeriod,
    previous_period: InsightPeriod,
    counts: InsightCounts,
    /// Approved / (approved + rejected) of the half-month; null when none was reviewed.
    approval_rate: Option<f64>,
    /// The 30 days up to the half-month's end.
    daily: Vec<DayFilings>,
    coverage: Coverage,
    oldest_pending: Vec<Waiting>,
    not_filed_previous: NotFiled,
}

/// What `atm-maint doctor` prints: configuration (secrets as set/unset), storage and database
/// facts, a verdict.
#[derive(ToSchema)]
pub(crate) struct DoctorReport {
    version: String,
    healthy: bool,
    verdict: String,
    config: Value,
    storage: Option<Value>,
    database: Value,
    scrub_findings: Vec<Value>,
    days_until_full: Option<f64>,
    import_findings: Vec<ImportFinding>,
}

#[derive(ToSchema)]
pub(crate) struct Health {
    /// `ok` or `unavailable`.
    status: String,
    /// Staff and the metrics token see the checks.
    checked_seconds_ago: Option<i64>,
    checks: Option<Value>,
}

#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UiConfig {
    brand: String,
    region: String,
    logo_url: String,
    cities: Vec<String>,
    device_types: Vec<String>,
    /// The two photo plans: sections, slots and their field names.
    plans: Value,
    max_photo_bytes: i64,
}
