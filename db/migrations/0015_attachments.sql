-- The files attached to recorded posts, kept as links (what Discord serves them at), in the order attached;
-- exports list them under their post. A deleted post's attachments go with its text.
CREATE TABLE post_attachments (
    message_id      BIGINT NOT NULL REFERENCES posts (message_id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    filename        TEXT NOT NULL,
    url             TEXT NOT NULL,
    content_type    TEXT,
    size            BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (message_id, position)
);
