//! `GET /api/supervisor/insights?period=YYYY-MM-H`: the dashboard's numbers in one answer — the
//! approval rate, filings per day over the 30 days up to the period's end, coverage of the
//! period per city and per technician (due, filed, approved), the reports waiting longest, and
//! the assignments not filed in the period before. Supervisors and hosts.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};
use utoipa_axum::routes;

use super::extract::Staff;
use super::openapi::shapes;
use super::{ApiRouter, route};
use crate::db::insights;
use crate::domain::{Period, SubmissionStatus};
use crate::error::ApiError;
use crate::state::AppState;

pub(crate) fn router() -> ApiRouter {
    route(ApiRouter::new(), routes!(insights))
}

#[derive(serde::Deserialize)]
struct InsightsQuery {
    period: Option<String>,
}

/// Days in the chart of filings.
const DAYS: i64 = 30;
/// Rows of the "not filed" list (its count is exact).
const NOT_FILED_SHOWN: i64 = 200;

fn period_json(p: Period) -> Value {
    json!({ "key": p.key(), "label": p.label(), "from": p.first_day().to_string(), "to": p.last_day().to_string() })
}

/// The dashboard of a half-month: approval rate, filings per day, coverage per city and per
/// technician, the oldest reports waiting, and devices not filed in the half before.
#[utoipa::path(
    get,
    path = "/api/supervisor/insights",
    tag = "supervisor",
    security(("bearer" = []), ("session" = [])),
    params(("period" = Option<String>, Query, description = "`YYYY-MM-1` or `YYYY-MM-2`; the current half-month when left out.")),
    responses(
        (status = 200, description = "The numbers.", body = shapes::Insights),
        (status = 400, description = "`period` is not a half-month.", body = shapes::ErrorBody),
        (status = 401, description = "Not signed in, or the token is invalid or revoked.", body = shapes::ErrorBody),
        (status = 403, description = "The caller's role may not do this (or a page change came without its CSRF token).", body = shapes::ErrorBody),
    )
)]
async fn insights(
    State(state): State<AppState>,
    _caller: Staff,
    Query(q): Query<InsightsQuery>,
) -> Result<Response, ApiError> {
    let p = match q.period.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Period::of(chrono::Utc::now().date_naive()),
        Some(s) => Period::parse(s).ok_or_else(|| {
            ApiError::field("period", format!("\"{s}\" is not a half-month; use YYYY-MM-1 or YYYY-MM-2."))
        })?,
    };
    let make = async {
        let answer = compute(&state, p).await?;
        Ok::<_, ApiError>(Bytes::from(serde_json::to_vec(&answer).map_err(anyhow::Error::new)?))
    };
    let bytes = state.dashboards.answer(&p.key(), make).await?;
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], bytes).into_response())
}

/// The dashboard's numbers, read from the database.
async fn compute(state: &AppState, p: Period) -> Result<Value, ApiError> {
    let db = &state.db;
    let to = p.last_day();
    let from = to - chrono::Duration::days(DAYS - 1);
    let mut days: BTreeMap<String, BTreeMap<&'static str, i64>> = BTreeMap::new();
    for i in 0..DAYS {
        let day = (from + chrono::Duration::days(i)).to_string();
        days.insert(day, SubmissionStatus::ALL.iter().map(|s| (s.as_str(), 0)).collect());
    }
    for d in insights::per_day(db, &from.to_string(), &to.to_string()).await? {
        if let (Some(day), Some(status)) = (days.get_mut(&d.day), SubmissionStatus::parse(&d.status)) {
            day.insert(status.as_str(), d.n);
        }
    }
    let by_status = insights::period_counts(db, p).await?;
    let flagged: i64 = by_status.iter().map(|(_, _, f)| f).sum();
    let counts: BTreeMap<String, i64> = by_status.into_iter().map(|(s, n, _)| (s, n)).collect();
    let count = |s: SubmissionStatus| counts.get(s.as_str()).copied().unwrap_or(0);
    let (approved, rejected) = (count(SubmissionStatus::Approved), count(SubmissionStatus::Rejected));
    let rate =
        if approved + rejected > 0 { Some(approved as f64 / (approved + rejected) as f64) } else { None };
    let tally = |t: &insights::Tally| json!({ "due": t.due, "filed": t.filed, "approved": t.approved });
    let by_city: Vec<Value> = insights::coverage(db, p, false)
        .await?
        .iter()
        .map(|t| {
            let mut v = tally(t);
            v["city"] = json!(t.name);
            v
        })
        .collect();
    let by_technician: Vec<Value> = insights::coverage(db, p, true)
        .await?
        .iter()
        .map(|t| {
            let mut v = tally(t);
            v["technician"] = json!(t.name);
            v["technician_id"] = json!(t.technician_id);
            v
        })
        .collect();
    let previous = p.previous();
    let (missed, missed_count) = insights::unfiled(db, previous, NOT_FILED_SHOWN).await?;
    Ok(json!({
        "period": period_json(p),
        "previous_period": period_json(previous),
        "counts": {
            "pending": count(SubmissionStatus::Pending), "approved": approved, "rejected": rejected,
            "total": counts.values().sum::<i64>(), "flagged": flagged,
        },
        "approval_rate": rate,
        "daily": days.into_iter().map(|(day, by)| {
            json!({ "date": day, "Pending": by["Pending"], "Approved": by["Approved"], "Rejected": by["Rejected"] })
        }).collect::<Vec<_>>(),
        "coverage": { "by_city": by_city, "by_technician": by_technician },
        "oldest_pending": insights::oldest_pending(db, 10).await?,
        "not_filed_previous": { "count": missed_count, "devices": missed },
    }))
}
