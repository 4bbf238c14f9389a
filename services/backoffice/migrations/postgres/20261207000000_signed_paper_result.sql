-- A result handed over on paper at the provider's office (E) goes to no system that would
-- sign it on its way: the head of the deciding organisation signs it here, when the case
-- closes, and the office keeps the signed document (an encoded egov.v1.Envelope) beside it.
-- NULL for a result that leaves through the outbox, signed there.
ALTER TABLE results ADD COLUMN signed_document BYTEA;
