-- Dialogues, their seed questions, threads, recorded posts and the messages the bot posted.
-- Times are UTC seconds since the epoch (BIGINT), ids are Discord snowflakes (BIGINT).
CREATE TABLE dialogues (
    id              INTEGER PRIMARY KEY,
    guild_id        BIGINT NOT NULL,
    title           TEXT NOT NULL,
    framing         TEXT NOT NULL DEFAULT '',
    timezone        TEXT NOT NULL,
    opens_at        BIGINT NOT NULL,
    closes_at       BIGINT NOT NULL,
    state           TEXT NOT NULL,
    failure_reason  TEXT,
    channel_id      BIGINT,
    intro_pinned    INTEGER NOT NULL DEFAULT 0,
    ready_at        BIGINT,
    locked_at       BIGINT,
    opened_at       BIGINT,
    closed_at       BIGINT,
    created_by      BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX dialogues_by_guild ON dialogues (guild_id, state);
CREATE INDEX dialogues_by_channel ON dialogues (channel_id);

CREATE TABLE questions (
    dialogue_id     INTEGER NOT NULL REFERENCES dialogues (id),
    position        INTEGER NOT NULL,
    text            TEXT NOT NULL,
    release_at      BIGINT,
    thread_id       BIGINT,
    PRIMARY KEY (dialogue_id, position)
);

CREATE TABLE threads (
    thread_id           BIGINT PRIMARY KEY,
    dialogue_id         INTEGER NOT NULL REFERENCES dialogues (id),
    origin              TEXT NOT NULL,
    title               TEXT NOT NULL,
    starter_message_id  BIGINT,
    created_at          BIGINT NOT NULL,
    locked_at           BIGINT
);
CREATE INDEX threads_by_dialogue ON threads (dialogue_id);

CREATE TABLE posts (
    message_id      BIGINT PRIMARY KEY,
    dialogue_id     INTEGER NOT NULL REFERENCES dialogues (id),
    thread_id       BIGINT,
    author_id       BIGINT NOT NULL,
    author_name     TEXT NOT NULL,
    content         TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    edited_at       BIGINT,
    deleted_at      BIGINT,
    reply_to_id     BIGINT
);
CREATE INDEX posts_by_thread_author ON posts (dialogue_id, thread_id, author_id);
CREATE INDEX posts_by_time ON posts (dialogue_id, created_at);

-- Every message the bot posted for a dialogue, by kind and part, so that no step posts twice.
CREATE TABLE bot_messages (
    dialogue_id     INTEGER NOT NULL REFERENCES dialogues (id),
    kind            TEXT NOT NULL,
    part            INTEGER NOT NULL,
    channel_id      BIGINT NOT NULL,
    message_id      BIGINT NOT NULL,
    posted_at       BIGINT NOT NULL,
    PRIMARY KEY (dialogue_id, kind, part)
);
