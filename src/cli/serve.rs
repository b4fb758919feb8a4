//! `atm-maint serve`: start-up report, storage guard, then traffic.

use std::net::SocketAddr;

use crate::config::Settings;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on, e.g. 0.0.0.0:8000 [default: 0.0.0.0:$PORT when PORT is set, else 127.0.0.1:8000]
    #[arg(long)]
    pub listen: Option<SocketAddr>,
}

pub async fn run(settings: Settings) -> anyhow::Result<i32> {
    crate::startup::run(settings).await
}
