-- The portal's requests and the cabinet's notifications. Bytes are kept as hex TEXT so
-- one schema serves SQLite and PostgreSQL.
CREATE TABLE portal_request (
    id TEXT PRIMARY KEY,
    recipient_iin TEXT NOT NULL,
    filer_iin TEXT NOT NULL,
    service_code TEXT NOT NULL,
    state TEXT NOT NULL,
    header_hex TEXT NOT NULL,
    payload_hex TEXT NOT NULL,
    signer_request_id TEXT NOT NULL DEFAULT '',
    registration_number TEXT NOT NULL DEFAULT '',
    due_at TEXT NOT NULL DEFAULT '',
    refusal TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX portal_request_recipient ON portal_request (recipient_iin);
CREATE INDEX portal_request_filer ON portal_request (filer_iin);
CREATE INDEX portal_request_number ON portal_request (registration_number);

CREATE TABLE portal_notification (
    id TEXT PRIMARY KEY,
    recipient_iin TEXT NOT NULL,
    registration_number TEXT NOT NULL,
    status TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    fields_json TEXT NOT NULL,
    signer_subject TEXT NOT NULL,
    signer_iin TEXT NOT NULL,
    signer_bin TEXT NOT NULL,
    signer_serial TEXT NOT NULL,
    signer_roles TEXT NOT NULL,
    signer_not_after TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX portal_notification_number ON portal_notification (registration_number);
