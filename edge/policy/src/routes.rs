//! Paths: their normal form, and the caching headers of the web app's own
//! files (the edge is their origin, so it says how they may be cached).

/// One year: the lifetime of anything whose URL changes when its content does.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The `Cache-Control` of an embedded file of the web app: content-hashed
/// files never change; the index page is revalidated on every use so a new
/// release is picked up at once; other files live `static_seconds`.
pub fn asset_cache_control(path: &str, static_seconds: u32) -> String {
    if path == "/" || path == "/index.html" {
        return "no-cache".into();
    }
    let file = path.rsplit('/').next().unwrap_or_default();
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

/// Collapses `//` and resolves `.` and `..` segments, so equivalent paths
/// share one cache entry and a path cannot climb above the root.
pub fn normalise(path: &str) -> String {
    let mut normalised = String::with_capacity(path.len());
    normalise_into(path, &mut normalised);
    normalised
}

/// [`normalise`], appending to `out` (the cache key is built in one string).
pub fn normalise_into(path: &str, out: &mut String) {
    // The common case, already normal, is copied as it is.
    if path.starts_with('/') && !path.contains("//") && !path.contains("/.") {
        out.push_str(path);
        return;
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    for segment in &segments {
        out.push('/');
        out.push_str(segment);
    }
    if segments.is_empty() || path.ends_with('/') {
        out.push('/');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_app_files() {
        let cases = [
            ("/", "no-cache"),
            ("/index.html", "no-cache"),
            ("/assets/app.3f9a1c2b.js", IMMUTABLE),
            ("/assets/app.3F9A1C2BDEADBEEF.css", IMMUTABLE),
            ("/assets/app.js", "public, max-age=3600"),
            ("/assets/app.3f9a.js", "public, max-age=3600"),
            ("/assets/.3f9a1c2b.js", "public, max-age=3600"),
            ("/robots.txt", "public, max-age=3600"),
        ];
        for (path, expected) in cases {
            assert_eq!(asset_cache_control(path, 3600), expected, "{path}");
        }
    }

    #[test]
    fn normalises_paths() {
        let cases = [
            ("/", "/"),
            ("", "/"),
            ("//users///12", "/users/12"),
            ("/users/./12", "/users/12"),
            ("/assets/../users/12", "/users/12"),
            ("/../../etc/passwd", "/etc/passwd"),
            ("/docs/", "/docs/"),
            ("/docs/.", "/docs"),
            ("/a/..", "/"),
            ("/.well-known/x", "/.well-known/x"),
            ("users/12", "/users/12"),
        ];
        for (path, expected) in cases {
            assert_eq!(normalise(path), expected, "{path:?}");
        }
    }
}
