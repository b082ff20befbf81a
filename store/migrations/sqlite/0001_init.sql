-- Initial schema of sspr. Times are Unix seconds (UTC); booleans are 0/1.

CREATE TABLE users (
    id                 INTEGER PRIMARY KEY,
    username           TEXT    NOT NULL UNIQUE,
    display_name       TEXT    NOT NULL DEFAULT '',
    email              TEXT    NOT NULL DEFAULT '',   -- directory attribute; counts as a method only once verified
    phone              TEXT    NOT NULL DEFAULT '',   -- E.164; directory attribute, as above
    is_admin           INTEGER NOT NULL DEFAULT 0,
    disabled           INTEGER NOT NULL DEFAULT 0,
    password_hash      TEXT    NOT NULL DEFAULT '',   -- argon2id PHC string; empty means no password set
    must_change        INTEGER NOT NULL DEFAULT 0,    -- a temporary password that must be changed at first use
    reregister_required INTEGER NOT NULL DEFAULT 0,   -- an admin asked the user to register again
    last_confirmed_at  INTEGER NOT NULL DEFAULT 0,    -- when the user last confirmed their security info
    password_changed_at INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);

CREATE TABLE groups (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE memberships (
    group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX memberships_user ON memberships(user_id);

CREATE TABLE policy (
    key        TEXT PRIMARY KEY,
    value      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);

-- One row per registered method of a user. Recovery codes and questions keep
-- their secrets in their own tables; this row says the method is registered.
CREATE TABLE methods (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL,                 -- email, sms, authenticator, recovery_codes, questions
    destination  TEXT    NOT NULL DEFAULT '',      -- email address or E.164 number
    secret       BLOB,                             -- AES-256-GCM sealed TOTP secret
    last_step    INTEGER NOT NULL DEFAULT 0,       -- last accepted TOTP step, against replay
    created_at   INTEGER NOT NULL,
    confirmed_at INTEGER NOT NULL,
    UNIQUE (user_id, kind)
);

CREATE TABLE question_answers (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    question    TEXT    NOT NULL,
    answer_hash TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (user_id, question)
);

CREATE TABLE recovery_codes (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash  TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    used_at    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX recovery_codes_user ON recovery_codes(user_id);

CREATE TABLE vouchers (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash  TEXT    NOT NULL UNIQUE,
    issued_by  TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX vouchers_user ON vouchers(user_id);

-- A challenge is one proof in flight or done: a code sent to an address, or a
-- verified authenticator code, recovery code, voucher or set of answers. The
-- flow that set it up consumes it exactly once, in the transaction that uses it.
CREATE TABLE challenges (
    id          TEXT    PRIMARY KEY,               -- random, unguessable
    flow_id     TEXT    NOT NULL,                  -- the reset, change or registration it belongs to
    user_id     INTEGER REFERENCES users(id) ON DELETE CASCADE, -- NULL on the decoy path
    purpose     TEXT    NOT NULL,                  -- reset, register, admin
    kind        TEXT    NOT NULL,                  -- method kind
    destination TEXT    NOT NULL DEFAULT '',
    code_hash   TEXT    NOT NULL DEFAULT '',       -- keyed hash of a sent code
    ref_id      INTEGER NOT NULL DEFAULT 0,        -- recovery code or voucher it used
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    verified_at INTEGER NOT NULL DEFAULT 0,
    consumed_at INTEGER NOT NULL DEFAULT 0,
    voided_at   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX challenges_flow ON challenges(flow_id);
CREATE INDEX challenges_expires ON challenges(expires_at);

-- Throttle events: failed proofs and code sends, keyed by scope (account or
-- source) and key (normalised username or source name). Kept in the store so
-- every process sees them and they survive restarts.
CREATE TABLE throttle_events (
    id    INTEGER PRIMARY KEY,
    scope TEXT    NOT NULL,
    key   TEXT    NOT NULL,
    kind  TEXT    NOT NULL,                        -- fail, send
    at    INTEGER NOT NULL
);
CREATE INDEX throttle_events_lookup ON throttle_events(scope, key, kind, at);

CREATE TABLE blocks (
    scope      TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    until      INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE TABLE password_history (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    hash       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX password_history_user ON password_history(user_id, id);

-- The audit log is append-only and hash-chained: hash = SHA-256(prev_hash ||
-- canonical content of the row).
CREATE TABLE audit (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    event     TEXT    NOT NULL,
    actor     TEXT    NOT NULL,
    target    TEXT    NOT NULL,
    source    TEXT    NOT NULL,
    outcome   TEXT    NOT NULL,
    detail    TEXT    NOT NULL DEFAULT '',
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL
);
CREATE INDEX audit_target ON audit(target);
CREATE INDEX audit_event ON audit(event, at);

-- Messages to send: codes for the on-screen outbox of the demo, and
-- notifications with retries.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL,              -- code, notification
    channel         TEXT    NOT NULL,              -- email, sms
    destination     TEXT    NOT NULL,
    subject         TEXT    NOT NULL DEFAULT '',
    body            TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'queued', -- queued, sent, failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_state ON outbox(state, next_attempt_at);
