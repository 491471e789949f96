//! Which cached entries a write makes stale, so the writer (and everyone
//! else) reads the new version next: read-your-writes through the edge.

use crate::caching::cache_key;
use crate::routes::{self, Route};

/// The cache keys to delete after a successful `method` on `path`.
pub fn stale_after_write(method: &str, path: &str, asset_version: &str) -> Vec<String> {
    if !matches!(method, "PUT" | "PATCH" | "DELETE") {
        return Vec::new();
    }
    let path = routes::normalise(path);
    match routes::classify(&path) {
        Route::UserProfile { .. } => vec![cache_key(asset_version, &path, "")],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caching::{lookup, Lookup};
    use crate::RequestFacts;

    #[test]
    fn a_profile_write_purges_the_key_its_read_uses() {
        for method in ["PUT", "PATCH", "DELETE"] {
            let purged = stale_after_write(method, "/users//12", "r1");
            let read = lookup(
                &RequestFacts {
                    method: "GET",
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
    fn other_requests_purge_nothing() {
        assert!(stale_after_write("GET", "/users/12", "r1").is_empty());
        assert!(stale_after_write("POST", "/users", "r1").is_empty());
        assert!(stale_after_write("PUT", "/health", "r1").is_empty());
    }
}
