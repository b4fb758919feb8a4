-- Who did what and from where, append-only. Each row carries the SHA-256 of the previous
-- row's hash and its own fields (a hash chain): a row changed or deleted later breaks the
-- chain at that row, which `atm-maint audit verify` names. Ids are given by the writer, one
-- after the other under a lock, so a gap is a deleted row. No foreign keys: the record
-- outlives the accounts and reports it names.
CREATE TABLE audit_log (
    id BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    actor_id BIGINT,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT NOT NULL,
    client TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);
CREATE INDEX audit_log_actor_idx ON audit_log (actor, id);
