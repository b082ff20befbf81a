-- The SSH public keys a person registered as a way to prove who they are.
-- Each hangs off the person's ssh_key row in methods (which says the method
-- is registered) and goes with it. The key is public: it is kept whole, in
-- SSH wire form, because a connection's key is compared byte for byte.
CREATE TABLE ssh_keys (
    id          INTEGER PRIMARY KEY,
    method_id   INTEGER NOT NULL REFERENCES methods(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    key_type    TEXT    NOT NULL,             -- ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa
    bits        INTEGER NOT NULL,
    fingerprint TEXT    NOT NULL,             -- SHA256:…, as ssh-keygen -l prints it
    public_key  BLOB    NOT NULL,             -- SSH wire form
    comment     TEXT    NOT NULL DEFAULT '',  -- cleaned of anything a terminal would act on
    created_at  INTEGER NOT NULL,
    UNIQUE (user_id, fingerprint)
);
CREATE INDEX ssh_keys_method ON ssh_keys(method_id);
