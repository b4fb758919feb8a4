-- An import from the original Django deployment. Each source row brought over is recorded
-- with the id it got here, in the same transaction as the row itself: a rerun skips what is
-- in, an interrupted import resumes where it stopped.
CREATE TABLE import_map (
    kind TEXT NOT NULL,
    source_id BIGINT NOT NULL,
    target_id BIGINT NOT NULL,
    imported_at TEXT NOT NULL,
    CONSTRAINT import_map_key PRIMARY KEY (kind, source_id)
);

-- The loss report: what the original's database named but its folder lacked or held damaged,
-- reports with no photos, files no row named, Excel copies that no longer match their rows.
-- Kept so the pages and `doctor` can show it; a finding that a later run no longer sees goes.
CREATE TABLE import_findings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    source_ref TEXT NOT NULL,
    submission_id BIGINT REFERENCES submissions (id) ON DELETE CASCADE,
    section BIGINT,
    order_index BIGINT,
    path TEXT,
    detail TEXT NOT NULL,
    found_at TEXT NOT NULL,
    CONSTRAINT import_findings_key UNIQUE (kind, source_ref)
);
CREATE INDEX import_findings_submission_idx ON import_findings (submission_id);
