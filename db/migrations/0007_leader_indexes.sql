-- What the leaders' check-ins, the status report and the reminder timer ask, each answered by an index.
-- "Was this post answered?": replies to a post, and the posts after it in its thread.
CREATE INDEX posts_by_reply ON posts (reply_to_id);
CREATE INDEX posts_by_thread_message ON posts (thread_id, message_id);
-- The dialogue's live posts in total and since an instant, counted from the index alone.
CREATE INDEX posts_live_by_time ON posts (dialogue_id, deleted_at, created_at, thread_id);
-- A leader's own posts (check-ins, /dialogue status, the thank-you), in total and since an instant.
CREATE INDEX posts_by_author ON posts (dialogue_id, author_id, created_at);
-- When a pending reminder is next tried: its due time, or later after Discord failed. The one reminder
-- timer wakes at the earliest pending row; nothing else keeps a reminder in the scheduler.
ALTER TABLE reminders ADD COLUMN wake_at BIGINT;
UPDATE reminders SET wake_at = due_at;
CREATE INDEX reminders_by_wake ON reminders (state, wake_at);
-- The inputs a leader's reminders were last planned from (window, phase, zone, hour): start-up re-plans only
-- the leaders whose inputs changed since, e.g. an extension whose event a crash cut short.
ALTER TABLE leaders ADD COLUMN planned_with TEXT;
