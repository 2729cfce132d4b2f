-- When the dialogue timer must next look at a dialogue, derived from its record after every step (NULL: never
-- again). The timer holds one scheduler job at MIN(wake_at) and reads the due rows by this index.
ALTER TABLE dialogues ADD COLUMN wake_at BIGINT;
CREATE INDEX dialogues_by_wake ON dialogues (wake_at);
-- Dialogues stored before this migration: a scheduled one wakes at its opening, a failed one at its closing
-- (to be missed), an open one at its closing (start-up resumes it at once anyway), a closed one whose closing
-- steps are not all recorded at its retry (or at once).
UPDATE dialogues SET wake_at = opens_at WHERE state = 'scheduled';
UPDATE dialogues SET wake_at = closes_at WHERE state IN ('failed', 'open');
UPDATE dialogues SET wake_at = COALESCE(retry_at, updated_at)
WHERE state = 'closed' AND channel_id IS NOT NULL AND (
    locked_at IS NULL
    OR wrapup_parts IS NULL
    OR EXISTS (SELECT 1 FROM threads t WHERE t.dialogue_id = dialogues.id AND t.locked_at IS NULL)
    OR (SELECT COUNT(*) FROM bot_messages b WHERE b.dialogue_id = dialogues.id AND b.kind = 'wrapup') < wrapup_parts
);
