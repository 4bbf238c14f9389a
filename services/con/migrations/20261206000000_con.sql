-- The State Corporation workstation's state (ХҚО / ЦОН): the electronic queue's tickets, the
-- requests its operators filed, the receipts of refusal they handed out, and the journal of
-- every operator action with the operator's name. Times are RFC 3339 text.

-- A ticket of the electronic queue: taken at the kiosk, called by an operator.
CREATE TABLE tickets (
    id TEXT PRIMARY KEY,
    day TEXT NOT NULL,
    seq BIGINT NOT NULL,
    taken_at TEXT NOT NULL,
    called_at TEXT,
    operator_login TEXT NOT NULL DEFAULT '',
    operator_name TEXT NOT NULL DEFAULT '',
    UNIQUE (day, seq)
);

-- What an operator did with a ticket's request: sent (with the target's registration
-- number), refused (with the reason), or refused to accept (with a receipt).
CREATE TABLE filings (
    id TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL UNIQUE,
    service_code TEXT NOT NULL,
    recipient_iin TEXT NOT NULL,
    representative_iin TEXT NOT NULL,
    outcome TEXT NOT NULL,
    message TEXT NOT NULL,
    target_system TEXT NOT NULL,
    registration_number TEXT NOT NULL,
    operator_login TEXT NOT NULL,
    operator_name TEXT NOT NULL,
    filed_at TEXT NOT NULL,
    result_kind TEXT NOT NULL DEFAULT '',
    result_text TEXT NOT NULL DEFAULT '',
    result_signer TEXT NOT NULL DEFAULT '',
    result_at TEXT,
    handed_over_by TEXT NOT NULL DEFAULT '',
    handed_over_at TEXT
);

-- A receipt of refusal to accept the application (Standard annex 2 form of service D).
CREATE TABLE receipts (
    id TEXT PRIMARY KEY,
    filing_id TEXT NOT NULL,
    service_code TEXT NOT NULL,
    recipient_iin TEXT NOT NULL,
    recipient_name TEXT NOT NULL,
    missing TEXT NOT NULL,
    operator_name TEXT NOT NULL,
    issued_at TEXT NOT NULL
);

-- Every operator action, with who took it: id is a UUIDv7, so it sorts by time.
CREATE TABLE journal (
    id TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    operator_login TEXT NOT NULL,
    operator_name TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL
);
