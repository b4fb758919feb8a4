//! `photo_previews`: which stored object is the `edge`-px preview of which photo.

use super::Db;
use crate::storage::{Area, MediaKey, StoredObject};

/// The key of the photo's preview of `edge` px, when one was made.
pub async fn find(db: &Db, photo_key: &str, edge: u32) -> sqlx::Result<Option<MediaKey>> {
    sqlx::query_scalar(
        "SELECT po.object_key FROM stored_object p
         JOIN photo_previews v ON v.photo_object_id = p.id
         JOIN stored_object po ON po.id = v.preview_object_id
         WHERE p.object_key = $1 AND v.edge = $2",
    )
    .bind(photo_key)
    .bind(i64::from(edge))
    .fetch_optional(db.pool())
    .await
}

/// The object id of a recorded photo.
pub async fn photo_id(db: &Db, photo_key: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT id FROM stored_object WHERE object_key = $1 AND area = $2")
        .bind(photo_key)
        .bind(Area::Photos.folder())
        .fetch_optional(db.pool())
        .await
}

/// Records a stored preview; a preview made meanwhile by another request is replaced (the
/// loser's object stays unreferenced for cleanup).
pub async fn record(db: &Db, photo_id: i64, edge: u32, stored: &StoredObject) -> sqlx::Result<()> {
    let mut tx = db.begin_write().await?;
    let id = super::objects::insert(&mut *tx, Area::Previews, stored, Some("image/jpeg")).await?;
    sqlx::query(
        "INSERT INTO photo_previews (photo_object_id, edge, preview_object_id) VALUES ($1, $2, $3)
         ON CONFLICT (photo_object_id, edge) DO UPDATE SET preview_object_id = excluded.preview_object_id",
    )
    .bind(photo_id)
    .bind(i64::from(edge))
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}
