-- Lockouts of the accounts whose password sspr keeps: how many different
-- wrong passwords were typed since the last right one, and until when the
-- account is locked out (0: not locked). Times are Unix seconds.
CREATE TABLE lockouts (
    user_id      BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    failures     BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT NOT NULL DEFAULT 0
);

-- The wrong passwords counted in a lockout, as keyed MACs (the key never
-- reaches the database): the same wrong password typed again is counted once.
CREATE TABLE lockout_passwords (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    mac     TEXT   NOT NULL,
    at      BIGINT NOT NULL,
    PRIMARY KEY (user_id, mac)
);
