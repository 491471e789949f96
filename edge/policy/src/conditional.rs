//! Conditional requests answered at the edge (RFC 9110 §13): a client that
//! already holds the current version gets 304 Not Modified and no body.

use std::time::SystemTime;

use http::Method;

use millions_core::preconditions::if_none_match_names;

/// The validators of the representation the edge holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Validators<'a> {
    pub etag: Option<&'a str>,
    pub last_modified: Option<&'a str>,
}

/// The client's preconditions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Preconditions<'a> {
    pub if_none_match: Option<&'a str>,
    pub if_modified_since: Option<&'a str>,
}

/// Whether a GET or HEAD can be answered 304 (RFC 9110 §13.2.2): when
/// `If-None-Match` is present it alone decides (weak comparison); otherwise
/// `If-Modified-Since` does, and an unparsable date is ignored.
pub fn not_modified(
    method: &Method,
    preconditions: &Preconditions<'_>,
    held: &Validators<'_>,
) -> bool {
    if !matches!(*method, Method::GET | Method::HEAD) {
        return false;
    }
    if let Some(candidates) = preconditions.if_none_match {
        return held
            .etag
            .is_some_and(|etag| if_none_match_names(candidates, etag));
    }
    let (Some(since), Some(modified)) = (preconditions.if_modified_since, held.last_modified)
    else {
        return false;
    };
    match (parse_date(since), parse_date(modified)) {
        (Some(since), Some(modified)) => modified <= since,
        _ => false,
    }
}

fn parse_date(text: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(text.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODIFIED: &str = "Wed, 21 Oct 2026 07:28:00 GMT";

    #[test]
    fn conditional_table() {
        let held = Validators {
            etag: Some("\"7\""),
            last_modified: Some(MODIFIED),
        };
        let inm = |v| Preconditions {
            if_none_match: Some(v),
            if_modified_since: None,
        };
        let ims = |v| Preconditions {
            if_none_match: None,
            if_modified_since: Some(v),
        };
        let cases: &[(&str, Preconditions<'_>, bool)] = &[
            ("GET", inm("\"7\""), true),
            ("HEAD", inm("\"7\""), true),
            ("GET", inm("W/\"7\""), true),
            ("GET", inm("\"6\", \"7\""), true),
            ("GET", inm("*"), true),
            ("GET", inm("\"6\""), false),
            ("POST", inm("\"7\""), false),
            ("GET", ims(MODIFIED), true),
            ("GET", ims("Thu, 22 Oct 2026 07:28:00 GMT"), true),
            ("GET", ims("Tue, 20 Oct 2026 07:28:00 GMT"), false),
            ("GET", ims("yesterday"), false),
            // If-None-Match wins over If-Modified-Since, even when it fails.
            (
                "GET",
                Preconditions {
                    if_none_match: Some("\"6\""),
                    if_modified_since: Some(MODIFIED),
                },
                false,
            ),
            ("GET", Preconditions::default(), false),
        ];
        for (method, preconditions, expected) in cases {
            assert_eq!(
                not_modified(&method.parse().expect("a method"), preconditions, &held),
                *expected,
                "{method} {preconditions:?}"
            );
        }
    }

    #[test]
    fn nothing_matches_without_validators() {
        let preconditions = Preconditions {
            if_none_match: Some("*"),
            if_modified_since: Some(MODIFIED),
        };
        assert!(!not_modified(
            &Method::GET,
            &preconditions,
            &Validators::default()
        ));
    }
}
