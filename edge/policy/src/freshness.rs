//! The shared-cache rules of RFC 9111 (with RFC 9213's `CDN-Cache-Control`
//! and RFC 5861's stale extensions): whether a response may be stored, how
//! long it stays fresh, how old it is, and whether a stored response may
//! answer a given request as it is, after validation, or while being
//! refreshed in the background.
//!
//! The origin decides through its headers; this module only reads them. All
//! times are milliseconds since the Unix epoch, taken by the runtime.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::{self, HeaderMap, HeaderName};
use http::StatusCode;

use crate::directives::{for_shared_cache, parse_age, Directives};

/// The most a heuristic lifetime may be (RFC 9111 §4.2.2 suggests a fraction
/// of the time since modification; a cap keeps an old file from being
/// trusted for months).
const HEURISTIC_CAP_MS: u64 = 24 * 3600 * 1000;

/// How long an entry that can be validated is kept after it goes stale: a
/// conditional request that ends in 304 is far cheaper than a full fetch.
const VALIDATABLE_KEEP_MS: u64 = 24 * 3600 * 1000;

/// One request/response exchange with the origin, as the cache saw it.
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    pub status: StatusCode,
    pub request: &'a HeaderMap,
    pub response: &'a HeaderMap,
    /// The request carried credentials (`Authorization`, or a session cookie).
    pub credentialed: bool,
    /// When the request was sent (`request_time` of RFC 9111 §4.2.3).
    pub request_ms: u64,
    /// When the response arrived (`response_time`).
    pub response_ms: u64,
}

/// Why a response is not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotStorable {
    /// The request said `no-store` (RFC 9111 §5.2.1.5).
    RequestNoStore,
    /// A status this cache does not store: 1xx, 206 (no range support), 304.
    Status,
    /// The response said `no-store` (§5.2.2.5).
    NoStore,
    /// `must-understand` on a status this cache does not implement the
    /// caching rules of (§5.2.2.3).
    NotUnderstood,
    /// The response said `private` without field names (§5.2.2.7).
    Private,
    /// The request carried credentials and the response did not say
    /// `public`, `s-maxage` or `must-revalidate` (§3.5).
    Credentials,
    /// The response sets a cookie and does not say `public` or `s-maxage`:
    /// one client's cookie must not be handed to another.
    SetsCookie,
    /// `Vary: *` never matches a later request (§4.1).
    VaryAny,
    /// Nothing allows storing it: no `public`, no explicit lifetime, and a
    /// status that is not heuristically cacheable (§3).
    NotExplicit,
    /// It would be stale at once and could not be validated.
    NothingToReuse,
}

/// What the cache keeps beside a stored response to decide each reuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachePolicy {
    /// `response_time` (§4.2.3).
    pub response_ms: u64,
    /// `corrected_initial_age` (§4.2.3).
    pub initial_age_ms: u64,
    /// `freshness_lifetime` (§4.2.1).
    pub lifetime_ms: u64,
    /// `stale-while-revalidate` (RFC 5861 §3).
    pub stale_while_revalidate_ms: u64,
    /// `stale-if-error` (RFC 5861 §4).
    pub stale_if_error_ms: u64,
    /// `must-revalidate`, `proxy-revalidate` or `s-maxage`: never served
    /// stale (§5.2.2.2, §5.2.2.8, §5.2.2.10).
    pub never_stale: bool,
    /// `no-cache` without field names: validated before every reuse (§5.2.2.4).
    pub always_validate: bool,
    /// The request's values of the fields named by `Vary` (§4.1).
    pub variant: u64,
}

/// Whether a stored response can answer a request (RFC 9111 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reuse {
    /// Fresh, and fresh enough for the request.
    Fresh,
    /// Stale, but the request accepts it (`max-stale`, §5.2.1.2).
    StaleAccepted,
    /// Stale within `stale-while-revalidate`: answer now, refresh after.
    StaleWhileRevalidate,
    /// Must be validated with the origin first (§4.3).
    Validate,
}

/// Whether the response to `exchange` may be stored, and if so the policy
/// that decides its reuse (RFC 9111 §3).
pub fn storable(exchange: &Exchange<'_>) -> Result<CachePolicy, NotStorable> {
    let request = Directives::of(exchange.request, &header::CACHE_CONTROL);
    if request.has("no-store") {
        return Err(NotStorable::RequestNoStore);
    }
    if exchange.status.is_informational()
        || matches!(
            exchange.status,
            StatusCode::PARTIAL_CONTENT | StatusCode::NOT_MODIFIED
        )
    {
        return Err(NotStorable::Status);
    }
    let (response, targeted) = for_shared_cache(exchange.response);
    // §5.2.2.3: `must-understand` stores only a status whose caching rules
    // the cache implements, and then in spite of `no-store` (which it is
    // sent beside, for the caches that do not know it).
    let must_understand = response.has("must-understand");
    if must_understand && !understood(exchange.status) {
        return Err(NotStorable::NotUnderstood);
    }
    if response.has("no-store") && !must_understand {
        return Err(NotStorable::NoStore);
    }
    if response
        .field_names("private")
        .is_some_and(|f| f.is_empty())
    {
        return Err(NotStorable::Private);
    }
    let public = response.has("public");
    let s_maxage = response.has("s-maxage");
    if exchange.credentialed && !(public || s_maxage || response.has("must-revalidate")) {
        return Err(NotStorable::Credentials);
    }
    if exchange.response.contains_key(header::SET_COOKIE) && !(public || s_maxage) {
        return Err(NotStorable::SetsCookie);
    }
    if vary_names(exchange.response).any(|name| name == "*") {
        return Err(NotStorable::VaryAny);
    }
    let has_expires = !targeted && exchange.response.contains_key(header::EXPIRES);
    if !(public
        || s_maxage
        || response.has("max-age")
        || has_expires
        || heuristically_cacheable(exchange.status))
    {
        return Err(NotStorable::NotExplicit);
    }
    let policy = CachePolicy {
        response_ms: exchange.response_ms,
        initial_age_ms: corrected_initial_age(exchange),
        lifetime_ms: lifetime(exchange, &response, targeted),
        stale_while_revalidate_ms: response
            .seconds("stale-while-revalidate")
            .unwrap_or(0)
            .saturating_mul(1000),
        stale_if_error_ms: response
            .seconds("stale-if-error")
            .unwrap_or(0)
            .saturating_mul(1000),
        never_stale: response.has("must-revalidate")
            || response.has("proxy-revalidate")
            || s_maxage,
        always_validate: response
            .field_names("no-cache")
            .is_some_and(|f| f.is_empty()),
        variant: variant(exchange.response, exchange.request),
    };
    // Stale on arrival (an upstream Age, or a slow origin's response delay
    // past the lifetime) is still worth keeping when it can be validated
    // or may be served stale (RFC 5861 §3, §4).
    let reusable = policy.lifetime_ms > policy.initial_age_ms
        || has_validator(exchange.response)
        || policy.stale_while_revalidate_ms > 0
        || policy.stale_if_error_ms > 0;
    if !reusable {
        return Err(NotStorable::NothingToReuse);
    }
    Ok(policy)
}

/// Fields the stored copy leaves out: those named by `private="..."` (a
/// shared cache must not store them, §5.2.2.7), by `no-cache="..."` (they may
/// not be reused without validation, §5.2.2.4; leaving them out is the
/// simplest way to honour that), and `Set-Cookie` (it belongs to the client
/// whose request produced it).
pub fn unstored_fields(response: &HeaderMap) -> Vec<HeaderName> {
    let (directives, _) = for_shared_cache(response);
    let mut names = vec![header::SET_COOKIE];
    for directive in ["private", "no-cache"] {
        for field in directives.field_names(directive).unwrap_or_default() {
            if let Ok(name) = HeaderName::from_bytes(field.as_bytes()) {
                names.push(name);
            }
        }
    }
    names
}

/// `freshness_lifetime` (RFC 9111 §4.2.1): `s-maxage`, then `max-age`, then
/// `Expires` minus `Date` (both from the targeted field's point of view),
/// then a heuristic where allowed.
fn lifetime(exchange: &Exchange<'_>, directives: &Directives<'_>, targeted: bool) -> u64 {
    if let Some(seconds) = directives.seconds("s-maxage") {
        return seconds.saturating_mul(1000);
    }
    if let Some(seconds) = directives.seconds("max-age") {
        return seconds.saturating_mul(1000);
    }
    let date = date_ms(exchange.response, &header::DATE).unwrap_or(exchange.response_ms);
    if !targeted && exchange.response.contains_key(header::EXPIRES) {
        // An invalid Expires (such as "0") means already expired (§5.3).
        return date_ms(exchange.response, &header::EXPIRES)
            .map_or(0, |expires| expires.saturating_sub(date));
    }
    // §4.2.2: a heuristic only without explicit expiration, for statuses
    // that allow it or responses marked public; a tenth of the time since
    // the last modification.
    if heuristically_cacheable(exchange.status) || directives.has("public") {
        if let Some(modified) = date_ms(exchange.response, &header::LAST_MODIFIED) {
            return (date.saturating_sub(modified) / 10).min(HEURISTIC_CAP_MS);
        }
    }
    0
}

/// `corrected_initial_age` (RFC 9111 §4.2.3). Of several `Age` lines the
/// first counts, as the first member of one list would (§5.1).
fn corrected_initial_age(exchange: &Exchange<'_>) -> u64 {
    let age_value = exchange
        .response
        .get(header::AGE)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_age)
        .unwrap_or(0)
        .saturating_mul(1000);
    let date = date_ms(exchange.response, &header::DATE).unwrap_or(exchange.response_ms);
    let apparent_age = exchange.response_ms.saturating_sub(date);
    let response_delay = exchange.response_ms.saturating_sub(exchange.request_ms);
    let corrected_age_value = age_value.saturating_add(response_delay);
    apparent_age.max(corrected_age_value)
}

/// The statuses whose caching rules this cache implements, for
/// `must-understand` (RFC 9111 §5.2.2.3): those cacheable by default, less
/// 206, which it never stores. Any other status with `must-understand` is
/// not stored, whatever else the response says.
fn understood(status: StatusCode) -> bool {
    status != StatusCode::PARTIAL_CONTENT && heuristically_cacheable(status)
}

/// Statuses cacheable by default (RFC 9110 §15.1).
fn heuristically_cacheable(status: StatusCode) -> bool {
    matches!(
        status.as_u16(),
        200 | 203 | 204 | 206 | 300 | 301 | 308 | 404 | 405 | 410 | 414 | 501
    )
}

/// RFC 9111 §3.2: the stored answer's fields updated from a newer answer
/// for it (the 304 that validated it, §4.3.4). Each field the newer answer
/// carries replaces the stored one, except `Content-Length` (a 304 measures
/// no body) and `Content-Range` (§3.2 lets a cache keep the fields it
/// processes itself; this edge stores no partial content, so a range would
/// describe a body it does not hold). The fields a cache never stores
/// (§3.1) are handled where they are: the hop-by-hop ones are gone before
/// this runs, and those named by `private` or `no-cache` are left out when
/// the result is stored.
pub fn update_stored_fields(stored: &mut HeaderMap, newer: &HeaderMap) {
    for name in newer.keys() {
        if matches!(*name, header::CONTENT_LENGTH | header::CONTENT_RANGE) {
            continue;
        }
        stored.remove(name);
        for value in newer.get_all(name) {
            stored.append(name.clone(), value.clone());
        }
    }
}

/// RFC 9111 §4.3.4: whether a 304 may update the stored answer. A 304 with
/// a strong validator selects only a stored answer with the same strong
/// validator; one without selects the single answer this edge holds.
pub fn selects_for_update(stored: &HeaderMap, not_modified: &HeaderMap) -> bool {
    match strong_etag(not_modified) {
        Some(validator) => strong_etag(stored) == Some(validator),
        None => true,
    }
}

fn strong_etag(headers: &HeaderMap) -> Option<&str> {
    let tag = headers.get(header::ETAG)?.to_str().ok()?.trim();
    (!tag.starts_with("W/")).then_some(tag)
}

/// Whether a stored response can be validated (RFC 9111 §4.3.1).
pub fn has_validator(response: &HeaderMap) -> bool {
    response.contains_key(header::ETAG) || response.contains_key(header::LAST_MODIFIED)
}

fn date_ms(headers: &HeaderMap, name: &HeaderName) -> Option<u64> {
    let text = headers.get(name)?.to_str().ok()?;
    let time = httpdate::parse_http_date(text.trim()).ok()?;
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    u64::try_from(since_epoch.as_millis()).ok()
}

/// Milliseconds since the Unix epoch, for runtimes with a system clock.
pub fn system_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64)
}

/// The field names of `Vary`, lowercased (RFC 9110 §12.5.5).
fn vary_names(response: &HeaderMap) -> impl Iterator<Item = String> + '_ {
    response
        .get_all(header::VARY)
        .iter()
        .filter_map(|line| line.to_str().ok())
        .flat_map(|line| line.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .filter(|name| !name.is_empty())
}

/// The fingerprint of a response without `Vary`: every request matches it.
pub const VARIES_ON_NOTHING: u64 = 0;

/// A fingerprint of the request's values of the fields the response varies
/// on, compared on reuse (RFC 9111 §4.1). Values are compared after joining
/// field lines and trimming, a normalisation §4.1 allows; an absent field
/// differs from an empty one.
pub fn variant(response: &HeaderMap, request: &HeaderMap) -> u64 {
    let mut names: Vec<String> = vary_names(response).collect();
    if names.is_empty() {
        return VARIES_ON_NOTHING;
    }
    names.sort_unstable();
    names.dedup();
    let mut hash = Fnv64::default();
    for name in &names {
        hash.write(name.as_bytes());
        hash.write(b":");
        let mut lines = request.get_all(name.as_str()).iter().peekable();
        if lines.peek().is_none() {
            hash.write(b"\0absent");
        }
        for (index, line) in lines.enumerate() {
            if index > 0 {
                hash.write(b",");
            }
            hash.write(line.as_bytes().trim_ascii());
        }
        hash.write(b"\n");
    }
    hash.0
}

/// FNV-1a: a small, stable hash (the fingerprint travels between isolates
/// in the Worker, so it must not be randomly seeded).
struct Fnv64(u64);

impl Default for Fnv64 {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv64 {
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

impl CachePolicy {
    /// `current_age` (RFC 9111 §4.2.3).
    pub fn age_ms(&self, now_ms: u64) -> u64 {
        self.initial_age_ms
            .saturating_add(now_ms.saturating_sub(self.response_ms))
    }

    /// The `Age` header value: whole seconds (RFC 9111 §5.1).
    pub fn age_seconds(&self, now_ms: u64) -> u64 {
        self.age_ms(now_ms) / 1000
    }

    fn staleness_ms(&self, now_ms: u64) -> u64 {
        self.age_ms(now_ms).saturating_sub(self.lifetime_ms)
    }

    /// Whether a stored response may answer a request with `request`
    /// directives now (RFC 9111 §4.2, §4.2.4, §5.2.1; RFC 5861 §3).
    pub fn reuse(&self, request: &Directives<'_>, now_ms: u64) -> Reuse {
        if request.has("no-cache") || self.always_validate {
            return Reuse::Validate;
        }
        let age = self.age_ms(now_ms);
        if request
            .seconds("max-age")
            .is_some_and(|max_age| age > max_age.saturating_mul(1000))
        {
            return Reuse::Validate;
        }
        if age < self.lifetime_ms {
            let min_fresh = request.seconds("min-fresh").unwrap_or(0);
            if self.lifetime_ms - age < min_fresh.saturating_mul(1000) {
                return Reuse::Validate;
            }
            return Reuse::Fresh;
        }
        if self.never_stale {
            return Reuse::Validate;
        }
        let staleness = age - self.lifetime_ms;
        match request.argument("max-stale") {
            Some(None) => return Reuse::StaleAccepted,
            Some(Some(_))
                if staleness
                    <= request
                        .seconds("max-stale")
                        .unwrap_or(0)
                        .saturating_mul(1000) =>
            {
                return Reuse::StaleAccepted
            }
            _ => {}
        }
        if staleness <= self.stale_while_revalidate_ms {
            Reuse::StaleWhileRevalidate
        } else {
            Reuse::Validate
        }
    }

    /// Whether the stored response may stand in when the origin fails
    /// (RFC 5861 §4, from the response or the request; never past
    /// `must-revalidate`, RFC 9111 §4.2.4).
    pub fn serves_on_error(&self, request: &Directives<'_>, now_ms: u64) -> bool {
        if self.never_stale || self.always_validate {
            return false;
        }
        let window = self.stale_if_error_ms.max(
            request
                .seconds("stale-if-error")
                .unwrap_or(0)
                .saturating_mul(1000),
        );
        self.staleness_ms(now_ms) <= window
    }

    /// How long the store should keep the entry, in whole seconds: while it
    /// is fresh, then while a stale copy may still be used, and for a day
    /// more when it can be validated.
    pub fn keep_seconds(&self, validatable: bool) -> u32 {
        let remaining = self.lifetime_ms.saturating_sub(self.initial_age_ms);
        let mut stale = self.stale_while_revalidate_ms.max(self.stale_if_error_ms);
        if validatable {
            stale = stale.max(VALIDATABLE_KEEP_MS);
        }
        let keep = remaining.saturating_add(stale).div_ceil(1000).max(1);
        u32::try_from(keep).unwrap_or(u32::MAX)
    }

    /// The policy as one header value, for stores that keep only a response
    /// (the Worker's Cache API).
    pub fn encode(&self) -> String {
        format!(
            "{};{};{};{};{};{}{};{:x}",
            self.response_ms,
            self.initial_age_ms,
            self.lifetime_ms,
            self.stale_while_revalidate_ms,
            self.stale_if_error_ms,
            u8::from(self.never_stale),
            u8::from(self.always_validate),
            self.variant
        )
    }

    /// Reads [`CachePolicy::encode`]'s form back.
    pub fn decode(text: &str) -> Option<Self> {
        let mut fields = text.split(';');
        let mut number = || fields.next()?.parse::<u64>().ok();
        let (response_ms, initial_age_ms, lifetime_ms, swr, sie) =
            (number()?, number()?, number()?, number()?, number()?);
        let flags = fields.next()?.as_bytes();
        let variant = u64::from_str_radix(fields.next()?, 16).ok()?;
        let [never_stale, always_validate] = flags else {
            return None;
        };
        Some(Self {
            response_ms,
            initial_age_ms,
            lifetime_ms,
            stale_while_revalidate_ms: swr,
            stale_if_error_ms: sie,
            never_stale: *never_stale == b'1',
            always_validate: *always_validate == b'1',
            variant,
        })
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    /// 2026-10-21 07:28:00 GMT, the clock of every case.
    const NOW: u64 = 1_792_567_680_000;
    const DATE: &str = "Wed, 21 Oct 2026 07:28:00 GMT";

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn exchange<'a>(status: u16, request: &'a HeaderMap, response: &'a HeaderMap) -> Exchange<'a> {
        Exchange {
            status: StatusCode::from_u16(status).expect("a status"),
            request,
            response,
            credentialed: false,
            request_ms: NOW,
            response_ms: NOW,
        }
    }

    fn store(status: u16, response: &[(&str, &str)]) -> Result<CachePolicy, NotStorable> {
        let response = headers(response);
        storable(&exchange(status, &HeaderMap::new(), &response))
    }

    #[test]
    fn what_may_be_stored() {
        use NotStorable::*;
        // (RFC section, status, response fields, credentialed, expected)
        type Case<'a> = (
            &'a str,
            u16,
            &'a [(&'a str, &'a str)],
            bool,
            Result<(), NotStorable>,
        );
        let cases: &[Case<'_>] = &[
            (
                "9111 §3",
                200,
                &[("cache-control", "max-age=60")],
                false,
                Ok(()),
            ),
            (
                "9111 §3 public",
                302,
                &[("cache-control", "public"), ("etag", "\"1\"")],
                false,
                Ok(()),
            ),
            (
                "9111 §3 no explicit, not heuristic",
                302,
                &[("etag", "\"1\"")],
                false,
                Err(NotExplicit),
            ),
            (
                "9111 §3 heuristic status with validator",
                200,
                &[("etag", "\"1\"")],
                false,
                Ok(()),
            ),
            (
                "9111 §3 nothing to reuse",
                200,
                &[],
                false,
                Err(NothingToReuse),
            ),
            (
                "9111 §3 nothing to reuse: stale on arrival, no validator",
                200,
                &[("cache-control", "max-age=1"), ("age", "5")],
                false,
                Err(NothingToReuse),
            ),
            (
                "5861 §3 stale on arrival, but may be served while it revalidates",
                200,
                &[
                    ("cache-control", "max-age=1, stale-while-revalidate=60"),
                    ("age", "5"),
                ],
                false,
                Ok(()),
            ),
            (
                "9111 §3 no partial content",
                206,
                &[("cache-control", "max-age=60")],
                false,
                Err(Status),
            ),
            (
                "9111 §5.2.2.3 must-understand with a status it knows overrides no-store",
                200,
                &[("cache-control", "max-age=60, must-understand, no-store")],
                false,
                Ok(()),
            ),
            (
                "9111 §5.2.2.3 must-understand with a status it does not know: not stored",
                299,
                &[("cache-control", "max-age=60, must-understand, no-store")],
                false,
                Err(NotUnderstood),
            ),
            (
                "9111 §5.2.2.3 must-understand, even without no-store",
                302,
                &[("cache-control", "max-age=60, must-understand")],
                false,
                Err(NotUnderstood),
            ),
            (
                "9111 §3 a 1xx is not a final response",
                103,
                &[("cache-control", "max-age=60")],
                false,
                Err(Status),
            ),
            (
                "9111 §3 304 is not a representation",
                304,
                &[("cache-control", "max-age=60")],
                false,
                Err(Status),
            ),
            (
                "9111 §5.2.2.5 no-store",
                200,
                &[("cache-control", "max-age=60, no-store")],
                false,
                Err(NoStore),
            ),
            (
                "9111 §5.2.2.7 private",
                200,
                &[("cache-control", "private, max-age=60")],
                false,
                Err(Private),
            ),
            (
                "9111 §5.2.2.7 private with fields",
                200,
                &[("cache-control", "private=\"x-user\", max-age=60")],
                false,
                Ok(()),
            ),
            (
                "9111 §3.5 credentials",
                200,
                &[("cache-control", "max-age=60")],
                true,
                Err(Credentials),
            ),
            (
                "9111 §3.5 credentials + public",
                200,
                &[("cache-control", "public, max-age=60")],
                true,
                Ok(()),
            ),
            (
                "9111 §3.5 credentials + s-maxage",
                200,
                &[("cache-control", "s-maxage=60")],
                true,
                Ok(()),
            ),
            (
                "9111 §3.5 credentials + must-revalidate",
                200,
                &[("cache-control", "max-age=60, must-revalidate")],
                true,
                Ok(()),
            ),
            (
                "cookies stay personal",
                200,
                &[("cache-control", "max-age=60"), ("set-cookie", "a=1")],
                false,
                Err(SetsCookie),
            ),
            (
                "cookies stay personal unless public",
                200,
                &[
                    ("cache-control", "public, max-age=60"),
                    ("set-cookie", "a=1"),
                ],
                false,
                Ok(()),
            ),
            (
                "9111 §4.1 Vary: *",
                200,
                &[("cache-control", "max-age=60"), ("vary", "accept, *")],
                false,
                Err(VaryAny),
            ),
            (
                "9111 §5.3 Expires",
                302,
                &[("expires", "Wed, 21 Oct 2026 08:28:00 GMT"), ("date", DATE)],
                false,
                Ok(()),
            ),
            (
                "9213 §2.2 targeted field overrides no-store",
                200,
                &[
                    ("cache-control", "no-store"),
                    ("cdn-cache-control", "max-age=60"),
                ],
                false,
                Ok(()),
            ),
            (
                "9213 §2.2 targeted field's no-store",
                200,
                &[
                    ("cache-control", "max-age=60"),
                    ("cdn-cache-control", "no-store"),
                ],
                false,
                Err(NoStore),
            ),
        ];
        for (section, status, response, credentialed, expected) in cases {
            let response = headers(response);
            let request = HeaderMap::new();
            let got = storable(&Exchange {
                credentialed: *credentialed,
                ..exchange(*status, &request, &response)
            });
            assert_eq!(got.map(|_| ()), *expected, "{section}");
        }
        // 9111 §5.2.1.5: the request's no-store.
        let request = headers(&[("cache-control", "no-store")]);
        let response = headers(&[("cache-control", "max-age=60")]);
        assert_eq!(
            storable(&exchange(200, &request, &response)),
            Err(RequestNoStore)
        );
    }

    #[test]
    fn freshness_lifetime_follows_the_precedence() {
        // (RFC section, response fields, expected lifetime in seconds)
        type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], u64);
        let cases: &[Case<'_>] = &[
            (
                "9111 §4.2.1 s-maxage over max-age",
                &[("cache-control", "max-age=60, s-maxage=600")],
                600,
            ),
            (
                "9111 §4.2.1 max-age over Expires",
                &[
                    ("cache-control", "max-age=60"),
                    ("date", DATE),
                    ("expires", "Wed, 21 Oct 2026 09:28:00 GMT"),
                ],
                60,
            ),
            (
                "9111 §4.2.1 Expires minus Date",
                &[
                    ("date", DATE),
                    ("expires", "Wed, 21 Oct 2026 07:38:00 GMT"),
                    ("etag", "\"1\""),
                ],
                600,
            ),
            (
                "9111 §5.3 invalid Expires is expired",
                &[("date", DATE), ("expires", "0"), ("etag", "\"1\"")],
                0,
            ),
            (
                "9213 §2.2 CDN-Cache-Control over all",
                &[
                    ("cdn-cache-control", "max-age=900"),
                    ("cache-control", "s-maxage=60"),
                    ("expires", "Wed, 21 Oct 2026 09:28:00 GMT"),
                ],
                900,
            ),
            (
                "9213 §2.2 CDN-Cache-Control hides Expires",
                &[
                    ("cdn-cache-control", "public"),
                    ("date", DATE),
                    ("expires", "Wed, 21 Oct 2026 09:28:00 GMT"),
                    ("etag", "\"1\""),
                ],
                0,
            ),
            (
                "9111 §4.2.2 heuristic: a tenth since Last-Modified",
                &[
                    ("date", DATE),
                    ("last-modified", "Sun, 11 Oct 2026 07:28:00 GMT"),
                ],
                86_400,
            ),
            (
                "9111 §4.2.2 heuristic capped at a day",
                &[
                    ("date", DATE),
                    ("last-modified", "Wed, 21 Oct 2020 07:28:00 GMT"),
                ],
                86_400,
            ),
            (
                "9111 §4.2.2 heuristic: 10%",
                &[
                    ("date", DATE),
                    ("last-modified", "Wed, 21 Oct 2026 06:28:00 GMT"),
                ],
                360,
            ),
            (
                "9111 §4.2.1 invalid max-age is stale",
                &[("cache-control", "max-age=soon"), ("etag", "\"1\"")],
                0,
            ),
        ];
        for (section, response, expected) in cases {
            let policy = store(200, response).unwrap_or_else(|e| panic!("{section}: {e:?}"));
            assert_eq!(policy.lifetime_ms, expected * 1000, "{section}");
        }
        // §4.2.2: a status not cacheable by default gets a heuristic only when public.
        let policy = store(
            302,
            &[
                ("cache-control", "public"),
                ("date", DATE),
                ("last-modified", "Sun, 11 Oct 2026 07:28:00 GMT"),
            ],
        )
        .unwrap();
        assert_eq!(policy.lifetime_ms, 86_400_000, "public allows it");
    }

    #[test]
    fn age_counts_upstream_age_transit_and_residence() {
        // RFC 9111 §4.2.3: corrected_initial_age = max(apparent_age,
        // age_value + response_delay); current_age adds resident time.
        let request = HeaderMap::new();
        let response = headers(&[
            ("cache-control", "max-age=100"),
            ("age", "30"),
            ("date", "Wed, 21 Oct 2026 07:27:50 GMT"),
        ]);
        let policy = storable(&Exchange {
            request_ms: NOW - 2_000,
            ..exchange(200, &request, &response)
        })
        .unwrap();
        assert_eq!(
            policy.initial_age_ms, 32_000,
            "age 30 s + 2 s in transit > 10 s apparent"
        );
        assert_eq!(policy.age_seconds(NOW + 5_000), 37);
        // A Date far in the past makes the apparent age win.
        let response = headers(&[
            ("cache-control", "max-age=100"),
            ("age", "1"),
            ("date", "Wed, 21 Oct 2026 07:27:00 GMT"),
        ]);
        let policy = storable(&exchange(200, &request, &response)).unwrap();
        assert_eq!(policy.initial_age_ms, 60_000);
    }

    #[test]
    fn reuse_of_a_stored_response() {
        use Reuse::*;
        let fresh_for_60 = &[("cache-control", "max-age=60")][..];
        let aged_50 = &[("cache-control", "max-age=60"), ("age", "50")][..];
        // (RFC section, response fields, request Cache-Control, seconds after storing, expected)
        type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str, u64, Reuse);
        let cases: &[Case<'_>] = &[
            ("9111 §4.2 fresh", fresh_for_60, "", 59, Fresh),
            ("9111 §4.2 stale", fresh_for_60, "", 61, Validate),
            (
                "9111 §5.2.1.4 request no-cache",
                fresh_for_60,
                "no-cache",
                1,
                Validate,
            ),
            (
                "9111 §5.2.1.1 request max-age",
                fresh_for_60,
                "max-age=10",
                11,
                Validate,
            ),
            (
                "9111 §5.2.1.1 request max-age met",
                fresh_for_60,
                "max-age=10",
                9,
                Fresh,
            ),
            (
                "9111 §5.2.1.3 min-fresh",
                fresh_for_60,
                "min-fresh=30",
                31,
                Validate,
            ),
            (
                "9111 §5.2.1.3 min-fresh met",
                fresh_for_60,
                "min-fresh=30",
                29,
                Fresh,
            ),
            (
                "9111 §5.2.1.2 max-stale",
                fresh_for_60,
                "max-stale=10",
                69,
                StaleAccepted,
            ),
            (
                "9111 §5.2.1.2 max-stale exceeded",
                fresh_for_60,
                "max-stale=10",
                71,
                Validate,
            ),
            (
                "9111 §5.2.1.2 max-stale without limit",
                fresh_for_60,
                "max-stale",
                9_999,
                StaleAccepted,
            ),
            (
                "9111 §5.2.2.2 must-revalidate beats max-stale",
                &[("cache-control", "max-age=60, must-revalidate")],
                "max-stale",
                61,
                Validate,
            ),
            (
                "9111 §5.2.2.8 proxy-revalidate",
                &[(
                    "cache-control",
                    "max-age=60, proxy-revalidate, stale-while-revalidate=30",
                )],
                "",
                61,
                Validate,
            ),
            (
                "9111 §5.2.2.10 s-maxage implies proxy-revalidate",
                &[("cache-control", "s-maxage=60, stale-while-revalidate=30")],
                "",
                61,
                Validate,
            ),
            (
                "9111 §5.2.2.4 no-cache",
                &[("cache-control", "no-cache, max-age=60"), ("etag", "\"1\"")],
                "",
                1,
                Validate,
            ),
            (
                "9111 §5.2.2.4 no-cache with fields",
                &[("cache-control", "no-cache=\"x-a\", max-age=60")],
                "",
                1,
                Fresh,
            ),
            (
                "5861 §3 stale-while-revalidate",
                &[("cache-control", "max-age=60, stale-while-revalidate=30")],
                "",
                89,
                StaleWhileRevalidate,
            ),
            (
                "5861 §3 past stale-while-revalidate",
                &[("cache-control", "max-age=60, stale-while-revalidate=30")],
                "",
                91,
                Validate,
            ),
            // Staleness counts the Age the answer arrived with (§4.2.3).
            (
                "9111 §5.2.1.2 max-stale with Age",
                aged_50,
                "max-stale=10",
                15,
                StaleAccepted,
            ),
            (
                "9111 §5.2.1.2 max-stale with Age, exceeded",
                aged_50,
                "max-stale=3",
                15,
                Validate,
            ),
            ("9111 §4.2.3 Age counts", aged_50, "", 11, Validate),
            ("9111 §4.2.3 Age counts, fresh", aged_50, "", 9, Fresh),
        ];
        for (section, response, request, after, expected) in cases {
            let policy = store(200, response).unwrap_or_else(|e| panic!("{section}: {e:?}"));
            let request = Directives::parse(request);
            assert_eq!(
                policy.reuse(&request, NOW + after * 1000),
                *expected,
                "{section}"
            );
        }
    }

    #[test]
    fn stale_if_error() {
        // RFC 5861 §4, and RFC 9111 §4.2.4: never past must-revalidate.
        let none = Directives::default();
        let policy = store(200, &[("cache-control", "max-age=60, stale-if-error=300")]).unwrap();
        assert!(policy.serves_on_error(&none, NOW + 359_000));
        assert!(!policy.serves_on_error(&none, NOW + 361_000));
        let plain = store(200, &[("cache-control", "max-age=60")]).unwrap();
        assert!(!plain.serves_on_error(&none, NOW + 61_000));
        assert!(plain.serves_on_error(&Directives::parse("stale-if-error=10"), NOW + 69_000));
        let strict = store(
            200,
            &[(
                "cache-control",
                "max-age=60, must-revalidate, stale-if-error=300",
            )],
        )
        .unwrap();
        assert!(!strict.serves_on_error(&none, NOW + 61_000));
    }

    #[test]
    fn vary_selects_by_the_named_request_fields() {
        // RFC 9111 §4.1.
        let response = headers(&[
            ("cache-control", "max-age=60"),
            ("vary", "Accept-Language, accept"),
        ]);
        let en = headers(&[("accept-language", "en"), ("accept", "*/*")]);
        let en_spaced = headers(&[
            ("accept-language", " en "),
            ("accept", "*/*"),
            ("cookie", "x"),
        ]);
        let fr = headers(&[("accept-language", "fr"), ("accept", "*/*")]);
        let absent = headers(&[("accept", "*/*")]);
        let empty = headers(&[("accept-language", ""), ("accept", "*/*")]);
        assert_eq!(variant(&response, &en), variant(&response, &en_spaced));
        assert_ne!(variant(&response, &en), variant(&response, &fr));
        assert_ne!(variant(&response, &absent), variant(&response, &empty));
        // Without Vary every request matches.
        let plain = headers(&[("cache-control", "max-age=60")]);
        assert_eq!(variant(&plain, &en), variant(&plain, &fr));
        assert_eq!(variant(&plain, &en), VARIES_ON_NOTHING);
        assert_ne!(variant(&response, &absent), VARIES_ON_NOTHING);
    }

    #[test]
    fn fields_left_out_of_the_stored_copy() {
        let response = headers(&[(
            "cache-control",
            "public, private=\"x-user\", no-cache=\"x-debug, x-trace\", max-age=60",
        )]);
        let names: Vec<String> = unstored_fields(&response)
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(names, ["set-cookie", "x-user", "x-debug", "x-trace"]);
    }

    #[test]
    fn heuristic_freshness_only_for_statuses_cacheable_by_default() {
        // RFC 9111 §4.2.2 and RFC 9110 §15.1: without explicit freshness, a
        // tenth of the time since Last-Modified, for 200 or 404 but never
        // for 502, 503 or 504 (unless marked public, §3 and §5.2.2.9).
        let a_day_before = "Tue, 20 Oct 2026 07:28:00 GMT";
        let fields = [("date", DATE), ("last-modified", a_day_before)];
        for status in [200, 203, 404, 410] {
            let policy = store(status, &fields);
            assert_eq!(policy.map(|p| p.lifetime_ms), Ok(8_640_000), "{status}");
        }
        for status in [500, 502, 503, 504] {
            let policy = store(status, &fields);
            assert_eq!(policy, Err(NotStorable::NotExplicit), "{status}");
        }
        let public = [("cache-control", "public"), fields[0], fields[1]];
        assert_eq!(store(503, &public).map(|p| p.lifetime_ms), Ok(8_640_000));
    }

    #[test]
    fn http_dates_in_each_format() {
        // RFC 9110 §5.6.7: a recipient accepts all three formats; the names
        // of days, months and GMT are case-sensitive (`%s"Nov"`), so a date
        // in another letter case is invalid, and an invalid Expires means
        // already expired (RFC 9111 §5.3).
        const SUNDAY_MS: u64 = 784_111_777_000;
        let rows = [
            ("Sun, 06 Nov 1994 08:49:37 GMT", Some(SUNDAY_MS)),
            ("Sunday, 06-Nov-94 08:49:37 GMT", Some(SUNDAY_MS)),
            ("Sun Nov  6 08:49:37 1994", Some(SUNDAY_MS)),
            (" Sun, 06 Nov 1994 08:49:37 GMT ", Some(SUNDAY_MS)),
            ("sun, 06 nov 1994 08:49:37 gmt", None),
            ("SUN, 06 NOV 1994 08:49:37 GMT", None),
            ("Sun, 06 Nov 1994 08:49:37 UTC", None),
            ("0", None),
        ];
        for (text, ms) in rows {
            let fields = headers(&[("expires", text)]);
            assert_eq!(date_ms(&fields, &header::EXPIRES), ms, "{text:?}");
        }
        // An Expires in the wrong case gives no lifetime, so the answer,
        // having no validator either, is not worth storing.
        let wrong_case = store(
            200,
            &[("date", DATE), ("expires", "thu, 22 oct 2026 07:28:00 gmt")],
        );
        let right_case = store(
            200,
            &[("date", DATE), ("expires", "Thu, 22 Oct 2026 07:28:00 GMT")],
        );
        assert_eq!(
            wrong_case.map(|p| p.lifetime_ms),
            Err(NotStorable::NothingToReuse)
        );
        assert_eq!(right_case.map(|p| p.lifetime_ms), Ok(86_400_000));
    }

    #[test]
    fn the_policy_survives_a_round_trip_through_a_header() {
        let response = headers(&[
            (
                "cache-control",
                "max-age=60, stale-while-revalidate=5, no-cache",
            ),
            ("vary", "accept"),
            ("etag", "\"1\""),
        ]);
        let policy = storable(&exchange(200, &headers(&[("accept", "a")]), &response)).unwrap();
        assert_eq!(CachePolicy::decode(&policy.encode()), Some(policy));
        assert_eq!(CachePolicy::decode("1;2;3"), None);
    }

    #[test]
    fn entries_are_kept_while_they_can_still_be_used() {
        let plain = store(200, &[("cache-control", "max-age=60, stale-if-error=600")]).unwrap();
        assert_eq!(plain.keep_seconds(false), 660);
        assert_eq!(plain.keep_seconds(true), 60 + 86_400);
    }

    #[test]
    fn a_304_updates_the_stored_fields_table() {
        // (RFC section, stored fields, the 304's fields, the result)
        type Case<'a> = (
            &'a str,
            &'a [(&'a str, &'a str)],
            &'a [(&'a str, &'a str)],
            &'a [(&'a str, &'a str)],
        );
        let cases: &[Case<'_>] = &[
            (
                "9111 §3.2 each field of the 304 replaces the stored one",
                &[
                    ("cache-control", "max-age=5"),
                    ("x-v", "1"),
                    ("etag", "\"a\""),
                ],
                &[("cache-control", "max-age=60"), ("x-v", "2")],
                &[
                    ("cache-control", "max-age=60"),
                    ("etag", "\"a\""),
                    ("x-v", "2"),
                ],
            ),
            (
                "9111 §3.2 a field the 304 repeats replaces every stored line",
                &[("link", "</a>"), ("link", "</b>")],
                &[("link", "</c>")],
                &[("link", "</c>")],
            ),
            (
                "9111 §3.2 a field only the 304 has is added",
                &[("etag", "\"a\"")],
                &[("x-new", "1")],
                &[("etag", "\"a\""), ("x-new", "1")],
            ),
            (
                "9111 §3.2 not Content-Length, not Content-Range",
                &[("content-length", "4"), ("content-range", "bytes 0-3/4")],
                &[("content-length", "0"), ("content-range", "bytes 0-0/9")],
                &[("content-length", "4"), ("content-range", "bytes 0-3/4")],
            ),
        ];
        for (section, stored, newer, expected) in cases {
            let mut fields = headers(stored);
            update_stored_fields(&mut fields, &headers(newer));
            let mut got: Vec<(String, String)> = fields
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
                .collect();
            got.sort();
            let mut want: Vec<(String, String)> = expected
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect();
            want.sort();
            assert_eq!(got, want, "{section}");
        }
    }

    #[test]
    fn which_304_updates_the_stored_answer() {
        // RFC 9111 §4.3.4 (stored ETag, the 304's ETag, selected)
        let cases = [
            (Some("\"a\""), Some("\"a\""), true),
            (Some("\"a\""), Some("\"b\""), false),
            (None, Some("\"b\""), false),
            (Some("W/\"a\""), Some("W/\"b\""), true),
            (Some("\"a\""), None, true),
        ];
        for (stored, newer, selected) in cases {
            let fields =
                |tag: Option<&str>| headers(&tag.map(|t| vec![("etag", t)]).unwrap_or_default());
            assert_eq!(
                selects_for_update(&fields(stored), &fields(newer)),
                selected,
                "{stored:?} {newer:?}"
            );
        }
    }
}
