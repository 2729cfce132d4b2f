-- Conversation leaders, members' own time zones, and every reminder the bot owes a leader.
-- Times are UTC seconds since the epoch (BIGINT), ids are Discord snowflakes (BIGINT).
CREATE TABLE leaders (
    dialogue_id     INTEGER NOT NULL REFERENCES dialogues (id),
    user_id         BIGINT NOT NULL,
    commitment      INTEGER NOT NULL,
    added_at        BIGINT NOT NULL,
    removed_at      BIGINT,
    -- 0 once a direct message to this leader was refused (DMs closed); 1 again after one gets through.
    reachable       INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (dialogue_id, user_id)
);

-- What /my-timezone sets, per server.
CREATE TABLE members (
    guild_id        BIGINT NOT NULL,
    user_id         BIGINT NOT NULL,
    timezone        TEXT NOT NULL,
    checkin_hour    INTEGER NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);

-- One row per message owed to one leader. ``reminder_key`` names it (e.g. checkin:<due epoch>) so that
-- planning twice never makes two rows. state: pending -> sent | skipped | held (-> sent).
-- via: 'dm' or 'thread' once delivered; NULL on a sent row means the send was claimed but not confirmed.
CREATE TABLE reminders (
    id              INTEGER PRIMARY KEY,
    dialogue_id     INTEGER NOT NULL REFERENCES dialogues (id),
    user_id         BIGINT NOT NULL,
    kind            TEXT NOT NULL,
    reminder_key    TEXT NOT NULL,
    due_at          BIGINT NOT NULL,
    state           TEXT NOT NULL,
    sent_at         BIGINT,
    via             TEXT,
    body            TEXT,
    note            TEXT,
    UNIQUE (dialogue_id, user_id, reminder_key)
);
CREATE INDEX reminders_by_state ON reminders (state, due_at);
CREATE INDEX reminders_by_leader ON reminders (dialogue_id, user_id, kind);
