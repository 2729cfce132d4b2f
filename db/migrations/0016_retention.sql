-- Retention: when the text of a dialogue's posts was purged (keep_transcripts_days), NULL while it is kept.
-- Counts live in post_tallies and stay; the purge only empties posts.content.
ALTER TABLE dialogues ADD COLUMN transcript_purged_at BIGINT;
-- The retention timer reads closed dialogues not yet purged, by the time they closed.
CREATE INDEX dialogues_by_purge ON dialogues (transcript_purged_at, closed_at);
