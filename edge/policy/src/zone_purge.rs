//! Purges that reach every data centre. The Worker's store, the Cache API,
//! is one copy per Cloudflare data centre, and `cache.delete` reaches only
//! the copy of the data centre that ran it: after a write there, another
//! data centre could answer the old profile for the rest of its lifetime.
//! Cloudflare's purge-by-URL call (`POST /zones/{zone}/purge_cache` with
//! `{"files": [...]}`) removes a URL from every data centre's cache, the
//! Cache API's entries included when they are named under a host of the
//! zone. This module names the entries and builds those calls; the runtime
//! sends them with its own HTTP client after the write is answered.
//!
//! The call is one JSON body and a bearer token, sent through the runtime's
//! own client (the Worker's `fetch`), so it is built here rather than with
//! a Cloudflare API client crate, which would bring a second HTTP client
//! into the Worker's bundle.

use bytes::Bytes;
use http::{header, Request, Response, StatusCode};

/// Cloudflare's API, where the purge calls go unless `PURGE_API` says
/// otherwise (a stand-in in tests).
pub const CLOUDFLARE_API: &str = "https://api.cloudflare.com/client/v4";

/// The most URLs one purge-by-URL call may name on the Free, Pro and
/// Business plans (Enterprise allows more); longer lists take more calls.
pub const URLS_PER_CALL: usize = 30;

/// Where stored entries are named when no zone is configured: a host that
/// never resolves, which only names entries.
pub const INTERNAL_CACHE_ORIGIN: &str = "https://edge-cache.millions.internal";

/// Where the Worker names its stored entries: under `origin` (a host of
/// the zone when zone purges are on), in a path of their own, so no entry
/// shares a URL with a page the zone serves.
pub fn cache_url(origin: &str, key: &str) -> String {
    format!("{}/_edge-cache{key}", origin.trim_end_matches('/'))
}

/// The zone-wide purge: which zone, through which API, with which token.
#[derive(Clone, PartialEq, Eq)]
pub struct ZonePurge {
    /// The API's base URL, [`CLOUDFLARE_API`] in a deployment.
    pub api: String,
    pub zone_id: String,
    /// An API token allowed `Zone > Cache Purge` on the zone, held as a
    /// Worker secret.
    pub token: String,
}

impl std::fmt::Debug for ZonePurge {
    /// Without the token: settings are printed in errors and logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZonePurge")
            .field("api", &self.api)
            .field("zone_id", &self.zone_id)
            .finish_non_exhaustive()
    }
}

impl ZonePurge {
    /// The calls that purge the entries of `keys`, named under
    /// `cache_origin` (a host of the zone, or the purge reaches nothing),
    /// in every data centre, at most [`URLS_PER_CALL`] URLs each.
    pub fn calls(&self, cache_origin: &str, keys: &[String]) -> Vec<Request<Bytes>> {
        let endpoint = format!(
            "{}/zones/{}/purge_cache",
            self.api.trim_end_matches('/'),
            self.zone_id
        );
        keys.chunks(URLS_PER_CALL)
            .map(|keys| {
                let files: Vec<String> = keys
                    .iter()
                    .map(|key| cache_url(cache_origin, key))
                    .collect();
                let body = serde_json::json!({ "files": files }).to_string();
                Request::post(&endpoint)
                    .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Bytes::from(body))
                    .expect("the endpoint and the token were checked when read")
            })
            .collect()
    }
}

/// What became of one purge call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PurgeOutcome {
    Done,
    /// Rate-limited or failed on Cloudflare's side: worth another try.
    Retry(String),
    /// Refused for good (a bad token, an unknown zone): trying again
    /// cannot help; the entries expire at the end of their lifetime.
    Refused(String),
}

/// Reads the API's answer: 2xx with `"success": true` is done.
pub fn outcome(answer: &Response<Bytes>) -> PurgeOutcome {
    let status = answer.status();
    let said: Option<serde_json::Value> = serde_json::from_slice(answer.body()).ok();
    let success = said
        .as_ref()
        .and_then(|body| body.get("success"))
        .and_then(serde_json::Value::as_bool);
    let why = || {
        let errors = said
            .as_ref()
            .and_then(|body| body.get("errors"))
            .map(ToString::to_string)
            .unwrap_or_default();
        format!("{status} {errors}")
    };
    if status.is_success() && success == Some(true) {
        PurgeOutcome::Done
    } else if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        PurgeOutcome::Retry(why())
    } else {
        PurgeOutcome::Refused(why())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone() -> ZonePurge {
        ZonePurge {
            api: "http://127.0.0.1:9/client/v4/".into(),
            zone_id: "0123abcd".into(),
            token: "t0ken".into(),
        }
    }

    #[test]
    fn a_call_names_each_entry_under_the_zones_host() {
        let calls = zone().calls(
            "https://cdn.example.com/",
            &["/r1/users/12".into(), "/r1/users/13?x=1".into()],
        );
        assert_eq!(calls.len(), 1);
        let call = &calls[0];
        assert_eq!(call.method(), http::Method::POST);
        assert_eq!(
            call.uri(),
            "http://127.0.0.1:9/client/v4/zones/0123abcd/purge_cache"
        );
        assert_eq!(call.headers()["authorization"], "Bearer t0ken");
        let body: serde_json::Value = serde_json::from_slice(call.body()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"files": [
                "https://cdn.example.com/_edge-cache/r1/users/12",
                "https://cdn.example.com/_edge-cache/r1/users/13?x=1",
            ]})
        );
    }

    #[test]
    fn long_lists_are_split_at_the_per_call_limit() {
        let keys: Vec<String> = (0..61).map(|n| format!("/r1/users/{n}")).collect();
        let sizes: Vec<usize> = zone()
            .calls("https://cdn.example.com", &keys)
            .iter()
            .map(|call| {
                let body: serde_json::Value = serde_json::from_slice(call.body()).unwrap();
                body["files"].as_array().unwrap().len()
            })
            .collect();
        assert_eq!(sizes, [30, 30, 1]);
    }

    #[test]
    fn the_token_is_not_printed() {
        assert!(!format!("{:?}", zone()).contains("t0ken"));
    }

    #[test]
    fn outcomes_table() {
        let answer = |status: u16, body: &'static str| {
            let mut answer = Response::new(Bytes::from_static(body.as_bytes()));
            *answer.status_mut() = StatusCode::from_u16(status).unwrap();
            answer
        };
        let cases = [
            (answer(200, r#"{"success":true,"errors":[]}"#), "done"),
            (answer(200, r#"{"success":false,"errors":[]}"#), "refused"),
            (answer(200, "not json"), "refused"),
            (
                answer(429, r#"{"success":false,"errors":[{"code":971}]}"#),
                "retry",
            ),
            (answer(503, ""), "retry"),
            (
                answer(403, r#"{"success":false,"errors":[{"code":10000}]}"#),
                "refused",
            ),
        ];
        for (answer, expected) in cases {
            let got = match outcome(&answer) {
                PurgeOutcome::Done => "done",
                PurgeOutcome::Retry(_) => "retry",
                PurgeOutcome::Refused(_) => "refused",
            };
            assert_eq!(got, expected, "{} {:?}", answer.status(), answer.body());
        }
        assert!(matches!(
            outcome(&answer(403, r#"{"success":false,"errors":[{"code":10000}]}"#)),
            PurgeOutcome::Refused(why) if why.contains("10000")
        ));
    }
}
