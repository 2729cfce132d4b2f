-- Posts a facilitator made on someone's behalf (a participant without a Discord account). Each is one step:
-- the row is written before the message is sent (with a nonce derived from its id), and message_id is written
-- once the post is recorded, so a restart in between posts the missing one and never a second.
CREATE TABLE IF NOT EXISTS proxy_posts (
    id              INTEGER PRIMARY KEY,
    dialogue_id     INTEGER NOT NULL REFERENCES dialogues (id),
    thread_id       BIGINT NOT NULL,
    name            TEXT NOT NULL,
    content         TEXT NOT NULL,
    facilitator_id  BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    message_id      BIGINT
);
CREATE INDEX IF NOT EXISTS proxy_posts_pending ON proxy_posts (dialogue_id, message_id);

-- The dialogue's window as a Discord guild scheduled event: what was last applied to Discord. What is wanted
-- is derived from the dialogue (its state and window); a sync compares the two and applies the difference.
-- enabled: the plan's `event` key (no row: enabled). creating: a create was sent and its id may not be known.
CREATE TABLE IF NOT EXISTS dialogue_events (
    dialogue_id     INTEGER PRIMARY KEY REFERENCES dialogues (id),
    enabled         INTEGER NOT NULL DEFAULT 1,
    event_id        BIGINT,
    creating        INTEGER NOT NULL DEFAULT 0,
    applied_status  TEXT,
    applied_start   BIGINT,
    applied_end     BIGINT,
    refused_at      BIGINT,
    noticed_at      BIGINT
);
