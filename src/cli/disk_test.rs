//! `atm-maint disk-test`: writes a timestamped probe naming this host and boot into the media
//! root, then lists the probes earlier runs left. Run it, restart or redeploy, run it again: if
//! the earlier probe is listed, files survive restarts.

use std::path::Path;

use anyhow::Context;

use crate::config::Settings;
use crate::storage::fsutil;
use crate::storage::identity::hostname;

const FOLDER: &str = "disk-test";

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Probe {
    written_at: String,
    host: String,
    boot_id: String,
    pid: u32,
}

pub async fn run(settings: Settings) -> anyhow::Result<i32> {
    match crate::storage::open(&settings)? {
        crate::storage::MediaStore::S3(bucket) => run_bucket(&bucket).await,
        crate::storage::MediaStore::Local(_) => run_local(&settings),
    }
}

/// The same probe as an object in the bucket.
async fn run_bucket(bucket: &crate::storage::S3Store) -> anyhow::Result<i32> {
    let probe = Probe {
        written_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        host: hostname(),
        boot_id: boot_id(),
        pid: std::process::id(),
    };
    let name = format!("{FOLDER}/probe-{}.json", chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"));
    let written = async {
        bucket.put_small(&name, serde_json::to_vec_pretty(&probe)?).await?;
        let back = bucket.get_small(&name).await?.ok_or_else(|| anyhow::anyhow!("the probe vanished"))?;
        let back: Probe = serde_json::from_slice(&back)?;
        anyhow::ensure!(
            back.written_at == probe.written_at,
            "the probe read back differs from what was written"
        );
        Ok::<_, anyhow::Error>(())
    };
    if let Err(e) = written.await {
        eprintln!("FAIL: {e:#}");
        return Ok(1);
    }
    println!("media store: {}", bucket.describe());
    println!("wrote probe {name} (host {}, boot {})", probe.host, probe.boot_id);
    let mut earlier = Vec::new();
    for crate::storage::Listed { key, .. } in bucket.list(FOLDER).await? {
        if key == name {
            continue;
        }
        if let Some(p) = bucket.get_small(&key).await?.and_then(|b| serde_json::from_slice::<Probe>(&b).ok())
        {
            earlier.push(p);
        }
    }
    earlier.sort_by(|a, b| a.written_at.cmp(&b.written_at));
    report(&probe, &earlier);
    Ok(0)
}

fn run_local(settings: &Settings) -> anyhow::Result<i32> {
    let root = &settings.media_root;
    if !root.is_dir() {
        eprintln!(
            "FAIL: the media root {} does not exist (from {}); mount the storage or set MEDIA_ROOT",
            root.display(),
            settings.media_root_source
        );
        return Ok(2);
    }
    let dir = root.join(FOLDER);
    let probe = Probe {
        written_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        host: hostname(),
        boot_id: boot_id(),
        pid: std::process::id(),
    };
    let name = format!(
        "probe-{}-{}.json",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
        &probe.boot_id[..8.min(probe.boot_id.len())]
    );
    let path = dir.join(&name);
    let written = (|| -> anyhow::Result<()> {
        fsutil::create_dir_all_durable(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let json = serde_json::to_vec_pretty(&probe)?;
        fsutil::write_file_durably(&path, &json, 0o644)
            .with_context(|| format!("cannot write {}", path.display()))?;
        let back: Probe = serde_json::from_slice(&std::fs::read(&path)?)?;
        anyhow::ensure!(
            back.written_at == probe.written_at,
            "the probe read back differs from what was written"
        );
        Ok(())
    })();
    if let Err(e) = written {
        eprintln!("FAIL: {e:#}");
        return Ok(1);
    }
    println!("media root: {} (from {})", root.display(), settings.media_root_source);
    println!("wrote probe {name} (host {}, boot {})", probe.host, probe.boot_id);
    let earlier = list(&dir, &name)?;
    report(&probe, &earlier);
    Ok(0)
}

fn report(probe: &Probe, earlier: &[Probe]) {
    let other_boots = earlier.iter().filter(|p| p.boot_id != probe.boot_id || p.host != probe.host).count();
    println!("earlier probes: {}", earlier.len());
    for p in earlier {
        let note = if p.boot_id == probe.boot_id && p.host == probe.host {
            "same boot"
        } else {
            "earlier boot or host"
        };
        println!("  {}  host {}  boot {}  ({note})", p.written_at, p.host, p.boot_id);
    }
    if other_boots > 0 {
        println!(
            "verdict: {other_boots} probe(s) from an earlier boot or container survived: this storage persists across restarts"
        );
    } else if earlier.is_empty() {
        println!("verdict: first probe here; restart or redeploy, then run `atm-maint disk-test` again");
    } else {
        println!("verdict: only probes from this boot so far; restart or redeploy, then run it again");
    }
}

fn list(dir: &Path, skip: &str) -> anyhow::Result<Vec<Probe>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == skip || !name.starts_with("probe-") {
            continue;
        }
        if let Ok(p) = std::fs::read(entry.path())
            .map_err(anyhow::Error::from)
            .and_then(|b| Ok(serde_json::from_slice::<Probe>(&b)?))
        {
            out.push(p);
        }
    }
    out.sort_by(|a, b| a.written_at.cmp(&b.written_at));
    Ok(out)
}

fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}
