//! Problem details (RFC 9457): the one error body every endpoint answers with.
//!
//! A client that sends something wrong learns what, and where, from the body
//! alone: `errors[].pointer` is a JSON Pointer (RFC 6901) into the request body.

use serde::{Deserialize, Serialize};

/// One thing wrong with a request body, located by a JSON Pointer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Violation {
    /// JSON Pointer to the offending value, e.g. `/address/city`; empty for the whole body.
    pub pointer: String,
    /// What is wrong with it, for a person to read.
    pub detail: String,
}

impl Violation {
    pub fn new(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            detail: detail.into(),
        }
    }
}

/// An RFC 9457 problem document, served as `application/problem+json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// A URI reference naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem, the same for every occurrence.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong this time, for a person to read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request path the problem occurred on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Each invalid value in the request body.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<Violation>,
}

/// The media type of a [`Problem`] body.
pub const PROBLEM_JSON: &str = "application/problem+json";

impl Problem {
    /// The problem as an answer: its status, `Content-Type:
    /// application/problem+json` and the document as the body. One builder
    /// for the API and the edges, so their problems read the same.
    pub fn to_response<B: From<Vec<u8>>>(&self) -> http::Response<B> {
        let body = serde_json::to_vec(self).expect("a problem always serializes");
        let mut response = http::Response::new(B::from(body));
        *response.status_mut() = http::StatusCode::from_u16(self.status)
            .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static(PROBLEM_JSON),
        );
        response
    }

    fn new(slug: &str, title: &str, status: u16, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("/problems/{slug}"),
            title: title.to_owned(),
            status,
            detail: Some(detail.into()),
            instance: None,
            errors: Vec::new(),
        }
    }

    pub fn with_instance(mut self, path: impl Into<String>) -> Self {
        self.instance = Some(path.into());
        self
    }

    pub fn malformed_body(detail: impl Into<String>) -> Self {
        Self::new(
            "malformed-body",
            "The request body is not valid JSON",
            400,
            detail,
        )
    }

    pub fn bad_path(detail: impl Into<String>) -> Self {
        Self::new("bad-path", "A path parameter is invalid", 400, detail)
    }

    pub fn bad_header(detail: impl Into<String>) -> Self {
        Self::new("bad-header", "A request header is invalid", 400, detail)
    }

    pub fn invalid_fields(errors: Vec<Violation>) -> Self {
        let detail = match errors.as_slice() {
            [only] => format!("{}: {}", display_pointer(&only.pointer), only.detail),
            many => format!("{} values are invalid", many.len()),
        };
        Self {
            errors,
            ..Self::new(
                "invalid-fields",
                "The request body has invalid values",
                422,
                detail,
            )
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new("not-found", "Not found", 404, detail)
    }

    pub fn method_not_allowed(detail: impl Into<String>) -> Self {
        Self::new("method-not-allowed", "Method not allowed", 405, detail)
    }

    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::new(
            "precondition-failed",
            "The resource has changed",
            412,
            detail,
        )
    }

    pub fn too_large(limit_bytes: usize) -> Self {
        Self::new(
            "body-too-large",
            "The request body is too large",
            413,
            format!("the body may hold at most {limit_bytes} bytes"),
        )
    }

    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new(
            "unsupported-media-type",
            "Unsupported media type",
            415,
            detail,
        )
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(
            "conflict",
            "The request conflicts with concurrent changes",
            409,
            detail,
        )
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new("unauthorized", "Authentication required", 401, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new("forbidden", "Not allowed", 403, detail)
    }

    pub fn too_many_requests(detail: impl Into<String>) -> Self {
        Self::new("too-many-requests", "Too many requests", 429, detail)
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(
            "unavailable",
            "The service is temporarily unavailable",
            503,
            detail,
        )
    }

    pub fn bad_gateway(detail: impl Into<String>) -> Self {
        Self::new("bad-gateway", "No origin answered", 502, detail)
    }

    /// A cache was asked for a stored answer only and has none it may use.
    pub fn not_cached(detail: impl Into<String>) -> Self {
        Self::new("not-cached", "Nothing suitable is stored", 504, detail)
    }

    pub fn internal() -> Self {
        Self::new(
            "internal",
            "Internal error",
            500,
            "the server failed to handle this request; it has been logged",
        )
    }
}

fn display_pointer(pointer: &str) -> &str {
    if pointer.is_empty() {
        "body"
    } else {
        pointer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_rfc_9457_members() {
        let problem =
            Problem::invalid_fields(vec![Violation::new("/firstName", "must not be empty")])
                .with_instance("/users");
        let json = serde_json::to_value(&problem).unwrap();
        assert_eq!(json["type"], "/problems/invalid-fields");
        assert_eq!(json["status"], 422);
        assert_eq!(json["detail"], "/firstName: must not be empty");
        assert_eq!(json["instance"], "/users");
        assert_eq!(json["errors"][0]["pointer"], "/firstName");
    }

    #[test]
    fn omits_empty_members() {
        let json = serde_json::to_value(Problem::not_found("no user 7")).unwrap();
        assert!(json.get("errors").is_none());
        assert!(json.get("instance").is_none());
    }
}
