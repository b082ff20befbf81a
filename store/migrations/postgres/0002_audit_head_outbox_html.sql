-- The audit head records the newest row and the row count of the audit chain,
-- updated in the same transaction as every append, so deleting rows from the
-- end of the log (which leaves the rest of the chain intact) is still caught.
CREATE TABLE audit_head (
    id        BIGINT PRIMARY KEY CHECK (id = 1), -- a single row
    last_id   BIGINT NOT NULL,
    last_hash TEXT   NOT NULL,
    rows      BIGINT NOT NULL
);
INSERT INTO audit_head (id, last_id, last_hash, rows)
    SELECT 1, id, hash, (SELECT COUNT(*) FROM audit) FROM audit ORDER BY id DESC LIMIT 1;

-- Notifications carry an HTML alternative next to the plain-text body.
ALTER TABLE outbox ADD COLUMN html TEXT NOT NULL DEFAULT '';
