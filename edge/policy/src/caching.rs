//! Whether the edge may answer from its cache, under which key, and whether
//! (and for how long) it may store what the origin answered (RFC 9111).

use crate::routes::{self, Route};
use crate::RequestFacts;

/// One year: the lifetime of anything whose URL changes when its content does.
pub const IMMUTABLE_SECONDS: u32 = 31_536_000;

/// Lifetimes the deployment chooses (from `wrangler.toml` vars or flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    /// How long a public profile is fresh at the edge and in browsers.
    pub profile_seconds: u32,
    /// How long a stale profile may still be served while it is refetched.
    pub profile_stale_seconds: u32,
    /// How long a 404 is remembered, so a flood of lookups of a missing id
    /// does not all reach the origin.
    pub not_found_seconds: u32,
    /// How long plain static files (not content-hashed) are fresh.
    pub static_seconds: u32,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            profile_seconds: 30,
            profile_stale_seconds: 60,
            not_found_seconds: 10,
            static_seconds: 3600,
        }
    }
}

/// Why a request goes straight to the origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bypass {
    /// Only GET and HEAD are answered from the cache.
    Method,
    /// The request carries a session cookie or `Authorization`: its answer may
    /// be personal, so it is neither read from nor written to the shared cache.
    Authenticated,
    /// The request says `Cache-Control: no-store`.
    NoStore,
    /// The path is not a cacheable resource (the API).
    NotCacheable,
    /// The query has parameters outside the allow-list; caching under a key
    /// that ignores them could serve one client's answer to another.
    UnknownQuery,
}

/// What the edge does with a request before asking the origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Bypass(Bypass),
    /// Look in the cache under `key`; on a miss, fetch and maybe store.
    Cache {
        key: String,
    },
    /// The client asked for a fresh copy (`Cache-Control: no-cache`): fetch
    /// from the origin, then store the answer under `key` for others.
    Refresh {
        key: String,
    },
}

/// Query parameters that may vary a cached answer (all others bypass).
const ALLOWED_QUERY: &[&str] = &["v"];

/// Decides how to handle `request`; `asset_version` (the release) is part of
/// every key, so a deploy starts from a clean cache without a purge.
pub fn lookup(request: &RequestFacts<'_>, asset_version: &str) -> Lookup {
    if !matches!(request.method, "GET" | "HEAD") {
        return Lookup::Bypass(Bypass::Method);
    }
    if request.authenticated {
        return Lookup::Bypass(Bypass::Authenticated);
    }
    let directives = request.cache_control.unwrap_or_default();
    if has_directive(directives, "no-store") {
        return Lookup::Bypass(Bypass::NoStore);
    }
    let path = routes::normalise(request.path);
    if routes::classify(&path) == Route::Api {
        return Lookup::Bypass(Bypass::NotCacheable);
    }
    let Some(query) = allowed_query(request.query) else {
        return Lookup::Bypass(Bypass::UnknownQuery);
    };
    let key = cache_key(asset_version, &path, &query);
    if has_directive(directives, "no-cache") || has_directive(directives, "max-age=0") {
        Lookup::Refresh { key }
    } else {
        Lookup::Cache { key }
    }
}

/// The key of a path in the cache: the release, the normalised path, and the
/// allowed query parameters in a fixed order.
pub fn cache_key(asset_version: &str, normalised_path: &str, sorted_query: &str) -> String {
    if sorted_query.is_empty() {
        format!("/{asset_version}{normalised_path}")
    } else {
        format!("/{asset_version}{normalised_path}?{sorted_query}")
    }
}

/// The allowed parameters, sorted; `None` if any other parameter is present.
fn allowed_query(query: Option<&str>) -> Option<String> {
    let mut pairs: Vec<&str> = query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .collect();
    let allowed = pairs.iter().all(|pair| {
        let name = pair.split('=').next().unwrap_or_default();
        ALLOWED_QUERY.contains(&name)
    });
    if !allowed {
        return None;
    }
    pairs.sort_unstable();
    Some(pairs.join("&"))
}

fn has_directive(cache_control: &str, directive: &str) -> bool {
    cache_control
        .split(',')
        .any(|d| d.trim().eq_ignore_ascii_case(directive))
}

/// The parts of an origin response the storing decision looks at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResponseFacts<'a> {
    pub status: u16,
    pub cache_control: Option<&'a str>,
    pub sets_cookie: bool,
    pub vary: Option<&'a str>,
}

/// How a response is kept and what browsers are told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Storage {
    /// How long the edge keeps it.
    pub edge_seconds: u32,
    /// The `Cache-Control` header sent on to clients.
    pub cache_control: String,
}

/// Whether the answer to a cacheable request may be stored, and how.
/// Never stored: answers that set a cookie, that the origin marks `private`
/// or `no-store`, that `Vary: *`, and errors other than 404.
pub fn storage(path: &str, response: &ResponseFacts<'_>, lifetimes: &Lifetimes) -> Option<Storage> {
    let origin_directives = response.cache_control.unwrap_or_default();
    if response.sets_cookie
        || has_directive(origin_directives, "private")
        || has_directive(origin_directives, "no-store")
        || response.vary.is_some_and(|vary| vary.trim() == "*")
    {
        return None;
    }
    let path = routes::normalise(path);
    let route = routes::classify(&path);
    match response.status {
        200 => Some(match route {
            Route::HashedAsset | Route::ProcessedPhoto => Storage {
                edge_seconds: IMMUTABLE_SECONDS,
                cache_control: format!("public, max-age={IMMUTABLE_SECONDS}, immutable"),
            },
            // Browsers revalidate every time (cheap with the ETag); the edge
            // keeps it until the next release changes the key.
            Route::IndexPage => Storage {
                edge_seconds: IMMUTABLE_SECONDS,
                cache_control: "no-cache".into(),
            },
            Route::UserProfile { .. } => Storage {
                edge_seconds: lifetimes.profile_seconds + lifetimes.profile_stale_seconds,
                cache_control: format!(
                    "public, max-age={}, stale-while-revalidate={}",
                    lifetimes.profile_seconds, lifetimes.profile_stale_seconds
                ),
            },
            Route::StaticFile => Storage {
                edge_seconds: lifetimes.static_seconds,
                cache_control: format!("public, max-age={}", lifetimes.static_seconds),
            },
            Route::Api => return None,
        }),
        404 if route != Route::Api => Some(Storage {
            edge_seconds: lifetimes.not_found_seconds,
            cache_control: format!("public, max-age={}", lifetimes.not_found_seconds),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str) -> RequestFacts<'_> {
        RequestFacts {
            method: "GET",
            path,
            ..Default::default()
        }
    }

    #[test]
    fn lookup_table() {
        let cases: &[(RequestFacts<'_>, Lookup)] = &[
            (
                get("/users/12"),
                Lookup::Cache {
                    key: "/r1/users/12".into(),
                },
            ),
            (
                RequestFacts {
                    method: "HEAD",
                    ..get("/users/12")
                },
                Lookup::Cache {
                    key: "/r1/users/12".into(),
                },
            ),
            (
                get("//users/./12"),
                Lookup::Cache {
                    key: "/r1/users/12".into(),
                },
            ),
            (
                RequestFacts {
                    method: "POST",
                    ..get("/users")
                },
                Lookup::Bypass(Bypass::Method),
            ),
            (
                RequestFacts {
                    method: "PATCH",
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
                    cache_control: Some("no-store"),
                    ..get("/users/12")
                },
                Lookup::Bypass(Bypass::NoStore),
            ),
            (
                RequestFacts {
                    cache_control: Some("max-age=0"),
                    ..get("/users/12")
                },
                Lookup::Refresh {
                    key: "/r1/users/12".into(),
                },
            ),
            (
                RequestFacts {
                    cache_control: Some("No-Cache"),
                    ..get("/users/12")
                },
                Lookup::Refresh {
                    key: "/r1/users/12".into(),
                },
            ),
            (get("/health"), Lookup::Bypass(Bypass::NotCacheable)),
            (get("/users"), Lookup::Bypass(Bypass::NotCacheable)),
            (
                RequestFacts {
                    query: Some("v=3"),
                    ..get("/assets/app.js")
                },
                Lookup::Cache {
                    key: "/r1/assets/app.js?v=3".into(),
                },
            ),
            (
                RequestFacts {
                    query: Some("v=3&utm=x"),
                    ..get("/assets/app.js")
                },
                Lookup::Bypass(Bypass::UnknownQuery),
            ),
            (
                RequestFacts {
                    query: Some(""),
                    ..get("/index.html")
                },
                Lookup::Cache {
                    key: "/r1/index.html".into(),
                },
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

    #[test]
    fn storage_table() {
        let lifetimes = Lifetimes::default();
        let ok = ResponseFacts {
            status: 200,
            ..Default::default()
        };
        // (path, origin response, expected (edge seconds, Cache-Control))
        type Case<'a> = (&'a str, ResponseFacts<'a>, Option<(u32, &'a str)>);
        let cases: &[Case<'_>] = &[
            (
                "/assets/app.3f9a1c2b.js",
                ok,
                Some((IMMUTABLE_SECONDS, "public, max-age=31536000, immutable")),
            ),
            (
                "/photos/9f86d081.webp",
                ok,
                Some((IMMUTABLE_SECONDS, "public, max-age=31536000, immutable")),
            ),
            ("/index.html", ok, Some((IMMUTABLE_SECONDS, "no-cache"))),
            (
                "/users/12",
                ok,
                Some((90, "public, max-age=30, stale-while-revalidate=60")),
            ),
            ("/favicon.ico", ok, Some((3600, "public, max-age=3600"))),
            (
                "/users/12",
                ResponseFacts { status: 404, ..ok },
                Some((10, "public, max-age=10")),
            ),
            ("/users/12", ResponseFacts { status: 500, ..ok }, None),
            ("/users/12", ResponseFacts { status: 503, ..ok }, None),
            ("/users/12", ResponseFacts { status: 410, ..ok }, None),
            ("/users/12", ResponseFacts { status: 304, ..ok }, None),
            (
                "/users/12",
                ResponseFacts {
                    sets_cookie: true,
                    ..ok
                },
                None,
            ),
            (
                "/users/12",
                ResponseFacts {
                    cache_control: Some("private, max-age=60"),
                    ..ok
                },
                None,
            ),
            (
                "/users/12",
                ResponseFacts {
                    cache_control: Some("no-store"),
                    ..ok
                },
                None,
            ),
            (
                "/users/12",
                ResponseFacts {
                    vary: Some("*"),
                    ..ok
                },
                None,
            ),
            ("/health", ok, None),
            ("/nowhere", ResponseFacts { status: 404, ..ok }, None),
        ];
        for (path, response, expected) in cases {
            let got = storage(path, response, &lifetimes);
            let got = got
                .as_ref()
                .map(|s| (s.edge_seconds, s.cache_control.as_str()));
            assert_eq!(got, *expected, "{path} {response:?}");
        }
    }
}
