-- A person's preferred language, as a catalogue code ("de", "pt-BR"): the
-- TUI speaks it once they have proved who they are, and every email and
-- text message to them is written in it. Empty means the organisation's
-- default (ui.language).
ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT '';

-- A queued notification is written in its reader's language when it is
-- queued; the language goes with it so the email says so in its
-- Content-Language header when it is delivered later.
ALTER TABLE outbox ADD COLUMN language TEXT NOT NULL DEFAULT '';
