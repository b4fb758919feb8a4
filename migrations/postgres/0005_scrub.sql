-- The background scrub's record: when each object was last re-hashed, and what it found.
ALTER TABLE stored_object ADD COLUMN verified_at TEXT;
ALTER TABLE stored_object ADD COLUMN scrub_problem TEXT;
CREATE INDEX stored_object_verified_idx ON stored_object (verified_at);
