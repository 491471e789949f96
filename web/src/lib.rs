//! The web app users see (`app/`), embedded at build time (see `build.rs`),
//! and the way every server of it answers: the three edges serve it as if it
//! came from an origin, and the API serves the same bytes with the same
//! headers, so the site still works when the edge is bypassed (the CDN down,
//! or DNS failed over straight to a region's API).
//!
//! The app routes in the browser (`/me`, `/studio`, `/u/{id}`); each of those
//! paths answers with the index page, so a reload or a shared link works.

pub mod fingerprint;

use http::{header, HeaderValue, Response, StatusCode};

/// One file of the web app.
#[derive(Debug)]
pub struct Asset {
    /// Where it is served: `/index.html`, `/assets/app.<hash>.js`, ...
    pub path: &'static str,
    pub content_type: &'static str,
    /// A strong validator from the content hash.
    pub etag: &'static str,
    pub body: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// How long the app's plain files (not content-hashed, not the index) are
/// fresh unless a server is configured otherwise.
pub const DEFAULT_STATIC_SECONDS: u32 = 3600;

/// One year: the lifetime of anything whose URL changes when its content does.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The headers every file of the app is sent with, by every server of it.
///
/// The policy allows scripts and styles from the site itself only (no
/// inline script, so an injected `<script>` does not run), images from the
/// site and from the `blob:` URLs of a photo chosen for upload, and requests
/// to the site and to S3, where a deployed stack's signed upload URLs point
/// (`https://<bucket>.s3.<region>.amazonaws.com`). The page may not be framed.
/// Browsers ignore HSTS over plain HTTP, so the local stack can send it too.
pub const SECURITY_HEADERS: [(&str, &str); 6] = [
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; \
         img-src 'self' blob: data:; connect-src 'self' https://*.amazonaws.com; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    ("x-frame-options", "DENY"),
    (
        "strict-transport-security",
        "max-age=63072000; includeSubDomains",
    ),
    ("cross-origin-opener-policy", "same-origin"),
];

/// The asset at a normalised path: `/` and the app's own routes are the
/// index page.
pub fn find(path: &str) -> Option<&'static Asset> {
    let path = if is_app_route(path) {
        "/index.html"
    } else {
        path
    };
    ASSETS.iter().find(|asset| asset.path == path)
}

/// Paths the app routes in the browser. None of them is an API path.
fn is_app_route(path: &str) -> bool {
    match path {
        "/" | "/me" | "/studio" => true,
        _ => path
            .strip_prefix("/u/")
            .is_some_and(|id| !id.is_empty() && !id.contains('/')),
    }
}

/// How an embedded file may be cached: content-hashed files never change;
/// the index page is revalidated on every use so a new release is picked up
/// at once; other files live `static_seconds`.
pub fn cache_control(asset: &Asset, static_seconds: u32) -> String {
    if asset.path == "/index.html" {
        return "no-cache".into();
    }
    let file = asset.path.rsplit('/').next().unwrap_or_default();
    if is_content_hashed(file) {
        IMMUTABLE.into()
    } else {
        format!("public, max-age={static_seconds}")
    }
}

/// `name.<8+ hex digits>.ext`, the form bundlers give content-hashed files.
pub fn is_content_hashed(file: &str) -> bool {
    let mut parts = file.rsplit('.');
    let (Some(_extension), Some(hash), Some(stem)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    !stem.is_empty() && hash.len() >= 8 && hash.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The answer to a `GET` of `asset`: 304 without a body when the client
/// already holds `held_etag`, else the file.
pub fn response(
    asset: &'static Asset,
    static_seconds: u32,
    held_etag: Option<&str>,
) -> Response<&'static [u8]> {
    let current = held_etag.is_some_and(|held| held == asset.etag);
    let mut response = Response::new(if current { &[][..] } else { asset.body });
    let headers = response.headers_mut();
    headers.insert(header::ETAG, HeaderValue::from_static(asset.etag));
    if let Ok(value) = HeaderValue::from_str(&cache_control(asset, static_seconds)) {
        headers.insert(header::CACHE_CONTROL, value);
    }
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if current {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
    } else {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_styles_get_hashed_names_the_index_refers_to() {
        let index = find("/").expect("the index page is embedded");
        let html = std::str::from_utf8(index.body).unwrap();
        assert!(!html.contains("{{"), "every placeholder is filled");
        let hashed: Vec<&Asset> = ASSETS
            .iter()
            .filter(|asset| is_content_hashed(asset.path.rsplit('/').next().unwrap()))
            .collect();
        assert!(hashed.len() >= 2, "{ASSETS:?}");
        for asset in hashed {
            assert!(html.contains(asset.path), "index.html links {}", asset.path);
        }
        assert_eq!(index.path, "/index.html");
        assert_eq!(index.content_type, "text/html; charset=utf-8");
    }

    #[test]
    fn every_name_and_etag_is_the_fingerprint_of_the_bytes_served() {
        // So an edited file gets a new name at the next build (its old name
        // is then a 404, never a stale copy), and a new index a new ETag.
        for asset in ASSETS {
            let hash = fingerprint::fingerprint(asset.body);
            assert_eq!(asset.etag, format!("\"{hash}\""), "{}", asset.path);
            let file = asset.path.rsplit('/').next().unwrap();
            if is_content_hashed(file) {
                assert!(file.contains(&format!(".{hash}.")), "{file}");
            }
        }
        assert_ne!(
            fingerprint::fingerprint(b"body { color: red }"),
            fingerprint::fingerprint(b"body { color: blue }")
        );
    }

    #[test]
    fn the_apps_own_routes_are_the_index_and_api_paths_are_not_assets() {
        for path in ["/", "/me", "/studio", "/u/12", "/u/abc"] {
            assert_eq!(find(path).map(|a| a.path), Some("/index.html"), "{path}");
        }
        for path in [
            "/u/",
            "/u/1/2",
            "/users/12",
            "/photos/x.jpg",
            "/assets/nope.js",
        ] {
            assert!(find(path).is_none(), "{path}");
        }
        assert!(find("/robots.txt").is_some());
    }

    #[test]
    fn cache_lifetimes() {
        let index = find("/").unwrap();
        assert_eq!(cache_control(index, 3600), "no-cache");
        let robots = find("/robots.txt").unwrap();
        assert_eq!(cache_control(robots, 3600), "public, max-age=3600");
        for asset in ASSETS.iter().filter(|a| a.path.starts_with("/assets/")) {
            assert_eq!(cache_control(asset, 3600), IMMUTABLE, "{}", asset.path);
        }
    }

    #[test]
    fn content_hashed_names() {
        let cases = [
            ("app.3f9a1c2b.js", true),
            ("app.3F9A1C2BDEADBEEF.css", true),
            ("app.js", false),
            ("app.3f9a.js", false),
            (".3f9a1c2b.js", false),
            ("robots.txt", false),
        ];
        for (file, expected) in cases {
            assert_eq!(is_content_hashed(file), expected, "{file}");
        }
    }

    #[test]
    fn a_held_copy_is_answered_304_with_the_same_headers() {
        let index = find("/").unwrap();
        let full = response(index, 60, None);
        assert_eq!(full.status(), 200);
        assert_eq!(full.body().len(), index.body.len());
        let again = response(index, 60, Some(index.etag));
        assert_eq!(again.status(), 304);
        assert!(again.body().is_empty());
        for (name, value) in SECURITY_HEADERS {
            assert_eq!(full.headers()[name], value);
            assert_eq!(again.headers()[name], value);
        }
        assert!(full.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self';"));
    }
}
