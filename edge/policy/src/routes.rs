//! Paths in their normal form, so equivalent paths share one cache entry.

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
