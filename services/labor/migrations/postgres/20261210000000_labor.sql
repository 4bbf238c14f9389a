-- PostgreSQL twin of ../sqlite/20261210000000_labor.sql: same tables, columns, names and
-- meaning; BYTEA for BLOB. Kept in step with it.
-- The Labour Market AIS's state: the intake of service B (registration numbers, applications,
-- the results the back office decided, kept with their signed envelopes), the register of
-- employed persons, and which fixture sets were loaded. Times are RFC 3339 text, dates ISO text.

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

-- Persons in employment, by IIN: an employed person is refused the unemployed certificate.
CREATE TABLE employment (
    iin TEXT PRIMARY KEY,
    employer_bin TEXT NOT NULL,
    employer_name TEXT NOT NULL,
    since TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);

-- Fixture sets already loaded, so each loads once: on the first start only.
CREATE TABLE seeds (
    name TEXT PRIMARY KEY,
    loaded_at TEXT NOT NULL
);
