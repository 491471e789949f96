//! Email addresses as login names: parsed once, normalised, never re-checked.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The longest address SMTP can deliver to (RFC 5321 §4.5.3.1.3 path limit
/// minus the angle brackets).
pub const MAX_EMAIL_CHARS: usize = 254;
const MAX_LOCAL_CHARS: usize = 64;

/// A syntactically plausible email address, lower-cased.
///
/// Lower-casing the whole address (not only the domain, as RFC 5321 would)
/// is deliberate: `Ann@example.com` and `ann@example.com` are one person in
/// practice, and two accounts for them would be a support ticket.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

/// Why a text is not an email address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidEmail {
    #[error("an email address is at most {MAX_EMAIL_CHARS} characters")]
    TooLong,
    #[error("an email address looks like name@example.com")]
    Malformed,
}

impl Email {
    pub fn parse(text: &str) -> Result<Self, InvalidEmail> {
        let text = text.trim();
        if text.chars().count() > MAX_EMAIL_CHARS {
            return Err(InvalidEmail::TooLong);
        }
        let (local, domain) = text.rsplit_once('@').ok_or(InvalidEmail::Malformed)?;
        let local_ok = !local.is_empty()
            && local.chars().count() <= MAX_LOCAL_CHARS
            && !local.chars().any(|c| c.is_whitespace() || c.is_control());
        let domain_ok = domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if local_ok && domain_ok {
            Ok(Self(text.to_lowercase()))
        } else {
            Err(InvalidEmail::Malformed)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Email {
    type Error = InvalidEmail;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> Self {
        email.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalises_ordinary_addresses() {
        for (input, stored) in [
            ("ann@example.com", "ann@example.com"),
            (
                "  Ann.Lee+news@Example.CO.uk ",
                "ann.lee+news@example.co.uk",
            ),
            ("o'brien@mail.example.org", "o'brien@mail.example.org"),
            ("josé@exämple.de", "josé@exämple.de"),
        ] {
            assert_eq!(Email::parse(input).unwrap().as_str(), stored, "{input}");
        }
    }

    #[test]
    fn rejects_what_cannot_be_an_address() {
        for input in [
            "",
            "ann",
            "@example.com",
            "ann@",
            "ann@localhost",
            "ann@exa mple.com",
            "an n@example.com",
            "ann@.example.com",
            "ann@example..com",
            "ann@-example.com",
            "ann@example.com\u{0}",
        ] {
            assert_eq!(
                Email::parse(input),
                Err(InvalidEmail::Malformed),
                "{input:?}"
            );
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(InvalidEmail::TooLong));
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert_eq!(Email::parse(&long_local), Err(InvalidEmail::Malformed));
    }
}
