//! Evidence rows: the facts of each photo object (`photo_facts`), the findings of filed reports
//! (`photo_findings`, with the open count kept on `submissions.open_findings`), the candidate
//! searches filing compares a report with, and devices' positions.

use std::collections::HashMap;

use sqlx::AnyConnection;

use super::sql::Sql;
use super::{Backend, Db};
use crate::domain::evidence::{CaptureTime, Earlier, PhotoFacts, Position};

/// A photo object's facts as stored, with the phone's own position beside the camera's.
#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct FactsRow {
    pub object_id: i64,
    pub sha256: String,
    pub captured_at: Option<String>,
    pub exif_latitude: Option<f64>,
    pub exif_longitude: Option<f64>,
    pub exif_accuracy_m: Option<f64>,
    pub exif_altitude_m: Option<f64>,
    pub browser_latitude: Option<f64>,
    pub browser_longitude: Option<f64>,
    pub browser_accuracy_m: Option<f64>,
    pub camera_make: Option<String>,
    pub camera_model: Option<String>,
    pub phash: Option<i64>,
}

impl FactsRow {
    pub fn facts(&self) -> PhotoFacts {
        PhotoFacts {
            captured_at: self.captured_at.as_deref().and_then(CaptureTime::parse_iso),
            exif_position: self.exif_position(),
            camera_make: self.camera_make.clone(),
            camera_model: self.camera_model.clone(),
            phash: self.phash.map(|h| h as u64),
        }
    }

    pub fn exif_position(&self) -> Option<Position> {
        let mut p = Position::new(self.exif_latitude?, self.exif_longitude?)?;
        p.accuracy_m = self.exif_accuracy_m;
        p.altitude_m = self.exif_altitude_m;
        Some(p)
    }

    pub fn browser_position(&self) -> Option<Position> {
        let mut p = Position::new(self.browser_latitude?, self.browser_longitude?)?;
        p.accuracy_m = self.browser_accuracy_m;
        Some(p)
    }
}

/// Every object's facts columns (null where the object has no facts: imported photos).
const FACTS_SELECT: &str =
    "SELECT o.id AS object_id, o.sha256, f.captured_at, f.exif_latitude, f.exif_longitude,
     f.exif_accuracy_m, f.exif_altitude_m, f.browser_latitude, f.browser_longitude, f.browser_accuracy_m,
     f.camera_make, f.camera_model, f.phash
     FROM stored_object o LEFT JOIN photo_facts f ON f.object_id = o.id";

/// Records the facts of a photo object, with the pool or inside the caller's transaction.
///
/// The positions are bound as text and cast in SQL: sqlx 0.9's `Any` driver binds a `None::<f64>`
/// as a 4-byte float (`Null(Double)` becomes `Option::<f32>::None`), so PostgreSQL would prepare the
/// statement with a `real` parameter and refuse the next 8-byte value bound to it.
pub async fn insert_facts(
    e: impl sqlx::Executor<'_, Database = sqlx::Any>,
    object_id: i64,
    facts: &PhotoFacts,
    browser: Option<Position>,
) -> sqlx::Result<()> {
    let exif = facts.exif_position;
    let real = |v: Option<f64>| v.map(|v| v.to_string());
    sqlx::query(
        "INSERT INTO photo_facts (object_id, captured_at, exif_latitude, exif_longitude, exif_accuracy_m,
             exif_altitude_m, browser_latitude, browser_longitude, browser_accuracy_m, camera_make, camera_model, phash)
         VALUES ($1, $2, CAST($3 AS DOUBLE PRECISION), CAST($4 AS DOUBLE PRECISION), CAST($5 AS DOUBLE PRECISION),
             CAST($6 AS DOUBLE PRECISION), CAST($7 AS DOUBLE PRECISION), CAST($8 AS DOUBLE PRECISION),
             CAST($9 AS DOUBLE PRECISION), $10, $11, $12)",
    )
    .bind(object_id)
    .bind(facts.captured_at.map(|t| t.to_iso()))
    .bind(real(exif.map(|p| p.latitude)))
    .bind(real(exif.map(|p| p.longitude)))
    .bind(real(exif.and_then(|p| p.accuracy_m)))
    .bind(real(exif.and_then(|p| p.altitude_m)))
    .bind(real(browser.map(|p| p.latitude)))
    .bind(real(browser.map(|p| p.longitude)))
    .bind(real(browser.and_then(|p| p.accuracy_m)))
    .bind(facts.camera_make.as_deref())
    .bind(facts.camera_model.as_deref())
    .bind(facts.phash.map(|h| h as i64))
    .execute(e)
    .await?;
    Ok(())
}

/// The SHA-256 and facts of some photo objects, by object id (the facts are empty for an object
/// without them: photos imported from the original system).
pub async fn facts_of(db: &Db, object_ids: &[i64]) -> sqlx::Result<HashMap<i64, FactsRow>> {
    let mut out = HashMap::new();
    for chunk in object_ids.chunks(500) {
        let mut q = Sql::new(FACTS_SELECT);
        q.push(" WHERE o.id IN (");
        q.push_binds(chunk.iter().copied()).push(")");
        for r in q.query_as::<FactsRow>()?.fetch_all(db.pool()).await? {
            out.insert(r.object_id, r);
        }
    }
    Ok(out)
}

#[derive(sqlx::FromRow)]
struct EarlierRow {
    submission_id: i64,
    photo_id: i64,
    sha256: String,
    phash: Option<i64>,
}

impl From<EarlierRow> for Earlier {
    fn from(r: EarlierRow) -> Earlier {
        Earlier {
            submission_id: r.submission_id,
            photo_id: r.photo_id,
            sha256: r.sha256,
            phash: r.phash.map(|h| h as u64),
        }
    }
}

/// The advisory lock key that serializes filings' comparisons on PostgreSQL ("evidnc" in ASCII).
const LOCK_KEY: i64 = 0x6576_6964_6e63;

/// Inside a filing's write transaction, before its candidates are read: waits for any other
/// filing comparing at the same moment, so two reports filed at once with the same photo see
/// each other (the second one compares with the first one's committed rows). SQLite's write
/// transaction already holds the one write lock.
pub async fn lock_for_comparison(conn: &mut AnyConnection, backend: Backend) -> sqlx::Result<()> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)::text").bind(LOCK_KEY).fetch_one(&mut *conn).await?;
    }
    Ok(())
}

/// Photos of reports other than `except` whose bytes have one of these SHA-256s (any technician,
/// any device): an index lookup per hash.
pub async fn same_bytes(
    conn: &mut AnyConnection,
    sha256s: &[&str],
    except: i64,
) -> sqlx::Result<Vec<Earlier>> {
    let mut out = Vec::new();
    for chunk in sha256s.chunks(100) {
        let mut q = Sql::new(
            "SELECT p.submission_id, p.id AS photo_id, o.sha256, f.phash
             FROM stored_object o JOIN photos p ON p.object_id = o.id
             LEFT JOIN photo_facts f ON f.object_id = o.id
             WHERE o.sha256 IN (",
        );
        q.push_binds(chunk.iter().map(|s| s.to_string())).push(")");
        q.push(" AND p.submission_id <> ").push_bind(except);
        q.push(" ORDER BY p.submission_id DESC LIMIT 200");
        out.extend(q.query_as::<EarlierRow>()?.fetch_all(&mut *conn).await?.into_iter().map(Earlier::from));
    }
    Ok(out)
}

/// The hashed photos of the near-duplicate candidates, newest report first: every other report
/// of this device, and the technician's latest `technician_reports` other reports. Two index
/// range scans (`submissions_device_idx`, `submissions_technician_created_idx`), then each
/// report's photos by its slot index; never every photo of the archive, and never a
/// technician's whole history (which grows without bound and, at 100,000 photos, brings chance
/// matches of a 64-bit hash).
pub async fn nearby(
    conn: &mut AnyConnection,
    device_id: i64,
    technician_id: i64,
    except: i64,
    technician_reports: i64,
) -> sqlx::Result<Vec<Earlier>> {
    sqlx::query_as::<_, EarlierRow>(
        "SELECT p.submission_id, p.id AS photo_id, o.sha256, f.phash
         FROM photos p
         JOIN stored_object o ON o.id = p.object_id
         JOIN photo_facts f ON f.object_id = p.object_id
         WHERE p.submission_id IN (
             SELECT id FROM submissions WHERE device_id = $1 AND id <> $3
             UNION
             SELECT id FROM (SELECT id FROM submissions WHERE technician_id = $2 AND id <> $3
                             ORDER BY created_at DESC, id DESC LIMIT $4) latest
         ) AND f.phash IS NOT NULL
         ORDER BY p.submission_id DESC",
    )
    .bind(device_id)
    .bind(technician_id)
    .bind(except)
    .bind(technician_reports)
    .fetch_all(&mut *conn)
    .await
    .map(|rows| rows.into_iter().map(Earlier::from).collect())
}

/// A finding to record.
pub struct NewFinding<'a> {
    pub submission_id: i64,
    pub photo_id: i64,
    pub kind: &'a str,
    pub other_submission_id: Option<i64>,
    pub other_photo_id: Option<i64>,
    pub detail: &'a str,
    pub message: &'a str,
}

/// Records the findings of a report in the filing transaction, replacing any it had (a
/// resubmission is judged afresh), and sets its open count.
pub async fn replace_findings(
    conn: &mut AnyConnection,
    submission_id: i64,
    found: &[NewFinding<'_>],
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM photo_findings WHERE submission_id = $1")
        .bind(submission_id)
        .execute(&mut *conn)
        .await?;
    let now = Db::now();
    for f in found {
        sqlx::query(
            "INSERT INTO photo_findings (submission_id, photo_id, kind, other_submission_id, other_photo_id,
                                         detail, message, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(f.submission_id)
        .bind(f.photo_id)
        .bind(f.kind)
        .bind(f.other_submission_id)
        .bind(f.other_photo_id)
        .bind(f.detail)
        .bind(f.message)
        .bind(&now)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query("UPDATE submissions SET open_findings = $1 WHERE id = $2")
        .bind(found.len() as i64)
        .bind(submission_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A recorded finding.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FindingRow {
    pub id: i64,
    pub submission_id: i64,
    pub photo_id: i64,
    pub kind: String,
    pub other_submission_id: Option<i64>,
    pub other_photo_id: Option<i64>,
    pub detail: String,
    pub message: String,
    pub checked_by: Option<String>,
    pub checked_at: Option<String>,
    pub check_note: Option<String>,
}

const FINDING_COLUMNS: &str =
    "id, submission_id, photo_id, kind, other_submission_id, other_photo_id, detail, message,
     checked_by, checked_at, check_note";

/// The findings of some reports, by report, in the order they were found.
pub async fn findings_of(db: &Db, ids: &[i64]) -> sqlx::Result<HashMap<i64, Vec<FindingRow>>> {
    let mut out: HashMap<i64, Vec<FindingRow>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let mut q = Sql::new("SELECT ");
        q.push(FINDING_COLUMNS).push(" FROM photo_findings WHERE submission_id IN (");
        q.push_binds(chunk.iter().copied()).push(") ORDER BY submission_id, id");
        for r in q.query_as::<FindingRow>()?.fetch_all(db.pool()).await? {
            out.entry(r.submission_id).or_default().push(r);
        }
    }
    Ok(out)
}

/// What marking a finding checked did.
pub enum Checked {
    Done(FindingRow),
    /// It was already checked; the first check stands.
    Already(FindingRow),
    NotFound,
}

/// Marks a finding of `submission_id` checked by `user`, with a note, and lowers the report's
/// open count, in one transaction. A second check changes nothing.
pub async fn check(
    db: &Db,
    submission_id: i64,
    finding_id: i64,
    user: (i64, &str),
    note: &str,
) -> sqlx::Result<Checked> {
    let mut tx = db.begin_write().await?;
    let by_id = format!("SELECT {FINDING_COLUMNS} FROM photo_findings WHERE id = $1 AND submission_id = $2");
    let found: Option<FindingRow> = sqlx::query_as(sqlx::AssertSqlSafe(by_id.clone()))
        .bind(finding_id)
        .bind(submission_id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(found) = found else { return Ok(Checked::NotFound) };
    if found.checked_at.is_some() {
        return Ok(Checked::Already(found));
    }
    sqlx::query(
        "UPDATE photo_findings SET checked_by_id = $1, checked_by = $2, checked_at = $3, check_note = $4
         WHERE id = $5 AND checked_at IS NULL",
    )
    .bind(user.0)
    .bind(user.1)
    .bind(Db::now())
    .bind(note)
    .bind(finding_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE submissions SET open_findings =
             (SELECT COUNT(*) FROM photo_findings WHERE submission_id = $1 AND checked_at IS NULL)
         WHERE id = $1",
    )
    .bind(submission_id)
    .execute(&mut *tx)
    .await?;
    let row: FindingRow = sqlx::query_as(sqlx::AssertSqlSafe(by_id))
        .bind(finding_id)
        .bind(submission_id)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Checked::Done(row))
}

#[derive(sqlx::FromRow)]
struct DevicePosition {
    latitude: Option<f64>,
    longitude: Option<f64>,
    position_source: Option<String>,
}

/// A device's known position and where it came from (`excel` or `learned`).
pub async fn device_position(db: &Db, device_id: i64) -> sqlx::Result<Option<(Position, String)>> {
    let row: Option<DevicePosition> =
        sqlx::query_as("SELECT latitude, longitude, position_source FROM devices WHERE id = $1")
            .bind(device_id)
            .fetch_optional(db.pool())
            .await?;
    Ok(row.and_then(|r| {
        Some((Position::new(r.latitude?, r.longitude?)?, r.position_source.unwrap_or_else(|| "excel".into())))
    }))
}

/// Learns a device's position from an approved report, unless the Excel import gave one.
pub async fn learn_device_position(db: &Db, device_id: i64, at: Position) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE devices SET latitude = $1, longitude = $2, position_source = 'learned'
         WHERE id = $3 AND (position_source IS NULL OR position_source = 'learned')",
    )
    .bind(at.latitude)
    .bind(at.longitude)
    .bind(device_id)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Sets a device's position from the Excel import.
pub async fn set_device_position(
    e: impl sqlx::Executor<'_, Database = sqlx::Any>,
    device_id: i64,
    at: Position,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE devices SET latitude = $1, longitude = $2, position_source = 'excel' WHERE id = $3")
        .bind(at.latitude)
        .bind(at.longitude)
        .bind(device_id)
        .execute(e)
        .await?;
    Ok(())
}

/// Positions of the photos of one report (EXIF, else the phone's), for learning the device's.
pub async fn report_positions(db: &Db, submission_id: i64) -> sqlx::Result<Vec<Position>> {
    let rows: Vec<FactsRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{FACTS_SELECT} JOIN photos p ON p.object_id = o.id WHERE p.submission_id = $1"
    )))
    .bind(submission_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.iter().filter_map(|r| r.exif_position().or_else(|| r.browser_position())).collect())
}
