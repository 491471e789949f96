//! Which stored responses a write makes stale (RFC 9111 §4.4), so the writer
//! (and everyone else) reads the new version next: read-your-writes
//! through the edge.

use http::{Method, StatusCode};

use crate::caching::key_of;

/// What the edge knows about a write and its answer.
#[derive(Debug, Clone, Default)]
pub struct Write<'a> {
    pub method: Method,
    pub status: StatusCode,
    pub path: &'a str,
    pub query: Option<&'a str>,
    /// The request's `Host`, to tell same-origin absolute URIs.
    pub host: Option<&'a str>,
    pub location: Option<&'a str>,
    pub content_location: Option<&'a str>,
}

/// The cache keys to delete after `write`: the target URI, and the URIs in
/// `Location` and `Content-Location` when they are on the same origin, once
/// an unsafe method got a non-error answer (RFC 9111 §4.4).
pub fn stale_after(write: &Write<'_>, asset_version: &str) -> Vec<String> {
    // RFC 9110 §9.2.1: the safe methods.
    let safe = matches!(
        write.method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    let succeeded = write.status.is_success() || write.status.is_redirection();
    if safe || !succeeded {
        return Vec::new();
    }
    let mut keys = vec![key_of(asset_version, write.path, write.query)];
    for reference in [write.location, write.content_location]
        .into_iter()
        .flatten()
    {
        if let Some((path, query)) = same_origin_target(reference, write.path, write.host) {
            let key = key_of(asset_version, &path, query.as_deref());
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    keys
}

/// Resolves a URI reference against the request target; `None` for another
/// origin (§4.4: invalidating it would let one origin purge another's).
fn same_origin_target(
    reference: &str,
    base_path: &str,
    host: Option<&str>,
) -> Option<(String, Option<String>)> {
    let reference = reference.trim();
    let relative = if let Some(rest) = reference
        .strip_prefix("https://")
        .or_else(|| reference.strip_prefix("http://"))
    {
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if !host.is_some_and(|host| host.eq_ignore_ascii_case(authority)) {
            return None;
        }
        if path.is_empty() { "/" } else { path }.to_owned()
    } else if reference.starts_with("//") || reference.contains("://") {
        return None;
    } else if reference.starts_with('/') {
        reference.to_owned()
    } else {
        let directory = &base_path[..base_path.rfind('/').map_or(0, |i| i + 1)];
        format!("{directory}{reference}")
    };
    let relative = relative.split('#').next().unwrap_or_default();
    Some(match relative.split_once('?') {
        Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
        None => (relative.to_owned(), None),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caching::RequestFacts;
    use crate::caching::{lookup, Lookup};

    fn write<'a>(method: &str, path: &'a str) -> Write<'a> {
        Write {
            method: method.parse().expect("a method"),
            status: StatusCode::OK,
            path,
            host: Some("edge.example"),
            ..Default::default()
        }
    }

    #[test]
    fn a_write_purges_the_key_its_read_uses() {
        // RFC 9111 §4.4: the target URI.
        for method in ["PUT", "PATCH", "DELETE", "POST"] {
            let purged = stale_after(&write(method, "/users//12"), "r1");
            let read = lookup(
                &RequestFacts {
                    method: Method::GET,
                    path: "/users/12",
                    ..Default::default()
                },
                "r1",
            );
            assert_eq!(
                read,
                Lookup::Cache {
                    key: purged[0].clone()
                },
                "{method}"
            );
        }
    }

    #[test]
    fn invalidation_table() {
        // (RFC 9111 §4.4 case, write, expected keys)
        let cases: &[(&str, Write<'_>, &[&str])] = &[
            (
                "safe methods invalidate nothing",
                write("GET", "/users/12"),
                &[],
            ),
            ("OPTIONS is safe", write("OPTIONS", "/users/12"), &[]),
            (
                "errors invalidate nothing",
                Write {
                    status: StatusCode::PRECONDITION_FAILED,
                    ..write("PUT", "/users/12")
                },
                &[],
            ),
            (
                "redirects count as success",
                Write {
                    status: StatusCode::SEE_OTHER,
                    ..write("POST", "/users/12")
                },
                &["/r1/users/12"],
            ),
            (
                "Location, relative",
                Write {
                    location: Some("/users/13"),
                    ..write("POST", "/auth/signup")
                },
                &["/r1/auth/signup", "/r1/users/13"],
            ),
            (
                "Content-Location, same host",
                Write {
                    content_location: Some("http://edge.example/users/12?v=2"),
                    ..write("PATCH", "/users/me")
                },
                &["/r1/users/me", "/r1/users/12?v=2"],
            ),
            (
                "another host is left alone",
                Write {
                    location: Some("https://elsewhere.example/users/12"),
                    ..write("PUT", "/users/12")
                },
                &["/r1/users/12"],
            ),
            (
                "a path-relative reference",
                Write {
                    location: Some("13"),
                    ..write("POST", "/users/12")
                },
                &["/r1/users/12", "/r1/users/13"],
            ),
        ];
        for (case, write, expected) in cases {
            assert_eq!(stale_after(write, "r1"), *expected, "{case}");
        }
    }
}
