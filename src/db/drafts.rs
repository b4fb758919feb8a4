//! Drafts: a visit report being filled one photo per request. A received photo is a recorded
//! stored object from the moment it is acknowledged, so a reload or a lost connection never
//! loses it; finalizing moves the objects to the submission in the submission's transaction.

use sqlx::AnyConnection;

use super::Db;
use super::objects::ObjectRef;
use crate::domain::evidence::{PhotoFacts, Position};
use crate::storage::{Area, MediaKey, StoredObject};

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Draft {
    pub id: i64,
    pub technician_id: i64,
    pub device_id: i64,
    pub visit_date: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct DraftPhoto {
    pub field: String,
    pub section: i64,
    pub order_index: i64,
    pub object_id: i64,
    #[sqlx(rename = "object_key")]
    pub key: MediaKey,
    #[sqlx(rename = "size_bytes")]
    pub size: i64,
    pub sha256: String,
    pub content_type: String,
    pub width: i64,
    pub height: i64,
}

/// The technician's open draft for the device, made or kept; the visit date is updated.
pub async fn open(db: &Db, technician_id: i64, device_id: i64, visit_date: &str) -> sqlx::Result<Draft> {
    let now = Db::now();
    sqlx::query_as(
        "INSERT INTO drafts (technician_id, device_id, visit_date, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT (technician_id, device_id)
         DO UPDATE SET visit_date = excluded.visit_date, updated_at = excluded.updated_at
         RETURNING id, technician_id, device_id, visit_date, created_at, updated_at",
    )
    .bind(technician_id)
    .bind(device_id)
    .bind(visit_date)
    .bind(&now)
    .fetch_one(db.pool())
    .await
}

pub async fn get(db: &Db, id: i64) -> sqlx::Result<Option<Draft>> {
    sqlx::query_as(
        "SELECT id, technician_id, device_id, visit_date, created_at, updated_at FROM drafts WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await
}

pub async fn for_technician(db: &Db, technician_id: i64) -> sqlx::Result<Vec<Draft>> {
    sqlx::query_as(
        "SELECT id, technician_id, device_id, visit_date, created_at, updated_at FROM drafts
         WHERE technician_id = $1 ORDER BY updated_at DESC",
    )
    .bind(technician_id)
    .fetch_all(db.pool())
    .await
}

pub async fn photos(db: &Db, draft_id: i64) -> sqlx::Result<Vec<DraftPhoto>> {
    sqlx::query_as(
        "SELECT d.field, d.section, d.order_index, d.object_id, o.object_key, o.size_bytes, o.sha256,
                d.content_type, d.width, d.height
         FROM draft_photos d JOIN stored_object o ON o.id = d.object_id
         WHERE d.draft_id = $1 ORDER BY d.section, d.order_index",
    )
    .bind(draft_id)
    .fetch_all(db.pool())
    .await
}

pub struct NewDraftPhoto<'a> {
    pub draft_id: i64,
    pub field: &'a str,
    pub section: i64,
    pub order_index: i64,
    pub stored: &'a StoredObject,
    pub content_type: &'a str,
    pub width: i64,
    pub height: i64,
    pub facts: &'a PhotoFacts,
    pub browser: Option<Position>,
}

/// What recording a received photo did.
#[derive(Debug, PartialEq, Eq)]
pub enum Put {
    /// Recorded; the key of the photo it replaced (whose row is gone; its file is the caller's
    /// to delete), if any.
    Stored(Option<MediaKey>),
    /// The slot already holds these very bytes (two identical sends overlapped): nothing
    /// changed, and the caller's new copy is the one to delete, so the first answer's link stays.
    Same,
}

/// Records a received photo in its slot, in one transaction with its object row; `None` when
/// the draft vanished meanwhile (finalized or expired).
pub async fn put_photo(db: &Db, p: &NewDraftPhoto<'_>) -> sqlx::Result<Option<Put>> {
    let mut tx = db.begin_write().await?;
    let now = Db::now();
    let touched = sqlx::query("UPDATE drafts SET updated_at = $1 WHERE id = $2")
        .bind(&now)
        .bind(p.draft_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if touched == 0 {
        return Ok(None);
    }
    let old: Option<SlotObject> = sqlx::query_as(
        "SELECT o.id, o.object_key, o.sha256 FROM draft_photos d JOIN stored_object o ON o.id = d.object_id
         WHERE d.draft_id = $1 AND d.field = $2",
    )
    .bind(p.draft_id)
    .bind(p.field)
    .fetch_optional(&mut *tx)
    .await?;
    if old.as_ref().is_some_and(|o| o.sha256 == p.stored.sha256) {
        return Ok(Some(Put::Same));
    }
    let object_id = super::objects::insert(&mut *tx, Area::Photos, p.stored, Some(p.content_type)).await?;
    super::evidence::insert_facts(&mut *tx, object_id, p.facts, p.browser).await?;
    sqlx::query(
        "INSERT INTO draft_photos (draft_id, field, section, order_index, object_id, content_type, width, height, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (draft_id, field) DO UPDATE SET object_id = excluded.object_id,
             content_type = excluded.content_type, width = excluded.width, height = excluded.height,
             created_at = excluded.created_at",
    )
    .bind(p.draft_id)
    .bind(p.field)
    .bind(p.section)
    .bind(p.order_index)
    .bind(object_id)
    .bind(p.content_type)
    .bind(p.width)
    .bind(p.height)
    .bind(&now)
    .execute(&mut *tx)
    .await?;
    let replaced = match old {
        Some(o) => {
            super::objects::delete_ids(&mut tx, &[o.id]).await?;
            Some(o.key)
        }
        None => None,
    };
    tx.commit().await?;
    Ok(Some(Put::Stored(replaced)))
}

/// The object a slot held before a put, to tell a replacement from a repeat.
#[derive(sqlx::FromRow)]
struct SlotObject {
    id: i64,
    #[sqlx(rename = "object_key")]
    key: MediaKey,
    sha256: String,
}

/// Removes a draft's rows (not its photos' objects: a finalize hands them to the submission).
/// Returns how many drafts went (0 when another request already finalized or expired it).
pub async fn remove(conn: &mut AnyConnection, id: i64) -> sqlx::Result<u64> {
    Ok(sqlx::query("DELETE FROM drafts WHERE id = $1").bind(id).execute(conn).await?.rows_affected())
}

/// Deletes one draft with its photos' object rows; returns the keys whose files are to go.
/// `None` when the draft was already gone (a finalize or the expiry got there first).
pub async fn discard(db: &Db, id: i64) -> sqlx::Result<Option<Vec<MediaKey>>> {
    let mut tx = db.begin_write().await?;
    let keys = remove_with_objects(&mut tx, id).await?;
    tx.commit().await?;
    Ok(keys)
}

async fn remove_with_objects(tx: &mut AnyConnection, id: i64) -> sqlx::Result<Option<Vec<MediaKey>>> {
    let rows: Vec<ObjectRef> = sqlx::query_as(
        "SELECT o.id, o.object_key FROM draft_photos d JOIN stored_object o ON o.id = d.object_id
         WHERE d.draft_id = $1",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    // A finalize that committed meanwhile handed these objects to its submission: the draft is
    // gone, and they are not ours to delete.
    if remove(&mut *tx, id).await? == 0 {
        return Ok(None);
    }
    let objects: Vec<i64> = rows.iter().map(|o| o.id).collect();
    super::objects::delete_ids(&mut *tx, &objects).await?;
    Ok(Some(rows.into_iter().map(|o| o.key).collect()))
}

/// Deletes drafts untouched since `before` with their photos' object rows; returns the keys
/// whose files are now to be deleted.
pub async fn expire(db: &Db, before: &str) -> sqlx::Result<(usize, Vec<MediaKey>)> {
    let mut tx = db.begin_write().await?;
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM drafts WHERE updated_at < $1")
        .bind(before)
        .fetch_all(&mut *tx)
        .await?;
    let mut keys = Vec::new();
    for id in &ids {
        keys.extend(remove_with_objects(&mut tx, *id).await?.unwrap_or_default());
    }
    tx.commit().await?;
    Ok((ids.len(), keys))
}
