//! The import's steps before the reports: accounts, devices, assignments, Excel uploads; the
//! file store helper they share with the reports; the list of files no row names.

use std::collections::BTreeSet;

use anyhow::{Context, bail};
use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::media::{self, Found};
use super::source::{self, Tables};
use super::{Run, finding};
use crate::auth::django::{Imported, import_hash};
use crate::db::imported::{self as db, Kind, Table};
use crate::db::{Db, is_unique_violation, objects};
use crate::domain::Role;
use crate::storage::{Area, MediaKey, StoreError, StoredObject};

/// Rows per transaction for the tables without files.
const BATCH: usize = 500;
/// Largest Excel copy read (the upload limit).
const MAX_EXCEL_BYTES: u64 = 20 * 1024 * 1024;

/// Refuses the whole import, before anything is written, when an account has a role this
/// service does not know.
pub(super) fn check_roles(t: &Tables) -> anyhow::Result<()> {
    let unknown: Vec<String> = t
        .users
        .iter()
        .filter(|u| Role::parse(&u.role).is_none())
        .map(|u| format!("{} ({:?})", u.username, u.role))
        .collect();
    if !unknown.is_empty() {
        bail!(
            "account(s) with a role other than host, technician or supervisor: {}; fix them in the original first",
            unknown.join(", ")
        );
    }
    Ok(())
}

/// A file name made safe for a key segment (the original's names usually are already).
fn safe_name(name: &str) -> String {
    let s: String = name
        .rsplit('/')
        .next()
        .unwrap_or(name)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' })
        .collect();
    let s = s.trim_start_matches('.');
    let s = &s[s.len().saturating_sub(100)..];
    if s.is_empty() { "file".into() } else { s.to_string() }
}

/// The key an imported file gets: derived from the original's ids, so a rerun finds it.
pub(super) fn key_for(area: Area, source_ref: &str, file_name: &str) -> anyhow::Result<MediaKey> {
    MediaKey::parse(&format!("{}/django/{source_ref}/{}", area.folder(), safe_name(file_name)))
        .map_err(|_| anyhow::anyhow!("no valid key for {file_name}"))
}

impl Run<'_> {
    /// Stores `bytes` durably at `key`. A file an interrupted run stored there but never
    /// recorded is recognised by its hash and kept; a different one is replaced.
    pub(super) async fn put(&mut self, key: &MediaKey, bytes: Vec<u8>) -> anyhow::Result<StoredObject> {
        let Some(target) = self.target else { bail!("a dry run stores nothing") };
        let (size, sha256) = (bytes.len() as u64, hex::encode(Sha256::digest(&bytes)));
        let bytes = Bytes::from(bytes);
        let body = || futures_util::stream::once(std::future::ready(Ok::<_, std::io::Error>(bytes.clone())));
        // A file an interrupted run stored under this key: kept when it is the same bytes.
        let earlier = target.store.hash_listed(key.as_str()).await.ok();
        let stored = match earlier {
            Some(h) if h == sha256 => StoredObject { key: key.clone(), size, sha256 },
            _ => {
                if earlier.is_some() {
                    target.store.delete(key).await.with_context(|| format!("while replacing {key}"))?;
                }
                match target.store.put_stream(key, body(), size.max(1)).await {
                    Ok(o) => o,
                    Err(StoreError::AlreadyExists) => {
                        bail!("another process is writing {key}: run one import at a time")
                    }
                    Err(e) => return Err(e).with_context(|| format!("while storing {key}")),
                }
            }
        };
        self.files_stored += 1;
        if self.opts.abort_after_files == Some(self.files_stored) {
            eprintln!("aborting after {} stored file(s), as asked (crash test)", self.files_stored);
            std::process::abort();
        }
        Ok(stored)
    }

    pub(super) async fn users(&mut self) -> anyhow::Result<()> {
        let t = self.t;
        let todo: Vec<_> = t.users.iter().filter(|u| !self.maps.users.contains_key(&u.id)).collect();
        {
            let c = self.count("users");
            c.in_original = t.users.len();
            c.already = t.users.len() - todo.len();
        }
        // Said on every run, imported or not: the report is the same each time.
        for u in &t.users {
            if let Imported::Unusable { why, .. } = import_hash(&u.password) {
                let detail = format!(
                    "{why}: the account comes over, and its password must be set with `atm-maint user set-password --username {}`",
                    u.username
                );
                self.found(finding("password_unusable", format!("user:{}", u.id), None, detail), None);
            }
        }
        let Some(target) = self.target else {
            self.count("users").imported = todo.len();
            return Ok(());
        };
        let here = db::usernames(target.db).await?;
        let clashes: Vec<&str> =
            todo.iter().filter(|u| here.contains_key(&u.username)).map(|u| u.username.as_str()).collect();
        if !clashes.is_empty() {
            bail!(
                "this database already has account(s) the import did not create: {}; import into a new database, \
                 or rename or delete those accounts here first (nothing was written)",
                clashes.join(", ")
            );
        }
        for batch in todo.chunks(BATCH) {
            let mut tx = target.db.begin_write().await?;
            for u in batch {
                let hash = match import_hash(&u.password) {
                    Imported::Usable(h) => h,
                    Imported::Unusable { stored, .. } => stored,
                };
                let created = source::timestamp(&u.created_at).unwrap_or_else(Db::now);
                let row = db::NewUser {
                    id: db::free_id(&mut tx, Table::Users, u.id).await?,
                    username: &u.username,
                    password_hash: &hash,
                    role: &u.role,
                    city: u.city.as_deref().filter(|c| !c.is_empty()),
                    is_active: u.is_active != 0,
                    created_at: &created,
                };
                let id = db::insert_user(&mut tx, &row).await?;
                db::map(&mut tx, Kind::User, u.id, id).await?;
                self.maps.users.insert(u.id, id);
            }
            db::advance_sequences(&mut tx, target.db.backend()).await?;
            tx.commit().await?;
            self.count("users").imported += batch.len();
        }
        (self.progress)(&format!("accounts: {} imported", todo.len()));
        Ok(())
    }

    pub(super) async fn devices(&mut self) -> anyhow::Result<()> {
        let t = self.t;
        let todo: Vec<_> = t.devices.iter().filter(|d| !self.maps.devices.contains_key(&d.id)).collect();
        {
            let c = self.count("devices");
            c.in_original = t.devices.len();
            c.already = t.devices.len() - todo.len();
        }
        let Some(target) = self.target else {
            self.count("devices").imported = todo.len();
            return Ok(());
        };
        for batch in todo.chunks(BATCH) {
            let mut tx = target.db.begin_write().await?;
            for d in batch {
                // The same ATM may be here already (an Excel sheet uploaded to us): one device.
                let id = match db::device_by_interaction(&mut tx, &d.interaction_id).await? {
                    Some(id) => id,
                    None => {
                        let created = source::timestamp(&d.created_at).unwrap_or_else(Db::now);
                        let row = db::NewDevice {
                            id: db::free_id(&mut tx, Table::Devices, d.id).await?,
                            interaction_id: &d.interaction_id,
                            gfm_cost_center: &d.gfm_cost_center,
                            region: &d.region,
                            gfm_problem_type: &d.gfm_problem_type,
                            gfm_problem_date: d.gfm_problem_date.as_deref(),
                            city: &d.city,
                            device_type: &d.device_type,
                            created_at: &created,
                        };
                        db::insert_device(&mut tx, &row).await?
                    }
                };
                db::map(&mut tx, Kind::Device, d.id, id).await?;
                self.maps.devices.insert(d.id, id);
            }
            db::advance_sequences(&mut tx, target.db.backend()).await?;
            tx.commit().await?;
            self.count("devices").imported += batch.len();
        }
        (self.progress)(&format!("devices: {} imported", todo.len()));
        Ok(())
    }

    pub(super) async fn assignments(&mut self) -> anyhow::Result<()> {
        let t = self.t;
        let todo: Vec<_> =
            t.assignments.iter().filter(|a| !self.maps.assignments.contains_key(&a.id)).collect();
        {
            let c = self.count("technician_devices");
            c.in_original = t.assignments.len();
            c.already = t.assignments.len() - todo.len();
        }
        let Some(target) = self.target else {
            let known = |a: &&&super::source::AssignmentRow| {
                t.users.iter().any(|u| u.id == a.technician_id)
                    && t.devices.iter().any(|d| d.id == a.device_id)
            };
            let ok = todo.iter().filter(known).count();
            for a in todo.iter().filter(|a| !known(a)) {
                let detail = "its technician or device is not in the original's tables; left out";
                self.found(
                    finding("assignment_skipped", format!("assignment:{}", a.id), None, detail.into()),
                    None,
                );
            }
            let c = self.count("technician_devices");
            (c.imported, c.not_imported) = (ok, todo.len() - ok);
            return Ok(());
        };
        for batch in todo.chunks(BATCH) {
            let mut tx = target.db.begin_write().await?;
            let mut done = 0;
            for a in batch {
                let (Some(&tech), Some(&device), Some(d)) = (
                    self.maps.users.get(&a.technician_id),
                    self.maps.devices.get(&a.device_id),
                    t.devices.iter().find(|d| d.id == a.device_id),
                ) else {
                    let detail = "its technician or device is not in the original's tables; left out";
                    self.found(
                        finding("assignment_skipped", format!("assignment:{}", a.id), None, detail.into()),
                        None,
                    );
                    continue;
                };
                let id = db::assign(&mut tx, tech, device, &d.device_type).await?;
                db::map(&mut tx, Kind::Assignment, a.id, id).await?;
                self.maps.assignments.insert(a.id, id);
                done += 1;
            }
            tx.commit().await?;
            let c = self.count("technician_devices");
            c.imported += done;
            c.not_imported += batch.len() - done;
        }
        (self.progress)(&format!("assignments: {} imported", todo.len()));
        Ok(())
    }

    pub(super) async fn uploads(&mut self) -> anyhow::Result<()> {
        let t = self.t;
        let todo: Vec<_> =
            t.excel_uploads.iter().filter(|u| !self.maps.uploads.contains_key(&u.id)).collect();
        {
            let c = self.count("excel_uploads");
            c.in_original = t.excel_uploads.len();
            c.already = t.excel_uploads.len() - todo.len();
        }
        // The Excel checks run on every upload, imported or not: the report says the same each time.
        for u in &t.excel_uploads {
            self.check_excel_file(u).await;
        }
        for u in todo {
            let reference = format!("excel_upload:{}", u.id);
            let Ok(rows) = serde_json::from_str::<Vec<serde_json::Value>>(&u.parsed_data) else {
                let detail =
                    "its recorded rows are not a JSON list; the upload is left out (its devices came over)";
                self.found(
                    finding("excel_skipped", reference, Some(u.file_path.clone()), detail.into()),
                    None,
                );
                self.count("excel_uploads").not_imported += 1;
                continue;
            };
            let Some(device_type) =
                u.device_type.clone().filter(|s| !s.is_empty()).or_else(|| self.type_of(&rows))
            else {
                let detail =
                    "the upload has no device type and none of its rows names a known device; left out";
                self.found(
                    finding("excel_skipped", reference, Some(u.file_path.clone()), detail.into()),
                    None,
                );
                self.count("excel_uploads").not_imported += 1;
                continue;
            };
            let technician = match self.target {
                None => t.users.iter().find(|x| x.id == u.technician_id).map(|x| x.id),
                Some(_) => self.maps.users.get(&u.technician_id).copied(),
            };
            let Some(technician) = technician else {
                let detail =
                    "its technician is not in the original's tables; left out (its devices came over)";
                self.found(
                    finding("excel_skipped", reference, Some(u.file_path.clone()), detail.into()),
                    None,
                );
                self.count("excel_uploads").not_imported += 1;
                continue;
            };
            let Some(target) = self.target else {
                self.count("excel_uploads").imported += 1;
                continue;
            };
            let stored = match media::read(&self.opts.media_root, &u.file_path, MAX_EXCEL_BYTES) {
                Found::Bytes(bytes) => Some(
                    self.put(
                        &key_for(Area::ExcelUploads, &reference.replace(':', "-"), &u.file_path)?,
                        bytes,
                    )
                    .await?,
                ),
                _ => None,
            };
            let parsed = serde_json::to_string(&rows)?;
            let upload_date = source::timestamp(&u.upload_date).unwrap_or_else(Db::now);
            let mut tx = target.db.begin_write().await?;
            let object_id = match &stored {
                Some(o) => Some(objects::insert(&mut *tx, Area::ExcelUploads, o, None).await?),
                None => None,
            };
            let row = db::NewUpload {
                id: db::free_id(&mut tx, Table::ExcelUploads, u.id).await?,
                technician_id: technician,
                uploaded_by_id: u.uploaded_by_id.and_then(|id| self.maps.users.get(&id).copied()),
                file_name: &u.file_name,
                object_id,
                device_type: &device_type,
                parsed_data: &parsed,
                row_count: u.row_count,
                upload_date: &upload_date,
            };
            match db::insert_upload(&mut tx, &row).await {
                Ok(id) => {
                    db::map(&mut tx, Kind::ExcelUpload, u.id, id).await?;
                    db::advance_sequences(&mut tx, target.db.backend()).await?;
                    tx.commit().await?;
                    self.maps.uploads.insert(u.id, id);
                    self.count("excel_uploads").imported += 1;
                }
                Err(e) if is_unique_violation(&e) => {
                    drop(tx);
                    if let Some(o) = &stored {
                        let _ = target.store.delete(&o.key).await;
                    }
                    let detail = format!(
                        "this database already holds a {device_type} upload for this technician; the original's is left out"
                    );
                    self.found(finding("excel_conflict", reference, Some(u.file_path.clone()), detail), None);
                    self.count("excel_uploads").not_imported += 1;
                }
                Err(e) => {
                    if let Some(o) = &stored {
                        let _ = target.store.delete(&o.key).await;
                    }
                    return Err(e.into());
                }
            }
        }
        (self.progress)("Excel uploads done");
        Ok(())
    }

    /// The device type of the first row that names a device of the original.
    fn type_of(&self, rows: &[serde_json::Value]) -> Option<String> {
        rows.iter().skip(1).find_map(|r| {
            let id = crate::domain::excel::row_device_key(r);
            self.t.devices.iter().find(|d| d.interaction_id == id).map(|d| d.device_type.clone())
        })
    }

    /// Flags an upload whose file is gone, or holds other rows than the ones recorded with it.
    async fn check_excel_file(&mut self, u: &source::ExcelRow) {
        let reference = format!("excel_upload:{}", u.id);
        let path = Some(u.file_path.clone());
        let bytes = match media::read(&self.opts.media_root, &u.file_path, MAX_EXCEL_BYTES) {
            Found::Bytes(b) => b,
            Found::Missing => {
                let detail = "the workbook file is gone; the rows recorded at upload are kept".to_string();
                return self.found(finding("missing_excel", reference, path, detail), None);
            }
            Found::Unusable(why) => {
                let detail = format!("the workbook file {why}; the rows recorded at upload are kept");
                return self.found(finding("damaged_excel", reference, path, detail), None);
            }
        };
        let Ok(recorded) = serde_json::from_str::<Vec<serde_json::Value>>(&u.parsed_data) else {
            // The upload itself is left out, with its own finding.
            return;
        };
        let recorded: BTreeSet<String> = recorded
            .iter()
            .skip(1)
            .map(crate::domain::excel::row_device_key)
            .filter(|k| !k.is_empty())
            .collect();
        let limits = self.opts.excel.clone();
        let parsed = tokio::task::spawn_blocking(move || crate::domain::excel::parse(&bytes, &limits)).await;
        let detail = match parsed {
            Ok(Ok(sheet)) => {
                let in_file: BTreeSet<String> =
                    sheet.devices.iter().map(|d| d.interaction_id.clone()).collect();
                if in_file == recorded {
                    return;
                }
                let first: Vec<&str> = in_file.iter().take(3).map(String::as_str).collect();
                format!(
                    "the file holds {} device row(s) ({}…), not the {} recorded at upload: it was overwritten \
                     (the original named copies to the second); the recorded rows are kept and the file is stored as found",
                    in_file.len(),
                    first.join(", "),
                    recorded.len()
                )
            }
            Ok(Err(e)) => format!("the file does not open as a workbook ({e}); the recorded rows are kept"),
            Err(_) => "the file could not be checked; the recorded rows are kept".into(),
        };
        self.found(finding("excel_mismatch", reference, path, detail), None);
    }

    /// Files in the original's folder that no row names: listed, not imported.
    pub(super) fn unreferenced_files(&mut self) -> anyhow::Result<()> {
        let t = self.t;
        let named: BTreeSet<String> = t
            .photos
            .iter()
            .map(|p| p.file_url.as_str())
            .chain(t.submissions.iter().filter_map(|s| s.pdf_url.as_deref()))
            .chain(t.excel_uploads.iter().map(|u| u.file_path.as_str()))
            .filter_map(|p| media::normalise(&self.opts.media_root, p).ok())
            .collect();
        let on_disk = media::all_files(&self.opts.media_root)
            .with_context(|| format!("while listing {}", self.opts.media_root.display()))?;
        for path in on_disk.difference(&named) {
            let detail = "a file no row of the original names (a replaced upload, a preview, a refused report's photo); not imported";
            self.found(
                finding("unreferenced_file", format!("file:{path}"), Some(path.clone()), detail.into()),
                None,
            );
        }
        Ok(())
    }
}
