-- The requests the portal handed over to be signed, kept across a restart of the signer: the
-- exact header and payload bytes, where to send the person back, the form's one-time token and,
-- once made, the signature. No key is kept here: keys live in keys/<IIN>.json.
-- SQLite only: the signer is the person's own program and keeps this file in its data dir.
CREATE TABLE sign_requests (
    -- Order of arrival: beyond the most kept waiting, the oldest go first.
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    header BLOB NOT NULL,
    payload BLOB NOT NULL,
    return_url TEXT NOT NULL,
    title TEXT NOT NULL,
    nonce TEXT NOT NULL,
    -- The encoded egov.v1.Signature, once signed.
    signature BLOB,
    declined INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
