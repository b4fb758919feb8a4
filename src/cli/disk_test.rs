//! `atm-maint disk-test`: writes a timestamped probe naming this host and boot into the media
//! store, then lists the probes earlier runs left. Run it, restart or redeploy, run it again: if
//! the earlier probe is listed, files survive restarts.

use crate::config::Settings;
use crate::storage::MediaStore;
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
    let store = crate::storage::open(&settings)?;
    if !store.root_exists() {
        eprintln!(
            "FAIL: the media root {} does not exist (from {}); mount the storage or set MEDIA_ROOT",
            store.describe(),
            settings.media_root_source
        );
        return Ok(2);
    }
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
    if let Err(e) = write_and_read_back(&store, &name, &probe).await {
        eprintln!("FAIL: {e:#}");
        return Ok(1);
    }
    println!("media store: {} ({}, from {})", store.describe(), store.name(), settings.media_root_source);
    println!("wrote probe {name} (host {}, boot {})", probe.host, probe.boot_id);
    let earlier = earlier_probes(&store, &name).await?;
    report(&probe, &earlier);
    Ok(0)
}

async fn write_and_read_back(store: &MediaStore, name: &str, probe: &Probe) -> anyhow::Result<()> {
    let key = format!("{FOLDER}/{name}");
    store.put_note(&key, serde_json::to_vec_pretty(probe)?).await?;
    let back = store.get_note(&key).await?.ok_or_else(|| anyhow::anyhow!("the probe vanished"))?;
    let back: Probe = serde_json::from_slice(&back)?;
    anyhow::ensure!(back.written_at == probe.written_at, "the probe read back differs from what was written");
    Ok(())
}

/// Every readable probe but this run's, oldest first.
async fn earlier_probes(store: &MediaStore, skip: &str) -> anyhow::Result<Vec<Probe>> {
    let mut out = Vec::new();
    for name in store.list_notes(FOLDER).await? {
        if name == skip || !name.starts_with("probe-") {
            continue;
        }
        let read = store.get_note(&format!("{FOLDER}/{name}")).await?;
        if let Some(p) = read.and_then(|b| serde_json::from_slice::<Probe>(&b).ok()) {
            out.push(p);
        }
    }
    out.sort_by(|a, b| a.written_at.cmp(&b.written_at));
    Ok(out)
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

fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}
