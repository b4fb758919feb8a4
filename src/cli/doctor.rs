//! `atm-maint doctor [--json]`: the predecessor's two hand-run scripts done right. It changes
//! nothing, prints effective configuration (secrets as set/unset), storage and database facts
//! and a verdict, and exits 0 only when everything is healthy.

use serde::Serialize;

use crate::app;
use crate::config::Settings;
use crate::db::{Db, objects};
use crate::storage::guard::{GuardMode, StorageReport};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
pub struct Report {
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
}

#[derive(Debug, Serialize)]
pub struct DatabaseReport {
    pub backend: Option<String>,
    pub location: String,
    pub reachable: bool,
    pub durability: Option<crate::db::Durability>,
    pub stored_objects: Option<i64>,
    pub stored_bytes: Option<i64>,
    pub error: Option<String>,
}

pub async fn run(settings: Settings, args: Args) -> anyhow::Result<i32> {
    let report = build(&settings).await;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_human(&report);
    }
    Ok(if report.healthy { 0 } else { 1 })
}

pub fn config_summary(s: &Settings) -> serde_json::Value {
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

pub async fn build(settings: &Settings) -> Report {
    let mut database = DatabaseReport {
        backend: None,
        location: settings.database_display(),
        reachable: false,
        durability: None,
        stored_objects: None,
        stored_bytes: None,
        error: None,
    };
    let prepared = app::prepare(settings, GuardMode::Inspect).await;
    let mut scrub_findings = Vec::new();
    let mut days_until_full = None;
    let storage = match prepared {
        Ok(p) => {
            fill_database(&p.db, &mut database).await;
            scrub_findings = objects::scrub_findings(&p.db).await.unwrap_or_default();
            let week_ago = (chrono::Utc::now() - chrono::Duration::days(7))
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            if let (Ok(bytes), Some(space)) = (objects::bytes_since(&p.db, &week_ago).await, p.report.space) {
                let per_day = bytes as f64 / 7.0;
                if per_day > 0.0 {
                    days_until_full = Some((space.free_bytes as f64 / per_day * 10.0).round() / 10.0);
                }
            }
            Some(p.report)
        }
        Err(e) => {
            database.error = Some(format!("{e:#}"));
            None
        }
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

fn print_human(r: &Report) {
    println!("atm-maint doctor {}", r.version);
    println!("\nconfiguration");
    if let Some(map) = r.config.as_object() {
        for (k, v) in map {
            println!("  {k:<26} {v}");
        }
    }
    if let Some(s) = &r.storage {
        println!("\nmedia storage ({})", s.store);
        println!("  root                       {} (from {})", s.media_root.display(), s.media_root_source);
        println!("  exists                     {}", s.exists);
        if let Some(m) = &s.mount {
            println!(
                "  mount                      {} type {} from {} (device {})",
                m.mount_point.display(),
                m.fs_type,
                m.source,
                m.device
            );
        }
        if let Some(sp) = &s.space {
            println!(
                "  space                      {:.1} GiB free of {:.1} GiB ({}% used)",
                gib(sp.free_bytes),
                gib(sp.total_bytes),
                sp.used_percent
            );
        }
        println!(
            "  persistent                 {}",
            if s.persistent {
                "yes".to_string()
            } else {
                format!("NO: {}", s.ephemeral_reason.clone().unwrap_or_default())
            }
        );
        println!("  writable                   {}", s.writable);
        println!("  identity                   {} {}", s.identity, s.storage_id.clone().unwrap_or_default());
        for w in &s.warnings {
            println!("  warning                    {w}");
        }
    }
    let d = &r.database;
    println!("\ndatabase");
    println!("  backend                    {}", d.backend.clone().unwrap_or_else(|| "?".into()));
    println!("  location                   {}", d.location);
    println!("  reachable                  {}", d.reachable);
    if let Some(du) = &d.durability {
        let list: Vec<String> = du.settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!("  durability                 {}", list.join(", "));
    }
    if let (Some(n), Some(b)) = (d.stored_objects, d.stored_bytes) {
        println!("  stored files               {n} ({:.1} MiB)", b as f64 / 1048576.0);
    }
    if let Some(days) = r.days_until_full {
        println!("  days until full            {days} at the last week's upload rate");
    }
    for (key, problem) in &r.scrub_findings {
        println!("  scrub finding              {key}: {problem}");
    }
    println!("\nverdict: {}", if r.healthy { "HEALTHY" } else { "PROBLEM" });
    for line in r.verdict.lines() {
        println!("  {line}");
    }
}

fn gib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0 * 1024.0)
}
