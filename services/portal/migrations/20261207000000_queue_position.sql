-- Service D queued without a free place: the child's position in the queue when placed, which
-- the cabinet shows where the referral number would be (NULL for every other request).
ALTER TABLE portal_request ADD COLUMN queue_position BIGINT;
