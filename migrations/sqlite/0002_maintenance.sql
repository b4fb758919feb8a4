CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL CONSTRAINT users_username_unique UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('host', 'technician', 'supervisor')),
    city TEXT,
    is_active BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);
CREATE INDEX users_role_idx ON users (role, created_at);

CREATE TABLE devices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    interaction_id TEXT NOT NULL CONSTRAINT devices_interaction_id_unique UNIQUE,
    gfm_cost_center TEXT NOT NULL,
    region TEXT NOT NULL DEFAULT '',
    gfm_problem_type TEXT NOT NULL,
    gfm_problem_date TEXT,
    city TEXT NOT NULL,
    type TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- device_type is the type of the upload that made the assignment: a re-upload of that type
-- detaches exactly these, and never deletes a device or its history.
CREATE TABLE technician_devices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    technician_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id BIGINT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    device_type TEXT NOT NULL,
    CONSTRAINT technician_devices_unique UNIQUE (technician_id, device_id)
);

CREATE TABLE excel_uploads (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    technician_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    uploaded_by_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    file_name TEXT NOT NULL,
    object_id BIGINT REFERENCES stored_object (id),
    device_type TEXT NOT NULL,
    parsed_data TEXT NOT NULL,
    row_count BIGINT NOT NULL,
    upload_date TEXT NOT NULL,
    CONSTRAINT excel_uploads_technician_type_unique UNIQUE (technician_id, device_type)
);

CREATE TABLE submissions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    technician_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id BIGINT NOT NULL REFERENCES devices (id),
    type TEXT NOT NULL,
    visit_date TEXT NOT NULL,
    period_year BIGINT NOT NULL,
    period_month BIGINT NOT NULL,
    half_month BIGINT NOT NULL,
    job_description TEXT NOT NULL DEFAULT '',
    job_status TEXT NOT NULL,
    status TEXT NOT NULL,
    remarks TEXT,
    review_remarks TEXT,
    reviewed_by_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    reviewed_at TEXT,
    pdf_object_id BIGINT REFERENCES stored_object (id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- One active report per technician, device and half-month period (year and month included).
CREATE UNIQUE INDEX submissions_active_period_unique
    ON submissions (technician_id, device_id, period_year, period_month, half_month)
    WHERE status <> 'Rejected';
CREATE INDEX submissions_status_created_idx ON submissions (status, created_at);
CREATE INDEX submissions_created_idx ON submissions (created_at);
CREATE INDEX submissions_technician_device_idx ON submissions (technician_id, device_id, created_at);

CREATE TABLE photos (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    submission_id BIGINT NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
    section BIGINT NOT NULL,
    order_index BIGINT NOT NULL,
    object_id BIGINT NOT NULL REFERENCES stored_object (id),
    content_type TEXT NOT NULL,
    width BIGINT NOT NULL,
    height BIGINT NOT NULL,
    CONSTRAINT photos_slot_unique UNIQUE (submission_id, section, order_index)
);
CREATE INDEX photos_object_idx ON photos (object_id);
