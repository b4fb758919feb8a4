//! `atm-maint storage adopt`: the explicit, deliberate way to tell the service that the attached
//! storage is the right one after a move, so the identity check passes again.

use crate::config::Settings;
use crate::db::{Db, meta, objects};
use crate::storage::identity::{self, Marker};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Make the media root's marker and the database agree (the database's id wins when it has one)
    Adopt,
}

pub async fn run(settings: Settings, cmd: Command) -> anyhow::Result<i32> {
    match cmd {
        Command::Adopt => adopt(settings).await,
    }
}

async fn adopt(settings: Settings) -> anyhow::Result<i32> {
    let store = crate::storage::open(&settings)?;
    if let crate::storage::MediaStore::Local(local) = &store
        && !local.root().is_dir()
    {
        anyhow::bail!("the media root {} does not exist; mount the storage first", local.root().display());
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
        marker.map(|m| m.storage_id).unwrap_or_else(|| "none".into()),
        db_id.unwrap_or_else(|| "none".into()),
    );
    if referenced > 0 {
        println!(
            "the database references {referenced} stored file(s); check that they are all present on this storage"
        );
    }
    Ok(0)
}
