//! Photo and job ids: 128 random bits as 32 lower-case hex characters.
//!
//! Random rather than time-ordered, because they appear in URLs a user may
//! share: a sequential id would let anyone walk through other people's photos.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why a text is not a photo or job id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an id is 32 lower-case hexadecimal characters, like 0f3c9a1e5b7d4c2a8e6f1b3d5a7c9e0f")]
pub struct InvalidPhotoId;

macro_rules! random_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[0-9a-f]{32}$", example = "0f3c9a1e5b7d4c2a8e6f1b3d5a7c9e0f"))]
        pub struct $name(u128);

        impl $name {
            pub fn from_random(bits: u128) -> Self {
                Self(bits)
            }

            /// The id as a number, for stores that key by integers.
            pub fn bits(self) -> u128 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:032x}", self.0)
            }
        }

        impl FromStr for $name {
            type Err = InvalidPhotoId;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                let well_formed = text.len() == 32
                    && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
                if !well_formed {
                    return Err(InvalidPhotoId);
                }
                u128::from_str_radix(text, 16).map(Self).map_err(|_| InvalidPhotoId)
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidPhotoId;
            fn try_from(text: String) -> Result<Self, Self::Error> {
                text.parse()
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.to_string()
            }
        }
    };
}

random_id!(
    /// An uploaded original.
    PhotoId
);
random_id!(
    /// One processing request on one photo.
    JobId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_print_as_32_hex_characters_and_read_back() {
        let id = PhotoId::from_random(0xab);
        assert_eq!(id.to_string(), "000000000000000000000000000000ab");
        assert_eq!(id.to_string().parse::<PhotoId>(), Ok(id));
    }

    #[test]
    fn anything_else_is_refused() {
        for text in [
            "",
            "ab",
            "000000000000000000000000000000AB",
            "+0000000000000000000000000000000",
            "00000000000000000000000000000000a",
            "0000000000000000000000000000000g",
        ] {
            assert_eq!(text.parse::<JobId>(), Err(InvalidPhotoId), "{text:?}");
        }
    }
}
