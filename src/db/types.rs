//! Column types of our own: values the database stores as TEXT but the code handles as
//! validated types (media keys, submission statuses), decoded once when a row is read. A value that does not validate is a
//! decode error naming its column, never a row silently skipped.

use sqlx::any::{Any, AnyTypeInfo, AnyValueRef};
use sqlx::error::BoxDynError;
use sqlx::{Decode, Type};

use crate::domain::SubmissionStatus;
use crate::storage::MediaKey;

// `Type` and `Decode` rather than `#[sqlx(try_from = "String")]` on each field: a nullable key
// (`Option<MediaKey>`, a submission's PDF) cannot use `try_from`, since `Option<MediaKey>:
// TryFrom<Option<String>>` cannot be written; with these, `MediaKey` and `Option<MediaKey>`
// decode like any built-in column type.
impl Type<Any> for MediaKey {
    fn type_info() -> AnyTypeInfo {
        <String as Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        <String as Type<Any>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Any> for MediaKey {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        // sqlx wraps the error with the column's name.
        Ok(MediaKey::try_from(<String as Decode<'r, Any>>::decode(value)?)?)
    }
}

impl Type<Any> for SubmissionStatus {
    fn type_info() -> AnyTypeInfo {
        <String as Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        <String as Type<Any>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Any> for SubmissionStatus {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<'r, Any>>::decode(value)?;
        Ok(SubmissionStatus::parse(text).ok_or_else(|| format!("unknown submission status {text:?}"))?)
    }
}

#[cfg(test)]
mod tests {
    use crate::db::Db;
    use crate::db::objects::ObjectRef;
    use crate::domain::SubmissionStatus;
    use crate::storage::MediaKey;

    async fn scratch() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("t.db").display())).await.unwrap();
        (dir, db)
    }

    #[tokio::test]
    async fn a_stored_key_decodes_and_a_bad_one_is_an_error_naming_its_column() {
        let (_dir, db) = scratch().await;
        let good: ObjectRef = sqlx::query_as("SELECT 7 AS id, 'photos/2026/11/a.jpg' AS object_key")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(good, ObjectRef { id: 7, key: MediaKey::parse("photos/2026/11/a.jpg").unwrap() });
        let bad = sqlx::query_as::<_, ObjectRef>("SELECT 7 AS id, 'photos/../../etc/passwd' AS object_key")
            .fetch_one(db.pool())
            .await
            .unwrap_err();
        assert!(
            matches!(&bad, sqlx::Error::ColumnDecode { index, .. } if index.contains("object_key")),
            "{bad:?}"
        );
    }

    #[tokio::test]
    async fn a_missing_key_is_none_and_a_bad_nullable_one_still_an_error() {
        let (_dir, db) = scratch().await;
        let none: Option<MediaKey> =
            sqlx::query_scalar("SELECT NULL AS k").fetch_one(db.pool()).await.unwrap();
        assert_eq!(none, None);
        let bad =
            sqlx::query_scalar::<_, Option<MediaKey>>("SELECT '.hidden' AS k").fetch_one(db.pool()).await;
        assert!(bad.is_err(), "{bad:?}");
    }

    #[tokio::test]
    async fn a_status_decodes_from_its_string_and_an_unknown_one_is_an_error() {
        let (_dir, db) = scratch().await;
        let s: SubmissionStatus = sqlx::query_scalar("SELECT 'Rejected'").fetch_one(db.pool()).await.unwrap();
        assert_eq!(s, SubmissionStatus::Rejected);
        let bad = sqlx::query_scalar::<_, SubmissionStatus>("SELECT 'rejected'").fetch_one(db.pool()).await;
        assert!(bad.is_err(), "{bad:?}");
    }
}
