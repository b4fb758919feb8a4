//! The dashboard's numbers against a data set built here with known due, filed and approved
//! counts per city and technician, for a fixed half-month (so no result depends on the day).

use serde_json::{Value, json};

use crate::common::api::{Api, PASSWORD, seed_staff};
use crate::common::{Backend, Deployment, any_pool, on_each_database};

/// Two technicians; Riyadh: three Cleaning1 devices and one Electrical (due monthly), Jeddah:
/// two Cleaning2. December 2026, first half: R1 approved, R2 pending, R3 rejected (not filed),
/// R4 pending in the second half (monthly: it covers the first too), J1 approved, J2 nothing.
/// November's second half: R1 approved, the rest unfiled.
async fn seed(url: &str) {
    let db = crate::common::any_pool(url).await;
    let statements = [
        "INSERT INTO users (id, username, password_hash, role, city, is_active, created_at) VALUES
            (101, 'tr', '!', 'technician', 'Riyadh', 1, '2026-01-01T00:00:00.000000Z'),
            (102, 'tj', '!', 'technician', 'Jeddah', 1, '2026-01-01T00:00:00.000000Z')",
        "INSERT INTO devices (id, interaction_id, gfm_cost_center, region, gfm_problem_type, city, type, created_at) VALUES
            (201, 'R1', 'C1', '', 'Cleaning', 'Riyadh', 'Cleaning1', '2026-01-01T00:00:00.000000Z'),
            (202, 'R2', 'C2', '', 'Cleaning', 'Riyadh', 'Cleaning1', '2026-01-01T00:00:00.000000Z'),
            (203, 'R3', 'C3', '', 'Cleaning', 'Riyadh', 'Cleaning1', '2026-01-01T00:00:00.000000Z'),
            (204, 'R4', 'C4', '', 'Electrical', 'Riyadh', 'Electrical', '2026-01-01T00:00:00.000000Z'),
            (205, 'J1', 'C5', '', 'Cleaning', 'Jeddah', 'Cleaning2', '2026-01-01T00:00:00.000000Z'),
            (206, 'J2', 'C6', '', 'Cleaning', 'Jeddah', 'Cleaning2', '2026-01-01T00:00:00.000000Z')",
        "INSERT INTO technician_devices (technician_id, device_id, device_type) VALUES
            (101, 201, 'Cleaning1'), (101, 202, 'Cleaning1'), (101, 203, 'Cleaning1'), (101, 204, 'Electrical'),
            (102, 205, 'Cleaning2'), (102, 206, 'Cleaning2')",
    ];
    for s in statements {
        sqlx::query(s).execute(&db).await.unwrap();
    }
    let reports = [
        (101, 201, "Cleaning1", "2026-12-03", 1, "Approved", "2026-12-03T09:00:00.000000Z"),
        (101, 202, "Cleaning1", "2026-12-04", 1, "Pending", "2026-12-04T09:00:00.000000Z"),
        (101, 203, "Cleaning1", "2026-12-04", 1, "Rejected", "2026-12-05T09:00:00.000000Z"),
        (101, 204, "Electrical", "2026-12-20", 2, "Pending", "2026-12-20T09:00:00.000000Z"),
        (102, 205, "Cleaning2", "2026-12-02", 1, "Approved", "2026-12-02T09:00:00.000000Z"),
        (101, 201, "Cleaning1", "2026-11-20", 2, "Approved", "2026-11-20T09:00:00.000000Z"),
    ];
    // R2's report and November's R1 have findings not yet checked: each period counts its own.
    for (tech, device, kind, date, half, status, created) in reports {
        let month: i64 = date[5..7].parse().unwrap();
        sqlx::query(
            "INSERT INTO submissions (technician_id, device_id, type, visit_date, period_year, period_month, half_month,
                 job_description, job_status, status, created_at, updated_at)
             VALUES ($1, $2, $3, $4, 2026, $5, $6, '', 'Ok', $7, $8, $8)",
        )
        .bind(tech as i64)
        .bind(device as i64)
        .bind(kind)
        .bind(date)
        .bind(month)
        .bind(half as i64)
        .bind(status)
        .bind(created)
        .execute(&db)
        .await
        .unwrap();
    }
    sqlx::query(
        "UPDATE submissions SET open_findings = 2
         WHERE (device_id = 202 AND visit_date = '2026-12-04') OR (device_id = 201 AND visit_date = '2026-11-20')",
    )
    .execute(&db)
    .await
    .unwrap();
    db.close().await;
}

fn tally(rows: &Value, key: &str) -> Vec<(String, i64, i64, i64)> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let n = |k: &str| r[k].as_i64().unwrap();
            (r[key].as_str().unwrap().to_string(), n("due"), n("filed"), n("approved"))
        })
        .collect()
}

on_each_database!(the_dashboard_counts_due_filed_and_approved_per_city_and_technician);
async fn the_dashboard_counts_due_filed_and_approved_per_city_and_technician(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let d = Deployment::new(backend, dir.path()).await;
    seed_staff(&d);
    let out = d.run(&["migrate"]);
    assert!(out.status.success());
    seed(&d.database_url).await;
    let api = Api::new(d.start().unwrap());
    let sup = api.login("sup1", PASSWORD).await;
    let r = api.get(Some(&sup), "/api/supervisor/insights?period=2026-12-1").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let b = &r.body;
    assert_eq!(b["period"]["label"], "December 2026, first half");
    assert_eq!(
        b["counts"],
        json!({"pending": 1, "approved": 2, "rejected": 1, "total": 4, "flagged": 1}),
        "R4 is of the second half; R2 has findings not yet checked, the November R1 too"
    );
    let rate = b["approval_rate"].as_f64().unwrap();
    assert!((rate - 2.0 / 3.0).abs() < 1e-9, "{rate}");
    assert_eq!(
        tally(&b["coverage"]["by_city"], "city"),
        [("Jeddah".to_string(), 2, 1, 1), ("Riyadh".to_string(), 4, 3, 1)]
    );
    assert_eq!(
        tally(&b["coverage"]["by_technician"], "technician"),
        [("tj".to_string(), 2, 1, 1), ("tr".to_string(), 4, 3, 1)]
    );
    let waiting: Vec<&str> = b["oldest_pending"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["interaction_id"].as_str().unwrap())
        .collect();
    assert_eq!(waiting, ["R2", "R4"], "oldest first");
    assert_eq!(b["not_filed_previous"]["count"], 5, "{}", b["not_filed_previous"]);
    let daily = b["daily"].as_array().unwrap();
    assert_eq!(daily.len(), 30);
    assert_eq!(daily.last().unwrap()["date"], "2026-12-15");
    let day = |date: &str| daily.iter().find(|x| x["date"] == date).unwrap().clone();
    assert_eq!(day("2026-12-04"), json!({"date": "2026-12-04", "Pending": 1, "Approved": 0, "Rejected": 0}));
    assert_eq!(day("2026-11-20")["Approved"], 1);
    // The next half: R1..R3 and J1, J2 are due again; R4 is still covered by its December report.
    let next = api.get(Some(&sup), "/api/supervisor/insights?period=2026-12-2").await.body;
    assert_eq!(
        tally(&next["coverage"]["by_city"], "city"),
        [("Jeddah".to_string(), 2, 0, 0), ("Riyadh".to_string(), 4, 1, 0)]
    );
    // The host sees the same; a technician does not; a bad period is a 400 naming the form.
    let host = api.login("host1", PASSWORD).await;
    assert_eq!(api.get(Some(&host), "/api/supervisor/insights?period=2026-12-1").await.body, r.body);
    let bad = api.get(Some(&sup), "/api/supervisor/insights?period=2026-13-1").await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.to_string().contains("YYYY-MM-1"), "{}", bad.body);

    // Answers are kept for a few seconds, but a review through this service shows at once.
    let list = api.get(Some(&sup), "/api/supervisor/submissions?status=Pending").await.body;
    let r2 =
        list["submissions"].as_array().unwrap().iter().find(|s| s["device_info"]["interaction_id"] == "R2");
    let id = r2.unwrap()["id"].as_i64().unwrap();
    let approved =
        api.patch_json(Some(&sup), &format!("/api/supervisor/submissions/{id}/approve"), json!({})).await;
    assert_eq!(approved.status, 200, "{}", approved.body);
    let after = api.get(Some(&sup), "/api/supervisor/insights?period=2026-12-1").await.body;
    assert_eq!(
        after["counts"],
        json!({"pending": 0, "approved": 3, "rejected": 1, "total": 4, "flagged": 1})
    );
    // A change another instance made (here: straight in the database) shows once the kept
    // answer is older than DASHBOARD_FRESH_FOR (10 s); until then the kept one is served.
    let db = any_pool(&d.database_url).await;
    sqlx::query("UPDATE submissions SET status = 'Approved' WHERE status = 'Rejected'")
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
    let kept = api.get(Some(&sup), "/api/supervisor/insights?period=2026-12-1").await.body;
    assert_eq!(kept["counts"], after["counts"], "the kept answer is served within its 10 s");
    tokio::time::sleep(std::time::Duration::from_secs(11)).await;
    let fresh = api.get(Some(&sup), "/api/supervisor/insights?period=2026-12-1").await.body;
    assert_eq!(
        fresh["counts"],
        json!({"pending": 0, "approved": 4, "rejected": 0, "total": 4, "flagged": 1})
    );
}
