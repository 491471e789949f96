//! Entity tags and `If-Match` (RFC 9110 §8.8.3, §13.1.1): how clients say
//! "change this only if nobody else has since I read it".

use crate::users::Version;

/// The strong entity tag of a user version, e.g. `"3"`.
pub fn etag(version: Version) -> String {
    format!("\"{}\"", version.0)
}

/// A parsed `If-Match` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// No header: the write applies to whatever version is current.
    Absent,
    /// `If-Match: *`: the resource must exist.
    Any,
    /// A list of entity tags; the write applies only if the current one is listed.
    Tags(Vec<String>),
}

/// The header is not a valid `If-Match` value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("If-Match must be `*` or a list of quoted entity tags such as \"3\"")]
pub struct InvalidIfMatch;

impl IfMatch {
    pub fn parse(header: Option<&str>) -> Result<Self, InvalidIfMatch> {
        let Some(header) = header.map(str::trim) else {
            return Ok(Self::Absent);
        };
        if header == "*" {
            return Ok(Self::Any);
        }
        let tags: Vec<String> = entity_tags(header)
            .ok_or(InvalidIfMatch)?
            .into_iter()
            .map(str::to_owned)
            .collect();
        if tags.is_empty() {
            return Err(InvalidIfMatch);
        }
        Ok(Self::Tags(tags))
    }

    /// Whether a write to the resource at `version` may go ahead.
    /// If-Match uses the strong comparison: a weak tag never matches.
    pub fn allows(&self, version: Version) -> bool {
        match self {
            Self::Absent | Self::Any => true,
            Self::Tags(tags) => {
                let current = etag(version);
                tags.contains(&current)
            }
        }
    }

    /// Whether the client named the version it read, so a concurrent change
    /// must fail its write rather than be merged into it.
    pub fn names_a_version(&self) -> bool {
        matches!(self, Self::Tags(_))
    }
}

/// Whether an `If-None-Match` header names the current representation, so a
/// `GET` can answer 304 Not Modified. Uses the weak comparison (RFC 9110 §13.1.2).
pub fn if_none_match_hits(header: &str, version: Version) -> bool {
    if_none_match_names(header, &etag(version))
}

/// Whether an `If-None-Match` header (`*` or a list of tags) names the entity
/// tag `etag`, by the weak comparison: `W/"1"` matches `"1"`.
pub fn if_none_match_names(header: &str, etag: &str) -> bool {
    let opaque = |tag: &str| tag.trim_start_matches("W/").to_owned();
    let held = opaque(etag);
    header.trim() == "*"
        || entity_tags(header).is_some_and(|tags| tags.into_iter().any(|tag| opaque(tag) == held))
}

/// The entity tags of a list such as `"a", W/"b,c"` (RFC 9110 §8.8.3: an
/// opaque tag may hold commas, so the list is scanned, not split), each as
/// written; `None` unless every member is a well-formed tag.
fn entity_tags(header: &str) -> Option<Vec<&str>> {
    let mut tags = Vec::new();
    let mut rest = header;
    loop {
        // Empty members and the spaces (OWS) around commas are allowed.
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            break;
        }
        let start = rest;
        let opaque = rest.strip_prefix("W/").unwrap_or(rest);
        let body = opaque.strip_prefix('"')?;
        let close = body.find('"')?;
        let tag_len = start.len() - body.len() + close + 1;
        let (tag, after) = start.split_at(tag_len);
        // etagc: visible characters (and obs-text), no spaces or controls.
        if tag.bytes().any(|b| b < 0x21 || b == 0x7f) {
            return None;
        }
        tags.push(tag);
        rest = after.trim_start_matches([' ', '\t']);
        if !(rest.is_empty() || rest.starts_with(',')) {
            return None;
        }
    }
    (!tags.is_empty()).then_some(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_compares_weakly() {
        assert!(if_none_match_hits(r#"W/"4", "5""#, Version(5)));
        assert!(if_none_match_hits(r#"W/"5""#, Version(5)));
        assert!(if_none_match_hits("*", Version(1)));
        assert!(!if_none_match_hits(r#""4""#, Version(5)));
    }

    #[test]
    fn absent_and_star_allow_any_version() {
        assert!(IfMatch::parse(None).unwrap().allows(Version(9)));
        assert!(IfMatch::parse(Some("*")).unwrap().allows(Version(9)));
    }

    #[test]
    fn a_list_allows_only_its_versions() {
        let header = IfMatch::parse(Some(r#""2", "5""#)).unwrap();
        assert!(header.allows(Version(5)));
        assert!(!header.allows(Version(3)));
    }

    #[test]
    fn weak_tags_never_match() {
        let header = IfMatch::parse(Some(r#"W/"5""#)).unwrap();
        assert!(!header.allows(Version(5)));
    }

    #[test]
    fn entity_tags_may_hold_commas_and_lists_may_hold_tabs() {
        let parsed = IfMatch::parse(Some("W/\"x,y\" ,\t\"3\",, \"\"")).unwrap();
        assert_eq!(
            parsed,
            IfMatch::Tags(vec!["W/\"x,y\"".into(), "\"3\"".into(), "\"\"".into()])
        );
        assert!(parsed.allows(Version(3)));
        assert!(if_none_match_names("\"a,b\", W/\"7\"", "\"7\""));
        assert!(!if_none_match_names("\"a,\"7\"", "\"7\""));
    }

    #[test]
    fn unquoted_or_empty_values_are_invalid() {
        for bad in ["5", "", r#""5"#, r#"", "#, r#""a"b""#] {
            assert_eq!(IfMatch::parse(Some(bad)), Err(InvalidIfMatch), "{bad:?}");
        }
    }
}
