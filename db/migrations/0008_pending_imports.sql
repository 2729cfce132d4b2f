-- A plan import waiting for its facilitator's answer (some of its leaders are not members of the server).
-- The answer buttons carry the row's id, so a press after a restart still finds the plan; a row past
-- expires_at is refused and removed.
CREATE TABLE pending_imports (
    id          INTEGER PRIMARY KEY,
    guild_id    BIGINT  NOT NULL,
    user_id     BIGINT  NOT NULL,
    plan_text   TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL
);
CREATE INDEX pending_imports_by_expiry ON pending_imports (expires_at);
