-- The after-life of a dialogue: its written summary (posted in parts, replaceable) and the optional
-- comments-until-summary phase between the window's end and the lock.
--
-- after_close: 'lock' (the channel locks at the window's end) or 'comments-until-summary' (it stays open
-- for comments until the summary is posted, or until comments_until, the safety limit written at the close).
ALTER TABLE dialogues ADD COLUMN after_close TEXT NOT NULL DEFAULT 'lock';
ALTER TABLE dialogues ADD COLUMN comments_until BIGINT;
-- The summary as last submitted (kept for resuming its steps and for exports), its revision (each submission
-- adds one), how many parts it splits into, and what its steps recorded: the pinned first part, the wrap-up
-- edited to link to it, and when every part of the current revision was recorded (NULL while one is missing).
ALTER TABLE dialogues ADD COLUMN summary_text TEXT;
ALTER TABLE dialogues ADD COLUMN summary_revision INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dialogues ADD COLUMN summary_parts INTEGER;
ALTER TABLE dialogues ADD COLUMN summary_pinned_id BIGINT;
ALTER TABLE dialogues ADD COLUMN summary_linked_id BIGINT;
ALTER TABLE dialogues ADD COLUMN summary_posted_at BIGINT;
-- Which revision of its step a recorded message shows (summary parts are edited in place on a replace).
ALTER TABLE bot_messages ADD COLUMN revision INTEGER;
