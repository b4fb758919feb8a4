//! `atm-maint audit verify [--json]`: checks the audit trail's hash chain and names the first
//! broken row (exit 0 intact, 1 broken); `atm-maint audit export [--output FILE]`: every row,
//! oldest first, as JSON lines.

use std::path::PathBuf;

use anyhow::Context;

use crate::config::Settings;
use crate::db::Db;
use crate::ops::audit;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Check that no row was changed or deleted since it was written; exit 0 only when intact
    Verify {
        /// Print the verdict as JSON
        #[arg(long)]
        json: bool,
    },
    /// Write every row, oldest first, as JSON lines (to standard output unless --output)
    Export {
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

pub async fn run(settings: Settings, cmd: Command) -> anyhow::Result<i32> {
    let db = Db::connect(settings.database_url.expose()).await?;
    db.migrate().await?;
    match cmd {
        Command::Verify { json } => {
            let v = audit::verify(&db).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                match &v.first_broken {
                    None => println!("audit trail intact: {} row(s), each chained to the one before", v.rows),
                    Some(b) => println!(
                        "audit trail BROKEN at row {}: {} ({} row(s) before it are intact)",
                        b.id, b.reason, v.rows
                    ),
                }
            }
            Ok(if v.first_broken.is_none() { 0 } else { 1 })
        }
        Command::Export { output } => {
            let n = match &output {
                Some(path) => {
                    let file = std::fs::File::create(path)
                        .with_context(|| format!("while creating {}", path.display()))?;
                    audit::export(&db, &mut std::io::BufWriter::new(file)).await?
                }
                None => audit::export(&db, &mut std::io::BufWriter::new(std::io::stdout().lock())).await?,
            };
            eprintln!("{n} audit row(s) exported");
            Ok(0)
        }
    }
}
