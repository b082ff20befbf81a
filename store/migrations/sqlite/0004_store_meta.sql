-- Facts about the store itself. key_fingerprint identifies the sspr.key that
-- sealed the secrets and keyed the hashes in this store (a one-way value,
-- never the key): every process that opens the store must hold the same key.
CREATE TABLE store_meta (
    key        TEXT    PRIMARY KEY,
    value      TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
