//! The values sqlx's `Any` driver does not carry itself, stored the same way on SQLite and
//! PostgreSQL: [`Timestamp`] (RFC 3339 text), [`OptionalTimestamp`] and [`Flag`] (a boolean
//! that SQLite keeps as an integer).
//!
//! In a `#[derive(sqlx::FromRow)]` struct, read a field through them with
//! `#[sqlx(try_from = "egov_store::Timestamp")]` (or `OptionalTimestamp`, `Flag`); bind with
//! `.bind(Timestamp(at))` or `.bind(maybe.map(Timestamp))`.

use sqlx::any::{Any, AnyTypeInfo, AnyTypeInfoKind, AnyValueRef};
use sqlx::decode::Decode;
use sqlx::encode::{Encode, IsNull};
use sqlx::error::BoxDynError;
use sqlx::types::Type;
use sqlx::{Database, ValueRef as _};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A point in time stored as RFC 3339 text: the form sqlx's SQLite driver wrote, so rows
/// written before the stores moved to `Any` read back unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp(pub OffsetDateTime);

/// A nullable [`Timestamp`] column, for `Option<OffsetDateTime>` fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionalTimestamp(pub Option<OffsetDateTime>);

/// A boolean read from either a BOOLEAN (PostgreSQL) or an integer 0 / 1 (SQLite) column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag(pub bool);

impl From<Timestamp> for OffsetDateTime {
    fn from(value: Timestamp) -> OffsetDateTime {
        value.0
    }
}

impl From<OptionalTimestamp> for Option<OffsetDateTime> {
    fn from(value: OptionalTimestamp) -> Option<OffsetDateTime> {
        value.0
    }
}

impl From<Flag> for bool {
    fn from(value: Flag) -> bool {
        value.0
    }
}

impl Type<Any> for Timestamp {
    fn type_info() -> AnyTypeInfo {
        <String as Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        <String as Type<Any>>::compatible(ty)
    }
}

impl Encode<'_, Any> for Timestamp {
    fn encode_by_ref(
        &self,
        buf: &mut <Any as Database>::ArgumentBuffer,
    ) -> Result<IsNull, BoxDynError> {
        <String as Encode<Any>>::encode(self.0.format(&Rfc3339)?, buf)
    }
}

impl<'r> Decode<'r, Any> for Timestamp {
    fn decode(value: AnyValueRef<'r>) -> Result<Timestamp, BoxDynError> {
        let text = <String as Decode<Any>>::decode(value)?;
        let time = OffsetDateTime::parse(&text, &Rfc3339)
            .map_err(|error| format!("{text:?} is not an RFC 3339 time: {error}"))?;
        Ok(Timestamp(time))
    }
}

impl Type<Any> for OptionalTimestamp {
    fn type_info() -> AnyTypeInfo {
        <Timestamp as Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        <Timestamp as Type<Any>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Any> for OptionalTimestamp {
    fn decode(value: AnyValueRef<'r>) -> Result<OptionalTimestamp, BoxDynError> {
        if value.is_null() {
            return Ok(OptionalTimestamp(None));
        }
        Ok(OptionalTimestamp(Some(
            <Timestamp as Decode<Any>>::decode(value)?.0,
        )))
    }
}

impl Type<Any> for Flag {
    fn type_info() -> AnyTypeInfo {
        <bool as Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        ty.kind() == AnyTypeInfoKind::Bool || ty.kind().is_integer()
    }
}

impl Encode<'_, Any> for Flag {
    fn encode_by_ref(
        &self,
        buf: &mut <Any as Database>::ArgumentBuffer,
    ) -> Result<IsNull, BoxDynError> {
        <bool as Encode<Any>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Any> for Flag {
    fn decode(value: AnyValueRef<'r>) -> Result<Flag, BoxDynError> {
        if value.type_info().kind() == AnyTypeInfoKind::Bool {
            return Ok(Flag(<bool as Decode<Any>>::decode(value)?));
        }
        Ok(Flag(<i64 as Decode<Any>>::decode(value)? != 0))
    }
}
