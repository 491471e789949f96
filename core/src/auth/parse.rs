//! The bodies of `POST /auth/signup` and `POST /auth/login`, parsed once.

use serde_json::{Map, Value};

use super::email::Email;
use super::password::Password;
use crate::problem::Violation;
use crate::users::{parse_new_user, UserProfile};

/// A valid sign-up: the login and the new user's profile.
#[derive(Debug)]
pub struct Signup {
    pub email: Email,
    pub password: Password,
    pub profile: UserProfile,
}

/// A login attempt.
#[derive(Debug)]
pub struct Credentials {
    pub email: Email,
    pub password: Password,
}

/// Parses a sign-up body: `email` and `password` beside the profile fields.
/// Every invalid value is reported, not only the first.
pub fn parse_signup(body: Value) -> Result<Signup, Vec<Violation>> {
    let mut fields = into_object(body)?;
    let email = take_text(&mut fields, "email").and_then(|text| {
        Email::parse(&text).map_err(|error| Violation::new("/email", error.to_string()))
    });
    let password = take_text(&mut fields, "password").and_then(|text| {
        Password::new(text).map_err(|error| Violation::new("/password", error.to_string()))
    });
    let profile = parse_new_user(Value::Object(fields));
    match (email, password, profile) {
        (Ok(email), Ok(password), Ok(profile)) => Ok(Signup {
            email,
            password,
            profile,
        }),
        (email, password, profile) => {
            let mut violations: Vec<Violation> = [email.err(), password.err()]
                .into_iter()
                .flatten()
                .collect();
            violations.extend(profile.err().unwrap_or_default());
            Err(violations)
        }
    }
}

/// Parses a login body: exactly `email` and `password`.
pub fn parse_credentials(body: Value) -> Result<Credentials, Vec<Violation>> {
    let mut fields = into_object(body)?;
    let email = take_text(&mut fields, "email").and_then(|text| {
        Email::parse(&text).map_err(|error| Violation::new("/email", error.to_string()))
    });
    let password = take_text(&mut fields, "password").and_then(|text| {
        Password::attempt(text).map_err(|error| Violation::new("/password", error.to_string()))
    });
    let mut violations: Vec<Violation> = fields
        .keys()
        .map(|name| Violation::new(format!("/{name}"), "unknown field; send email and password"))
        .collect();
    match (email, password) {
        (Ok(email), Ok(password)) if violations.is_empty() => Ok(Credentials { email, password }),
        (email, password) => {
            violations.extend([email.err(), password.err()].into_iter().flatten());
            Err(violations)
        }
    }
}

fn into_object(body: Value) -> Result<Map<String, Value>, Vec<Violation>> {
    match body {
        Value::Object(fields) => Ok(fields),
        _ => Err(vec![Violation::new("", "the body must be a JSON object")]),
    }
}

fn take_text(fields: &mut Map<String, Value>, name: &str) -> Result<String, Violation> {
    match fields.remove(name) {
        Some(Value::String(text)) => Ok(text),
        Some(_) => Err(Violation::new(format!("/{name}"), "must be a string")),
        None => Err(Violation::new(format!("/{name}"), "is required")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn signup_body() -> Value {
        json!({
            "email": "Ann@Example.com",
            "password": "correct horse battery staple",
            "firstName": "Ann", "lastName": "Lee",
            "address": {"streetAddress": "1 Main St", "city": "Boston", "state": "MA", "postalCode": 2134},
            "phoneNumbers": []
        })
    }

    fn pointers(violations: &[Violation]) -> Vec<&str> {
        violations.iter().map(|v| v.pointer.as_str()).collect()
    }

    #[test]
    fn signup_splits_login_from_profile() {
        let signup = parse_signup(signup_body()).unwrap();
        assert_eq!(signup.email.as_str(), "ann@example.com");
        assert_eq!(signup.profile.first_name, "Ann");
    }

    #[test]
    fn signup_reports_every_invalid_value() {
        let mut body = signup_body();
        body["email"] = json!("not an email");
        body["password"] = json!("short");
        body["firstName"] = json!("");
        let violations = parse_signup(body).unwrap_err();
        assert_eq!(pointers(&violations), ["/email", "/password", "/firstName"]);

        let violations = parse_signup(json!({"email": 7})).unwrap_err();
        assert!(pointers(&violations).starts_with(&["/email", "/password"]));
        assert_eq!(parse_signup(json!([1])).unwrap_err()[0].pointer, "");
    }

    #[test]
    fn credentials_take_exactly_email_and_password() {
        let ok = parse_credentials(json!({"email": "ann@example.com", "password": "x"})).unwrap();
        assert_eq!(ok.password.expose(), "x");
        let violations = parse_credentials(
            json!({"email": "ann@example.com", "password": "x", "remember": true}),
        )
        .unwrap_err();
        assert_eq!(pointers(&violations), ["/remember"]);
        let violations = parse_credentials(json!({"password": 1})).unwrap_err();
        assert_eq!(pointers(&violations), ["/email", "/password"]);
    }
}
