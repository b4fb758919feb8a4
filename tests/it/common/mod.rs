//! Test harness: the real `atm-maint` binary started as a process on port 0 with its own data
//! dir and a fresh database (SQLite, and PostgreSQL when the suite is given one), plus helpers
//! for real mounts (tmpfs, loop-mounted ext4) where the machine allows them.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_atm-maint");

/// The binary under test: `ATM_TEST_BIN` when set (worktrees sharing one CARGO_TARGET_DIR also
/// share the uplifted `target/debug/atm-maint`, so each may point at its own `deps/` copy).
pub fn bin() -> String {
    std::env::var("ATM_TEST_BIN").unwrap_or_else(|_| BIN.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where an ignored test says what it needs; `.ci/run` installs all of it and runs them with
/// `--include-ignored`, so a run without them lists them as ignored instead of passing them.
pub const NEEDS_POSTGRES: &str = "needs PostgreSQL: ATM_TEST_POSTGRES_URL (scripts/test starts one as root)";

/// Runs the scenario `async fn $name(backend: Backend)` once per database, as two tests:
/// `$name::sqlite`, and `$name::postgres`, which is ignored unless asked for (it needs
/// `ATM_TEST_POSTGRES_URL`). `needs = "…"` ignores both, with what else the scenario needs.
macro_rules! on_each_database {
    ($name:ident $(, worker_threads = $threads:literal)?) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread" $(, worker_threads = $threads)?)]
            async fn sqlite() {
                super::$name($crate::common::Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread" $(, worker_threads = $threads)?)]
            #[ignore = "needs PostgreSQL: ATM_TEST_POSTGRES_URL (scripts/test starts one as root)"]
            async fn postgres() {
                super::$name($crate::common::Backend::Postgres).await
            }
        }
    };
    ($name:ident, needs = $why:literal) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread")]
            #[ignore = $why]
            async fn sqlite() {
                super::$name($crate::common::Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread")]
            #[ignore = $why]
            async fn postgres() {
                super::$name($crate::common::Backend::Postgres).await
            }
        }
    };
}
pub(crate) use on_each_database;

/// The admin URL of the PostgreSQL this run was given.
pub fn postgres_url() -> String {
    std::env::var("ATM_TEST_POSTGRES_URL").unwrap_or_else(|_| panic!("{NEEDS_POSTGRES}"))
}

/// The S3-compatible server of this run (`ATM_TEST_S3_ENDPOINT`, started by scripts/test), with
/// a fresh bucket: (endpoint, bucket).
pub async fn s3_bucket() -> (String, String) {
    let endpoint = std::env::var("ATM_TEST_S3_ENDPOINT").expect(
        "needs an S3-compatible server: ATM_TEST_S3_ENDPOINT (scripts/test starts moto when installed)",
    );
    let bucket = format!("atm-test-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let r = reqwest::Client::new().put(format!("{endpoint}/{bucket}")).send().await.expect("create bucket");
    assert!(r.status().is_success(), "bucket creation failed: {}", r.status());
    (endpoint, bucket)
}

/// A small pool on a database of either engine, for a test's own reads and writes.
pub async fn any_pool(url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::any::AnyPoolOptions::new().max_connections(2).connect(url).await.unwrap()
}

/// A fresh database of the given kind; returns its URL.
pub async fn fresh_database(backend: Backend, dir: &Path) -> String {
    match backend {
        Backend::Sqlite => format!("sqlite://{}/atm-test.db", dir.display()),
        Backend::Postgres => {
            use sqlx::Connection;
            let admin = postgres_url();
            let name = format!("atm_test_{}", uuid::Uuid::new_v4().simple());
            let mut conn = sqlx::PgConnection::connect(&admin).await.expect("connect to test PostgreSQL");
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .expect("create test database");
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
            format!("{base}/{name}")
        }
    }
}

/// The environment of one deployment under test: data dir, media root, database.
#[derive(Clone, Debug)]
pub struct Deployment {
    pub data_dir: PathBuf,
    pub media_root: PathBuf,
    pub database_url: String,
    pub env: HashMap<String, String>,
}

impl Deployment {
    pub async fn new(backend: Backend, dir: &Path) -> Deployment {
        let data_dir = dir.join("data");
        std::fs::create_dir_all(&data_dir).unwrap();
        Deployment {
            media_root: data_dir.join("media"),
            database_url: fresh_database(backend, &data_dir).await,
            data_dir,
            env: HashMap::from([("ATM_TEST_ROUTES".into(), "true".into())]),
        }
    }

    pub fn with(mut self, k: &str, v: &str) -> Self {
        self.env.insert(k.into(), v.into());
        self
    }

    pub fn without(mut self, k: &str) -> Self {
        self.env.remove(k);
        self
    }

    /// Media in a bucket instead of MEDIA_ROOT.
    pub fn with_s3(self, endpoint: &str, bucket: &str) -> Self {
        self.with("STORAGE_BACKEND", "s3")
            .with("S3_ENDPOINT", endpoint)
            .with("S3_BUCKET", bucket)
            .with("S3_ACCESS_KEY_ID", "test")
            .with("S3_SECRET_ACCESS_KEY", "test")
            .with("S3_REGION", "us-east-1")
    }

    pub fn production(self) -> Self {
        self.with("ATM_ENV", "production")
            .with("SECRET_KEY", "test-secret-key-that-is-long-enough-0123456789")
            .without("ATM_TEST_ROUTES")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin());
        c.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATA_DIR", &self.data_dir)
            .env("MEDIA_ROOT", &self.media_root)
            .env("DATABASE_URL", &self.database_url)
            .env("RUST_LOG", "info,sqlx=warn")
            .envs(&self.env)
            .args(args);
        c
    }

    /// Runs a CLI command to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).stdin(Stdio::null()).output().expect("run atm-maint")
    }

    /// Starts `serve` on an ephemeral port and waits until it listens, or returns its logs and
    /// exit status if it refused to start.
    pub fn start(&self) -> Result<Server, Refused> {
        let mut child = self
            .command(&["serve", "--listen", "127.0.0.1:0"])
            .env("LOG_FORMAT", "json")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn atm-maint serve");
        let logs = Arc::new(Mutex::new(Vec::<String>::new()));
        let (tx, rx) = mpsc::channel::<String>();
        let stderr = child.stderr.take().unwrap();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
                    && v["message"] == "listening"
                {
                    let _ = tx.send(v["address"].as_str().unwrap_or_default().to_string());
                }
                sink.lock().unwrap().push(line);
            }
        });
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(addr) => Ok(Server { child, base: format!("http://{addr}"), logs }),
            Err(_) => {
                let status = child.wait().expect("wait for refused server");
                std::thread::sleep(Duration::from_millis(50));
                let logs = logs.lock().unwrap().join("\n");
                Err(Refused { code: status.code(), logs })
            }
        }
    }
}

#[derive(Debug)]
pub struct Refused {
    pub code: Option<i32>,
    pub logs: String,
}

pub struct Server {
    pub child: Child,
    pub base: String,
    pub logs: Arc<Mutex<Vec<String>>>,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }

    /// Stores `n` distinct payloads through the test route; returns (id, sha256) of each.
    pub async fn store_payloads(&self, n: u64, size: usize) -> Vec<(i64, String)> {
        let mut out = Vec::new();
        for i in 0..n {
            let body = payload(i, size + i as usize);
            let r = client().post(self.url("/api/_test/objects")).body(body.clone()).send().await.unwrap();
            assert_eq!(r.status(), 201);
            let v: serde_json::Value = r.json().await.unwrap();
            out.push((v["id"].as_i64().unwrap(), sha256_hex(&body)));
        }
        out
    }

    /// Reads every stored object back through the HTTP path and compares hashes.
    pub async fn assert_objects(&self, stored: &[(i64, String)]) {
        for (id, sha) in stored {
            let r = client().get(self.url(&format!("/api/_test/objects/{id}"))).send().await.unwrap();
            assert_eq!(r.status(), 200, "object {id}");
            assert_eq!(&sha256_hex(&r.bytes().await.unwrap()), sha, "object {id} changed");
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Peak resident memory of the server process (VmHWM), in MB.
    pub fn peak_rss_mb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/<pid>/status");
        kb / 1024
    }

    /// Starts a new peak-memory measurement: VmHWM drops to the current resident size.
    pub fn reset_peak_rss(&self) {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5").unwrap();
    }

    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then wait for a clean exit.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32).unwrap();
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Deterministic pseudo-random bytes (no two uploads alike).
pub fn payload(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A mount the test owns; unmounted on drop.
pub struct TestMount {
    pub path: PathBuf,
}

impl Drop for TestMount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// Where a test that mounts filesystems says what it needs.
pub const NEEDS_ROOT: &str = "needs root (mounts tmpfs and loop ext4 filesystems) and e2fsprogs";

/// A tmpfs of the given size mounted at `path` (root only: tests that call this are ignored
/// unless asked for, and fail, naming what is missing, when they cannot mount).
pub fn mount_tmpfs(path: &Path, size: &str) -> TestMount {
    std::fs::create_dir_all(path).unwrap();
    let out = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(path)
        .output();
    mount_result(path, out)
}

/// A loop-mounted ext4 image: a real, separate, persistent filesystem.
pub fn mount_ext4(path: &Path, image: &Path, size_mb: u32) -> TestMount {
    std::fs::create_dir_all(path).unwrap();
    let made = Command::new("mkfs.ext4")
        .args(["-q", "-F", "-m", "0"])
        .arg(image)
        .arg(format!("{size_mb}M"))
        .output();
    match made {
        Ok(o) if o.status.success() => {}
        other => panic!("{NEEDS_ROOT}: mkfs.ext4 failed: {other:?}"),
    }
    let out = Command::new("mount").args(["-o", "loop"]).arg(image).arg(path).output();
    mount_result(path, out)
}

pub fn remount_read_only(m: &TestMount) {
    let out = Command::new("mount").args(["-o", "remount,ro"]).arg(&m.path).output().unwrap();
    assert!(out.status.success(), "remount ro failed: {}", String::from_utf8_lossy(&out.stderr));
}

fn mount_result(path: &Path, out: std::io::Result<Output>) -> TestMount {
    match out {
        Ok(o) if o.status.success() => TestMount { path: path.to_path_buf() },
        Ok(o) => panic!("{NEEDS_ROOT}: mount failed: {}", String::from_utf8_lossy(&o.stderr).trim()),
        Err(e) => panic!("{NEEDS_ROOT}: mount unavailable: {e}"),
    }
}

/// Files under `root` whose names mark them as temporary.
pub fn temp_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if e.file_name().to_string_lossy().starts_with(".tmp-") {
                out.push(p);
            }
        }
    }
    out
}
pub mod api;
pub mod photos;
pub mod png;

/// Files (not folders) anywhere under `dir`; 0 when it does not exist.
pub fn files_under(dir: &Path) -> usize {
    let mut n = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                n += 1;
            }
        }
    }
    n
}
