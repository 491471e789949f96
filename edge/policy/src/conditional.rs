//! Conditional requests at the edge (RFC 9110 §13): a client that already
//! holds the current version gets 304 Not Modified and no body from the
//! edge, and the edge's own requests to fill or validate an entry carry the
//! conditions of what it holds, not the client's.

use std::time::SystemTime;

use http::header::{self, HeaderMap, HeaderValue};
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

/// The conditions of a request that fills or validates an entry (RFC 9111
/// §4.3.1), set on a copy of the client's fields: the client's own
/// validators stay between it and the edge, which answers them itself, and
/// its `Range` / `If-Range` too, as the edge fills with the whole answer
/// (`ranges`). With `held`, its `ETag` goes as `If-None-Match` (a MUST)
/// and its `Last-Modified` as `If-Modified-Since` (a SHOULD when it is the
/// only validator, a MAY beside an `ETag`, sent for origins that compare
/// dates only).
pub fn fill_conditions(headers: &mut HeaderMap, held: Option<Validators<'_>>) {
    for name in [
        header::IF_NONE_MATCH,
        header::IF_MODIFIED_SINCE,
        header::IF_MATCH,
        header::IF_UNMODIFIED_SINCE,
        header::RANGE,
        header::IF_RANGE,
    ] {
        headers.remove(name);
    }
    let Some(held) = held else { return };
    for (name, value) in [
        (header::IF_NONE_MATCH, held.etag),
        (header::IF_MODIFIED_SINCE, held.last_modified),
    ] {
        if let Some(value) = value.and_then(|v| HeaderValue::from_str(v).ok()) {
            headers.insert(name, value);
        }
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

    #[test]
    fn fill_conditions_table() {
        let client = |pairs: &[(&'static str, &'static str)]| -> HeaderMap {
            pairs
                .iter()
                .map(|(n, v)| {
                    (
                        header::HeaderName::from_static(n),
                        HeaderValue::from_static(v),
                    )
                })
                .collect()
        };
        let tag = Some("W/\"7\"");
        // (rule, the client's fields, what the edge holds, what goes upstream)
        type Case<'a> = (
            &'a str,
            &'a [(&'static str, &'static str)],
            Option<Validators<'a>>,
            &'a [(&'a str, &'a str)],
        );
        let cases: &[Case<'_>] = &[
            (
                "9111 §4.3.1 ETag as If-None-Match, weak as it is",
                &[],
                Some(Validators {
                    etag: tag,
                    last_modified: None,
                }),
                &[("if-none-match", "W/\"7\"")],
            ),
            (
                "9111 §4.3.1 Last-Modified alone as If-Modified-Since",
                &[],
                Some(Validators {
                    etag: None,
                    last_modified: Some(MODIFIED),
                }),
                &[("if-modified-since", MODIFIED)],
            ),
            (
                "9111 §4.3.1 both",
                &[],
                Some(Validators {
                    etag: tag,
                    last_modified: Some(MODIFIED),
                }),
                &[
                    ("if-none-match", "W/\"7\""),
                    ("if-modified-since", MODIFIED),
                ],
            ),
            (
                "9111 §4.3.1 the client's validators replaced by the held ones",
                &[
                    ("if-none-match", "\"other\""),
                    ("if-modified-since", "Mon, 01 Jan 2024 00:00:00 GMT"),
                ],
                Some(Validators {
                    etag: tag,
                    last_modified: None,
                }),
                &[("if-none-match", "W/\"7\"")],
            ),
            (
                "9110 §13.1.1, §13.1.4 (a cache may ignore If-Match, If-Unmodified-Since), §14.2: a fill carries none of the client's conditions",
                &[
                    ("if-none-match", "\"c\""),
                    ("if-match", "\"c\""),
                    ("if-unmodified-since", MODIFIED),
                    ("range", "bytes=0-1"),
                    ("if-range", "\"c\""),
                    ("accept", "application/json"),
                ],
                None,
                &[("accept", "application/json")],
            ),
        ];
        for (rule, asked, held, expected) in cases {
            let mut headers = client(asked);
            fill_conditions(&mut headers, *held);
            let mut sent: Vec<(&str, &str)> = headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.to_str().unwrap()))
                .collect();
            sent.sort_unstable();
            let mut expected = expected.to_vec();
            expected.sort_unstable();
            assert_eq!(sent, expected, "{rule}");
        }
    }
}
