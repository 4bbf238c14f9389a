-- The certification centre's state: its CA hierarchy, every certificate it
-- issued (with its revocation, if any) and the counters serials and CRL
-- numbers come from. Times are RFC 3339 text, as sqlx's `time` support writes them.

-- One row: the root and the issuing intermediate, created on first start from the seed.
CREATE TABLE ca (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    root_der BLOB NOT NULL,
    root_key_pkcs8 BLOB NOT NULL,
    intermediate_der BLOB NOT NULL,
    intermediate_key_pkcs8 BLOB NOT NULL,
    created_at TEXT NOT NULL
);

-- Every issued certificate; revoked_at and revocation_reason are set once, never cleared.
CREATE TABLE certificates (
    serial TEXT PRIMARY KEY,
    surname TEXT NOT NULL,
    given_name TEXT NOT NULL,
    iin TEXT NOT NULL,
    bin TEXT,
    organization TEXT,
    role TEXT NOT NULL,
    purpose TEXT NOT NULL,
    not_before TEXT NOT NULL,
    not_after TEXT NOT NULL,
    der BLOB NOT NULL,
    issued_at TEXT NOT NULL,
    revoked_at TEXT,
    revocation_reason TEXT
);

CREATE INDEX certificates_by_iin ON certificates (iin);
CREATE INDEX certificates_revoked ON certificates (revoked_at) WHERE revoked_at IS NOT NULL;

-- Monotonic counters: 'serial' numbers certificates, 'crl_number' numbers revocation lists.
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

INSERT INTO counters (name, value) VALUES ('serial', 0), ('crl_number', 0);
