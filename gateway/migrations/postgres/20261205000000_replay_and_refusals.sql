-- Replay protection that survives a restart and is shared by every gateway
-- replica on the same database: a message id is admitted once, when its row is
-- inserted; a second insert of the same id finds the primary key taken.
-- `seen_at_us` (unix microseconds, UTC) lets old ids be pruned once their
-- message time is outside the accepted window anyway.
CREATE TABLE seen_message_id (
    message_id TEXT PRIMARY KEY,
    seen_at_us BIGINT NOT NULL
);
CREATE INDEX seen_message_id_by_time ON seen_message_id (seen_at_us);

-- Messages refused at the door, kept apart from message_log: a refused
-- envelope proved nothing, so it is never stored under the ids it claims,
-- and never with its body; only the digest of its header bytes and the reason.
-- Kept in step with ../sqlite.
CREATE TABLE refused_message (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    header_sha256 BYTEA NOT NULL,
    channel TEXT NOT NULL,
    status_code TEXT NOT NULL,
    status_message TEXT NOT NULL,
    received_at_us BIGINT NOT NULL
);
CREATE INDEX refused_message_by_header ON refused_message (header_sha256);
