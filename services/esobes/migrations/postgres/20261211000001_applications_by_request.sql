-- A redelivered request (same sender, same message id) is answered with the application it
-- registered, found through this index, instead of being registered twice.
CREATE INDEX applications_by_request ON applications (request_message_id, sender_system_id);
