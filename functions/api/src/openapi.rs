//! The OpenAPI 3.1 description of the API, generated from the handlers'
//! annotations so it cannot drift from the code, served at `GET /openapi.json`.

use std::sync::Arc;

use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

use crate::ApiState;

#[derive(OpenApi)]
#[openapi(
    info(title = "millions", description = "The JSON API of millions: users, from zero to millions."),
    paths(
        crate::health::health,
        crate::users::create_user,
        crate::users::get_user,
        crate::users::replace_user,
        crate::users::patch_user,
        crate::users::delete_user,
    ),
    tags((name = "users", description = "The chapter's user object"), (name = "operations"))
)]
pub struct ApiDoc;

pub fn routes() -> Router<Arc<ApiState>> {
    Router::new().route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
}
