-- Sign-in: accounts with roles, sessions and API tokens, in the service's own database.
-- Times are Unix seconds (UTC); secrets (session ids, API tokens) are stored as SHA-256 hex.
CREATE TABLE signin_accounts (
    login TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    roles TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE signin_sessions (
    id_hash TEXT PRIMARY KEY,
    login TEXT NOT NULL REFERENCES signin_accounts (login) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    seen_at BIGINT NOT NULL
);

CREATE INDEX signin_sessions_login ON signin_sessions (login);

CREATE TABLE signin_tokens (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    login TEXT NOT NULL REFERENCES signin_accounts (login) ON DELETE CASCADE,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
