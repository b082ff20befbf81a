-- Password expiry reminders already sent: one row per person, password (the
-- time it was set, so a new password starts afresh) and threshold (days
-- before expiry). The primary key makes a reminder go out once, whichever
-- replica or restart tries again: the reminder is queued in the outbox in
-- the same transaction as this row, and a second insert conflicts.
CREATE TABLE expiry_reminders (
    user_id             BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    password_changed_at BIGINT  NOT NULL,
    days                BIGINT  NOT NULL,
    sent_at             BIGINT  NOT NULL,
    PRIMARY KEY (user_id, password_changed_at, days)
);
CREATE INDEX expiry_reminders_sent ON expiry_reminders(sent_at);
