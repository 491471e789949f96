//! `/auth`: sign up, log in, log out, and who am I.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use millions_core::auth::{NewSession, Session};
use millions_core::preconditions::etag;
use millions_core::{Problem, User, UserId};
use serde::{Deserialize, Serialize};

use crate::client_address::ClientAddress;
use crate::credentials::{
    cleared_cookie, presented_token, refuse_cross_site, session_cookie, CurrentSession,
};
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::ApiState;

pub fn routes() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/auth/signup", post(signup))
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/auth/session", get(current_session))
}

/// The body of `POST /auth/signup`: the login and the new user's profile,
/// with no other field. (It describes the body in the OpenAPI document; the
/// core parses it.) The profile's fields are spelled out rather than
/// flattened: a flattened profile becomes an `allOf` whose parts each forbid
/// the other's fields, a schema no body satisfies.
#[allow(dead_code)]
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignupRequest {
    /// The login name; one account per address (compared case-insensitively).
    #[schema(example = "john.smith@example.com", format = Email, max_length = 254)]
    pub email: String,
    /// At least 15 characters.
    #[schema(
        example = "correct horse battery staple",
        min_length = 15,
        max_length = 128
    )]
    pub password: String,
    #[schema(value_type = millions_core::users::ProfileText, example = "John")]
    pub first_name: String,
    #[schema(value_type = millions_core::users::ProfileText, example = "Smith")]
    pub last_name: String,
    pub address: millions_core::users::Address,
    #[schema(value_type = Vec<millions_core::users::PhoneNumber>, example = json!(["212 555-1234"]), max_items = 10)]
    pub phone_numbers: Vec<String>,
}

/// The body of `POST /auth/login` (described here, parsed by the core).
#[allow(dead_code)]
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(example = "john.smith@example.com", format = Email, max_length = 254)]
    pub email: String,
    #[schema(example = "correct horse battery staple", max_length = 128)]
    pub password: String,
}

/// A session just opened. Browsers also get it as the `__Host-session`
/// cookie; other clients send `token` as `Authorization: Bearer <token>`.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpenedSession {
    pub user_id: UserId,
    /// 43 characters; shown once, stored by the server only as a hash.
    pub token: String,
    /// Unix time (seconds) the session ends unless used again before.
    pub expires_at: u64,
}

/// The answer to a sign-up: the new user and its first session.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SignedUp {
    pub user: User,
    pub session: OpenedSession,
}

/// Who the caller is.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    pub user_id: UserId,
    /// Unix time (seconds) the session ends unless used again before.
    pub expires_at: u64,
}

impl From<&Session> for SessionInfo {
    fn from(session: &Session) -> Self {
        Self {
            user_id: session.user_id,
            expires_at: session.expires_at,
        }
    }
}

/// The response that hands a new session to the client, as body and cookie.
fn with_session<T: Serialize>(
    state: &ApiState,
    status: StatusCode,
    body: T,
    opened: &NewSession,
) -> Response {
    let now = state.services.clock.now_ms() / 1000;
    let absolute_end =
        opened.session.created_at + state.services.auth.settings().sessions.absolute_secs;
    // The cookie lives as long as the session can; the server ends it sooner
    // when it sits idle.
    let cookie = session_cookie(&opened.token, absolute_end.saturating_sub(now));
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    // Answers that carry a token must never be stored by a cache.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn opened(session: &NewSession) -> OpenedSession {
    OpenedSession {
        user_id: session.session.user_id,
        token: session.token.reveal(),
        expires_at: session.session.expires_at,
    }
}

/// Creates a user with a login, and logs it in.
#[utoipa::path(
    post, path = "/auth/signup", tag = "auth",
    request_body(content = SignupRequest, content_type = "application/json",
                 example = json!({"email": "john.smith@example.com", "password": "correct horse battery staple",
                                  "firstName": "John", "lastName": "Smith",
                                  "address": {"streetAddress": "21 2nd Street", "city": "New York", "state": "NY", "postalCode": 10021},
                                  "phoneNumbers": ["212 555-1234", "646 555-4567"]})),
    responses(
        (status = 201, description = "Created and logged in; `Location` names the user, `Set-Cookie` holds the session",
         body = SignedUp, headers(("Location" = String), ("ETag" = String), ("Set-Cookie" = String))),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A cross-site browser request", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An account with this email exists", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is missing or invalid (e.g. a password under 15 characters)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn signup(
    State(state): State<Arc<ApiState>>,
    parts: axum::http::request::Parts,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    refuse_cross_site(&parts, &state)?;
    let (user, session) = state.services.auth.signup(body).await?;
    state.services.activity.saw(user.id);
    let location = HeaderValue::from_str(&format!("/users/{}", user.id)).expect("a path is ASCII");
    let tag = HeaderValue::from_str(&etag(user.version)).expect("an etag is ASCII");
    let answer = SignedUp {
        user: user.into_user(),
        session: opened(&session),
    };
    let mut response = with_session(&state, StatusCode::CREATED, answer, &session);
    response.headers_mut().insert(header::LOCATION, location);
    response.headers_mut().insert(header::ETAG, tag);
    Ok(response)
}

/// Opens a session for an email and password.
#[utoipa::path(
    post, path = "/auth/login", tag = "auth",
    request_body(content = LoginRequest, content_type = "application/json",
                 example = json!({"email": "john.smith@example.com", "password": "correct horse battery staple"})),
    responses(
        (status = 200, description = "Logged in; `Set-Cookie` holds the session", body = OpenedSession, headers(("Set-Cookie" = String))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "The email or the password is wrong (the same answer for both)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A cross-site browser request", body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts for this account or from this address; `Retry-After` says when to try again",
         body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64))),
    )
)]
pub async fn login(
    State(state): State<Arc<ApiState>>,
    client: ClientAddress,
    parts: axum::http::request::Parts,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    refuse_cross_site(&parts, &state)?;
    let session = state.services.auth.login(body, &client.0).await?;
    state.services.activity.saw(session.session.user_id);
    Ok(with_session(
        &state,
        StatusCode::OK,
        opened(&session),
        &session,
    ))
}

/// Ends the caller's session. Succeeds even when the session had already ended.
#[utoipa::path(
    post, path = "/auth/logout", tag = "auth",
    description = "Ends the session whose token is sent. Idempotent: a token that names no live session (ended, expired, or never issued) is already logged out, so it is answered 204 too, and the cookie is cleared either way; only a request with no token at all is refused.",
    security((), ("session_cookie" = []), ("bearer" = [])),
    responses(
        (status = 204, description = "Logged out (or the token named no live session); `Set-Cookie` clears the session cookie"),
        (status = 401, description = "No session token was sent", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A cross-site browser request", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn logout(
    State(state): State<Arc<ApiState>>,
    parts: axum::http::request::Parts,
) -> Result<Response, ApiError> {
    let Some((text, _)) = presented_token(&parts.headers)? else {
        return Err(
            Problem::unauthorized("send the session to end as a cookie or a Bearer token").into(),
        );
    };
    refuse_cross_site(&parts, &state)?;
    if let Some(token) = millions_core::auth::SessionToken::parse(&text) {
        state.services.auth.logout(&token).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cleared_cookie());
    Ok(response)
}

/// Tells who is logged in.
#[utoipa::path(
    get, path = "/auth/session", tag = "auth",
    security(("session_cookie" = []), ("bearer" = [])),
    responses(
        (status = 200, body = SessionInfo),
        (status = 401, description = "Not logged in, or the session expired", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn current_session(caller: CurrentSession) -> Response {
    let mut response = Json(SessionInfo::from(&caller.session)).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    response
}
