//! `report_jobs`: the durable queue behind approvals. A job is claimed with a lease by an
//! UPDATE whose WHERE clause is re-checked under the row lock, so on PostgreSQL as on SQLite two
//! workers never hold the same job; a crashed worker's lease runs out and the job is resumed.

use std::collections::HashMap;

use sqlx::AnyConnection;

use super::Db;
use super::sql::Sql;
use crate::domain::SubmissionStatus;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    pub submission_id: i64,
    pub pdf_status: String,
    pub email_status: String,
    pub pdf_object_id: Option<i64>,
    pub attempts: i64,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct JobStatus {
    pub state: String,
    pub pdf_status: String,
    pub email_status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub email_sent_at: Option<String>,
}

/// Queues a report job, in the caller's transaction (the approval that asks for it).
pub async fn enqueue(
    conn: &mut AnyConnection,
    submission_id: i64,
    email_configured: bool,
) -> sqlx::Result<i64> {
    let now = Db::now();
    sqlx::query_scalar(
        "INSERT INTO report_jobs (submission_id, state, pdf_status, email_status, attempts, next_attempt_at, created_at, updated_at)
         VALUES ($1, 'pending', 'pending', $2, 0, $3, $3, $3) RETURNING id",
    )
    .bind(submission_id)
    .bind(if email_configured { "pending" } else { "not_configured" })
    .bind(now)
    .fetch_one(&mut *conn)
    .await
}

/// Takes the oldest due job whose lease is free, for `lease_seconds`.
pub async fn claim(db: &Db, worker: &str, lease_seconds: i64) -> sqlx::Result<Option<Job>> {
    let now = Db::now();
    sqlx::query_as(
        "UPDATE report_jobs SET locked_by = $1, locked_until = $2, attempts = attempts + 1, updated_at = $3
         WHERE id = (SELECT id FROM report_jobs WHERE state = 'pending' AND next_attempt_at <= $3
                     AND (locked_until IS NULL OR locked_until < $3) ORDER BY id LIMIT 1)
           AND state = 'pending' AND (locked_until IS NULL OR locked_until < $3)
         RETURNING id, submission_id, pdf_status, email_status, pdf_object_id, attempts",
    )
    .bind(worker)
    .bind(Db::at(lease_seconds))
    .bind(now)
    .fetch_optional(db.pool())
    .await
}

/// Extends a held lease; false when the lease was lost.
pub async fn renew(db: &Db, id: i64, worker: &str, lease_seconds: i64) -> sqlx::Result<bool> {
    let done = sqlx::query("UPDATE report_jobs SET locked_until = $1 WHERE id = $2 AND locked_by = $3")
        .bind(Db::at(lease_seconds))
        .bind(id)
        .bind(worker)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Records the stored PDF on the job and on its submission, in the caller's transaction, if the
/// submission is still Approved; false (nothing recorded) when it no longer is.
pub async fn pdf_done(conn: &mut AnyConnection, job: &Job, object_id: i64) -> sqlx::Result<bool> {
    let now = Db::now();
    let linked = sqlx::query(
        "UPDATE submissions SET pdf_object_id = $1, updated_at = $2 WHERE id = $3 AND status = $4",
    )
    .bind(object_id)
    .bind(&now)
    .bind(job.submission_id)
    .bind(SubmissionStatus::Approved.as_str())
    .execute(&mut *conn)
    .await?;
    if linked.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query("UPDATE report_jobs SET pdf_status = 'done', pdf_object_id = $1, last_error = NULL, updated_at = $2 WHERE id = $3")
        .bind(object_id)
        .bind(&now)
        .bind(job.id)
        .execute(&mut *conn)
        .await?;
    Ok(true)
}

/// Ends a job whose submission is no longer Approved (or no longer exists): nothing is made or
/// sent for it, and its statuses say so.
pub async fn cancel(db: &Db, id: i64, reason: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE report_jobs SET state = 'cancelled', last_error = $1, locked_by = NULL, locked_until = NULL,
             pdf_status = CASE WHEN pdf_status = 'done' THEN 'done' ELSE 'cancelled' END,
             email_status = CASE WHEN email_status = 'sent' THEN 'sent' ELSE 'cancelled' END,
             updated_at = $2 WHERE id = $3",
    )
    .bind(reason)
    .bind(Db::now())
    .bind(id)
    .execute(db.pool())
    .await?;
    Ok(())
}

pub async fn email_sent(db: &Db, id: i64) -> sqlx::Result<()> {
    let now = Db::now();
    sqlx::query("UPDATE report_jobs SET email_status = 'sent', email_sent_at = $1, last_error = NULL, updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(())
}

pub async fn finish(db: &Db, id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE report_jobs SET state = 'done', locked_by = NULL, locked_until = NULL, updated_at = $1 WHERE id = $2")
        .bind(Db::now())
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// A failed attempt: retry after `retry_in` seconds, or give up (state `failed`).
pub async fn attempt_failed(db: &Db, job: &Job, error: &str, retry_in: Option<i64>) -> sqlx::Result<()> {
    let (state, next) = match retry_in {
        Some(s) => ("pending", Db::at(s)),
        None => ("failed", Db::now()),
    };
    let pdf = if job.pdf_status == "done" {
        "done"
    } else if retry_in.is_some() {
        "retrying"
    } else {
        "failed"
    };
    let email = match (job.email_status.as_str(), job.pdf_status == "done", retry_in.is_some()) {
        ("pending" | "retrying", true, true) => "retrying",
        ("pending" | "retrying", true, false) => "failed",
        (other, _, _) => other,
    };
    sqlx::query(
        "UPDATE report_jobs SET state = $1, next_attempt_at = $2, last_error = $3, pdf_status = $4, email_status = $5,
             locked_by = NULL, locked_until = NULL, updated_at = $6 WHERE id = $7",
    )
    .bind(state)
    .bind(next)
    .bind(error.chars().take(1000).collect::<String>())
    .bind(pdf)
    .bind(email)
    .bind(Db::now())
    .bind(job.id)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// A job's status with the submission it belongs to, as `latest_for` reads them.
#[derive(sqlx::FromRow)]
struct StatusOf {
    submission_id: i64,
    #[sqlx(flatten)]
    status: JobStatus,
}

/// The newest job of each submission.
pub async fn latest_for(db: &Db, submission_ids: &[i64]) -> sqlx::Result<HashMap<i64, JobStatus>> {
    let mut out = HashMap::new();
    for chunk in submission_ids.chunks(500) {
        let mut q = Sql::new(
            "SELECT submission_id, state, pdf_status, email_status, attempts, last_error, email_sent_at
             FROM report_jobs WHERE submission_id IN (",
        );
        q.push_binds(chunk.iter().copied()).push(") ORDER BY id");
        // Ordered by id, so the newest job of each submission is the one left in the map.
        for r in q.query_as::<StatusOf>()?.fetch_all(db.pool()).await? {
            out.insert(r.submission_id, r.status);
        }
    }
    Ok(out)
}

/// Puts the newest failed job of a submission back in the queue; false when there is none.
pub async fn retry(db: &Db, submission_id: i64, email_configured: bool) -> sqlx::Result<bool> {
    let now = Db::now();
    let done = sqlx::query(
        "UPDATE report_jobs SET state = 'pending', attempts = 0, next_attempt_at = $1, updated_at = $1,
             email_status = CASE WHEN email_status = 'sent' THEN 'sent' WHEN $2 = 1 THEN 'pending' ELSE 'not_configured' END,
             pdf_status = CASE WHEN pdf_status = 'done' THEN 'done' ELSE 'pending' END
         WHERE id = (SELECT MAX(id) FROM report_jobs WHERE submission_id = $3) AND state = 'failed'",
    )
    .bind(now)
    .bind(i64::from(email_configured))
    .bind(submission_id)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() > 0)
}

#[derive(sqlx::FromRow)]
struct StateCount {
    state: String,
    n: i64,
}

pub async fn state_counts(db: &Db) -> sqlx::Result<HashMap<String, i64>> {
    let rows: Vec<StateCount> = sqlx::query_as("SELECT state, COUNT(*) AS n FROM report_jobs GROUP BY state")
        .fetch_all(db.pool())
        .await?;
    Ok(rows.into_iter().map(|r| (r.state, r.n)).collect())
}
