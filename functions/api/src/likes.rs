//! `/users/{id}/likes`: liking a profile, and its like count.
//!
//! A like is a resource named by who is liked and who likes
//! (`/users/{id}/likes/{liker}`), so giving it is an idempotent `PUT` and
//! taking it back an idempotent `DELETE`: a client that retries after a
//! timeout changes nothing the second time. The count is a public read that
//! shared caches keep as long as a profile; the edge does not purge it on
//! every like (a celebrity's likes would then defeat the cache), so it lags
//! by at most that lifetime.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use millions_core::likes::{LikeCount, Liked};
use millions_core::Problem;

use crate::credentials::CurrentSession;
use crate::error::ApiError;
use crate::extract::{LikePath, UserIdPath};
use crate::ApiState;

pub fn routes() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/users/{id}/likes", get(like_count))
        .route(
            "/users/{id}/likes/{liker}",
            get(is_liked).put(like).delete(unlike),
        )
}

/// How many users like this user.
#[utoipa::path(
    get, path = "/users/{id}/likes", tag = "likes",
    params(("id" = u64, Path, minimum = 1, maximum = 9_007_199_254_740_991_i64, description = "The liked user's id")),
    responses(
        (status = 200, body = LikeCount, headers(("Cache-Control" = String, description = "As a profile's: shared caches may keep it, so the count lags likes by up to its max-age"))),
        (status = 400, description = "The id is not a user id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn like_count(
    State(state): State<Arc<ApiState>>,
    UserIdPath(id): UserIdPath,
) -> Result<Response, ApiError> {
    let caching = &state.web.caching;
    let count = state.services.likes.count(id).await?;
    let lifetime = HeaderValue::from_str(&caching.profile()).expect("ASCII");
    Ok(([(header::CACHE_CONTROL, lifetime)], Json(count)).into_response())
}

/// Whether `liker` likes this user: 204 if so, 404 if not.
#[utoipa::path(
    get, path = "/users/{id}/likes/{liker}", tag = "likes",
    params(("id" = u64, Path, minimum = 1, maximum = 9_007_199_254_740_991_i64, description = "The liked user's id"), ("liker" = u64, Path, minimum = 1, maximum = 9_007_199_254_740_991_i64, description = "The liking user's id")),
    responses(
        (status = 204, description = "The liker likes this user"),
        (status = 400, description = "An id is not a user id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such like", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn is_liked(
    State(state): State<Arc<ApiState>>,
    LikePath { liked, liker }: LikePath,
) -> Result<StatusCode, ApiError> {
    if state.services.likes.likes(liked, liker).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found(format!("user {liker} does not like user {liked}")).into())
    }
}

/// Likes a user, as the caller: `{liker}` is the caller's own id. Sending
/// it again changes nothing.
#[utoipa::path(
    put, path = "/users/{id}/likes/{liker}", tag = "likes",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("id" = u64, Path, minimum = 1, maximum = 9_007_199_254_740_991_i64, description = "The user to like"), ("liker" = u64, Path, minimum = 1, maximum = 9_007_199_254_740_991_i64, description = "The caller's own id")),
    responses(
        (status = 201, description = "Liked now"),
        (status = 204, description = "Already liked; nothing changed"),
        (status = 400, description = "An id is not a user id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The liker is not the caller, or a cross-site browser request", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user to like", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn like(
    State(state): State<Arc<ApiState>>,
    caller: CurrentSession,
    LikePath { liked, liker }: LikePath,
) -> Result<StatusCode, ApiError> {
    let outcome = state
        .services
        .likes
        .like(caller.session.user_id, liked, liker)
        .await?;
    Ok(match outcome {
        Liked::Now => StatusCode::CREATED,
        Liked::Already => StatusCode::NO_CONTENT,
    })
}

/// Takes back the caller's like of a user (there may be none).
#[utoipa::path(
    delete, path = "/users/{id}/likes/{liker}", tag = "likes",
    security(("session_cookie" = []), ("bearer" = [])),
    params(("id" = u64, Path, minimum = 1, maximum = 9_007_199_254_740_991_i64, description = "The liked user"), ("liker" = u64, Path, minimum = 1, maximum = 9_007_199_254_740_991_i64, description = "The caller's own id")),
    responses(
        (status = 204, description = "Not liked (any more)"),
        (status = 400, description = "An id is not a user id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The liker is not the caller, or a cross-site browser request", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn unlike(
    State(state): State<Arc<ApiState>>,
    caller: CurrentSession,
    LikePath { liked, liker }: LikePath,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .likes
        .unlike(caller.session.user_id, liked, liker)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
