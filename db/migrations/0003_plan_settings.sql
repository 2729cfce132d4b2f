-- Reminder settings a dialogue got from its plan file (NULL: the bot's configured default).
CREATE TABLE plan_settings (
    dialogue_id         INTEGER PRIMARY KEY REFERENCES dialogues (id),
    checkin_hour        INTEGER,
    unanswered_after    BIGINT      -- seconds
);
