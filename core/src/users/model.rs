//! User data types: the wire shape and the stored record.

use serde::{Deserialize, Serialize};

use crate::auth::Email;
use crate::ids::UserId;

/// A text field of the profile as the API takes it (documentation only:
/// the profile holds strings, checked by `parse`): 1 to 200 characters, no
/// control characters, not only whitespace.
#[cfg(feature = "openapi")]
#[derive(utoipa::ToSchema)]
#[schema(
    min_length = 1,
    max_length = 200,
    pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
)]
#[allow(dead_code)]
pub struct ProfileText(String);

/// A user's postal address, as in the chapter's example.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Address {
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = ProfileText, example = "21 2nd Street")
    )]
    pub street_address: String,
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = ProfileText, example = "New York")
    )]
    pub city: String,
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = ProfileText, example = "NY")
    )]
    pub state: String,
    /// A number, as in the chapter's example (so `02134` reads `2134`).
    #[cfg_attr(
        feature = "openapi",
        schema(example = 10021, minimum = 0, maximum = 99999)
    )]
    pub postal_code: u32,
}

/// Everything about a user except its id: what clients send to create or replace one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserProfile {
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = ProfileText, example = "John")
    )]
    pub first_name: String,
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = ProfileText, example = "Smith")
    )]
    pub last_name: String,
    pub address: Address,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<PhoneNumber>, example = json!(["212 555-1234", "646 555-4567"]), max_items = 10))]
    pub phone_numbers: Vec<String>,
}

/// A phone number as the API takes it (documentation only: the profile holds
/// strings, checked by `parse`): digits, spaces and `+ - ( ) .`, with at least
/// three digits.
#[cfg(feature = "openapi")]
#[derive(utoipa::ToSchema)]
#[schema(
    example = "212 555-1234",
    max_length = 32,
    pattern = r"^(?=(?:[^0-9]*[0-9]){3})[0-9 +().-]+$"
)]
#[allow(dead_code)]
pub struct PhoneNumber(String);

/// The user object the API answers with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: UserId,
    #[serde(flatten)]
    pub profile: UserProfile,
}

/// `User`'s schema, spelled out: a derived one would be an `allOf` of the id
/// and the profile, and the profile forbids fields it does not name (the
/// id among them), a schema no user satisfies.
#[cfg(feature = "openapi")]
mod user_schema {
    use super::{Address, PhoneNumber, ProfileText, User};
    use crate::ids::UserId;

    /// A user: its id and its profile.
    #[derive(utoipa::ToSchema)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    #[allow(dead_code)]
    struct UserFields {
        id: UserId,
        #[schema(value_type = ProfileText, example = "John")]
        first_name: String,
        #[schema(value_type = ProfileText, example = "Smith")]
        last_name: String,
        address: Address,
        #[schema(value_type = Vec<PhoneNumber>, max_items = 10)]
        phone_numbers: Vec<String>,
    }

    impl utoipa::PartialSchema for User {
        fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
            UserFields::schema()
        }
    }

    impl utoipa::ToSchema for User {
        fn name() -> std::borrow::Cow<'static, str> {
            "User".into()
        }

        fn schemas(
            schemas: &mut Vec<(
                String,
                utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
            )>,
        ) {
            UserFields::schemas(schemas);
        }
    }
}

/// How many times a user has been written; the basis of its `ETag`.
/// A new user has version 1 and every successful write adds one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Version(pub u64);

impl Version {
    pub const FIRST: Version = Version(1);

    pub fn next(self) -> Version {
        Version(self.0 + 1)
    }
}

/// A user as the data tier keeps it: the profile, its version, and the email
/// of its login if it has one (never shown in the public profile; kept so
/// that deleting the user can release the login in the same transaction).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredUser {
    pub id: UserId,
    pub version: Version,
    pub profile: UserProfile,
    pub email: Option<Email>,
}

impl StoredUser {
    pub fn to_user(&self) -> User {
        User {
            id: self.id,
            profile: self.profile.clone(),
        }
    }

    pub fn into_user(self) -> User {
        User {
            id: self.id,
            profile: self.profile,
        }
    }
}
