-- The W3C `traceparent` of the request that opened the case ('' when none came), so the
-- results and notifications sent later, from the outbox, continue the application's trace.
ALTER TABLE cases ADD COLUMN traceparent TEXT NOT NULL DEFAULT '';
