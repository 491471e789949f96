//! The chapter's user object and the operations on it.
//!
//! `GET /users/12` answers exactly the shape the chapter shows:
//!
//! ```json
//! { "id": 12, "firstName": "John", "lastName": "Smith",
//!   "address": { "streetAddress": "21 2nd Street", "city": "New York",
//!                "state": "NY", "postalCode": 10021 },
//!   "phoneNumbers": ["212 555-1234", "646 555-4567"] }
//! ```

mod model;
mod parse;
mod service;

pub use model::{Address, StoredUser, User, UserProfile, Version};
#[cfg(feature = "openapi")]
pub use model::{PhoneNumber, ProfileText};
pub use parse::{
    merge_patch, parse_new_user, parse_replacement, MAX_PHONE_NUMBERS, MAX_TEXT_CHARS,
};
pub use service::{UserError, UserService};
