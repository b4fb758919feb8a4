-- Settings the service keeps about itself (the storage identity among them).
CREATE TABLE app_meta (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Every object the media store acknowledged: the receipt a row elsewhere points at.
CREATE TABLE stored_object (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    object_key TEXT NOT NULL CONSTRAINT stored_object_key_unique UNIQUE,
    area TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    content_type TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX stored_object_area_idx ON stored_object (area, created_at);
