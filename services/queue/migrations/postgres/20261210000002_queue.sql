-- PostgreSQL twin of ../sqlite/20261210000002_queue.sql: same tables, columns, names and
-- meaning; BYTEA for BLOB, an identity column for AUTOINCREMENT. Kept in step with it.
-- The kindergarten queue register's state: the intake of service D (registration numbers,
-- applications, the results the back office issued, kept with their signed envelopes), the
-- kindergartens with their free places, the queue itself, and which fixture sets were loaded.
-- Times are RFC 3339 text.

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

-- Kindergartens (pre-school organisations) by district: where places are given.
CREATE TABLE kindergartens (
    bin TEXT PRIMARY KEY,
    district TEXT NOT NULL,
    name TEXT NOT NULL
);

CREATE INDEX kindergartens_by_district ON kindergartens (district);

-- Free places per kindergarten and age group (egov.v1.AgeGroup numbers).
CREATE TABLE places (
    kindergarten_bin TEXT NOT NULL REFERENCES kindergartens (bin),
    age_group INTEGER NOT NULL,
    free BIGINT NOT NULL CHECK (free >= 0),
    PRIMARY KEY (kindergarten_bin, age_group)
);

-- The queue: one row per placement, in the order queued (seq). A child is queued once at a
-- time: a withdrawn entry frees the child for a new placement.
CREATE TABLE entries (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    child_iin TEXT NOT NULL,
    registration_number TEXT NOT NULL UNIQUE,
    recipient_iin TEXT NOT NULL,
    representative_iin TEXT NOT NULL,
    district TEXT NOT NULL,
    age_group INTEGER NOT NULL,
    kindergarten_bin TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('waiting', 'referred', 'withdrawn')),
    queued_at TEXT NOT NULL,
    referral_number TEXT,
    referral_kindergarten_bin TEXT,
    referred_at TEXT,
    withdrawn_reason TEXT
);

CREATE UNIQUE INDEX entries_one_active_per_child ON entries (child_iin) WHERE status <> 'withdrawn';

CREATE INDEX entries_by_queue ON entries (district, age_group, kindergarten_bin, status, seq);

-- Fixture sets already loaded, so each loads once: on the first start only.
CREATE TABLE seeds (
    name TEXT PRIMARY KEY,
    loaded_at TEXT NOT NULL
);
