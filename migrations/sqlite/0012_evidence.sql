-- What a photo's bytes say about it, read at upload (the original bytes are never changed), and
-- where the phone was when the photo was picked (when the page sent it). One row per photo
-- object; a draft's photo keeps its row when the draft becomes a report.
CREATE TABLE photo_facts (
    object_id BIGINT PRIMARY KEY REFERENCES stored_object (id) ON DELETE CASCADE,
    captured_at TEXT,
    exif_latitude DOUBLE PRECISION,
    exif_longitude DOUBLE PRECISION,
    exif_accuracy_m DOUBLE PRECISION,
    exif_altitude_m DOUBLE PRECISION,
    browser_latitude DOUBLE PRECISION,
    browser_longitude DOUBLE PRECISION,
    browser_accuracy_m DOUBLE PRECISION,
    camera_make TEXT,
    camera_model TEXT,
    phash BIGINT
);
-- Exact reuse is a lookup by SHA-256.
CREATE INDEX stored_object_sha256_idx ON stored_object (sha256);
-- Near-duplicates are searched among the same device's reports (and the same technician's,
-- through submissions_technician_device_idx).
CREATE INDEX submissions_device_idx ON submissions (device_id, created_at);

-- What filing a report found about its photos. A finding never blocks filing; a supervisor may
-- mark it checked with a note. A finding about another photo names it (the other report may
-- be removed later; the finding stays, with its ids).
CREATE TABLE photo_findings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    submission_id BIGINT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    photo_id BIGINT NOT NULL REFERENCES photos (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    other_submission_id BIGINT,
    other_photo_id BIGINT,
    detail TEXT NOT NULL,
    message TEXT NOT NULL,
    checked_by_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    checked_by TEXT,
    checked_at TEXT,
    check_note TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX photo_findings_submission_idx ON photo_findings (submission_id, photo_id);

-- Findings not yet checked, per report: the supervisor list's "flagged" filter and the
-- dashboard's count read this instead of the findings.
ALTER TABLE submissions ADD COLUMN open_findings BIGINT NOT NULL DEFAULT 0;
CREATE INDEX submissions_flagged_idx ON submissions (created_at) WHERE open_findings > 0;

-- A device's position: from the Excel import, or learned from its approved reports.
ALTER TABLE devices ADD COLUMN latitude DOUBLE PRECISION;
ALTER TABLE devices ADD COLUMN longitude DOUBLE PRECISION;
ALTER TABLE devices ADD COLUMN position_source TEXT;
