-- A dialogue's progress in one place: the step a retry is waiting on, why, and when it is tried again;
-- and how many parts the wrap-up has, written before its first part is posted (complete = every part).
ALTER TABLE dialogues ADD COLUMN pending_step TEXT;
ALTER TABLE dialogues ADD COLUMN pending_reason TEXT;
ALTER TABLE dialogues ADD COLUMN retry_at BIGINT;
ALTER TABLE dialogues ADD COLUMN wrapup_parts INTEGER;
-- Wrap-ups posted before this migration count as complete with the parts they have.
UPDATE dialogues SET wrapup_parts = (
    SELECT COUNT(*) FROM bot_messages WHERE bot_messages.dialogue_id = dialogues.id AND bot_messages.kind = 'wrapup'
) WHERE EXISTS (
    SELECT 1 FROM bot_messages WHERE bot_messages.dialogue_id = dialogues.id AND bot_messages.kind = 'wrapup'
);
