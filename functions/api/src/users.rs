//! `/users`: create, read, replace, patch and delete the chapter's user object.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use millions_core::preconditions::{etag, if_none_match_hits};
use millions_core::{Problem, StoredUser, User, UserProfile};

use crate::credentials::CurrentSession;
use crate::error::ApiError;
use crate::extract::{IfMatchHeader, IfNoneMatchHeader, JsonBody, UserIdPath};
use crate::ApiState;

pub fn routes() -> Router<Arc<ApiState>> {
    Router::new().route("/users", post(create_by_signup)).route(
        "/users/{id}",
        get(get_user)
            .put(replace_user)
            .patch(patch_user)
            .delete(delete_user),
    )
}

/// A user with its `ETag` header (after a write: not cacheable).
fn user_response(status: StatusCode, user: StoredUser) -> Response {
    let tag = HeaderValue::from_str(&etag(user.version)).expect("an etag is ASCII");
    let mut response = (status, Json(user.into_user())).into_response();
    response.headers_mut().insert(header::ETAG, tag);
    response
}

/// Users are created by signing up, which also creates their login.
pub async fn create_by_signup() -> ApiError {
    Problem::not_found(
        "users are created by signing up: POST /auth/signup with email, password and the profile",
    )
    .with_instance("/users")
    .into()
}

/// Reads a user. Answers 304 when `If-None-Match` names the current version.
#[utoipa::path(
    get, path = "/users/{id}", tag = "users",
    params(("id" = u64, Path, minimum = 1, maximum = 9_007_199_254_740_991_i64, description = "The user's id")),
    responses(
        (status = 200, body = User, headers(("ETag" = String), ("Cache-Control" = String, description = "`public, max-age=30, stale-while-revalidate=60, stale-if-error=600`: shared caches may keep it"))),
        (status = 304, description = "Not modified since the version named in If-None-Match"),
        (status = 400, description = "The id is not a number", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_user(
    State(state): State<Arc<ApiState>>,
    UserIdPath(id): UserIdPath,
    IfNoneMatchHeader(if_none_match): IfNoneMatchHeader,
) -> Result<Response, ApiError> {
    let caching = &state.web.caching;
    let user = match state.services.users.get(id).await {
        Ok(user) => user,
        Err(error) => {
            let mut response = ApiError::from(error).into_response();
            if response.status() == StatusCode::NOT_FOUND {
                let lifetime = HeaderValue::from_str(&caching.not_found()).expect("ASCII");
                response
                    .headers_mut()
                    .insert(header::CACHE_CONTROL, lifetime);
            }
            return Ok(response);
        }
    };
    // A public read: shared caches may keep it (RFC 9111); a 304 carries
    // the same Cache-Control so a cache validating its copy refreshes it.
    let lifetime = HeaderValue::from_str(&caching.profile()).expect("ASCII");
    let not_modified = if_none_match.is_some_and(|value| if_none_match_hits(&value, user.version));
    let mut response = if not_modified {
        let tag = HeaderValue::from_str(&etag(user.version)).expect("an etag is ASCII");
        (StatusCode::NOT_MODIFIED, [(header::ETAG, tag)]).into_response()
    } else {
        user_response(StatusCode::OK, user)
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, lifetime);
    Ok(response)
}

/// Replaces a user's whole profile. With `If-Match`, only if unchanged since read.
#[utoipa::path(
    put, path = "/users/{id}", tag = "users",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("id" = u64, Path, minimum = 1, maximum = 9_007_199_254_740_991_i64), ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^\s*(\*|(W/)?"[\x21\x23-\x7E]*"(\s*,\s*(W/)?"[\x21\x23-\x7E]*")*)\s*$"#, description = "ETag of the version the change is based on, or `*`")),
    request_body(content = UserProfile, content_type = "application/json"),
    responses(
        (status = 200, body = User, headers(("ETag" = String))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the owner of this user, or a cross-site browser request", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The user changed since the version in If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn replace_user(
    State(state): State<Arc<ApiState>>,
    caller: CurrentSession,
    UserIdPath(id): UserIdPath,
    IfMatchHeader(if_match): IfMatchHeader,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let user = state
        .services
        .users
        .replace(caller.session.user_id, id, body, &if_match)
        .await?;
    Ok(user_response(StatusCode::OK, user))
}

/// The body of `PATCH /users/{id}` (documentation only: the core applies it
/// to the stored profile and checks the result): any of the profile's fields,
/// and nothing else. A field set to `null` would be removed (RFC 7396), and
/// every field of a profile is required, so `null` is refused.
#[derive(utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct UserPatch {
    #[schema(value_type = Option<millions_core::users::ProfileText>, nullable = false)]
    first_name: Option<String>,
    #[schema(value_type = Option<millions_core::users::ProfileText>, nullable = false)]
    last_name: Option<String>,
    #[schema(nullable = false)]
    address: Option<AddressPatch>,
    #[schema(value_type = Option<Vec<millions_core::users::PhoneNumber>>, max_items = 10, nullable = false)]
    phone_numbers: Option<Vec<String>>,
}

/// Any of an address's fields (documentation only).
#[derive(utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct AddressPatch {
    #[schema(value_type = Option<millions_core::users::ProfileText>, nullable = false)]
    street_address: Option<String>,
    #[schema(value_type = Option<millions_core::users::ProfileText>, nullable = false)]
    city: Option<String>,
    #[schema(value_type = Option<millions_core::users::ProfileText>, nullable = false)]
    state: Option<String>,
    #[schema(minimum = 0, maximum = 99999, nullable = false)]
    postal_code: Option<u32>,
}

/// Changes some fields of a user with a JSON Merge Patch (RFC 7396).
#[utoipa::path(
    patch, path = "/users/{id}", tag = "users",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("id" = u64, Path, minimum = 1, maximum = 9_007_199_254_740_991_i64), ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^\s*(\*|(W/)?"[\x21\x23-\x7E]*"(\s*,\s*(W/)?"[\x21\x23-\x7E]*")*)\s*$"#, description = "ETag of the version the change is based on, or `*`")),
    request_body(content = UserPatch, content_type = "application/merge-patch+json",
                 example = json!({"address": {"city": "Boston"}})),
    responses(
        (status = 200, body = User, headers(("ETag" = String))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the owner of this user, or a cross-site browser request", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The user changed since the version in If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn patch_user(
    State(state): State<Arc<ApiState>>,
    caller: CurrentSession,
    UserIdPath(id): UserIdPath,
    IfMatchHeader(if_match): IfMatchHeader,
    JsonBody(patch): JsonBody,
) -> Result<Response, ApiError> {
    let user = state
        .services
        .users
        .patch(caller.session.user_id, id, patch, &if_match)
        .await?;
    Ok(user_response(StatusCode::OK, user))
}

/// Deletes a user. With `If-Match`, only if unchanged since read.
#[utoipa::path(
    delete, path = "/users/{id}", tag = "users",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("id" = u64, Path, minimum = 1, maximum = 9_007_199_254_740_991_i64), ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^\s*(\*|(W/)?"[\x21\x23-\x7E]*"(\s*,\s*(W/)?"[\x21\x23-\x7E]*")*)\s*$"#, description = "ETag of the version the deletion is based on, or `*`")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the owner of this user, or a cross-site browser request", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_user(
    State(state): State<Arc<ApiState>>,
    caller: CurrentSession,
    UserIdPath(id): UserIdPath,
    IfMatchHeader(if_match): IfMatchHeader,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .users
        .delete(caller.session.user_id, id, &if_match)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
