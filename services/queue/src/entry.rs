//! The queue register's records: a [`Kindergarten`] (мектепке дейінгі ұйым / дошкольная
//! организация) with its district, an [`Entry`] of the queue — waiting with a position, or
//! given a referral (жолдама / направление) to a kindergarten — and the age groups of
//! pre-school education a child is queued in by age.

use egov_proto::v1::AgeGroup;
use time::OffsetDateTime;

/// The public-service code of FLOWS.md and the back office's catalogue.
pub const SERVICE_CODE: &str = "D";

/// Application field with the register's choice, as the back office's catalogue for D reads
/// it (`result_kind_field`): `notification`, `referral` or [`QUEUE_DECISION_REFUSAL`].
pub const FIELD_QUEUE_DECISION: &str = "queue_decision";
/// The value of [`FIELD_QUEUE_DECISION`] for an application refused on a Standard item-10
/// ground: the provider's executor sends the reasoned refusal.
pub const QUEUE_DECISION_REFUSAL: &str = "refusal";
/// Application field with the item-10 ground's code of a refusal, as the catalogue names it.
pub const FIELD_REFUSAL_GROUND: &str = "queue_refusal_ground";
/// Application field with why the register refused, naming the data it judged.
pub const FIELD_REFUSAL_REASON: &str = "queue_refusal_reason";
/// Application field with the position (a notification).
pub const FIELD_QUEUE_POSITION: &str = "queue_position";
/// Application field with the referral number (a referral).
pub const FIELD_REFERRAL_NUMBER: &str = "referral_number";
/// Application field with the kindergarten of the referral (or the one asked for).
pub const FIELD_KINDERGARTEN_BIN: &str = "kindergarten_bin";
/// Application field with the district the place is wanted in.
pub const FIELD_DISTRICT: &str = "district";
/// Application field with the child's age group.
pub const FIELD_AGE_GROUP: &str = "age_group";

/// The age from which a child is not of pre-school age (FLOWS.md, service D: "under 7").
pub const SCHOOL_AGE: i32 = 7;

/// Returns the age group of a child aged `age` full years; none from [`SCHOOL_AGE`] on.
pub fn age_group(age: i32) -> Option<AgeGroup> {
    match age {
        0 => Some(AgeGroup::Infant),
        1 => Some(AgeGroup::Early),
        2 => Some(AgeGroup::Junior),
        3 => Some(AgeGroup::Middle),
        4 => Some(AgeGroup::Senior),
        5 | 6 => Some(AgeGroup::Preschool),
        _ => None,
    }
}

/// Every age group, youngest first.
pub const AGE_GROUPS: [AgeGroup; 6] = [
    AgeGroup::Infant,
    AgeGroup::Early,
    AgeGroup::Junior,
    AgeGroup::Middle,
    AgeGroup::Senior,
    AgeGroup::Preschool,
];

/// Returns an age group's short name, as the HTTP API writes it (`middle`).
pub fn age_group_name(group: AgeGroup) -> &'static str {
    match group {
        AgeGroup::Unspecified => "unspecified",
        AgeGroup::Infant => "infant",
        AgeGroup::Early => "early",
        AgeGroup::Junior => "junior",
        AgeGroup::Middle => "middle",
        AgeGroup::Senior => "senior",
        AgeGroup::Preschool => "preschool",
    }
}

/// Reads an age group's short name.
pub fn parse_age_group(name: &str) -> Option<AgeGroup> {
    AGE_GROUPS
        .into_iter()
        .find(|group| age_group_name(*group) == name)
}

/// A kindergarten in the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kindergarten {
    /// Its BIN.
    pub bin: String,
    /// The district code it is in (the citizens-DB's dictionary codes, e.g. `4307`).
    pub district: String,
    /// Its name.
    pub name: String,
}

/// Where an entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryStatus {
    /// In the queue, with a position.
    Waiting,
    /// Given a referral to a kindergarten.
    Referred,
    /// Taken out of the queue (the provider refused the application).
    Withdrawn,
}

impl EntryStatus {
    /// Returns the status as the store writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryStatus::Waiting => "waiting",
            EntryStatus::Referred => "referred",
            EntryStatus::Withdrawn => "withdrawn",
        }
    }

    /// Reads a stored status.
    pub fn parse(text: &str) -> Option<EntryStatus> {
        match text {
            "waiting" => Some(EntryStatus::Waiting),
            "referred" => Some(EntryStatus::Referred),
            "withdrawn" => Some(EntryStatus::Withdrawn),
            _ => None,
        }
    }
}

/// A referral (жолдама / направление) to a kindergarten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral {
    /// Its number.
    pub number: String,
    /// The kindergarten it is to.
    pub kindergarten_bin: String,
    /// When it was issued.
    pub issued_at: OffsetDateTime,
}

/// An entry of the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its place in the order of queuing.
    pub seq: i64,
    /// The child.
    pub child_iin: String,
    /// The registration number of the application that queued the child.
    pub registration_number: String,
    /// The service recipient (the parent or legal representative).
    pub recipient_iin: String,
    /// The representative acting by power of attorney, or empty.
    pub representative_iin: String,
    /// The district the place is wanted in.
    pub district: String,
    /// The child's age group when queued.
    pub age_group: AgeGroup,
    /// The kindergarten asked for, or empty for any in the district.
    pub kindergarten_bin: String,
    /// Where it stands.
    pub status: EntryStatus,
    /// When the child was queued.
    pub queued_at: OffsetDateTime,
    /// The referral, once issued.
    pub referral: Option<Referral>,
}

/// What a placement records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    /// The child.
    pub child_iin: String,
    /// The registration number of the application.
    pub registration_number: String,
    /// The service recipient.
    pub recipient_iin: String,
    /// The representative, or empty.
    pub representative_iin: String,
    /// The district.
    pub district: String,
    /// The child's age group.
    pub age_group: AgeGroup,
    /// The kindergarten asked for, or empty for any in the district.
    pub kindergarten_bin: String,
}

/// A kindergarten as the fixtures write it: free places per age group, youngest first
/// (infant, early, junior, middle, senior, pre-school).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindergartenFixture {
    /// Its BIN.
    pub bin: &'static str,
    /// Its district code.
    pub district: &'static str,
    /// Its name.
    pub name: &'static str,
    /// Free places per age group.
    pub free: [u32; 6],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_groups_cover_every_pre_school_age_and_stop_at_seven() {
        assert_eq!(age_group(0), Some(AgeGroup::Infant));
        assert_eq!(age_group(3), Some(AgeGroup::Middle));
        assert_eq!(age_group(6), Some(AgeGroup::Preschool));
        assert_eq!(age_group(SCHOOL_AGE), None);
        assert_eq!(age_group(-1), None);
    }

    #[test]
    fn age_group_names_round_trip() {
        for group in AGE_GROUPS {
            assert_eq!(parse_age_group(age_group_name(group)), Some(group));
        }
        assert_eq!(parse_age_group("toddler"), None);
    }
}
