//! Reviews: the conditional status changes of a submission (approve, reject) and the status
//! reads that the report job and the dashboard make.

use std::collections::HashMap;

use sqlx::AnyConnection;

use serde_json::json;

use crate::db::{Db, notifications};
use crate::domain::SubmissionStatus;

/// The outcome of a conditional review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reviewed {
    /// The status changed (for an approval, its report job is queued in the same transaction).
    Done,
    /// The submission was not in a state this review may change; here is the state it was in.
    Refused(Option<SubmissionStatus>),
}

/// Approves a Pending submission and queues its report job, in one transaction whose
/// conditional UPDATE decides the race: of an approval and a rejection fired at once exactly one
/// changes the row. (The original's API also approved a Rejected one, so a rejection answered 200
/// could be overturned by an approval already in flight; its UI never offered that.) The review's remarks replace an earlier
/// review's: an approved resubmission must not carry the old rejection reason into its report.
pub async fn approve(
    db: &Db,
    id: i64,
    remarks: Option<&str>,
    reviewer: i64,
    email_configured: bool,
) -> sqlx::Result<(Reviewed, Option<i64>)> {
    let mut tx = db.begin_write().await?;
    if !review_pending(&mut tx, id, SubmissionStatus::Approved, remarks, reviewer).await? {
        let state = status_in(&mut tx, id).await?;
        return Ok((Reviewed::Refused(state), None));
    }
    let job = crate::db::jobs::enqueue(&mut tx, id, email_configured).await?;
    let r = notifications::reviewed_report(&mut tx, id).await?;
    let message = format!("Your visit report for {} ({}) was approved.", r.interaction_id, r.visit_date);
    let detail =
        json!({ "remarks": remarks, "interaction_id": r.interaction_id, "visit_date": r.visit_date });
    notifications::insert(&mut tx, &tell(&r, id, notifications::APPROVED, &message, detail)).await?;
    tx.commit().await?;
    Ok((Reviewed::Done, Some(job)))
}

/// Rejects a Pending submission. An Approved one is refused: its report may already be with the
/// client, and a rejected visit must never be e-mailed as approved.
pub async fn reject(db: &Db, id: i64, remarks: &str, reviewer: i64) -> sqlx::Result<Reviewed> {
    let mut tx = db.begin_write().await?;
    if !review_pending(&mut tx, id, SubmissionStatus::Rejected, Some(remarks), reviewer).await? {
        return Ok(Reviewed::Refused(status_in(&mut tx, id).await?));
    }
    let r = notifications::reviewed_report(&mut tx, id).await?;
    let flagged = notifications::flagged_photos(&mut tx, id).await?;
    let message =
        format!("Your visit report for {} ({}) was rejected: {remarks}", r.interaction_id, r.visit_date);
    let detail = json!({
        "reason": remarks, "interaction_id": r.interaction_id, "visit_date": r.visit_date, "flagged_photos": flagged,
    });
    notifications::insert(&mut tx, &tell(&r, id, notifications::REJECTED, &message, detail)).await?;
    tx.commit().await?;
    Ok(Reviewed::Done)
}

/// The notification a review leaves for the report's technician.
fn tell<'a>(
    r: &notifications::ReviewedReport,
    id: i64,
    kind: &'a str,
    message: &'a str,
    detail: serde_json::Value,
) -> notifications::New<'a> {
    notifications::New {
        user_id: r.technician_id,
        kind,
        submission_id: Some(id),
        device_id: Some(r.device_id),
        message,
        detail,
    }
}

/// The one conditional UPDATE both reviews are: true when this request moved it from Pending.
async fn review_pending(
    conn: &mut AnyConnection,
    id: i64,
    to: SubmissionStatus,
    remarks: Option<&str>,
    reviewer: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE submissions SET status = $1, review_remarks = $2, reviewed_by_id = $3,
             reviewed_at = $4, updated_at = $4 WHERE id = $5 AND status = $6",
    )
    .bind(to.as_str())
    .bind(remarks)
    .bind(reviewer)
    .bind(Db::now())
    .bind(id)
    .bind(SubmissionStatus::Pending.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

async fn status_in(conn: &mut AnyConnection, id: i64) -> sqlx::Result<Option<SubmissionStatus>> {
    sqlx::query_scalar("SELECT status FROM submissions WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
}

/// A submission's review state and report, as the report job re-checks them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Current {
    pub status: SubmissionStatus,
    pub pdf_object_id: Option<i64>,
}

/// The status of a submission now (the report job re-checks it before each step).
pub async fn status(db: &Db, id: i64) -> sqlx::Result<Option<Current>> {
    sqlx::query_as("SELECT status, pdf_object_id FROM submissions WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await
}

#[derive(sqlx::FromRow)]
struct StatusCount {
    status: SubmissionStatus,
    n: i64,
}

pub async fn status_counts(db: &Db) -> sqlx::Result<HashMap<SubmissionStatus, i64>> {
    let rows: Vec<StatusCount> =
        sqlx::query_as("SELECT status, COUNT(*) AS n FROM submissions GROUP BY status")
            .fetch_all(db.pool())
            .await?;
    Ok(rows.into_iter().map(|r| (r.status, r.n)).collect())
}
