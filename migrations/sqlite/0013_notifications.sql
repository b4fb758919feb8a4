-- What happened that a user should know: a report of theirs approved or rejected, devices newly
-- assigned to them. Written in the same transaction as what it tells, kept on the server so a
-- second phone or a reload shows the same; read once the user marks it.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    submission_id BIGINT REFERENCES submissions (id) ON DELETE SET NULL,
    device_id BIGINT REFERENCES devices (id) ON DELETE SET NULL,
    message TEXT NOT NULL,
    detail TEXT NOT NULL,
    created_at TEXT NOT NULL,
    read_at TEXT
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id);
CREATE INDEX notifications_unread_idx ON notifications (user_id) WHERE read_at IS NULL;
