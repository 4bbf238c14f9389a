-- The gateway's message log (PostgreSQL): one row per message per direction,
-- as the gateway saw it. `id` keeps insertion order, the tie-break when two
-- rows share a received_at. Times are integer unix microseconds (UTC), the one
-- representation both SQLite and PostgreSQL sort and compare natively.
-- `signatures` is each encoded `egov.v1.Signature` prefixed by its length as
-- a 4-byte big-endian integer, concatenated; `signers` is a JSON array of
-- certificate subjects, kept as TEXT so both stores decode it alike. `body` is
-- NULL when the route keeps only its hash.
-- Kept in step with ../sqlite: same columns, same names, same meaning.

CREATE TABLE message_log (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    in_reply_to TEXT NOT NULL,
    service_id TEXT NOT NULL,
    sender TEXT NOT NULL,
    receiver TEXT NOT NULL,
    message_type TEXT NOT NULL,
    channel TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('INBOUND', 'OUTBOUND')),
    status_code TEXT NOT NULL,
    status_message TEXT NOT NULL,
    header BYTEA NOT NULL,
    body BYTEA,
    body_sha256 BYTEA NOT NULL,
    signatures BYTEA NOT NULL,
    signers TEXT NOT NULL,
    received_at_us BIGINT NOT NULL,
    duration_us BIGINT NOT NULL
);

CREATE INDEX message_log_by_message_id ON message_log (message_id);
-- Covers the correlation query's ORDER BY as well as its WHERE.
CREATE INDEX message_log_by_correlation_id ON message_log (correlation_id, received_at_us, id);
