//! `atm-maint user create|set-password|list`: accounts from the command line. Passwords come
//! from `ATM_PASSWORD` or standard input — never from argv, where `ps` and shell history see them.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};

use crate::auth::password;
use crate::config::Settings;
use crate::db::{Db, users};
use crate::domain::Role;
use crate::domain::accounts::{self, FieldErrors};
use crate::domain::audit::Action;
use crate::ops::audit;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create an account (password from ATM_PASSWORD or standard input)
    Create {
        #[arg(long, value_enum)]
        role: Role,
        #[arg(long)]
        username: String,
        /// Required for technicians
        #[arg(long)]
        city: Option<String>,
    },
    /// Set a new password (from ATM_PASSWORD or standard input)
    SetPassword {
        #[arg(long)]
        username: String,
    },
    /// List accounts
    List,
}

pub async fn run(settings: Settings, cmd: Command) -> anyhow::Result<i32> {
    let db = Db::connect(settings.database_url.expose()).await?;
    db.migrate().await?;
    match cmd {
        Command::Create { role, username, city } => {
            let mut errors = FieldErrors::new();
            let username = accounts::validate_username(Some(&username), &mut errors);
            let city = match (role, city) {
                (Role::Technician, c) => accounts::validate_city(c.as_deref(), &mut errors),
                (_, c) => c.map(|c| c.trim().to_string()).filter(|c| !c.is_empty()),
            };
            let pass = read_password()?;
            let pass = accounts::validate_password(Some(&pass), username.as_deref(), &mut errors);
            let (Some(username), Some(pass), true) = (username, pass, errors.is_empty()) else {
                for (field, msg) in &errors {
                    eprintln!("{field}: {msg}");
                }
                return Ok(2);
            };
            let hash = password::hash(pass).await?;
            match users::create(&db, &username, &hash, role, city.as_deref()).await {
                Ok(u) => {
                    println!("created {} account {} (id {})", u.role, u.username, u.id);
                    let detail =
                        serde_json::json!({ "username": u.username, "role": u.role, "city": u.city });
                    audit::note_cli(&db, Action::CreateUser, Some(format!("user:{}", u.id)), detail).await;
                }
                Err(users::CreateError::UsernameTaken) => {
                    bail!("a user named {username} already exists")
                }
                Err(users::CreateError::Db(e)) => {
                    return Err(e).context("while creating the account");
                }
            }
        }
        Command::SetPassword { username } => {
            let pass = read_password()?;
            let mut errors = FieldErrors::new();
            let Some(pass) = accounts::validate_password(Some(&pass), Some(&username), &mut errors) else {
                for (field, msg) in &errors {
                    eprintln!("{field}: {msg}");
                }
                return Ok(2);
            };
            let hash = password::hash(pass).await?;
            if !users::set_password(&db, &username, &hash).await? {
                bail!("no user named {username}");
            }
            // A new password signs the person out of every browser.
            let ended = match users::by_username(&db, &username).await? {
                Some(u) => crate::db::sessions::delete_for_user(&db, u.id).await?,
                None => 0,
            };
            println!("password of {username} changed; {ended} browser session(s) signed out");
            let target = users::by_username(&db, &username).await?.map(|u| format!("user:{}", u.id));
            let detail = serde_json::json!({ "username": username, "sessions_ended": ended });
            audit::note_cli(&db, Action::PasswordChange, target, detail).await;
        }
        Command::List => {
            println!("{:<6} {:<24} {:<12} {:<16} created", "id", "username", "role", "city");
            for u in users::list(&db, None).await? {
                println!(
                    "{:<6} {:<24} {:<12} {:<16} {}{}",
                    u.id,
                    u.username,
                    u.role,
                    u.city.unwrap_or_default(),
                    u.created_at,
                    if u.is_active { "" } else { " (inactive)" }
                );
            }
        }
    }
    Ok(0)
}

fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("ATM_PASSWORD") {
        return Ok(p);
    }
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password("Password: ").context("while reading the password");
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("while reading the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}
