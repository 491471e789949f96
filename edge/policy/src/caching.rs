//! Whether a request may be answered from the cache, and under which key.
//! Whether (and how long) an answer is stored is the origin's to say, read
//! by [`crate::freshness`].

use http::Method;

use crate::routes;

/// The parts of a request the cache lookup looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestFacts<'a> {
    pub method: Method,
    pub path: &'a str,
    /// The query string without the `?`, if any.
    pub query: Option<&'a str>,
    /// The request carries credentials: a session cookie or an `Authorization` header.
    pub authenticated: bool,
    /// `Cache-Control` of the request, if any.
    pub cache_control: Option<&'a str>,
}

/// Why a request goes straight to the origin without reading the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bypass {
    /// Only GET and HEAD are answered from the cache (RFC 9111 §4).
    Method,
    /// The request carries a session cookie or `Authorization`: its answer
    /// may be personal, so it never reads the shared cache. (Its answer is
    /// stored only where RFC 9111 §3.5 allows it.) The web app's own files
    /// are the exception: the edge is their origin and knows they are the
    /// same for everyone, so a logged-in browser still gets them cached.
    Authenticated,
    /// The request says `Cache-Control: no-store` (RFC 9111 §5.2.1.5).
    NoStore,
}

/// What the edge does with a request before asking the origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Bypass(Bypass),
    /// Look in the cache under `key`; on a miss, fetch and maybe store.
    Cache {
        key: String,
    },
}

/// Decides how to handle `request`; `asset_version` (the release) is part of
/// every key, so a deploy starts from a clean cache without a purge.
pub fn lookup(request: &RequestFacts<'_>, asset_version: &str) -> Lookup {
    if !matches!(request.method, Method::GET | Method::HEAD) {
        return Lookup::Bypass(Bypass::Method);
    }
    if request.authenticated && millions_web::find(&routes::normalise(request.path)).is_none() {
        return Lookup::Bypass(Bypass::Authenticated);
    }
    let no_store = request
        .cache_control
        .is_some_and(|field| crate::directives::Directives::parse(field).has("no-store"));
    if no_store {
        return Lookup::Bypass(Bypass::NoStore);
    }
    Lookup::Cache {
        key: key_of(asset_version, request.path, request.query),
    }
}

/// The key of a request target: the release, the normalised path, and the
/// query with its parameters ordered by name (parameters of one name keep
/// their order, which may matter to the origin).
pub fn key_of(asset_version: &str, path: &str, query: Option<&str>) -> String {
    // Built in one allocation: this runs on every cached read.
    let query = query.unwrap_or_default();
    let mut key = String::with_capacity(2 + asset_version.len() + path.len() + query.len());
    key.push('/');
    key.push_str(asset_version);
    routes::normalise_into(path, &mut key);
    if query.is_empty() {
        return key;
    }
    let mut pairs: Vec<&str> = query.split('&').filter(|pair| !pair.is_empty()).collect();
    pairs.sort_by_key(|pair| pair.split('=').next().unwrap_or_default());
    for (index, pair) in pairs.iter().enumerate() {
        key.push(if index == 0 { '?' } else { '&' });
        key.push_str(pair);
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str) -> RequestFacts<'_> {
        RequestFacts {
            method: Method::GET,
            path,
            ..Default::default()
        }
    }

    fn cache(key: &str) -> Lookup {
        Lookup::Cache { key: key.into() }
    }

    #[test]
    fn lookup_table() {
        let cases: &[(RequestFacts<'_>, Lookup)] = &[
            (get("/users/12"), cache("/r1/users/12")),
            (
                RequestFacts {
                    method: Method::HEAD,
                    ..get("/users/12")
                },
                cache("/r1/users/12"),
            ),
            (get("//users/./12"), cache("/r1/users/12")),
            (get("/health"), cache("/r1/health")),
            (
                RequestFacts {
                    method: Method::POST,
                    ..get("/users")
                },
                Lookup::Bypass(Bypass::Method),
            ),
            (
                RequestFacts {
                    method: Method::PATCH,
                    ..get("/users/12")
                },
                Lookup::Bypass(Bypass::Method),
            ),
            (
                RequestFacts {
                    authenticated: true,
                    ..get("/users/12")
                },
                Lookup::Bypass(Bypass::Authenticated),
            ),
            (
                RequestFacts {
                    authenticated: true,
                    ..get("/")
                },
                cache("/r1/"),
            ),
            (
                RequestFacts {
                    authenticated: true,
                    ..get("/u/12")
                },
                cache("/r1/u/12"),
            ),
            (
                RequestFacts {
                    authenticated: true,
                    ..get("/assets/../robots.txt")
                },
                cache("/r1/robots.txt"),
            ),
            (
                RequestFacts {
                    cache_control: Some("No-Store"),
                    ..get("/users/12")
                },
                Lookup::Bypass(Bypass::NoStore),
            ),
            // Request no-cache still uses the entry, to validate it (RFC 9111 §5.2.1.4).
            (
                RequestFacts {
                    cache_control: Some("no-cache"),
                    ..get("/users/12")
                },
                cache("/r1/users/12"),
            ),
            (
                RequestFacts {
                    query: Some("v=3"),
                    ..get("/assets/app.js")
                },
                cache("/r1/assets/app.js?v=3"),
            ),
            (
                RequestFacts {
                    query: Some("v=3&a=1&a=0"),
                    ..get("/a")
                },
                cache("/r1/a?a=1&a=0&v=3"),
            ),
            (
                RequestFacts {
                    query: Some(""),
                    ..get("/index.html")
                },
                cache("/r1/index.html"),
            ),
        ];
        for (request, expected) in cases {
            assert_eq!(&lookup(request, "r1"), expected, "{request:?}");
        }
    }

    #[test]
    fn keys_change_with_the_release() {
        assert_ne!(lookup(&get("/"), "r1"), lookup(&get("/"), "r2"));
    }
}
