-- Referrals (жолдама) issued after a child was queued, when a place freed later: each waits
-- here until the citizen's cabinet (the portal) has accepted it through the gateway.
CREATE TABLE cabinet_notices (
    registration_number TEXT PRIMARY KEY REFERENCES entries (registration_number),
    created_at TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    delivered_at TEXT,
    last_error TEXT
);
