-- Approval reports: one durable job per approval, PDF then e-mail, claimed with a lease so a
-- crashed worker's job is resumed and two instances never run the same job at once.
CREATE TABLE report_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    submission_id BIGINT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    pdf_status TEXT NOT NULL,
    email_status TEXT NOT NULL,
    pdf_object_id BIGINT REFERENCES stored_object (id),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    locked_by TEXT,
    locked_until TEXT,
    last_error TEXT,
    email_sent_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX report_jobs_due_idx ON report_jobs (state, next_attempt_at);
CREATE INDEX report_jobs_submission_idx ON report_jobs (submission_id, id);
