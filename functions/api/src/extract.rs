//! Request extractors that turn every malformed input into a precise problem
//! instead of axum's plain-text rejections.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use millions_core::preconditions::IfMatch;
use millions_core::{Problem, UserId};
use serde_json::Value;

use crate::error::ApiError;
use crate::MAX_BODY_BYTES;

/// A JSON request body: `Content-Type` must be JSON (`application/json` or any
/// `+json` type such as `application/merge-patch+json`), the body at most
/// [`MAX_BODY_BYTES`], and it must parse. Whole numbers written with a
/// fraction (`10021.0`) are read as the integers they are, as JSON Schema's
/// `integer` allows, so every typed field after it accepts them.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        require_json_content_type(request.headers())?;
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    Problem::too_large(MAX_BODY_BYTES)
                } else {
                    Problem::malformed_body(format!("the body could not be read: {rejection}"))
                }
            })?;
        let mut value = serde_json::from_slice(&bytes).map_err(|error| {
            Problem::malformed_body(format!("the body is not valid JSON: {error}"))
        })?;
        whole_numbers_as_integers(&mut value);
        Ok(Self(value))
    }
}

/// Rewrites every number with no fractional part (within 2^53, where `f64`
/// is exact) as an integer.
fn whole_numbers_as_integers(value: &mut Value) {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match value {
        Value::Number(number) if !number.is_i64() && !number.is_u64() => {
            if let Some(float) = number.as_f64() {
                if float.fract() == 0.0 && float.abs() <= EXACT {
                    // The bounds and the zero fraction make the cast exact.
                    *number = serde_json::Number::from(float as i64);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}

fn require_json_content_type(headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Err(Problem::unsupported_media_type(
            "send the body with Content-Type: application/json",
        )
        .into());
    };
    let mime: Option<mime::Mime> = value.to_str().ok().and_then(|text| text.parse().ok());
    match mime {
        Some(mime)
            if mime.type_() == mime::APPLICATION
                && (mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON)) =>
        {
            Ok(())
        }
        _ => Err(Problem::unsupported_media_type(format!(
            "the body must be JSON (application/json), not {}",
            value.to_str().unwrap_or("an unreadable type")
        ))
        .into()),
    }
}

/// The `{id}` path segment as a [`UserId`]; anything else is a 400.
pub struct UserIdPath(pub UserId);

impl<S: Send + Sync> FromRequestParts<S> for UserIdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| Problem::bad_path(rejection.body_text()))?;
        raw.parse()
            .map(Self)
            .map_err(|error| Problem::bad_path(format!("`{raw}` is not a user id: {error}")).into())
    }
}

/// The `{id}` and `{liker}` path segments of a like, as [`UserId`]s.
pub struct LikePath {
    pub liked: UserId,
    pub liker: UserId,
}

impl<S: Send + Sync> FromRequestParts<S> for LikePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path((liked, liker)) = Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| Problem::bad_path(rejection.body_text()))?;
        let parse = |raw: &str| {
            raw.parse::<UserId>().map_err(|error| {
                ApiError::from(Problem::bad_path(format!(
                    "`{raw}` is not a user id: {error}"
                )))
            })
        };
        Ok(Self {
            liked: parse(&liked)?,
            liker: parse(&liker)?,
        })
    }
}

/// The `If-Match` header, parsed.
pub struct IfMatchHeader(pub IfMatch);

impl<S: Send + Sync> FromRequestParts<S> for IfMatchHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let header = match parts.headers.get(header::IF_MATCH) {
            None => None,
            Some(value) => Some(
                value
                    .to_str()
                    .map_err(|_| Problem::bad_header("If-Match must be ASCII"))?,
            ),
        };
        IfMatch::parse(header)
            .map(Self)
            .map_err(|error| Problem::bad_header(error.to_string()).into())
    }
}

/// The `If-None-Match` header, if present and readable (an unreadable one is
/// ignored: the request then simply gets the full representation).
pub struct IfNoneMatchHeader(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IfNoneMatchHeader {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let value = parts.headers.get(header::IF_NONE_MATCH);
        Ok(Self(value.and_then(|v| v.to_str().ok()).map(str::to_owned)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn whole_numbers_written_with_a_fraction_are_integers() {
        let mut body = json!({"a": 10021.0, "b": [1.5, -3.0, 2], "c": {"d": 1e3}, "e": 1e300});
        whole_numbers_as_integers(&mut body);
        assert_eq!(
            body,
            json!({"a": 10021, "b": [1.5, -3, 2], "c": {"d": 1000}, "e": 1e300})
        );
        assert!(body["a"].is_u64());
    }
}
