//! What kind of resource a path names, which decides its caching rules.

/// The kinds of resource the edge treats differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    /// A static asset whose file name carries a content hash
    /// (`/assets/app.3f9a1c2b.js`): it never changes, so it is cached for a year.
    HashedAsset,
    /// A processed photo under `/photos/`, stored under a content-addressed key.
    ProcessedPhoto,
    /// The web app's entry page, which must be revalidated on every use so a
    /// new release is picked up at once.
    IndexPage,
    /// Any other static file (`/favicon.ico`, `/robots.txt`).
    StaticFile,
    /// `GET /users/{id}`: a public profile, cached briefly.
    UserProfile { id: &'a str },
    /// Everything else: the API, which is not cached.
    Api,
}

/// Classifies a (normalised) path.
pub fn classify(path: &str) -> Route<'_> {
    if path == "/" || path == "/index.html" {
        return Route::IndexPage;
    }
    if let Some(file) = path.strip_prefix("/assets/") {
        return if is_content_hashed(file) {
            Route::HashedAsset
        } else {
            Route::StaticFile
        };
    }
    if let Some(rest) = path.strip_prefix("/photos/") {
        if !rest.is_empty() && !rest.contains('/') && rest.contains('.') {
            return Route::ProcessedPhoto;
        }
        return Route::Api;
    }
    if let Some(id) = path.strip_prefix("/users/") {
        if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
            return Route::UserProfile { id };
        }
        return Route::Api;
    }
    if matches!(
        path,
        "/favicon.ico" | "/robots.txt" | "/manifest.webmanifest"
    ) {
        return Route::StaticFile;
    }
    Route::Api
}

/// `name.<8+ hex digits>.ext`, the form bundlers give content-hashed files.
fn is_content_hashed(file: &str) -> bool {
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
    let mut normalised = String::with_capacity(path.len());
    for segment in &segments {
        normalised.push('/');
        normalised.push_str(segment);
    }
    if normalised.is_empty() || (path.ends_with('/') && !segments.is_empty()) {
        normalised.push('/');
    }
    normalised
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_paths() {
        let cases = [
            ("/", Route::IndexPage),
            ("/index.html", Route::IndexPage),
            ("/assets/app.3f9a1c2b.js", Route::HashedAsset),
            ("/assets/app.3F9A1C2BDEADBEEF.css", Route::HashedAsset),
            ("/assets/app.js", Route::StaticFile),
            ("/assets/app.3f9a.js", Route::StaticFile),
            ("/assets/.3f9a1c2b.js", Route::StaticFile),
            ("/photos/9f86d081884c7d65.webp", Route::ProcessedPhoto),
            ("/photos", Route::Api),
            ("/photos/123/jobs", Route::Api),
            ("/users/12", Route::UserProfile { id: "12" }),
            ("/users/abc", Route::Api),
            ("/users/", Route::Api),
            ("/users", Route::Api),
            ("/favicon.ico", Route::StaticFile),
            ("/health", Route::Api),
        ];
        for (path, expected) in cases {
            assert_eq!(classify(path), expected, "{path}");
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
        ];
        for (path, expected) in cases {
            assert_eq!(normalise(path), expected, "{path:?}");
        }
    }
}
