//! The doctor report: effective configuration (secrets as set/unset), storage and database
//! facts and a verdict. Built by `atm-maint doctor` from what it opens and by
//! `GET /api/admin/doctor` from the running service's own pool and store. It changes nothing.

use serde::Serialize;

use crate::config::Settings;
use crate::db::{Db, objects};
use crate::storage::MediaStore;
use crate::storage::guard::{self, GuardMode, StorageReport};

#[derive(Debug, Serialize)]
pub(crate) struct Report {
    pub version: &'static str,
    pub healthy: bool,
    pub verdict: String,
    pub config: serde_json::Value,
    pub storage: Option<StorageReport>,
    pub database: DatabaseReport,
    /// Files the background scrub found damaged or missing: (key, problem).
    pub scrub_findings: Vec<(String, String)>,
    /// At the last week's upload rate, days until the media disk is full.
    pub days_until_full: Option<f64>,
    /// The loss report of an import from the original deployment (empty without one): what was
    /// already gone or damaged before the move. Known history, not a fault of this service.
    pub import_findings: Vec<crate::db::imported::Finding>,
}

#[derive(Debug, Serialize)]
pub(crate) struct DatabaseReport {
    pub backend: Option<String>,
    pub location: String,
    pub reachable: bool,
    pub durability: Option<crate::db::Durability>,
    pub stored_objects: Option<i64>,
    pub stored_bytes: Option<i64>,
    pub error: Option<String>,
}

pub(crate) fn config_summary(s: &Settings) -> serde_json::Value {
    let set = |b: bool| if b { "set" } else { "unset" };
    serde_json::json!({
        "environment": s.environment,
        "production_rules": s.is_production(),
        "platform": s.platform,
        "in_container": s.in_container,
        "DATA_DIR": s.data_dir,
        "MEDIA_ROOT": s.media_root,
        "MEDIA_ROOT_source": s.media_root_source,
        "DATABASE_URL": s.database_display(),
        "DATABASE_URL_source": s.database_source,
        "listen": s.listen.to_string(),
        "SECRET_KEY": format!("set ({})", s.secret_key_source),
        "MEDIA_BASE_URL": s.media_base_url,
        "CORS_ALLOWED_ORIGINS": s.cors_allowed_origins,
        "EMAIL_HOST": s.email.host,
        "EMAIL_PORT": s.email.port,
        "EMAIL_HOST_USER": s.email.user,
        "EMAIL_HOST_PASSWORD": set(s.email.password.is_some()),
        "DEFAULT_FROM_EMAIL": s.email.default_from,
        "ATM_ALLOW_EPHEMERAL_MEDIA": s.allow_ephemeral_media,
    })
}

/// The report of a running service: its own database pool and store, the storage checks run
/// again now (inspecting, changing nothing).
pub(crate) async fn of_running(settings: &Settings, db: &Db, store: &MediaStore) -> Report {
    let storage = guard::check(settings, db, store, GuardMode::Inspect).await;
    build(settings, Some((db, storage)), None).await
}

/// The report from what start-up prepared, or from the reason it could not.
pub(crate) async fn build(
    settings: &Settings,
    prepared: Option<(&Db, StorageReport)>,
    error: Option<String>,
) -> Report {
    let mut database = DatabaseReport {
        backend: None,
        location: settings.database_display(),
        reachable: false,
        durability: None,
        stored_objects: None,
        stored_bytes: None,
        error,
    };
    let mut scrub_findings = Vec::new();
    let mut days_until_full = None;
    let mut import_findings = Vec::new();
    let storage = match prepared {
        Some((db, report)) => {
            fill_database(db, &mut database).await;
            import_findings = crate::db::imported::findings(db).await.unwrap_or_default();
            scrub_findings = objects::scrub_findings(db)
                .await
                .map(|v| v.into_iter().map(|f| (f.key.to_string(), f.problem)).collect())
                .unwrap_or_default();
            let week_ago = (chrono::Utc::now() - chrono::Duration::days(7))
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            if let (Ok(bytes), Some(space)) = (objects::bytes_since(db, &week_ago).await, &report.space) {
                let per_day = bytes as f64 / 7.0;
                if per_day > 0.0 {
                    days_until_full = Some((space.free_bytes as f64 / per_day * 10.0).round() / 10.0);
                }
            }
            Some(report)
        }
        None => None,
    };
    let (mut healthy, mut verdict) = verdict(storage.as_ref(), &database);
    if !scrub_findings.is_empty() {
        healthy = false;
        verdict = format!(
            "{} stored file(s) failed the background scrub (damaged or missing); run `atm-maint fsck` and restore them from a backup\n{verdict}",
            scrub_findings.len()
        );
    }
    Report {
        version: env!("CARGO_PKG_VERSION"),
        healthy,
        verdict,
        config: config_summary(settings),
        storage,
        database,
        scrub_findings,
        days_until_full,
        import_findings,
    }
}

async fn fill_database(db: &Db, out: &mut DatabaseReport) {
    out.backend = Some(db.backend().to_string());
    out.reachable = db.ping().await;
    match db.durability().await {
        Ok(d) => out.durability = Some(d),
        Err(e) => out.error = Some(format!("cannot read durability settings: {e}")),
    }
    match objects::count(db).await {
        Ok((n, bytes)) => {
            out.stored_objects = Some(n);
            out.stored_bytes = Some(bytes);
        }
        Err(e) => out.error = Some(format!("cannot count stored files ({e}); has `atm-maint migrate` run?")),
    }
}

fn verdict(storage: Option<&StorageReport>, db: &DatabaseReport) -> (bool, String) {
    let Some(storage) = storage else {
        return (false, format!("the database is unreachable: {}", db.error.clone().unwrap_or_default()));
    };
    let mut wrong: Vec<String> = storage.problems.iter().map(|p| p.message.clone()).collect();
    if !db.reachable {
        wrong.push("the database is unreachable".into());
    }
    if let Some(e) = &db.error {
        wrong.push(e.clone());
    }
    if let Some(p) = db.durability.as_ref().and_then(|d| d.problem.clone()) {
        wrong.push(p);
    }
    if !wrong.is_empty() {
        (false, wrong.join("\n"))
    } else if storage.persistent {
        (true, "media storage is persistent, writable and matches the database".into())
    } else {
        // Only development gets here: production turns this into a problem above.
        let reason = storage.ephemeral_reason.clone().unwrap_or_default();
        (true, format!("media storage works but is NOT persistent ({reason}); fine for development only"))
    }
}
