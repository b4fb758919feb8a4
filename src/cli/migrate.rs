//! `atm-maint migrate`: run database migrations and exit (serve also runs them at start).

use crate::config::Settings;
use crate::db::Db;

pub async fn run(settings: Settings) -> anyhow::Result<i32> {
    let db = Db::connect(settings.database_url.expose()).await?;
    db.migrate().await?;
    println!("database {} is migrated", settings.database_display());
    Ok(0)
}
