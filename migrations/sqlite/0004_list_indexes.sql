-- Newest-first pages read straight off an index instead of sorting every row.
CREATE INDEX submissions_created_id_idx ON submissions (created_at, id);
CREATE INDEX submissions_status_created_id_idx ON submissions (status, created_at, id);
CREATE INDEX submissions_technician_created_idx ON submissions (technician_id, created_at, id);
DROP INDEX submissions_created_idx;
DROP INDEX submissions_status_created_idx;
