//! Reading `Cache-Control` and its CDN-targeted form (`CDN-Cache-Control`,
//! RFC 9213) into directives, once per message, so the freshness rules work
//! on names and numbers instead of re-scanning header text.
//!
//! The two are read differently. `Cache-Control` has its own lenient
//! grammar (RFC 9111 §5.2), read here by hand. `CDN-Cache-Control` is a
//! structured field, a Dictionary (RFC 9213 §2.1, RFC 9651), read by the
//! `sfv` crate: a value that is not a valid Dictionary is ignored as a
//! whole, and a member of the wrong type (`max-age="60"`, `max-age=6.5`,
//! `public=1`) is ignored alone.

use std::borrow::Cow;

use http::header::{HeaderMap, HeaderName};
use sfv::{BareItem, ListEntry};

/// The CDN-targeted field (RFC 9213 §3); when present and valid it replaces
/// `Cache-Control` and `Expires` for this cache (RFC 9213 §2.2).
pub const CDN_CACHE_CONTROL: HeaderName = HeaderName::from_static("cdn-cache-control");

/// Larger delta-seconds are read as this (RFC 9111 §1.2.2).
const DELTA_SECONDS_CAP: u64 = 2_147_483_648;

/// The directives of one message's cache field(s), in order of appearance.
/// Borrowed from `Cache-Control`'s text; owned when read from a structured
/// field, whose parser gives its own values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directives<'a> {
    items: Vec<(Cow<'a, str>, Option<Cow<'a, str>>)>,
}

/// The directives whose argument is delta-seconds: an Integer in a
/// structured field (RFC 9213 §2.1), ignored when of another type.
const DELTA_SECONDS_DIRECTIVES: [&str; 6] = [
    "max-age",
    "s-maxage",
    "stale-while-revalidate",
    "stale-if-error",
    "max-stale",
    "min-fresh",
];
/// The directives that may name fields (RFC 9111 §5.2.2.4, §5.2.2.7): a
/// String of field names in a structured field.
const FIELD_LIST_DIRECTIVES: [&str; 2] = ["no-cache", "private"];

impl<'a> Directives<'a> {
    /// Parses every field line of `name` in `headers` (RFC 9110 §5.3: the
    /// lines of one field are one comma-separated list).
    pub fn of(headers: &'a HeaderMap, name: &HeaderName) -> Self {
        let mut directives = Self::default();
        for line in headers.get_all(name) {
            if let Ok(text) = line.to_str() {
                directives.extend(text);
            }
        }
        directives
    }

    /// Parses one field value.
    pub fn parse(text: &'a str) -> Self {
        let mut directives = Self::default();
        directives.extend(text);
        directives
    }

    fn extend(&mut self, text: &'a str) {
        for item in split_outside_quotes(text) {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            // No whitespace around `=` (RFC 9111 §5.2: `token [ "=" ...
            // ]`): `max-age =60` names another directive and `max-age= 60`
            // has an invalid argument, so neither makes a response fresh.
            let (name, value) = match item.split_once('=') {
                Some((name, value)) => (name, Some(Cow::Borrowed(unquote(value)))),
                None => (item, None),
            };
            self.items.push((Cow::Borrowed(name), value));
        }
    }

    /// Reads every field line of `name` as one structured Dictionary (RFC
    /// 9651 §4.2: the lines joined with commas); `None` when the field is
    /// absent, empty or not a valid Dictionary, which the cache then ignores
    /// (RFC 9213 §2.1). Members of the wrong type are left out, but the field
    /// still counts as given.
    fn of_dictionary(headers: &HeaderMap, name: &HeaderName) -> Option<Directives<'static>> {
        let mut lines = Vec::new();
        for line in headers.get_all(name) {
            lines.push(line.as_bytes());
        }
        let joined = lines.join(&b", "[..]);
        let dictionary: sfv::Dictionary = sfv::Parser::new(&joined).parse().ok()?;
        if dictionary.is_empty() {
            return None;
        }
        let mut directives = Directives::default();
        for (key, member) in &dictionary {
            if let Some(value) = member_value(key.as_str(), member) {
                directives
                    .items
                    .push((Cow::Owned(key.as_str().to_owned()), value));
            }
        }
        Some(directives)
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// `None` when absent, `Some(None)` when present without an argument.
    pub fn argument(&self, name: &str) -> Option<Option<&str>> {
        self.items
            .iter()
            .find(|(item, _)| item.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_deref())
    }

    /// Whether the directive is present, with or without an argument.
    pub fn has(&self, name: &str) -> bool {
        self.argument(name).is_some()
    }

    /// A delta-seconds argument (`max-age=60`). A present but unreadable
    /// argument reads as 0, so the response counts as stale, as RFC 9111
    /// §4.2.1 advises for invalid freshness information.
    pub fn seconds(&self, name: &str) -> Option<u64> {
        let value = self.argument(name)?;
        Some(value.map_or(0, parse_delta_seconds))
    }

    /// For `no-cache` and `private`: `None` when absent, `Some([])` when
    /// present without field names (the whole response), otherwise the
    /// lowercased names it applies to (RFC 9111 §5.2.2.4, §5.2.2.7).
    pub fn field_names(&self, name: &str) -> Option<Vec<String>> {
        let value = self.argument(name)?;
        Some(value.map_or_else(Vec::new, |list| {
            list.split(',')
                .map(|field| field.trim().to_ascii_lowercase())
                .filter(|field| !field.is_empty())
                .collect()
        }))
    }
}

/// The directives this cache obeys for a response: the CDN-targeted field
/// when it is a valid, non-empty Dictionary, else `Cache-Control`
/// (RFC 9213 §2.1, §2.2). The flag says whether the targeted field was used
/// (it also overrides `Expires`).
pub fn for_shared_cache(headers: &HeaderMap) -> (Directives<'_>, bool) {
    match Directives::of_dictionary(headers, &CDN_CACHE_CONTROL) {
        Some(targeted) => (targeted, true),
        None => (Directives::of(headers, &http::header::CACHE_CONTROL), false),
    }
}

/// A Dictionary member as a directive's argument: `Some(None)` for a
/// directive without one, `None` for a member this cache ignores. Integers
/// are delta-seconds, Strings field lists, `true` a bare directive; a
/// member of another type for its directive is ignored (RFC 9213 §2.1),
/// except for `no-cache` and `private`, which then cover the whole response:
/// reading them wider than written can only store less.
fn member_value(name: &str, member: &ListEntry) -> Option<Option<Cow<'static, str>>> {
    let field_list = FIELD_LIST_DIRECTIVES.contains(&name);
    let ListEntry::Item(item) = member else {
        return field_list.then_some(None);
    };
    let delta = DELTA_SECONDS_DIRECTIVES.contains(&name);
    match &item.bare_item {
        BareItem::Integer(seconds) if delta => {
            let seconds = i64::from(*seconds);
            (seconds >= 0).then(|| Some(Cow::Owned(seconds.to_string())))
        }
        BareItem::String(fields) if field_list => {
            Some(Some(Cow::Owned(fields.as_str().to_owned())))
        }
        BareItem::Boolean(true) if !delta => Some(None),
        // A directive set to false is not given.
        BareItem::Boolean(false) if !delta => None,
        _ => field_list.then_some(None),
    }
}

/// A delta-seconds value (RFC 9111 §1.2.2), read leniently: the digits it
/// starts with, so `3600.5` and `3600a` read as 3600, as the widely deployed
/// caches read them; a value that starts with anything else (`soon`, `-5`,
/// ` 60`) reads as 0, which makes a response stale (RFC 9111 §4.2.1); values
/// past 2^31 read as 2^31.
pub(crate) fn parse_delta_seconds(text: &str) -> u64 {
    leading_digits(text).map_or(0, cap)
}

/// The number an `Age` value gives (RFC 9111 §5.1): the first member of a
/// list (`7200, 0` is 7200), read as delta-seconds leniently; `None` for a
/// value with no leading digit, which the cache ignores (§5.1).
pub(crate) fn parse_age(text: &str) -> Option<u64> {
    let first = text.split(',').next().unwrap_or_default().trim();
    leading_digits(first).map(cap)
}

fn leading_digits(text: &str) -> Option<&str> {
    let end = text
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(text.len());
    (end > 0).then(|| &text[..end])
}

fn cap(digits: &str) -> u64 {
    digits
        .parse::<u64>()
        .map_or(DELTA_SECONDS_CAP, |n| n.min(DELTA_SECONDS_CAP))
}

fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
        .unwrap_or(value)
}

/// Splits at commas that are not inside a quoted string, so
/// `no-cache="set-cookie, x-a", max-age=5` is two directives.
fn split_outside_quotes(text: &str) -> impl Iterator<Item = &str> {
    // Lazy, so reading a field allocates nothing beyond the directives.
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let text = rest?;
        let mut quoted = false;
        let mut escaped = false;
        for (index, byte) in text.bytes().enumerate() {
            match byte {
                _ if escaped => escaped = false,
                b'\\' if quoted => escaped = true,
                b'"' => quoted = !quoted,
                b',' if !quoted => {
                    rest = Some(&text[index + 1..]);
                    return Some(&text[..index]);
                }
                _ => {}
            }
        }
        rest = None;
        Some(text)
    })
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn reads_names_arguments_and_quoted_lists() {
        let d = Directives::parse(
            r#"Public, MAX-AGE=60, no-cache="Set-Cookie, X-Tag", s-maxage="30", private"#,
        );
        assert!(d.has("public"));
        assert_eq!(d.seconds("max-age"), Some(60));
        assert_eq!(d.seconds("s-maxage"), Some(30));
        assert_eq!(
            d.field_names("no-cache"),
            Some(vec!["set-cookie".to_owned(), "x-tag".to_owned()])
        );
        assert_eq!(d.field_names("private"), Some(vec![]));
        assert_eq!(d.field_names("no-store"), None);
    }

    #[test]
    fn an_escaped_quote_does_not_end_a_quoted_string() {
        let d = Directives::parse(r#"ext="a\", b", max-age=5,, "#);
        assert_eq!(d.argument("ext"), Some(Some(r#"a\", b"#)));
        assert_eq!(d.seconds("max-age"), Some(5));
        assert_eq!(d, Directives::parse(r#" ext="a\", b" ,max-age=5"#));
    }

    #[test]
    fn invalid_or_huge_delta_seconds() {
        // RFC 9111 §4.2.1: invalid freshness information reads as stale.
        assert_eq!(
            Directives::parse("max-age=soon").seconds("max-age"),
            Some(0)
        );
        assert_eq!(Directives::parse("max-age=-5").seconds("max-age"), Some(0));
        assert_eq!(Directives::parse("max-age").seconds("max-age"), Some(0));
        // RFC 9111 §1.2.2: values past 2^31 are read as 2^31.
        assert_eq!(
            Directives::parse("max-age=99999999999999999999").seconds("max-age"),
            Some(DELTA_SECONDS_CAP)
        );
    }

    #[test]
    fn delta_seconds_written_leniently() {
        // RFC 9111 §1.2.2 and §4.2.1: the leading digits count; a value
        // without them, or with whitespace around `=` (§5.2's grammar has
        // none), does not make a response fresh.
        let rows = [
            ("max-age=003600", Some(3600)),
            ("max-age=3600.0", Some(3600)),
            ("max-age=3600.5", Some(3600)),
            ("max-age=3600a", Some(3600)),
            ("max-age=\"3600\"", Some(3600)),
            ("max-age='3600'", Some(0)),
            ("max-age=a3600", Some(0)),
            ("max-age= 3600", Some(0)),
            ("max-age =3600", None),
        ];
        for (field, seconds) in rows {
            assert_eq!(
                Directives::parse(field).seconds("max-age"),
                seconds,
                "{field}"
            );
        }
    }

    #[test]
    fn age_values() {
        // RFC 9111 §5.1: the first member of a list; an invalid value is
        // ignored (None), not read as 0 or as stale.
        let rows = [
            ("7200", Some(7200)),
            ("7200.0", Some(7200)),
            ("7200, 0", Some(7200)),
            ("0,7200", Some(0)),
            (" 15 ", Some(15)),
            ("15;q=1", Some(15)),
            ("abc", None),
            ("-7200", None),
            ("", None),
            ("99999999999999999999", Some(DELTA_SECONDS_CAP)),
        ];
        for (value, age) in rows {
            assert_eq!(parse_age(value), age, "{value:?}");
        }
    }

    #[test]
    fn every_field_line_counts() {
        let mut headers = HeaderMap::new();
        headers.append("cache-control", HeaderValue::from_static("public"));
        headers.append("cache-control", HeaderValue::from_static("max-age=5"));
        let d = Directives::of(&headers, &http::header::CACHE_CONTROL);
        assert!(d.has("public"));
        assert_eq!(d.seconds("max-age"), Some(5));
    }

    #[test]
    fn the_cdn_targeted_field_wins_when_present() {
        // RFC 9213 §2.2.
        let mut headers = HeaderMap::new();
        headers.insert("cache-control", HeaderValue::from_static("max-age=5"));
        let (d, targeted) = for_shared_cache(&headers);
        assert_eq!((d.seconds("max-age"), targeted), (Some(5), false));
        headers.insert("cdn-cache-control", HeaderValue::from_static("max-age=600"));
        let (d, targeted) = for_shared_cache(&headers);
        assert_eq!((d.seconds("max-age"), targeted), (Some(600), true));
        // An empty targeted field is ignored.
        headers.insert("cdn-cache-control", HeaderValue::from_static(" "));
        assert_eq!(for_shared_cache(&headers).0.seconds("max-age"), Some(5));
    }

    #[test]
    fn the_cdn_targeted_field_is_a_structured_dictionary() {
        // RFC 9213 §2.1: parsed as an RFC 9651 Dictionary; an invalid one is
        // ignored as a whole (Cache-Control's max-age=5 applies), a member of
        // the wrong type alone (the field still replaces Cache-Control).
        let rows: [(&[&str], Option<u64>, bool); 15] = [
            (&["max-age=600"], Some(600), true),
            (&["max-age=600, public"], Some(600), true),
            (&["max-age=600;unit=s"], Some(600), true),
            (&["max-age=60", "public"], Some(60), true),
            // RFC 9651 §4.2.2: a repeated key's last value counts.
            (&["max-age=60, max-age=30"], Some(30), true),
            // Wrong types: String, Decimal, Boolean, negative Integer, Token.
            (&["max-age=\"600\""], None, true),
            (&["max-age=6.5"], None, true),
            (&["max-age"], None, true),
            (&["max-age=-1"], None, true),
            (&["max-age=soon"], None, true),
            // Not a Dictionary: an upper-case key, a trailing comma, a space
            // before `=`, an unterminated string. Cache-Control applies.
            (&["Max-Age=600"], Some(5), false),
            (&["max-age=600,"], Some(5), false),
            (&["max-age =600"], Some(5), false),
            (&["private=\"set-cookie"], Some(5), false),
            (&[""], Some(5), false),
        ];
        for (lines, seconds, targeted) in rows {
            let mut headers = HeaderMap::new();
            headers.insert("cache-control", HeaderValue::from_static("max-age=5"));
            for line in lines {
                headers.append("cdn-cache-control", HeaderValue::from_str(line).unwrap());
            }
            let (d, used) = for_shared_cache(&headers);
            assert_eq!(
                (d.seconds("max-age"), used),
                (seconds, targeted),
                "{lines:?}"
            );
        }
    }

    #[test]
    fn cdn_targeted_booleans_and_field_lists() {
        // RFC 9213 §2.1 with RFC 9111 §5.2.2: `?0` is a directive not given;
        // a field list is a String; `no-cache` or `private` of another type
        // covers the whole response, which can only store less.
        let read = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert("cdn-cache-control", HeaderValue::from_static(value));
            let (d, _) = for_shared_cache(&headers);
            (d.has("no-store"), d.field_names("private"))
        };
        assert_eq!(read("no-store"), (true, None));
        assert_eq!(read("no-store=?1"), (true, None));
        assert_eq!(read("no-store=?0"), (false, None));
        assert_eq!(read("no-store=1"), (false, None));
        assert_eq!(
            read(r#"private="Set-Cookie, X-Tag""#),
            (
                false,
                Some(vec!["set-cookie".to_owned(), "x-tag".to_owned()])
            )
        );
        assert_eq!(read("private"), (false, Some(vec![])));
        assert_eq!(read("private=1"), (false, Some(vec![])));
        assert_eq!(read("private=(a b)"), (false, Some(vec![])));
    }
}
