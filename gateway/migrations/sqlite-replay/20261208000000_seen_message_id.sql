-- The replay table of a SQLite message log, in a file of its own beside the
-- log's (gateway.db → gateway.replay.db): SQLite takes one writer per file,
-- and a claim must not wait for the log writer's batch. The same table as in
-- ../sqlite/20261205000000_replay_and_refusals.sql, whose copy in the log's
-- file stays empty; ids a log written before this file held are moved here
-- when the gateway starts.
CREATE TABLE seen_message_id (
    message_id TEXT PRIMARY KEY,
    seen_at_us INTEGER NOT NULL
);
CREATE INDEX seen_message_id_by_time ON seen_message_id (seen_at_us);
