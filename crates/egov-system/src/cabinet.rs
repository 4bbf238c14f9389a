//! The citizen's personal cabinet (the portal's), as every system that writes to it sees it:
//! its service id and the fields its notifications share. The back office sends statuses and
//! results there; the queue register sends referrals issued after the placement.

/// Service id of the citizen's cabinet notifications (an `egov.v1.ServiceResult` each).
pub const CABINET_NOTIFY_SERVICE_ID: &str = "portal.cabinet.notify";

/// Field of a notification: what happened (`registered`, `in_progress`, `issued`,
/// `referral_issued`).
pub const FIELD_STATUS: &str = "status";
/// Field: the service code.
pub const FIELD_SERVICE_CODE: &str = "service_code";
/// Field: the recipient's IIN, whose cabinet the message is for.
pub const FIELD_RECIPIENT_IIN: &str = "recipient_iin";
