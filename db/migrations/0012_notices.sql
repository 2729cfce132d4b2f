-- "Tell me when the summary is out": who asked (the button) or opted out, and each notice owed, sent at most once.
-- Times are UTC seconds since the epoch (BIGINT), ids are Discord snowflakes (BIGINT).

-- A member's latest press of the wrap-up's buttons: 'notify' (tell me) or 'opt_out' (don't).
CREATE TABLE notice_choices (
    dialogue_id     INTEGER NOT NULL REFERENCES dialogues (id),
    user_id         BIGINT NOT NULL,
    choice          TEXT NOT NULL,
    chosen_at       BIGINT NOT NULL,
    PRIMARY KEY (dialogue_id, user_id)
);

-- One row per dialogue once its recipients were drawn up (the first time its summary was complete): a summary
-- replaced later finds the row and draws up nobody again. resume_at paces the batches and holds retries;
-- reported_at is set when the facilitators were told the outcome.
CREATE TABLE notice_runs (
    dialogue_id     INTEGER PRIMARY KEY REFERENCES dialogues (id),
    planned_at      BIGINT NOT NULL,
    resume_at       BIGINT,
    reported_at     BIGINT
);

-- One row per recipient, ever. state: pending -> sending (claimed, the DM is being sent) -> sent | dms_closed |
-- failed; or pending -> skipped (opted out before it went). A 'sending' row found later is an interrupted send:
-- the DM is looked for by its marker before it is sent again.
CREATE TABLE notices (
    dialogue_id     INTEGER NOT NULL REFERENCES dialogues (id),
    user_id         BIGINT NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    updated_at      BIGINT NOT NULL,
    note            TEXT,
    PRIMARY KEY (dialogue_id, user_id)
);
CREATE INDEX notices_by_state ON notices (dialogue_id, state, attempts, user_id);
