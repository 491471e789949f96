//! Turning request bodies into a valid [`UserProfile`], once, at the edge of
//! the domain. Every problem is reported with a JSON Pointer to the value, so
//! a client can show it next to the right form field.

use serde_json::Value;

use super::model::UserProfile;
use crate::ids::UserId;
use crate::problem::Violation;

/// The longest any text field may be, in characters.
pub const MAX_TEXT_CHARS: usize = 200;
/// How many phone numbers a user may list.
pub const MAX_PHONE_NUMBERS: usize = 10;
const MAX_PHONE_CHARS: usize = 32;
const MAX_POSTAL_CODE: u32 = 99_999;

/// The body of `POST /users`: a profile without an id (the server assigns it).
pub fn parse_new_user(body: Value) -> Result<UserProfile, Vec<Violation>> {
    if body.get("id").is_some() {
        return Err(vec![Violation::new(
            "/id",
            "ids are assigned by the server; leave `id` out",
        )]);
    }
    parse_profile(body)
}

/// The body of `PUT /users/{id}`: a whole profile. It may carry the user's own
/// `id` (so a client can send back what it read), but not another one.
pub fn parse_replacement(id: UserId, mut body: Value) -> Result<UserProfile, Vec<Violation>> {
    strip_matching_id(id, &mut body)?;
    parse_profile(body)
}

/// Applies a JSON Merge Patch (RFC 7396) to `current` and validates the result,
/// as `PATCH /users/{id}` does.
pub fn merge_patch(
    id: UserId,
    current: &UserProfile,
    mut patch: Value,
) -> Result<UserProfile, Vec<Violation>> {
    if !patch.is_object() {
        return Err(vec![Violation::new(
            "",
            "a merge patch (RFC 7396) is a JSON object of the fields to change",
        )]);
    }
    strip_matching_id(id, &mut patch)?;
    let mut document = serde_json::to_value(current).expect("a profile always serializes");
    json_patch::merge(&mut document, &patch);
    parse_profile(document)
}

fn strip_matching_id(id: UserId, body: &mut Value) -> Result<(), Vec<Violation>> {
    let Some(object) = body.as_object_mut() else {
        return Ok(()); // reported as a type error by the parser
    };
    match object.remove("id") {
        None => Ok(()),
        Some(Value::Number(n)) if n.as_u64() == Some(id.get()) => Ok(()),
        Some(_) => Err(vec![Violation::new(
            "/id",
            format!("the id cannot change; it must be {id}, as in the path, or be left out"),
        )]),
    }
}

fn parse_profile(body: Value) -> Result<UserProfile, Vec<Violation>> {
    let profile: UserProfile = serde_path_to_error::deserialize(body)
        .map_err(|error| vec![violation_from_serde(&error)])?;
    let violations = validate(&profile);
    if violations.is_empty() {
        Ok(profile)
    } else {
        Err(violations)
    }
}

/// Converts a deserialization error into a violation that points at the field.
/// serde reports a missing or unknown field at its parent object; the field name
/// is only in the message, so it is appended to the pointer here.
fn violation_from_serde(error: &serde_path_to_error::Error<serde_json::Error>) -> Violation {
    let mut pointer = String::new();
    for segment in error.path().iter() {
        use serde_path_to_error::Segment;
        let token = match segment {
            Segment::Seq { index } => index.to_string(),
            Segment::Map { key } => escape_pointer_token(key),
            Segment::Enum { variant } => escape_pointer_token(variant),
            Segment::Unknown => continue,
        };
        pointer.push('/');
        pointer.push_str(&token);
    }
    let message = error.inner().to_string();
    for prefix in ["missing field `", "unknown field `"] {
        if let Some(rest) = message.strip_prefix(prefix) {
            if let Some(field) = rest.split('`').next() {
                let token = escape_pointer_token(field);
                if !pointer.ends_with(&format!("/{token}")) {
                    pointer.push('/');
                    pointer.push_str(&token);
                }
                let detail = if prefix.starts_with("missing") {
                    "is required".to_owned()
                } else {
                    "is not a field of a user".to_owned()
                };
                return Violation::new(pointer, detail);
            }
        }
    }
    Violation::new(pointer, message)
}

fn escape_pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

fn validate(profile: &UserProfile) -> Vec<Violation> {
    let mut violations = Vec::new();
    let mut text = |pointer: &str, value: &str| {
        if let Some(detail) = text_problem(value) {
            violations.push(Violation::new(pointer, detail));
        }
    };
    text("/firstName", &profile.first_name);
    text("/lastName", &profile.last_name);
    text("/address/streetAddress", &profile.address.street_address);
    text("/address/city", &profile.address.city);
    text("/address/state", &profile.address.state);
    if profile.address.postal_code > MAX_POSTAL_CODE {
        violations.push(Violation::new(
            "/address/postalCode",
            format!("must be at most {MAX_POSTAL_CODE} (five digits)"),
        ));
    }
    if profile.phone_numbers.len() > MAX_PHONE_NUMBERS {
        violations.push(Violation::new(
            "/phoneNumbers",
            format!("lists at most {MAX_PHONE_NUMBERS} numbers"),
        ));
    }
    for (index, number) in profile.phone_numbers.iter().enumerate() {
        if let Some(detail) = phone_problem(number) {
            violations.push(Violation::new(format!("/phoneNumbers/{index}"), detail));
        }
    }
    violations
}

fn text_problem(value: &str) -> Option<String> {
    if value.trim().is_empty() {
        Some("must not be empty".to_owned())
    } else if value.chars().count() > MAX_TEXT_CHARS {
        Some(format!("must be at most {MAX_TEXT_CHARS} characters long"))
    } else if value.chars().any(char::is_control) {
        Some("must not contain control characters".to_owned())
    } else {
        None
    }
}

fn phone_problem(number: &str) -> Option<String> {
    let allowed = |c: char| c.is_ascii_digit() || " +-().".contains(c);
    if number.chars().count() > MAX_PHONE_CHARS {
        Some(format!("must be at most {MAX_PHONE_CHARS} characters long"))
    } else if !number.chars().all(allowed) {
        Some("may hold only digits, spaces and + - ( ) .".to_owned())
    } else if number.chars().filter(char::is_ascii_digit).count() < 3 {
        Some("must hold at least 3 digits".to_owned())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn seed_body() -> Value {
        json!({
            "firstName": "John",
            "lastName": "Smith",
            "address": {"streetAddress": "21 2nd Street", "city": "New York", "state": "NY", "postalCode": 10021},
            "phoneNumbers": ["212 555-1234", "646 555-4567"]
        })
    }

    fn only_violation(body: Value) -> Violation {
        let mut violations = parse_new_user(body).unwrap_err();
        assert_eq!(violations.len(), 1, "{violations:?}");
        violations.remove(0)
    }

    #[test]
    fn accepts_the_chapters_user() {
        let profile = parse_new_user(seed_body()).unwrap();
        assert_eq!(profile.address.postal_code, 10021);
        assert_eq!(profile.phone_numbers.len(), 2);
    }

    #[test]
    fn points_at_a_missing_nested_field() {
        let mut body = seed_body();
        body["address"].as_object_mut().unwrap().remove("city");
        assert_eq!(
            only_violation(body),
            Violation::new("/address/city", "is required")
        );
    }

    #[test]
    fn points_at_a_wrong_type() {
        let mut body = seed_body();
        body["address"]["postalCode"] = json!("10021");
        let violation = only_violation(body);
        assert_eq!(violation.pointer, "/address/postalCode");
        assert!(
            violation.detail.contains("invalid type"),
            "{}",
            violation.detail
        );
    }

    #[test]
    fn points_at_an_unknown_field() {
        let mut body = seed_body();
        body["nickname"] = json!("Johnny");
        assert_eq!(only_violation(body).pointer, "/nickname");
    }

    #[test]
    fn points_into_arrays() {
        let mut body = seed_body();
        body["phoneNumbers"][1] = json!(5551234);
        assert_eq!(only_violation(body).pointer, "/phoneNumbers/1");
        let mut body = seed_body();
        body["phoneNumbers"][0] = json!("call me");
        assert_eq!(only_violation(body).pointer, "/phoneNumbers/0");
    }

    #[test]
    fn rejects_over_long_and_empty_text_all_at_once() {
        let mut body = seed_body();
        body["firstName"] = json!("x".repeat(MAX_TEXT_CHARS + 1));
        body["lastName"] = json!("   ");
        let violations = parse_new_user(body).unwrap_err();
        let pointers: Vec<_> = violations.iter().map(|v| v.pointer.as_str()).collect();
        assert_eq!(pointers, ["/firstName", "/lastName"]);
    }

    #[test]
    fn counts_characters_not_bytes() {
        let mut body = seed_body();
        body["firstName"] = json!("é".repeat(MAX_TEXT_CHARS));
        assert!(parse_new_user(body).is_ok());
    }

    #[test]
    fn rejects_out_of_range_postal_codes_and_too_many_phones() {
        let mut body = seed_body();
        body["address"]["postalCode"] = json!(123456);
        assert_eq!(only_violation(body).pointer, "/address/postalCode");
        let mut body = seed_body();
        body["address"]["postalCode"] = json!(-1);
        assert_eq!(only_violation(body).pointer, "/address/postalCode");
        let mut body = seed_body();
        body["phoneNumbers"] = json!(vec!["555 0100"; MAX_PHONE_NUMBERS + 1]);
        assert_eq!(only_violation(body).pointer, "/phoneNumbers");
    }

    #[test]
    fn a_new_user_cannot_choose_its_id() {
        let mut body = seed_body();
        body["id"] = json!(5);
        assert_eq!(only_violation(body).pointer, "/id");
    }

    #[test]
    fn a_replacement_may_repeat_its_own_id_only() {
        let id = UserId::new(12).unwrap();
        let mut body = seed_body();
        body["id"] = json!(12);
        assert!(parse_replacement(id, body.clone()).is_ok());
        body["id"] = json!(13);
        assert_eq!(parse_replacement(id, body).unwrap_err()[0].pointer, "/id");
    }

    #[test]
    fn merge_patch_changes_nested_fields_and_keeps_the_rest() {
        let id = UserId::new(12).unwrap();
        let current = parse_new_user(seed_body()).unwrap();
        let patched = merge_patch(id, &current, json!({"address": {"city": "Boston"}})).unwrap();
        assert_eq!(patched.address.city, "Boston");
        assert_eq!(
            patched.address.street_address,
            current.address.street_address
        );
        assert_eq!(patched.first_name, "John");
    }

    #[test]
    fn merge_patch_cannot_remove_required_fields() {
        let id = UserId::new(12).unwrap();
        let current = parse_new_user(seed_body()).unwrap();
        let violations = merge_patch(id, &current, json!({"lastName": null})).unwrap_err();
        assert_eq!(violations[0].pointer, "/lastName");
        let violations = merge_patch(id, &current, json!([1])).unwrap_err();
        assert_eq!(violations[0].pointer, "");
    }
}
