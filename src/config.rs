//! Typed settings, read once at start from flags and the environment, validated, and passed
//! down in state. No global singleton: tests build a `Settings` from a plain map.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

mod secret_strength;
use crate::domain::excel::ExcelLimits;

/// Where a setting's value came from; the start-up report and `doctor` print it, because
/// "which MEDIA_ROOT did the process actually use?" is the question the predecessor never answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Flag,
    Env,
    Default,
    Generated,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Flag => "command-line flag",
            Source::Env => "environment",
            Source::Default => "default",
            Source::Generated => "generated file in the data dir",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Production,
}

/// A hosting platform recognised by the variables it sets itself. A plain container is not a
/// platform: the embedded default must start in any container a developer or CI runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Render,
    Fly,
    Kubernetes,
}

impl Platform {
    fn detect(env: &HashMap<String, String>) -> Option<Platform> {
        let set = |k: &str| env.get(k).is_some_and(|v| !v.is_empty());
        if set("RENDER") || set("RENDER_SERVICE_ID") {
            Some(Platform::Render)
        } else if set("FLY_APP_NAME") {
            Some(Platform::Fly)
        } else if set("KUBERNETES_SERVICE_HOST") {
            Some(Platform::Kubernetes)
        } else {
            None
        }
    }
}

/// A secret value: never printed, shown by `doctor` as set/unset only.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Where media lives: a local folder (MEDIA_ROOT) or an S3-compatible bucket.
#[derive(Debug, Clone)]
pub enum StorageBackend {
    Local,
    S3(S3Settings),
}

#[derive(Debug, Clone)]
pub struct S3Settings {
    pub bucket: String,
    pub prefix: String,
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<Secret>,
    pub path_style: bool,
    pub presigned_redirects: bool,
}

/// What the approval report and its e-mail say and how their jobs run.
#[derive(Debug, Clone)]
pub struct ReportSettings {
    pub brand_name: String,
    pub region: String,
    pub project_manager: String,
    /// A PNG or JPEG printed on the cover and checklist instead of the brand name.
    pub logo: Option<PathBuf>,
    pub recipients: Vec<String>,
    pub job_lease_seconds: i64,
    pub retry_base_seconds: i64,
    pub max_attempts: i64,
}

#[derive(Debug, Clone)]
pub struct EmailSettings {
    pub host: Option<String>,
    pub port: u16,
    pub use_tls: bool,
    pub use_ssl: bool,
    pub user: Option<String>,
    pub password: Option<Secret>,
    pub default_from: Option<String>,
    pub timeout_seconds: u64,
}

/// Values given on the command line; each wins over its environment variable.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub data_dir: Option<PathBuf>,
    pub media_root: Option<PathBuf>,
    pub database_url: Option<String>,
    pub listen: Option<SocketAddr>,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub environment: Environment,
    pub platform: Option<Platform>,
    pub in_container: bool,
    pub data_dir: PathBuf,
    pub data_dir_source: Source,
    pub media_root: PathBuf,
    pub media_root_source: Source,
    pub storage: StorageBackend,
    pub database_url: Secret,
    pub database_source: Source,
    pub listen: SocketAddr,
    pub listen_source: Source,
    pub secret_key: Secret,
    pub secret_key_source: Source,
    pub media_base_url: Option<String>,
    pub cors_allowed_origins: Vec<String>,
    pub email: EmailSettings,
    pub allow_ephemeral_media: bool,
    pub log_format: LogFormat,
    pub test_routes: bool,
    /// Lifetime of signed media links.
    pub media_url_ttl_seconds: i64,
    pub report: ReportSettings,
    /// Cleanup policy: hours before a file without a row may go, days before superseded Excel
    /// copies and unrecorded preview PDFs may go, days things stay in the trash.
    pub cleanup_orphan_grace_hours: i64,
    pub cleanup_excel_days: i64,
    pub cleanup_preview_days: i64,
    pub cleanup_trash_days: i64,
    /// Seconds between scrub slices (0 turns the scrub off); 30 slices make a full pass.
    pub scrub_interval_seconds: i64,
    /// Seconds a draft visit report may sit untouched before it and its photos are removed.
    pub draft_expiry_seconds: i64,
    /// Bearer token for `GET /metrics`; metrics are off without one.
    pub metrics_token: Option<Secret>,
    /// Disk use (percent) from which doctor and the logs warn.
    pub disk_warn_percent: u8,
    /// Disk use (percent) from which new uploads are refused with 507.
    pub disk_refuse_percent: u8,
    /// Take the client address from X-Forwarded-For (behind a platform's proxy).
    pub trust_proxy_headers: bool,
    /// Bounds on what clients can make the process hold at once.
    pub limits: Limits,
    /// How much of an uploaded Excel workbook is read and kept.
    pub excel: ExcelLimits,
    /// The thresholds of the evidence findings (capture time, reuse, place).
    pub evidence: crate::domain::evidence::Rules,
}

const SECRET_FILE: &str = "secret_key";

impl Settings {
    /// Reads the process environment. Used by the binary; tests call [`Settings::from_map`].
    pub fn load(flags: Flags) -> anyhow::Result<Settings> {
        let cwd = std::env::current_dir().context("while reading the current directory")?;
        Settings::from_map(flags, std::env::vars().collect(), &cwd)
    }

    pub fn from_map(flags: Flags, env: HashMap<String, String>, cwd: &Path) -> anyhow::Result<Settings> {
        let get = |k: &str| env.get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let environment = match get("ATM_ENV").as_deref() {
            None | Some("development") | Some("dev") => Environment::Development,
            Some("production") | Some("prod") => Environment::Production,
            Some(other) => {
                bail!("ATM_ENV is {other:?}; set it to \"development\" (the default) or \"production\"")
            }
        };
        let platform = Platform::detect(&env);
        let absolute = |p: PathBuf| if p.is_absolute() { p } else { cwd.join(p) };

        let (data_dir, data_dir_source) = pick(flags.data_dir, get("DATA_DIR").map(PathBuf::from))
            .unwrap_or_else(|| (PathBuf::from("data"), Source::Default));
        let data_dir = normalize(&absolute(data_dir));
        let (media_root, media_root_source) = pick(flags.media_root, get("MEDIA_ROOT").map(PathBuf::from))
            .unwrap_or_else(|| (data_dir.join("media"), Source::Default));
        let media_root = normalize(&absolute(media_root));

        let storage = match get("STORAGE_BACKEND").as_deref() {
            Some("local") => StorageBackend::Local,
            None if get("S3_BUCKET").is_none() => StorageBackend::Local,
            Some("s3") | None => {
                let bucket = get("S3_BUCKET").ok_or_else(|| {
                    anyhow::anyhow!("STORAGE_BACKEND is s3 but S3_BUCKET is not set; set the bucket name")
                })?;
                let endpoint = get("S3_ENDPOINT");
                StorageBackend::S3(S3Settings {
                    bucket,
                    prefix: get("S3_PREFIX").unwrap_or_default(),
                    path_style: flag_value(
                        get("S3_FORCE_PATH_STYLE"),
                        "S3_FORCE_PATH_STYLE",
                        endpoint.is_some(),
                    )?,
                    endpoint,
                    region: get("S3_REGION")
                        .or_else(|| get("AWS_REGION"))
                        .unwrap_or_else(|| "us-east-1".into()),
                    access_key_id: get("S3_ACCESS_KEY_ID").or_else(|| get("AWS_ACCESS_KEY_ID")),
                    secret_access_key: get("S3_SECRET_ACCESS_KEY")
                        .or_else(|| get("AWS_SECRET_ACCESS_KEY"))
                        .map(Secret::new),
                    presigned_redirects: flag_value(
                        get("S3_PRESIGNED_REDIRECTS"),
                        "S3_PRESIGNED_REDIRECTS",
                        false,
                    )?,
                })
            }
            Some(other) => bail!("STORAGE_BACKEND is {other:?}; use \"local\" or \"s3\""),
        };

        let (database_url, database_source) =
            pick(flags.database_url, get("DATABASE_URL")).unwrap_or_else(|| {
                let file = data_dir.join("atm-maint.db");
                (format!("sqlite://{}", file.display()), Source::Default)
            });
        let database_url = absolutize_sqlite_url(&database_url, cwd)?;

        let (listen, listen_source) = match (flags.listen, get("PORT")) {
            (Some(addr), _) => (addr, Source::Flag),
            (None, Some(port)) => {
                let port: u16 = port.parse().map_err(|_| {
                    anyhow::anyhow!("PORT is {port:?}; it must be a TCP port number such as 8000")
                })?;
                // A platform that sets PORT routes traffic from outside the container.
                (SocketAddr::from(([0, 0, 0, 0], port)), Source::Env)
            }
            (None, None) => (SocketAddr::from(([127, 0, 0, 1], 8000)), Source::Default),
        };

        let production = environment == Environment::Production || platform.is_some();
        let (secret_key, secret_key_source) = match get("SECRET_KEY") {
            Some(key) if production && key.len() < 32 => bail!(
                "SECRET_KEY is shorter than 32 characters; in production use a long random value, \
                 e.g. the output of `openssl rand -hex 32`"
            ),
            Some(key) => {
                if let Some(why) = secret_strength::weakness(&key) {
                    if production {
                        bail!(
                            "SECRET_KEY is not random enough: {why}; in production use a long random value, \
                             e.g. the output of `openssl rand -hex 32`"
                        );
                    }
                    tracing::warn!(
                        "SECRET_KEY is not random enough: {why}; production would refuse it \
                         (make one with `openssl rand -hex 32`)"
                    );
                }
                (Secret::new(key), Source::Env)
            }
            None if production => bail!(
                "SECRET_KEY is not set; in production it must be set to a long random value \
                 (e.g. `openssl rand -hex 32`) so tokens survive restarts and match across instances"
            ),
            None => (load_or_generate_secret(&data_dir)?, Source::Generated),
        };

        let flag = |k: &str, default: bool| -> anyhow::Result<bool> {
            match get(k).as_deref().map(str::to_ascii_lowercase).as_deref() {
                None => Ok(default),
                Some("1" | "true" | "yes" | "on") => Ok(true),
                Some("0" | "false" | "no" | "off") => Ok(false),
                Some(other) => bail!("{k} is {other:?}; use true or false"),
            }
        };
        let email = EmailSettings {
            host: get("EMAIL_HOST"),
            port: match get("EMAIL_PORT") {
                Some(p) => p.parse().map_err(|_| {
                    anyhow::anyhow!("EMAIL_PORT is {p:?}; it must be a port number such as 587")
                })?,
                None => 587,
            },
            use_tls: flag("EMAIL_USE_TLS", true)?,
            use_ssl: flag("EMAIL_USE_SSL", false)?,
            user: get("EMAIL_HOST_USER"),
            password: get("EMAIL_HOST_PASSWORD").map(Secret::new),
            default_from: get("DEFAULT_FROM_EMAIL"),
            timeout_seconds: number(&get, "EMAIL_TIMEOUT_SECONDS", 30, 1, 600)? as u64,
        };
        let report = ReportSettings {
            brand_name: get("REPORT_BRAND_NAME").unwrap_or_else(|| "ATM Maintenance".into()),
            region: get("REPORT_REGION").unwrap_or_default(),
            project_manager: get("REPORT_PROJECT_MANAGER").unwrap_or_default(),
            logo: get("REPORT_LOGO_PATH").map(|p| normalize(&absolute(PathBuf::from(p)))),
            recipients: get("APPROVAL_EMAIL_RECIPIENTS")
                .map(|v| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
                .unwrap_or_default(),
            job_lease_seconds: number(&get, "REPORT_JOB_LEASE_SECONDS", 60, 2, 3600)?,
            retry_base_seconds: number(&get, "REPORT_JOB_RETRY_SECONDS", 10, 1, 3600)?,
            max_attempts: number(&get, "REPORT_JOB_MAX_ATTEMPTS", 8, 1, 100)?,
        };
        for r in &report.recipients {
            if !r.contains('@') || r.contains(char::is_whitespace) {
                bail!("APPROVAL_EMAIL_RECIPIENTS has {r:?}, which is not an e-mail address");
            }
        }
        let log_format = match get("LOG_FORMAT").as_deref() {
            None | Some("pretty") | Some("text") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => bail!("LOG_FORMAT is {other:?}; use \"pretty\" or \"json\""),
        };
        let test_routes = flag("ATM_TEST_ROUTES", false)?;
        let media_url_ttl_seconds = match get("MEDIA_URL_TTL_SECONDS") {
            None => 3600,
            Some(v) => match v.parse::<i64>() {
                Ok(n) if (60..=7 * 24 * 3600).contains(&n) => n,
                _ => bail!("MEDIA_URL_TTL_SECONDS is {v:?}; use a number of seconds between 60 and 604800"),
            },
        };
        if test_routes && production {
            bail!("ATM_TEST_ROUTES is on in production; it exists for the test suite only, unset it");
        }

        Ok(Settings {
            environment,
            platform,
            in_container: detect_container(),
            data_dir,
            data_dir_source,
            media_root,
            media_root_source,
            storage,
            database_url: Secret::new(database_url),
            database_source,
            listen,
            listen_source,
            secret_key,
            secret_key_source,
            media_base_url: get("MEDIA_BASE_URL").map(|u| u.trim_end_matches('/').to_string()),
            cors_allowed_origins: get("CORS_ALLOWED_ORIGINS")
                .map(|v| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
                .unwrap_or_default(),
            email,
            allow_ephemeral_media: flag("ATM_ALLOW_EPHEMERAL_MEDIA", false)?,
            log_format,
            test_routes,
            media_url_ttl_seconds,
            report,
            metrics_token: get("METRICS_TOKEN").map(Secret::new),
            cleanup_orphan_grace_hours: number(&get, "CLEANUP_ORPHAN_GRACE_HOURS", 24, 0, 24 * 365)?,
            cleanup_excel_days: number(&get, "CLEANUP_EXCEL_DAYS", 90, 0, 3650)?,
            cleanup_preview_days: number(&get, "CLEANUP_PREVIEW_DAYS", 30, 0, 3650)?,
            cleanup_trash_days: number(&get, "CLEANUP_TRASH_DAYS", 7, 0, 3650)?,
            scrub_interval_seconds: number(&get, "SCRUB_INTERVAL_SECONDS", 86_400, 0, 30 * 86_400)?,
            draft_expiry_seconds: number(&get, "DRAFT_EXPIRY_SECONDS", 7 * 86_400, 1, 365 * 86_400)?,
            disk_warn_percent: number(&get, "DISK_WARN_PERCENT", 80, 1, 100)? as u8,
            disk_refuse_percent: number(&get, "DISK_REFUSE_PERCENT", 95, 1, 100)? as u8,
            trust_proxy_headers: flag("TRUST_PROXY_HEADERS", platform.is_some())?,
            limits: Limits::from_env(&get)?,
            excel: excel_limits(&get)?,
            evidence: evidence_rules(&get)?,
        })
    }

    /// Production rules apply when production is declared or a hosting platform is recognised.
    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production || self.platform.is_some()
    }

    /// The database location with any password masked, safe for logs and `doctor`.
    pub fn database_display(&self) -> String {
        redact_url(self.database_url.expose())
    }
}

fn evidence_rules(get: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<crate::domain::evidence::Rules> {
    let d = crate::domain::evidence::Rules::default();
    Ok(crate::domain::evidence::Rules {
        capture_margin_days: number(get, "EVIDENCE_CAPTURE_MARGIN_DAYS", d.capture_margin_days, 0, 365)?,
        near_distance: number(get, "EVIDENCE_NEAR_DISTANCE", i64::from(d.near_distance), 0, 24)? as u32,
        technician_reports: number(get, "EVIDENCE_TECHNICIAN_REPORTS", d.technician_reports, 1, 100_000)?,
        report_spread_m: number(
            get,
            "EVIDENCE_REPORT_SPREAD_METRES",
            d.report_spread_m as i64,
            10,
            1_000_000,
        )? as f64,
        device_distance_m: number(
            get,
            "EVIDENCE_DEVICE_DISTANCE_METRES",
            d.device_distance_m as i64,
            10,
            1_000_000,
        )? as f64,
    })
}

fn number(
    get: &dyn Fn(&str) -> Option<String>,
    key: &str,
    default: i64,
    min: i64,
    max: i64,
) -> anyhow::Result<i64> {
    match get(key) {
        None => Ok(default),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => bail!("{key} is {v:?}; use a whole number from {min} to {max}"),
        },
    }
}

/// Bounds on what clients can make the process hold at once: connections, slow clients, and the
/// CPU- and memory-heavy work (password hashes, image decodes, PDF builds) that runs with a
/// permit, queued for at most `queue_wait_seconds` and then answered 503 with Retry-After.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_connections: usize,
    pub header_read_timeout_seconds: u64,
    /// An upload whose body sends nothing for this long is cut off; also the window over which
    /// the minimum rate is judged.
    pub upload_idle_timeout_seconds: u64,
    pub upload_min_bytes_per_second: u64,
    pub password_hash_concurrency: usize,
    pub image_decode_concurrency: usize,
    pub pdf_build_concurrency: usize,
    pub queue_wait_seconds: u64,
    /// Memory for copies of small, often-read objects (thumbnails, previews, small photos);
    /// 0 turns the copies off.
    pub media_cache_bytes: u64,
    /// The largest object copied into that memory.
    pub media_cache_object_bytes: u64,
    /// Proxies in front of the service that append to X-Forwarded-For (1: the platform's own).
    pub trusted_proxy_hops: usize,
    /// A header the platform sets to the client's address (e.g. `Fly-Client-IP`), preferred
    /// over X-Forwarded-For when set and proxy headers are trusted.
    pub client_ip_header: Option<String>,
}

impl Limits {
    fn from_env(get: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Limits> {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2) as i64;
        let n = |key, default, min, max| number(get, key, default, min, max);
        Ok(Limits {
            max_connections: n("MAX_CONNECTIONS", 1024, 1, 1_000_000)? as usize,
            header_read_timeout_seconds: n("HEADER_READ_TIMEOUT_SECONDS", 15, 1, 3600)? as u64,
            upload_idle_timeout_seconds: n("UPLOAD_IDLE_TIMEOUT_SECONDS", 30, 1, 3600)? as u64,
            upload_min_bytes_per_second: n("UPLOAD_MIN_BYTES_PER_SECOND", 1024, 0, 1 << 30)? as u64,
            password_hash_concurrency: n("PASSWORD_HASH_CONCURRENCY", cores, 1, 256)? as usize,
            // Each decode of a camera photo holds tens of MB: half the cores, at least one (on
            // two cores the second decode cost 30 MiB of peak under `bench/run mixed`).
            image_decode_concurrency: n("IMAGE_DECODE_CONCURRENCY", (cores / 2).max(1), 1, 256)? as usize,
            pdf_build_concurrency: n("PDF_BUILD_CONCURRENCY", 1, 1, 64)? as usize,
            queue_wait_seconds: n("QUEUE_WAIT_SECONDS", 10, 0, 600)? as u64,
            media_cache_bytes: n("MEDIA_CACHE_MB", 32, 0, 65_536)? as u64 * 1024 * 1024,
            media_cache_object_bytes: n("MEDIA_CACHE_OBJECT_KB", 512, 1, 1 << 20)? as u64 * 1024,
            trusted_proxy_hops: n("TRUSTED_PROXY_HOPS", 1, 1, 16)? as usize,
            client_ip_header: get("CLIENT_IP_HEADER").map(|h| h.to_ascii_lowercase()),
        })
    }
}

/// `EXCEL_MAX_*`: the import needs the first five columns, Excel has at most 16384 columns and
/// 1048576 rows; sizes are in MB.
fn excel_limits(get: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<ExcelLimits> {
    let d = ExcelLimits::default();
    let mb = 1024 * 1024;
    Ok(ExcelLimits {
        max_columns: number(get, "EXCEL_MAX_COLUMNS", i64::from(d.max_columns), 5, 16_384)? as u32,
        max_rows: number(get, "EXCEL_MAX_ROWS", i64::from(d.max_rows), 2, 1_048_576)? as u32,
        max_unzipped_bytes: number(get, "EXCEL_MAX_UNZIPPED_MB", (d.max_unzipped_bytes / mb) as i64, 1, 1024)?
            as u64
            * mb,
        max_data_bytes: number(get, "EXCEL_MAX_DATA_MB", (d.max_data_bytes / mb) as i64, 1, 256)? as u64 * mb,
    })
}

fn flag_value(v: Option<String>, key: &str, default: bool) -> anyhow::Result<bool> {
    match v.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(other) => bail!("{key} is {other:?}; use true or false"),
    }
}

fn pick<T>(flag: Option<T>, env: Option<T>) -> Option<(T, Source)> {
    flag.map(|v| (v, Source::Flag)).or(env.map(|v| (v, Source::Env)))
}

/// Removes `.` and `..` components without touching the filesystem (the path may not exist yet).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn absolutize_sqlite_url(url: &str, cwd: &Path) -> anyhow::Result<String> {
    let Some(rest) = url.strip_prefix("sqlite:") else {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(url.to_string());
        }
        bail!(
            "DATABASE_URL must start with sqlite:// or postgres:// (got a {} URL)",
            url.split(':').next().unwrap_or("?")
        );
    };
    let rest = rest.trim_start_matches("//");
    if rest.starts_with(":memory:") {
        bail!("DATABASE_URL points at an in-memory SQLite database, which loses everything on exit");
    }
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let path = normalize(&cwd.join(path));
    let query = if query.is_empty() { String::new() } else { format!("?{query}") };
    Ok(format!("sqlite://{}{query}", path.display()))
}

pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            let masked = if creds.contains(':') { format!("{user}:***") } else { user.to_string() };
            format!("{}{}{}", &url[..scheme + 3], masked, &url[at..])
        }
        _ => url.to_string(),
    }
}

fn detect_container() -> bool {
    Path::new("/.dockerenv").exists() || Path::new("/run/.containerenv").exists()
}

/// In development a random key is made once and kept in the data dir, so tokens survive
/// restarts without anyone committing a key.
fn load_or_generate_secret(data_dir: &Path) -> anyhow::Result<Secret> {
    let path = data_dir.join(SECRET_FILE);
    match std::fs::read_to_string(&path) {
        Ok(s) if s.trim().len() >= 32 => return Ok(Secret::new(s.trim())),
        Ok(_) => {
            bail!("{} is shorter than 32 characters; delete it to have a new one generated", path.display())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("while reading {}", path.display())),
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("while creating the data dir {}", data_dir.display()))?;
    let key = hex::encode(rand::random::<[u8; 32]>());
    crate::storage::fsutil::write_file_durably(&path, key.as_bytes(), 0o600)
        .with_context(|| format!("while writing {}", path.display()))?;
    Ok(Secret::new(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn relative_paths_become_absolute_once_and_defaults_follow_the_data_dir() {
        let tmp = tempfile::tempdir().unwrap();
        let s = Settings::from_map(Flags::default(), env(&[("DATA_DIR", "d/../store")]), tmp.path()).unwrap();
        assert_eq!(s.data_dir, tmp.path().join("store"));
        assert_eq!(s.media_root, tmp.path().join("store/media"));
        assert_eq!(s.media_root_source, Source::Default);
        assert_eq!(s.data_dir_source, Source::Env);
        assert!(s.database_url.expose().starts_with("sqlite://"));
        assert!(s.database_url.expose().contains(&*tmp.path().join("store").to_string_lossy()));
        assert_eq!(s.secret_key_source, Source::Generated);
    }

    #[test]
    fn a_flag_wins_over_the_environment_and_says_so() {
        let tmp = tempfile::tempdir().unwrap();
        let flags = Flags { media_root: Some("flagged".into()), ..Flags::default() };
        let s = Settings::from_map(flags, env(&[("MEDIA_ROOT", "/elsewhere")]), tmp.path()).unwrap();
        assert_eq!(s.media_root, tmp.path().join("flagged"));
        assert_eq!(s.media_root_source, Source::Flag);
    }

    #[test]
    fn the_generated_secret_is_kept_across_loads() {
        let tmp = tempfile::tempdir().unwrap();
        let a = Settings::from_map(Flags::default(), env(&[]), tmp.path()).unwrap();
        let b = Settings::from_map(Flags::default(), env(&[]), tmp.path()).unwrap();
        assert_eq!(a.secret_key.expose(), b.secret_key.expose());
        assert_eq!(a.secret_key.expose().len(), 64);
    }

    #[test]
    fn production_without_a_secret_key_is_refused_with_the_fix() {
        let tmp = tempfile::tempdir().unwrap();
        let err = Settings::from_map(Flags::default(), env(&[("ATM_ENV", "production")]), tmp.path())
            .unwrap_err()
            .to_string();
        assert!(err.contains("SECRET_KEY is not set"), "{err}");
        let err = Settings::from_map(Flags::default(), env(&[("RENDER", "true")]), tmp.path())
            .unwrap_err()
            .to_string();
        assert!(err.contains("SECRET_KEY"), "{err}");
    }

    #[test]
    fn production_refuses_weak_and_placeholder_secrets_naming_the_variable_and_the_fix() {
        let tmp = tempfile::tempdir().unwrap();
        let weak =
            ["a".repeat(32), "abc".repeat(12), "django-insecure-0123456789abcdefghij0123456789".to_string()];
        for key in weak.iter().map(String::as_str) {
            for marker in [("ATM_ENV", "production"), ("RENDER", "true")] {
                let err =
                    Settings::from_map(Flags::default(), env(&[marker, ("SECRET_KEY", key)]), tmp.path())
                        .unwrap_err()
                        .to_string();
                assert!(err.contains("SECRET_KEY") && err.contains("openssl rand -hex 32"), "{err}");
                assert!(!err.contains(key), "the error repeats the secret: {err}");
            }
        }
    }

    #[test]
    fn development_accepts_a_weak_secret_and_production_a_random_one() {
        let tmp = tempfile::tempdir().unwrap();
        let weak = "a".repeat(32);
        let s = Settings::from_map(Flags::default(), env(&[("SECRET_KEY", &weak)]), tmp.path()).unwrap();
        assert_eq!(s.secret_key.expose(), weak);
        let good = hex::encode(rand::random::<[u8; 32]>());
        let pairs = [("ATM_ENV", "production"), ("SECRET_KEY", good.as_str())];
        let s = Settings::from_map(Flags::default(), env(&pairs), tmp.path()).unwrap();
        assert!(s.is_production());
    }

    #[test]
    fn a_platform_variable_means_production_but_a_plain_container_does_not() {
        let tmp = tempfile::tempdir().unwrap();
        let key = "9d4b7e1f0c8a3562e7b9d1f4a0c6e8b2";
        let s = Settings::from_map(
            Flags::default(),
            env(&[("FLY_APP_NAME", "atm"), ("SECRET_KEY", key)]),
            tmp.path(),
        )
        .unwrap();
        assert!(s.is_production());
        assert_eq!(s.platform, Some(Platform::Fly));
        let s = Settings::from_map(Flags::default(), env(&[]), tmp.path()).unwrap();
        assert!(!s.is_production());
    }

    #[test]
    fn port_from_the_platform_listens_on_all_interfaces() {
        let tmp = tempfile::tempdir().unwrap();
        let s = Settings::from_map(Flags::default(), env(&[("PORT", "10000")]), tmp.path()).unwrap();
        assert_eq!(s.listen, "0.0.0.0:10000".parse().unwrap());
        let err = Settings::from_map(Flags::default(), env(&[("PORT", "http")]), tmp.path());
        assert!(err.unwrap_err().to_string().contains("PORT"));
    }

    #[test]
    fn excel_limits_default_and_are_validated_with_the_fix() {
        let tmp = tempfile::tempdir().unwrap();
        let s = Settings::from_map(Flags::default(), env(&[]), tmp.path()).unwrap();
        assert_eq!(s.excel, ExcelLimits::default());
        assert_eq!((s.excel.max_columns, s.excel.max_rows), (64, 100_000));
        let s = Settings::from_map(
            Flags::default(),
            env(&[("EXCEL_MAX_COLUMNS", "10"), ("EXCEL_MAX_UNZIPPED_MB", "8")]),
            tmp.path(),
        )
        .unwrap();
        assert_eq!((s.excel.max_columns, s.excel.max_unzipped_bytes), (10, 8 * 1024 * 1024));
        let err = Settings::from_map(Flags::default(), env(&[("EXCEL_MAX_COLUMNS", "3")]), tmp.path())
            .unwrap_err()
            .to_string();
        assert!(err.contains("EXCEL_MAX_COLUMNS") && err.contains("from 5 to 16384"), "{err}");
    }

    #[test]
    fn database_passwords_are_masked_for_display() {
        assert_eq!(redact_url("postgres://app:hunter2@db:5432/atm"), "postgres://app:***@db:5432/atm");
        assert_eq!(redact_url("sqlite:///x/atm.db"), "sqlite:///x/atm.db");
    }

    #[test]
    fn unknown_database_schemes_and_memory_databases_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        for url in ["mysql://x/y", "sqlite::memory:"] {
            let r = Settings::from_map(Flags::default(), env(&[("DATABASE_URL", url)]), tmp.path());
            assert!(r.is_err(), "{url} accepted");
        }
    }
}
