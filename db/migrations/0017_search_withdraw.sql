-- Search and withdrawal (issue 10).
-- withdrawn_at: set when the author (or a facilitator on their behalf) withdrew the post; its text is erased
-- (content = '', author_name = '') in the same statement. Counts stay: the tallies follow deleted_at only.
ALTER TABLE posts ADD COLUMN withdrawn_at BIGINT;

-- Each withdrawal, without any content and without the member's id: when, which dialogue, how many posts,
-- and whether the member asked themselves or a facilitator acted for them.
CREATE TABLE withdrawals (
    id              INTEGER PRIMARY KEY,
    guild_id        BIGINT  NOT NULL,
    dialogue_id     INTEGER NOT NULL REFERENCES dialogues (id),
    posts           INTEGER NOT NULL,
    by_facilitator  INTEGER NOT NULL,
    withdrawn_at    BIGINT  NOT NULL
);
CREATE INDEX withdrawals_by_dialogue ON withdrawals (dialogue_id);

-- A search's query held for its Previous/Next buttons (whose custom ids carry only the random key), so the
-- buttons still work after a restart. Rows expire; the query text is the searcher's own and never logged.
CREATE TABLE searches (
    id              TEXT    PRIMARY KEY,
    guild_id        BIGINT  NOT NULL,
    user_id         BIGINT  NOT NULL,
    query           TEXT    NOT NULL,
    dialogue_id     INTEGER,
    created_at      BIGINT  NOT NULL,
    expires_at      BIGINT  NOT NULL
);
CREATE INDEX searches_by_expiry ON searches (expires_at);

-- Full-text index of the posts' text: SQLite FTS5 with posts as its external content (no second copy of the
-- text; snippet() reads posts). Only live posts are indexed: not deleted, not withdrawn, not empty (purged).
-- Everything FTS-specific lives here and in db/search.py; PostgreSQL would use a tsvector column instead.
CREATE VIRTUAL TABLE posts_fts USING fts5 (
    content,
    content = 'posts',
    content_rowid = 'message_id',
    tokenize = 'unicode61 remove_diacritics 2'
);

INSERT INTO posts_fts (rowid, content)
SELECT message_id, content FROM posts
WHERE deleted_at IS NULL AND withdrawn_at IS NULL AND content <> '';

-- The triggers keep the index in step in the same statement that writes a post. An external-content index
-- forgets a row only when told its old text ('delete'), so every change first removes what was indexed, then
-- indexes the new text if the post is still live: edits, deletions, withdrawals and purges (content = '').
CREATE TRIGGER posts_fts_on_insert AFTER INSERT ON posts
FOR EACH ROW WHEN NEW.deleted_at IS NULL AND NEW.withdrawn_at IS NULL AND NEW.content <> ''
BEGIN
    INSERT INTO posts_fts (rowid, content) VALUES (NEW.message_id, NEW.content);
END;

CREATE TRIGGER posts_fts_on_update AFTER UPDATE OF content, deleted_at, withdrawn_at ON posts
FOR EACH ROW
BEGIN
    INSERT INTO posts_fts (posts_fts, rowid, content)
    SELECT 'delete', OLD.message_id, OLD.content
    WHERE OLD.deleted_at IS NULL AND OLD.withdrawn_at IS NULL AND OLD.content <> '';
    INSERT INTO posts_fts (rowid, content)
    SELECT NEW.message_id, NEW.content
    WHERE NEW.deleted_at IS NULL AND NEW.withdrawn_at IS NULL AND NEW.content <> '';
END;

CREATE TRIGGER posts_fts_on_remove AFTER DELETE ON posts
FOR EACH ROW WHEN OLD.deleted_at IS NULL AND OLD.withdrawn_at IS NULL AND OLD.content <> ''
BEGIN
    INSERT INTO posts_fts (posts_fts, rowid, content) VALUES ('delete', OLD.message_id, OLD.content);
END;
