-- PostgreSQL twin of ../sqlite/20261210000001_esobes.sql: same tables, columns, names and
-- meaning; BYTEA for BLOB. Kept in step with it.
-- E-sobes's state: the intake of service C (registration numbers, applications, the results
-- the back office decided, kept with their signed envelopes). Times are RFC 3339 text.

-- The last number given per registration-number prefix and year.
CREATE TABLE sequences (
    prefix TEXT NOT NULL,
    year INTEGER NOT NULL,
    last BIGINT NOT NULL,
    PRIMARY KEY (prefix, year)
);

-- Every registered application (the electronic document of FLOWS.md's process 6).
CREATE TABLE applications (
    registration_number TEXT PRIMARY KEY,
    service_code TEXT NOT NULL,
    channel INTEGER NOT NULL,
    recipient_iin TEXT NOT NULL,
    representative_iin TEXT NOT NULL,
    child_iin TEXT NOT NULL,
    sender_system_id TEXT NOT NULL,
    author_iin TEXT NOT NULL,
    request_message_id TEXT NOT NULL,
    application BYTEA NOT NULL,
    case_id TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    due_at TEXT NOT NULL
);

CREATE INDEX applications_by_recipient ON applications (recipient_iin);

-- The provider's decision of an application: the document and the envelope it was signed in.
CREATE TABLE results (
    registration_number TEXT PRIMARY KEY REFERENCES applications (registration_number),
    kind INTEGER NOT NULL,
    refusal_ground TEXT NOT NULL,
    result BYTEA NOT NULL,
    envelope BYTEA NOT NULL,
    signer_subject TEXT NOT NULL,
    signer_iin TEXT NOT NULL,
    received_at TEXT NOT NULL
);
