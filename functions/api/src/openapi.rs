//! The OpenAPI 3.1 description of the API, generated from the handlers'
//! annotations so it cannot drift from the code, served at `GET /openapi.json`.

use std::sync::Arc;

use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::credentials::SESSION_COOKIE;
use crate::ApiState;

#[derive(OpenApi)]
#[openapi(
    info(title = "millions", description = "The JSON API of millions: users and their photos, from zero to millions."),
    paths(
        crate::health::health,
        crate::auth::signup,
        crate::auth::login,
        crate::auth::logout,
        crate::auth::current_session,
        crate::users::get_user,
        crate::users::replace_user,
        crate::users::patch_user,
        crate::users::delete_user,
        crate::likes::like_count,
        crate::likes::is_liked,
        crate::likes::like,
        crate::likes::unlike,
        crate::photos::new_upload,
        crate::photos::submit_job,
        crate::photos::job_status,
        crate::photos::output,
    ),
    modifiers(&SessionSchemes),
    tags(
        (name = "auth", description = "Accounts and sessions"),
        (name = "users", description = "The chapter's user object"),
        (name = "likes", description = "Likes on a profile, and its like count"),
        (name = "photos", description = "Uploads and processing jobs"),
        (name = "operations"),
    )
)]
pub struct ApiDoc;

/// The two ways a client presents its session.
struct SessionSchemes;

impl Modify for SessionSchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(SESSION_COOKIE))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn routes() -> Router<Arc<ApiState>> {
    Router::new().route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
}
