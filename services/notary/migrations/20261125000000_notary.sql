-- The notary registry's state: notarised powers of attorney (сенімхат / доверенность),
-- the services each covers, and which fixture sets were loaded. Written in the SQL
-- SQLite and PostgreSQL share. Dates are ISO text (YYYY-MM-DD), times RFC 3339 text.

-- Every registered power of attorney; rows are only ever added.
CREATE TABLE powers_of_attorney (
    number TEXT PRIMARY KEY,
    principal_iin TEXT NOT NULL,
    representative_iin TEXT NOT NULL,
    notary_name TEXT NOT NULL,
    issue_date TEXT NOT NULL,
    expiry_date TEXT NOT NULL,
    revoked BOOLEAN NOT NULL DEFAULT FALSE,
    registered_at TEXT NOT NULL
);

-- The look-up by principal and representative (notary.power-of-attorney.find).
CREATE INDEX powers_of_attorney_by_pair
    ON powers_of_attorney (principal_iin, representative_iin);

-- The service ids or public-service codes (A-F) a power covers, in the order registered;
-- a power without rows here covers every service.
CREATE TABLE power_of_attorney_services (
    number TEXT NOT NULL REFERENCES powers_of_attorney (number),
    service_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (number, service_id)
);

-- Fixture sets already loaded, so each loads once: on the first start only.
CREATE TABLE seeds (
    name TEXT PRIMARY KEY,
    loaded_at TEXT NOT NULL
);
