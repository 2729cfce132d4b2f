-- PostgreSQL's variant of ../0009_post_tallies.sql: the same table and the same three triggers, whose bodies are
-- PL/pgSQL trigger functions here. thread_id 0 stands for a top-level post that has no thread.
CREATE TABLE post_tallies (
    dialogue_id     INTEGER NOT NULL REFERENCES dialogues (id),
    thread_id       BIGINT NOT NULL,
    author_id       BIGINT NOT NULL,
    posts           INTEGER NOT NULL,
    PRIMARY KEY (dialogue_id, thread_id, author_id)
);

INSERT INTO post_tallies (dialogue_id, thread_id, author_id, posts)
SELECT dialogue_id, COALESCE(thread_id, 0), author_id, COUNT(*) FROM posts
WHERE deleted_at IS NULL GROUP BY dialogue_id, COALESCE(thread_id, 0), author_id;

CREATE FUNCTION post_tallies_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO post_tallies (dialogue_id, thread_id, author_id, posts)
    VALUES (NEW.dialogue_id, COALESCE(NEW.thread_id, 0), NEW.author_id, 1)
    ON CONFLICT (dialogue_id, thread_id, author_id) DO UPDATE SET posts = post_tallies.posts + 1;
    RETURN NULL;
END;
$$;

CREATE FUNCTION post_tallies_uncount() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE post_tallies SET posts = posts - 1
    WHERE dialogue_id = OLD.dialogue_id AND thread_id = COALESCE(OLD.thread_id, 0) AND author_id = OLD.author_id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER post_tallies_on_insert AFTER INSERT ON posts
FOR EACH ROW WHEN (NEW.deleted_at IS NULL) EXECUTE FUNCTION post_tallies_count();

-- A post leaves the tally when it is deleted (its row stays, its deleted_at is set) or its row is removed.
CREATE TRIGGER post_tallies_on_delete AFTER UPDATE OF deleted_at ON posts
FOR EACH ROW WHEN (OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL) EXECUTE FUNCTION post_tallies_uncount();

CREATE TRIGGER post_tallies_on_remove AFTER DELETE ON posts
FOR EACH ROW WHEN (OLD.deleted_at IS NULL) EXECUTE FUNCTION post_tallies_uncount();

-- Catch-up compares Discord's last message id of a thread with the newest one recorded (MAX per thread),
-- and remembers how far it last read a thread or channel, bot and system messages included.
CREATE INDEX IF NOT EXISTS posts_by_thread_message ON posts (thread_id, message_id);

CREATE TABLE read_marks (
    channel_id      BIGINT PRIMARY KEY,
    dialogue_id     INTEGER NOT NULL REFERENCES dialogues (id),
    message_id      BIGINT NOT NULL
);
