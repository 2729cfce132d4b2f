-- The anonymous feedback survey after a dialogue closes.
-- surveys: one row per dialogue that has a survey configured by its plan or an answer. ``secret`` keys the
-- respondent hashes (HMAC-SHA256); it is made with the row and set to NULL once the survey has ended, together
-- with every respondent hash, so nothing left can be matched to a member. question_count NULL: the default
-- questions; days NULL: the configured survey_days.
CREATE TABLE surveys (
    dialogue_id     INTEGER PRIMARY KEY REFERENCES dialogues (id),
    secret          TEXT,
    days            INTEGER,
    question_count  INTEGER,
    question_1      TEXT,
    question_2      TEXT,
    question_3      TEXT
);
-- One row per respondent, replaced by a repeat. Deliberately no user id, no name, no time: ``respondent`` is the
-- keyed hash (NULL after the survey ended), and ``id`` is random (SQLite stores rows in its order), so not even
-- the order of the rows follows the order of submissions.
CREATE TABLE survey_responses (
    id              INTEGER PRIMARY KEY,
    dialogue_id     INTEGER NOT NULL REFERENCES dialogues (id),
    respondent      TEXT,
    rating          INTEGER,
    answer_1        TEXT    NOT NULL DEFAULT '',
    answer_2        TEXT    NOT NULL DEFAULT '',
    answer_3        TEXT    NOT NULL DEFAULT '',
    UNIQUE (dialogue_id, respondent)
);
