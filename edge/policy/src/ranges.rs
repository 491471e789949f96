//! Answering a `Range` request from a stored complete answer (RFC 9110
//! §14). The edge never stores partial content (RFC 9111 §3.4 would have it
//! combine parts); it fills with the whole representation instead, the
//! request's `Range` and `If-Range` left out, and cuts the part the client
//! asked for from what it holds. The `Range` value itself is parsed by
//! `http-range-header`, the parser tower-http's file server uses.
//!
//! Choices where the RFC leaves one: a single range is answered 206; a
//! request for several ranges gets the whole answer (200), which §14.2
//! allows ("a server MAY ignore the Range header field"), rather than a
//! `multipart/byteranges` body no client of this API asks for; a `Range`
//! the parser cannot read is ignored the same way.

use std::ops::RangeInclusive;
use std::time::SystemTime;

use http::{header, HeaderMap, Method, StatusCode};
use http_range_header::{parse_range_header, RangeUnsatisfiableError};

/// What a request's `Range` selects of a stored answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selected {
    /// The whole answer, as if no `Range` had been sent.
    Whole,
    /// One part, answered 206 with `Content-Range: bytes first-last/length`.
    Part(RangeInclusive<u64>),
    /// No byte of it (416 with `Content-Range: bytes */length`, §15.5.17).
    Unsatisfiable,
}

/// The part of a stored answer (`status`, `stored` fields, `length` bytes
/// of content) that a request with `request` fields selects.
pub fn select(
    method: &Method,
    request: &HeaderMap,
    status: StatusCode,
    stored: &HeaderMap,
    length: u64,
) -> Selected {
    // §14.2: range handling is defined for GET alone, and only a complete
    // 200 has all of the representation to cut from.
    if *method != Method::GET || status != StatusCode::OK {
        return Selected::Whole;
    }
    let Some(range) = request.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Selected::Whole;
    };
    if !if_range_holds(request, stored) {
        return Selected::Whole;
    }
    let parsed = match parse_range_header(range) {
        Ok(parsed) if parsed.len() == 1 => parsed,
        // Several ranges, or one this parser cannot read: ignored (§14.2).
        Ok(_) | Err(_) => return Selected::Whole,
    };
    match parsed.validate(length) {
        Ok(mut parts) => parts.pop().map_or(Selected::Whole, Selected::Part),
        Err(RangeUnsatisfiableError::Unsatisfiable) => Selected::Unsatisfiable,
        Err(_) => Selected::Whole,
    }
}

/// §13.1.5: a `Range` counts only while `If-Range` (when sent) still names
/// the stored representation: its entity tag by strong comparison, or its
/// `Last-Modified` date exactly, when that date is a strong validator (the
/// answer's `Date` at least a second later, §8.8.2.2).
fn if_range_holds(request: &HeaderMap, stored: &HeaderMap) -> bool {
    let Some(condition) = request.get(header::IF_RANGE).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let condition = condition.trim();
    let text = |name| {
        stored
            .get(name)
            .and_then(|v: &http::HeaderValue| v.to_str().ok())
    };
    if condition.starts_with('"') || condition.starts_with("W/") {
        // A weak tag never matches strongly; nor does a tag against a weak one.
        return !condition.starts_with("W/")
            && text(header::ETAG).is_some_and(|etag| etag.trim() == condition);
    }
    let date = |value: Option<&str>| value.and_then(|v| httpdate::parse_http_date(v).ok());
    let (Some(asked), Some(modified)) = (date(Some(condition)), date(text(header::LAST_MODIFIED)))
    else {
        return false;
    };
    let strong = date(text(header::DATE)).is_some_and(|sent: SystemTime| {
        sent.duration_since(modified)
            .is_ok_and(|gap| gap.as_secs() >= 1)
    });
    asked == modified && strong
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    header::HeaderName::from_static(name),
                    header::HeaderValue::from_static(value),
                )
            })
            .collect()
    }

    type Fields = &'static [(&'static str, &'static str)];

    const MODIFIED: &str = "Tue, 01 Dec 2026 10:00:00 GMT";

    fn stored() -> HeaderMap {
        fields(&[
            ("etag", "\"v7\""),
            ("last-modified", MODIFIED),
            ("date", "Tue, 01 Dec 2026 10:00:05 GMT"),
        ])
    }

    #[test]
    fn range_table() {
        use Selected::*;
        let get = Method::GET;
        let ok = StatusCode::OK;
        // (rule, method, request fields, stored status, expected), of 100 bytes
        type Case<'a> = (&'a str, &'a Method, Fields, StatusCode, Selected);
        let cases: &[Case<'_>] = &[
            (
                "9110 §14.1.2 first-last",
                &get,
                &[("range", "bytes=0-9")],
                ok,
                Part(0..=9),
            ),
            (
                "9110 §14.1.2 from an offset to the end",
                &get,
                &[("range", "bytes=90-")],
                ok,
                Part(90..=99),
            ),
            (
                "9110 §14.1.2 the last n bytes",
                &get,
                &[("range", "bytes=-5")],
                ok,
                Part(95..=99),
            ),
            (
                "9110 §14.1.2 a last past the end is the end",
                &get,
                &[("range", "bytes=95-500")],
                ok,
                Part(95..=99),
            ),
            (
                "9110 §14.1.2 a suffix longer than the content is all of it",
                &get,
                &[("range", "bytes=-500")],
                ok,
                Part(0..=99),
            ),
            (
                "9110 §14.1.1 the unit's name is case-insensitive",
                &get,
                &[("range", "BYTES=0-0")],
                ok,
                Part(0..=0),
            ),
            (
                "9110 §15.5.17 a first past the end is unsatisfiable",
                &get,
                &[("range", "bytes=100-")],
                ok,
                Unsatisfiable,
            ),
            (
                "9110 §14.2 several ranges may be answered whole",
                &get,
                &[("range", "bytes=0-1,5-6")],
                ok,
                Whole,
            ),
            (
                "9110 §14.2 an unreadable range is ignored",
                &get,
                &[("range", "bytes=9-1")],
                ok,
                Whole,
            ),
            (
                "9110 §14.2 another unit is ignored",
                &get,
                &[("range", "items=0-1")],
                ok,
                Whole,
            ),
            (
                "9110 §14.2 HEAD has no range handling",
                &Method::HEAD,
                &[("range", "bytes=0-9")],
                ok,
                Whole,
            ),
            (
                "9110 §14.2 only a complete 200 is cut",
                &get,
                &[("range", "bytes=0-9")],
                StatusCode::NOT_FOUND,
                Whole,
            ),
            (
                "9110 §13.1.5 If-Range with the stored tag",
                &get,
                &[("range", "bytes=0-9"), ("if-range", "\"v7\"")],
                ok,
                Part(0..=9),
            ),
            (
                "9110 §13.1.5 If-Range with another tag: the whole",
                &get,
                &[("range", "bytes=0-9"), ("if-range", "\"v6\"")],
                ok,
                Whole,
            ),
            (
                "9110 §13.1.5 a weak tag never matches",
                &get,
                &[("range", "bytes=0-9"), ("if-range", "W/\"v7\"")],
                ok,
                Whole,
            ),
            (
                "9110 §13.1.5 If-Range with the Last-Modified date",
                &get,
                &[("range", "bytes=0-9"), ("if-range", MODIFIED)],
                ok,
                Part(0..=9),
            ),
            (
                "9110 §13.1.5 If-Range with another date",
                &get,
                &[
                    ("range", "bytes=0-9"),
                    ("if-range", "Tue, 01 Dec 2026 09:00:00 GMT"),
                ],
                ok,
                Whole,
            ),
            (
                "9110 §13.1.5 an unreadable If-Range",
                &get,
                &[("range", "bytes=0-9"), ("if-range", "soon")],
                ok,
                Whole,
            ),
        ];
        for (rule, method, request, status, expected) in cases {
            assert_eq!(
                select(method, &fields(request), *status, &stored(), 100),
                *expected,
                "{rule}"
            );
        }
    }

    #[test]
    fn a_date_is_an_if_range_validator_only_when_strong() {
        // RFC 9110 §8.8.2.2: Last-Modified less than a second before Date
        // is weak, and §13.1.5 then never matches.
        let weak = fields(&[("last-modified", MODIFIED), ("date", MODIFIED)]);
        let request = fields(&[("range", "bytes=0-9"), ("if-range", MODIFIED)]);
        assert_eq!(
            select(&Method::GET, &request, StatusCode::OK, &weak, 100),
            Selected::Whole
        );
    }
}
