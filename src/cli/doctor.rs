//! `atm-maint doctor [--json]`: the predecessor's two hand-run scripts done right. It changes
//! nothing, prints the report of `ops/doctor.rs` and exits 0 only when everything is healthy.

use crate::config::Settings;
use crate::ops::doctor::{self, Report};
use crate::storage::guard::GuardMode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
}

pub async fn run(settings: Settings, args: Args) -> anyhow::Result<i32> {
    let report = match crate::startup::prepare(&settings, GuardMode::Inspect).await {
        Ok(p) => doctor::build(&settings, Some((&p.db, p.report)), None).await,
        Err(e) => doctor::build(&settings, None, Some(format!("{e:#}"))).await,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_human(&report);
    }
    Ok(if report.healthy { 0 } else { 1 })
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
    if !r.import_findings.is_empty() {
        println!("\nmoved from the original (`atm-maint import django --dry-run` prints the whole report)");
        let mut kinds: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
        for f in &r.import_findings {
            *kinds.entry(f.kind.as_str()).or_default() += 1;
        }
        for (kind, n) in kinds {
            println!("  {kind:<26} {n}");
        }
        let lost = r
            .import_findings
            .iter()
            .filter(|f| f.kind.starts_with("missing_") || f.kind.starts_with("damaged_"));
        for f in lost {
            let report = f.submission_id.map(|id| format!("report {id}: ")).unwrap_or_default();
            println!("  {:<26} {report}{}", f.kind, f.path.clone().unwrap_or_default());
        }
    }
    println!("\nverdict: {}", if r.healthy { "HEALTHY" } else { "PROBLEM" });
    for line in r.verdict.lines() {
        println!("  {line}");
    }
}

fn gib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0 * 1024.0)
}
