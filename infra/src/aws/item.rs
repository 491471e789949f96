//! Typed mapping between a user record and a DynamoDB item.
//!
//! Attributes mirror the API's JSON names, so an item read in the console
//! looks like the user object; `user_id` is the partition key and `version`
//! the optimistic-concurrency counter.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use millions_core::{Address, Email, StoreError, StoredUser, UserId, UserProfile, Version};

pub type Item = HashMap<String, AttributeValue>;

pub const USER_ID: &str = "user_id";
pub const VERSION: &str = "version";
/// The login email of a user that has one (not part of the public profile).
pub const EMAIL: &str = "email";

/// A stored item that does not have the expected shape.
#[derive(Debug, thiserror::Error)]
#[error("the item's attribute `{attribute}` is missing or has the wrong type")]
pub struct MalformedItem {
    attribute: &'static str,
}

pub fn number(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub fn key(id: UserId) -> Item {
    HashMap::from([(USER_ID.to_owned(), number(id.get()))])
}

pub fn to_item(user: &StoredUser) -> Item {
    let profile = &user.profile;
    let address = &profile.address;
    let string = |s: &str| AttributeValue::S(s.to_owned());
    let mut item = HashMap::from([
        (USER_ID.to_owned(), number(user.id.get())),
        (VERSION.to_owned(), number(user.version.0)),
        ("firstName".to_owned(), string(&profile.first_name)),
        ("lastName".to_owned(), string(&profile.last_name)),
        (
            "address".to_owned(),
            AttributeValue::M(HashMap::from([
                ("streetAddress".to_owned(), string(&address.street_address)),
                ("city".to_owned(), string(&address.city)),
                ("state".to_owned(), string(&address.state)),
                ("postalCode".to_owned(), number(address.postal_code.into())),
            ])),
        ),
        (
            "phoneNumbers".to_owned(),
            AttributeValue::L(profile.phone_numbers.iter().map(|n| string(n)).collect()),
        ),
    ]);
    if let Some(email) = &user.email {
        item.insert(EMAIL.to_owned(), string(email.as_str()));
    }
    item
}

pub fn from_item(item: &Item) -> Result<StoredUser, StoreError> {
    let address = item
        .get("address")
        .and_then(|value| value.as_m().ok())
        .ok_or(malformed("address"))?;
    let phone_numbers = item
        .get("phoneNumbers")
        .and_then(|value| value.as_l().ok())
        .ok_or(malformed("phoneNumbers"))?
        .iter()
        .map(|value| value.as_s().cloned().map_err(|_| malformed("phoneNumbers")))
        .collect::<Result<_, _>>()?;
    let id = get_number(item, USER_ID)?;
    let email = match item.get(EMAIL) {
        None => None,
        Some(value) => {
            let text = value.as_s().map_err(|_| malformed(EMAIL))?;
            Some(Email::parse(text).map_err(|_| malformed(EMAIL))?)
        }
    };
    Ok(StoredUser {
        id: UserId::new(id).map_err(|_| malformed(USER_ID))?,
        version: Version(get_number(item, VERSION)?),
        profile: UserProfile {
            first_name: get_string(item, "firstName")?,
            last_name: get_string(item, "lastName")?,
            address: Address {
                street_address: get_string(address, "streetAddress")?,
                city: get_string(address, "city")?,
                state: get_string(address, "state")?,
                postal_code: u32::try_from(get_number(address, "postalCode")?)
                    .map_err(|_| malformed("postalCode"))?,
            },
            phone_numbers,
        },
        email,
    })
}

/// The version of a stored item, if it has one.
pub fn version_of(item: &Item) -> Result<Version, StoreError> {
    get_number(item, VERSION).map(Version)
}

pub fn get_string(item: &Item, attribute: &'static str) -> Result<String, StoreError> {
    item.get(attribute)
        .and_then(|value| value.as_s().ok())
        .cloned()
        .ok_or(malformed(attribute))
}

pub fn get_number(item: &Item, attribute: &'static str) -> Result<u64, StoreError> {
    item.get(attribute)
        .and_then(|value| value.as_n().ok())
        .and_then(|n| n.parse().ok())
        .ok_or(malformed(attribute))
}

pub fn malformed(attribute: &'static str) -> StoreError {
    StoreError::unavailable(MalformedItem { attribute })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_round_trips_through_an_item() {
        let user = StoredUser {
            id: UserId::new(12).unwrap(),
            version: Version(3),
            profile: UserProfile {
                first_name: "John".into(),
                last_name: "Smith".into(),
                address: Address {
                    street_address: "21 2nd Street".into(),
                    city: "New York".into(),
                    state: "NY".into(),
                    postal_code: 10021,
                },
                phone_numbers: vec!["212 555-1234".into()],
            },
            email: Some(Email::parse("john@example.com").unwrap()),
        };
        let item = to_item(&user);
        assert_eq!(item[USER_ID], AttributeValue::N("12".into()));
        assert_eq!(from_item(&item).unwrap(), user);
    }

    #[test]
    fn a_malformed_item_names_the_attribute() {
        let mut item = to_item(&StoredUser {
            id: UserId::new(1).unwrap(),
            version: Version(1),
            profile: UserProfile {
                first_name: "A".into(),
                last_name: "B".into(),
                address: Address {
                    street_address: "x".into(),
                    city: "y".into(),
                    state: "z".into(),
                    postal_code: 1,
                },
                phone_numbers: vec![],
            },
            email: None,
        });
        item.insert("lastName".into(), AttributeValue::N("5".into()));
        let error = from_item(&item).unwrap_err();
        assert!(format!("{:?}", error).contains("lastName"), "{error:?}");
    }
}
