//! `atm-maint openapi`: prints the OpenAPI document `/api/openapi.json` serves, without starting
//! the service or opening storage (for client generators and CI).

use crate::config::Settings;

pub fn run(settings: Settings) -> anyhow::Result<i32> {
    let doc = crate::app::openapi(&settings);
    println!("{}", serde_json::to_string_pretty(&doc)?);
    Ok(0)
}
