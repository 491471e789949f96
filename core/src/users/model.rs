//! User data types: the wire shape and the stored record.

use serde::{Deserialize, Serialize};

use crate::auth::Email;
use crate::ids::UserId;

/// A user's postal address, as in the chapter's example.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Address {
    #[cfg_attr(
        feature = "openapi",
        schema(example = "21 2nd Street", min_length = 1, max_length = 200)
    )]
    pub street_address: String,
    #[cfg_attr(
        feature = "openapi",
        schema(example = "New York", min_length = 1, max_length = 200)
    )]
    pub city: String,
    #[cfg_attr(
        feature = "openapi",
        schema(example = "NY", min_length = 1, max_length = 200)
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
        schema(example = "John", min_length = 1, max_length = 200)
    )]
    pub first_name: String,
    #[cfg_attr(
        feature = "openapi",
        schema(example = "Smith", min_length = 1, max_length = 200)
    )]
    pub last_name: String,
    pub address: Address,
    #[cfg_attr(feature = "openapi", schema(example = json!(["212 555-1234", "646 555-4567"]), max_items = 10))]
    pub phone_numbers: Vec<String>,
}

/// The user object the API answers with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: UserId,
    #[serde(flatten)]
    pub profile: UserProfile,
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
