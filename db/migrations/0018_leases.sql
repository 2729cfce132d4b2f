-- Leases (issue 11): a step on a dialogue claims "dialogue:<id>" here before it runs, so two processes (shards
-- that overlap by mistake, or a restarted process next to the old one) never run the same step at once. The
-- holder renews expires_at while it works and clears owner when done; a crashed holder's lease simply expires.
CREATE TABLE leases (
    name        TEXT    PRIMARY KEY,
    owner       TEXT,
    expires_at  BIGINT  NOT NULL
);
