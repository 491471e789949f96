//! The web app, embedded at build time (see `build.rs`): the edge serves it
//! as if it came from an origin, through the same cache rules.

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

/// The asset at a normalised path; `/` is the index page.
pub fn find(path: &str) -> Option<&'static Asset> {
    let path = if path == "/" { "/index.html" } else { path };
    ASSETS.iter().find(|asset| asset.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::is_content_hashed;

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
    fn unknown_paths_are_not_assets() {
        assert!(find("/assets/nope.js").is_none());
        assert!(find("/users/12").is_none());
        assert!(find("/robots.txt").is_some());
    }
}
