//! Finding the caller's session: the token from `Authorization: Bearer` or
//! the session cookie, checked against the sessions store, with cross-site
//! request forgery refused for cookie-authenticated writes.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method};
use millions_core::auth::{Session, SessionToken};
use millions_core::Problem;

use crate::error::ApiError;
use crate::ApiState;

/// Name of the session cookie. The `__Host-` prefix makes browsers insist on
/// `Secure`, `Path=/` and no `Domain`, so a sibling subdomain cannot plant or
/// overwrite it.
pub const SESSION_COOKIE: &str = "__Host-session";

/// Where a request's token came from; cookies ride along on cross-site
/// requests, bearer tokens never do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    Bearer,
    Cookie,
}

/// The token a request presents, if any.
pub fn presented_token(headers: &HeaderMap) -> Result<Option<(String, Carrier)>, ApiError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let text = value.to_str().unwrap_or_default();
        return match text.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                Ok(Some((token.trim().to_owned(), Carrier::Bearer)))
            }
            _ => Err(Problem::unauthorized(
                "the Authorization header must be `Bearer <session token>`",
            )
            .into()),
        };
    }
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == SESSION_COOKIE)
        .map(|cookie| (cookie.value().to_owned(), Carrier::Cookie));
    Ok(cookie)
}

/// The caller's live session; 401 when there is none.
pub struct CurrentSession {
    pub session: Session,
}

impl FromRequestParts<Arc<ApiState>> for CurrentSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<ApiState>,
    ) -> Result<Self, Self::Rejection> {
        let Some((text, carrier)) = presented_token(&parts.headers)? else {
            return Err(Problem::unauthorized(
                "log in first: POST /auth/login, then send the session cookie or `Authorization: Bearer <token>`",
            )
            .into());
        };
        if carrier == Carrier::Cookie {
            refuse_cross_site(parts, state)?;
        }
        let expired =
            || Problem::unauthorized("the session has expired or was logged out; log in again");
        let token = SessionToken::parse(&text).ok_or_else(expired)?;
        let session = state
            .services
            .auth
            .authenticate(&token)
            .await?
            .ok_or_else(expired)?;
        state.services.activity.saw(session.user_id);
        Ok(Self { session })
    }
}

/// Refuses a state-changing request that a browser says comes from another
/// site (OWASP's "verify origin with standard headers"): `Sec-Fetch-Site`
/// where browsers send it, else `Origin`. Requests with neither come from
/// programs, not browsers, and cannot be forged by a web page.
pub fn refuse_cross_site(parts: &Parts, state: &ApiState) -> Result<(), ApiError> {
    if matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let origin_allowed = |origin: &str| {
        state
            .web
            .allowed_origins
            .iter()
            .any(|allowed| allowed == origin)
            || same_host(origin, header(header::HOST.as_str()))
    };
    let allowed = match (header("sec-fetch-site"), header(header::ORIGIN.as_str())) {
        (Some("same-origin" | "none"), _) => true,
        (Some(_), Some(origin)) => origin_allowed(origin),
        (Some(_), None) => false,
        (None, Some(origin)) => origin_allowed(origin),
        (None, None) => true,
    };
    if allowed {
        Ok(())
    } else {
        Err(Problem::forbidden(
            "cross-site requests may not change anything with the session cookie; \
             send the request from the site itself or use `Authorization: Bearer`",
        )
        .into())
    }
}

/// Whether an `Origin` (`scheme://host[:port]`) names the host the request was sent to.
fn same_host(origin: &str, host: Option<&str>) -> bool {
    let origin_host = origin.split_once("://").map(|(_, rest)| rest);
    matches!((origin_host, host), (Some(a), Some(b)) if a.eq_ignore_ascii_case(b))
}

/// The `Set-Cookie` value that gives a browser its session.
pub fn session_cookie(token: &SessionToken, max_age_secs: u64) -> HeaderValue {
    cookie_header(&token.reveal(), max_age_secs)
}

/// The `Set-Cookie` value that makes a browser forget its session.
pub fn cleared_cookie() -> HeaderValue {
    cookie_header("", 0)
}

fn cookie_header(value: &str, max_age_secs: u64) -> HeaderValue {
    let cookie = cookie::Cookie::build((SESSION_COOKIE, value))
        .http_only(true)
        .secure(true)
        .same_site(cookie::SameSite::Lax)
        .path("/")
        .max_age(cookie::time::Duration::seconds(
            i64::try_from(max_age_secs).unwrap_or(i64::MAX),
        ))
        .build();
    HeaderValue::from_str(&cookie.to_string()).expect("a session cookie is ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    #[test]
    fn bearer_wins_over_cookie_and_other_schemes_are_refused() {
        let both = headers(&[
            ("authorization", "Bearer abc"),
            ("cookie", "__Host-session=xyz"),
        ]);
        assert_eq!(
            presented_token(&both).unwrap(),
            Some(("abc".into(), Carrier::Bearer))
        );
        let cookie = headers(&[("cookie", "theme=dark; __Host-session=xyz")]);
        assert_eq!(
            presented_token(&cookie).unwrap(),
            Some(("xyz".into(), Carrier::Cookie))
        );
        assert!(presented_token(&headers(&[("authorization", "Basic abc")])).is_err());
        assert_eq!(
            presented_token(&headers(&[("cookie", "session=xyz")])).unwrap(),
            None
        );
    }

    #[test]
    fn session_cookie_has_every_protective_attribute() {
        let token = SessionToken::from_bytes([9; 32]);
        let cookie = session_cookie(&token, 60);
        let text = cookie.to_str().unwrap();
        for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age=60"] {
            assert!(text.contains(attribute), "{text} lacks {attribute}");
        }
        assert!(text.starts_with(&format!("__Host-session={}", token.reveal())));
        assert!(cleared_cookie().to_str().unwrap().contains("Max-Age=0"));
    }

    #[test]
    fn same_host_compares_the_authority() {
        assert!(same_host("http://localhost:8080", Some("localhost:8080")));
        assert!(!same_host("http://evil.example", Some("localhost:8080")));
        assert!(!same_host("null", Some("localhost:8080")));
        assert!(!same_host("http://localhost:8080", None));
    }
}
