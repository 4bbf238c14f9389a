-- PostgreSQL twin of ../sqlite/20261201000000_backoffice.sql: same tables, columns, names and
-- meaning; BYTEA for BLOB, BOOLEAN for the 0 / 1 flags, an identity column for AUTOINCREMENT.
-- Kept in step with it.
-- The provider back office's state: cases of services A–F, the steps each walked (with the
-- regulation's norm, due and actual times), the signed-off results, and the outgoing
-- messages still to deliver. Times are RFC 3339 text, as sqlx's `time` support writes them.

-- One row per application. A case is open until closed_at is set.
CREATE TABLE cases (
    id TEXT PRIMARY KEY,
    service_code TEXT NOT NULL,
    registration_number TEXT NOT NULL,
    -- The system that opened the case through the gateway; '' for the direct gRPC call.
    requester_system_id TEXT NOT NULL,
    -- The system the result goes back to; '' when it is handed over at the office only.
    reply_to_system_id TEXT NOT NULL,
    recipient_iin TEXT NOT NULL,
    -- The encoded egov.v1.ServiceApplication.
    application BYTEA NOT NULL,
    -- 'auto' or 'manual', fixed at opening so a config change does not switch a running case.
    policy TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    -- When the whole service is due (the term, or the sum of the step norms).
    term_due_at TEXT,
    -- Set at the deciding step: 'approve' or 'refuse'.
    decision TEXT,
    refusal_ground TEXT,
    decision_reason TEXT,
    decided_at TEXT,
    closed_at TEXT,
    -- One case per application of a requester: a retried open finds the first.
    UNIQUE (requester_system_id, registration_number)
);

CREATE INDEX cases_open ON cases (closed_at) WHERE closed_at IS NULL;

-- The steps a case has started, in order; the open one has no ended_at.
CREATE TABLE steps (
    case_id TEXT NOT NULL REFERENCES cases (id),
    idx INTEGER NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    -- The regulation's norm as the catalogue writes it ('15 min', '1 wd'); '' for none.
    norm TEXT NOT NULL,
    started_at TEXT NOT NULL,
    due_at TEXT,
    ended_at TEXT,
    -- What was done: the step's action, or 'refuse'.
    taken_action TEXT,
    -- 'auto' for the automatic policy, else the acting role.
    actor TEXT,
    comment TEXT,
    PRIMARY KEY (case_id, idx)
);

-- The result of a closed case, signed by the head when sent.
CREATE TABLE results (
    case_id TEXT PRIMARY KEY REFERENCES cases (id),
    kind TEXT NOT NULL,
    refusal_ground TEXT,
    -- The encoded egov.v1.ServiceResult.
    payload BYTEA NOT NULL,
    decided_at TEXT NOT NULL,
    -- TRUE until the requester's system accepted it.
    delivery_pending BOOLEAN NOT NULL,
    delivered_at TEXT
);

-- The outbox: every message to another system, written in the same transaction as the
-- change it reports, and sent (and retried) by the delivery worker.
CREATE TABLE deliveries (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (id),
    -- 'result' (signed by the head, countersigned by the system) or 'status' (the system only).
    kind TEXT NOT NULL,
    service_id TEXT NOT NULL,
    receiver_system_id TEXT NOT NULL,
    recipient_iin TEXT NOT NULL,
    -- The encoded egov.v1.ServiceResult.
    payload BYTEA NOT NULL,
    -- TRUE: retried until delivered; FALSE: dropped when the route is absent (the cabinet).
    required BOOLEAN NOT NULL,
    -- 'pending', 'delivered' or 'dropped'.
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT,
    created_at TEXT NOT NULL,
    delivered_at TEXT
);

CREATE INDEX deliveries_pending ON deliveries (state) WHERE state = 'pending';
