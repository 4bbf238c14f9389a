-- Who may enrol: one-time enrolment tokens (kept only as SHA-256 digests, each bound to one
-- role and one BIN or IIN, consumed on use) and registrar accounts (argon2id PHC strings).

CREATE TABLE enrolment_grants (
    token_sha256 TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    subject TEXT NOT NULL,
    added_at TEXT NOT NULL,
    used_at TEXT,
    used_serial TEXT
);

CREATE TABLE registrars (
    login TEXT PRIMARY KEY,
    password_phc TEXT NOT NULL,
    added_at TEXT NOT NULL
);
