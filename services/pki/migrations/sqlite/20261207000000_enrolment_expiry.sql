-- Every enrolment grant expires: the time its token stops enrolling (RFC 3339, the centre's
-- clock). NULL for a grant entry written before expiries existed: it then expires the centre's
-- `enrolment_token_lifetime_hours` after `added_at`, when the centre first read it.
ALTER TABLE enrolment_grants ADD COLUMN expires_at TEXT;
