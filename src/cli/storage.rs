//! `atm-maint storage adopt`: the explicit, deliberate way to tell the service that the attached
//! storage is the right one after a move, so the identity check passes again.

use crate::config::Settings;
use crate::db::{Db, meta, objects};
use crate::storage::identity::{self, Marker};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Make the media root's marker and the database agree (the database's id wins when it has one)
    Adopt,
    /// Copy every stored object to another store, verifying each by SHA-256; resumable
    Migrate(MigrateArgs),
}

#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// Target: a folder (/var/data/media) or a bucket (s3://bucket[/prefix])
    #[arg(long)]
    pub to: String,
    /// S3 endpoint for an S3-compatible service (MinIO, R2, ...); credentials come from
    /// S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY (or AWS_*)
    #[arg(long)]
    pub endpoint: Option<String>,
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
}

pub async fn run(settings: Settings, cmd: Command) -> anyhow::Result<i32> {
    match cmd {
        Command::Adopt => adopt(settings).await,
        Command::Migrate(args) => migrate(settings, args).await,
    }
}

async fn migrate(settings: Settings, args: MigrateArgs) -> anyhow::Result<i32> {
    use crate::storage::{LocalStore, MediaStore, S3Store};
    let from = crate::storage::open(&settings)?;
    let (to, switch) = if let Some(rest) = args.to.strip_prefix("s3://") {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let s3 = crate::config::S3Settings {
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
            endpoint: args.endpoint.clone(),
            region: args.region.clone(),
            access_key_id: env("S3_ACCESS_KEY_ID").or_else(|| env("AWS_ACCESS_KEY_ID")),
            secret_access_key: env("S3_SECRET_ACCESS_KEY")
                .or_else(|| env("AWS_SECRET_ACCESS_KEY"))
                .map(crate::config::Secret::new),
            path_style: args.endpoint.is_some(),
            presigned_redirects: false,
        };
        let mut switch = format!("STORAGE_BACKEND=s3\nS3_BUCKET={bucket}\nS3_REGION={}\n", args.region);
        if !prefix.is_empty() {
            switch.push_str(&format!("S3_PREFIX={prefix}\n"));
        }
        if let Some(e) = &args.endpoint {
            switch.push_str(&format!("S3_ENDPOINT={e}\n"));
        }
        (MediaStore::s3(S3Store::new(&s3)?), switch)
    } else {
        let root = std::path::PathBuf::from(&args.to);
        anyhow::ensure!(root.is_absolute(), "--to must be an absolute folder or s3://bucket[/prefix]");
        crate::storage::fsutil::create_dir_all_durable(&root)?;
        let local = LocalStore::new(&root);
        local.create_areas()?;
        (MediaStore::local(local), format!("STORAGE_BACKEND=local\nMEDIA_ROOT={}\n", root.display()))
    };
    to.probe().await.map_err(|e| anyhow::anyhow!("the target is not usable: {e}"))?;
    let db = Db::connect(settings.database_url.expose()).await?;
    db.migrate().await?;
    println!("copying from {} to {}", from.describe(), to.describe());
    let report = crate::ops::migrate::run(&db, &from, &to, |_| {}).await?;
    println!(
        "{} objects: {} copied, {} already there and verified, {} missing at the source, {} corrupt at the source, {} failed",
        report.objects,
        report.copied,
        report.already_there,
        report.missing_at_source.len(),
        report.corrupt_at_source.len(),
        report.failed.len()
    );
    for k in &report.missing_at_source {
        println!("MISSING  {k}");
    }
    for k in &report.corrupt_at_source {
        println!("CORRUPT  {k}");
    }
    for k in &report.failed {
        println!("FAILED   {k}");
    }
    if !report.complete() {
        println!(
            "not every object is verified at the target: keep the current configuration; fix the above and rerun"
        );
        return Ok(1);
    }
    println!(
        "every object is verified at the target. Objects stored while this ran are copied by running it again."
    );
    println!("To switch, stop the service, run this once more, then set:\n{switch}");
    Ok(0)
}

async fn adopt(settings: Settings) -> anyhow::Result<i32> {
    let store = crate::storage::open(&settings)?;
    if !store.root_exists() {
        anyhow::bail!("the media root {} does not exist; mount the storage first", store.describe());
    }
    store.probe().await.map_err(|e| anyhow::anyhow!(e))?;
    let db = Db::connect(settings.database_url.expose()).await?;
    db.migrate().await?;
    let marker = store.read_marker().await?;
    let db_id = meta::get(&db, meta::STORAGE_ID).await?;
    let (referenced, _) = objects::count(&db).await?;
    let id = match (&db_id, &marker) {
        (Some(id), _) => id.clone(),
        (None, Some(m)) => m.storage_id.clone(),
        (None, None) => identity::new_storage_id(),
    };
    meta::set(&db, meta::STORAGE_ID, &id).await?;
    store.write_marker(&Marker::new(&id)).await?;
    println!(
        "storage {id} adopted: marker in {} and database {} now agree (previous marker: {}, previous database id: {})",
        store.describe(),
        settings.database_display(),
        marker.as_ref().map(|m| m.storage_id.clone()).unwrap_or_else(|| "none".into()),
        db_id.clone().unwrap_or_else(|| "none".into()),
    );
    if referenced > 0 {
        println!(
            "the database references {referenced} stored file(s); check that they are all present on this storage"
        );
    }
    let detail = serde_json::json!({
        "storage_id": id, "store": store.describe(), "referenced_files": referenced,
        "previous_database_id": db_id, "previous_marker": marker.as_ref().map(|m| m.storage_id.clone()),
    });
    crate::ops::audit::note_cli(&db, crate::domain::audit::Action::StorageAdopt, None, detail).await;
    Ok(0)
}
