//! What a proxy removes from a message before passing it on (RFC 9110
//! §7.6.1): the fields that describe one connection rather than the
//! message. That is `Connection` itself, every field it names, and the
//! fields HTTP/1.1 treats as hop-by-hop even when `Connection` does not
//! name them. The edge applies it to requests on their way to an origin and
//! to answers on their way to the store and the client, so a field meant
//! for one hop never reaches the next, and never sits in the cache
//! (RFC 9111 §3.1).

use http::header::{self, HeaderMap, HeaderName};

/// Fields that belong to one hop whether or not `Connection` names them:
/// RFC 9110 §7.6.1's examples (`Proxy-Connection`, `Keep-Alive`, `TE`,
/// `Transfer-Encoding`, `Upgrade`), `Trailer`, and the proxy
/// authentication fields, which a cache must not store (RFC 9111 §3.1).
const HOP_BY_HOP: [HeaderName; 10] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    HeaderName::from_static("proxy-authentication-info"),
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// Removes the fields named in `Connection`, then the hop-by-hop fields.
pub fn remove_hop_by_hop(headers: &mut HeaderMap) {
    // Most messages carry no `Connection`; they skip the list.
    if headers.contains_key(header::CONNECTION) {
        let named: Vec<HeaderName> = headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
            .collect();
        for name in named {
            headers.remove(name);
        }
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    HeaderValue::from_str(value).unwrap(),
                )
            })
            .collect()
    }

    fn names(headers: &HeaderMap) -> Vec<&str> {
        let mut names: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
        names.sort_unstable();
        names
    }

    /// (RFC section, the fields, the names that remain)
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [&'a str]);

    #[test]
    fn hop_by_hop_table() {
        let cases: &[Case<'_>] = &[
            (
                "9110 §7.6.1 the fields Connection names",
                &[
                    ("connection", "X-Hop, close"),
                    ("x-hop", "1"),
                    ("x-kept", "2"),
                ],
                &["x-kept"],
            ),
            (
                "9110 §7.6.1 names in several Connection lines, any case, spaced",
                &[
                    ("connection", " x-a "),
                    ("connection", "X-B"),
                    ("x-a", "1"),
                    ("x-b", "2"),
                    ("etag", "\"1\""),
                ],
                &["etag"],
            ),
            (
                "9110 §7.6.1 hop-by-hop without Connection",
                &[
                    ("keep-alive", "timeout=5"),
                    ("proxy-connection", "keep-alive"),
                    ("te", "trailers"),
                    ("transfer-encoding", "chunked"),
                    ("upgrade", "h2c"),
                    ("trailer", "x-sum"),
                    ("cache-control", "max-age=5"),
                ],
                &["cache-control"],
            ),
            (
                "9111 §3.1 proxy authentication is never stored",
                &[
                    ("proxy-authenticate", "Basic"),
                    ("proxy-authentication-info", "nextnonce=\"1\""),
                    ("www-authenticate", "Bearer"),
                ],
                &["www-authenticate"],
            ),
            (
                "an unreadable name in Connection is skipped, the rest still go",
                &[
                    ("connection", "bad name, x-a"),
                    ("x-a", "1"),
                    ("vary", "accept"),
                ],
                &["vary"],
            ),
        ];
        for (section, given, remaining) in cases {
            let mut headers = fields(given);
            remove_hop_by_hop(&mut headers);
            assert_eq!(names(&headers), *remaining, "{section}");
        }
    }
}
