-- The audit chain is keyed from this version on: prev_hash and hash hold
-- HMAC-SHA256 links under a key derived from sspr.key, which the database
-- never sees, and the head carries a MAC of its own over the newest row, its
-- id and the row count. Rows written before are re-keyed once by sspr on its
-- first start with the key (SQL cannot: it has no key); until then mac is
-- empty.
ALTER TABLE audit_head ADD COLUMN mac TEXT NOT NULL DEFAULT '';

-- An empty log gets its head now, so there is always a row for writers to
-- serialise on (SELECT ... FOR UPDATE where the engine has it). A log with
-- rows but no head keeps lacking one: that is for the re-keying to report.
INSERT INTO audit_head (id, last_id, last_hash, rows)
    SELECT 1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 0
    WHERE NOT EXISTS (SELECT 1 FROM audit_head) AND NOT EXISTS (SELECT 1 FROM audit);
