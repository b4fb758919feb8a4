-- A visit report being filled one photo at a time. One open draft per technician and device;
-- each slot holds at most one received photo. Finalizing turns the draft into a submission in
-- one transaction (the photo objects move over, nothing is copied); abandoned drafts expire.
CREATE TABLE drafts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    technician_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id BIGINT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    visit_date TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CONSTRAINT drafts_technician_device_unique UNIQUE (technician_id, device_id)
);
CREATE INDEX drafts_updated_idx ON drafts (updated_at);

CREATE TABLE draft_photos (
    draft_id BIGINT NOT NULL REFERENCES drafts (id) ON DELETE CASCADE,
    field TEXT NOT NULL,
    section BIGINT NOT NULL,
    order_index BIGINT NOT NULL,
    object_id BIGINT NOT NULL REFERENCES stored_object (id),
    content_type TEXT NOT NULL,
    width BIGINT NOT NULL,
    height BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    CONSTRAINT draft_photos_slot PRIMARY KEY (draft_id, field)
);
CREATE INDEX draft_photos_object_idx ON draft_photos (object_id);

-- Server-made previews of a photo (e.g. 320 px thumbnails, 1600 px screen size), made once.
CREATE TABLE photo_previews (
    photo_object_id BIGINT NOT NULL REFERENCES stored_object (id) ON DELETE CASCADE,
    edge BIGINT NOT NULL,
    preview_object_id BIGINT NOT NULL REFERENCES stored_object (id) ON DELETE CASCADE,
    CONSTRAINT photo_previews_key PRIMARY KEY (photo_object_id, edge)
);
CREATE INDEX photo_previews_preview_idx ON photo_previews (preview_object_id);
