//! The operations a job may ask for, validated once against the original's
//! dimensions, before anything is queued.
//!
//! Dimensions are tracked through the list (a crop after a resize is checked
//! against the resized image), and the same arithmetic decides the sizes the
//! processor produces, so what was validated is what gets made.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::media::MediaType;
use crate::problem::Violation;

/// Most operations in one job.
pub const MAX_OPERATIONS: usize = 16;
/// Longest side any resize may produce.
pub const MAX_OUTPUT_SIDE: u32 = 8192;
/// Most pixels any intermediate image may hold (a 40-megapixel image).
pub const MAX_OUTPUT_PIXELS: u64 = 40_000_000;
const SHARPEN_SIGMA: (f32, f32) = (0.1, 10.0);
const SHARPEN_AMOUNT: (f32, f32) = (0.0, 5.0);
const BLUR_SIGMA: (f32, f32) = (0.1, 50.0);
const THUMBNAIL_SIZE: (u32, u32) = (16, 1024);
const DEFAULT_QUALITY: u8 = 85;

/// An image's width and height in pixels, after its EXIF orientation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dimensions {
    pub width: u32,
    pub height: u32,
}

impl Dimensions {
    pub fn new(width: u32, height: u32) -> Self {
        Self { width, height }
    }

    pub fn pixels(self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }

    /// The largest size with this aspect ratio that fits in `bounds`
    /// (never smaller than one pixel a side).
    pub fn fit_within(self, bounds: Dimensions) -> Dimensions {
        let scale = f64::min(
            f64::from(bounds.width) / f64::from(self.width),
            f64::from(bounds.height) / f64::from(self.height),
        );
        Dimensions {
            width: ((f64::from(self.width) * scale).round() as u32).clamp(1, bounds.width),
            height: ((f64::from(self.height) * scale).round() as u32).clamp(1, bounds.height),
        }
    }
}

/// How a resize treats a target box of another aspect ratio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Fit {
    /// Scale to fit inside the box, keeping the aspect ratio.
    #[default]
    Contain,
    /// Scale to cover the box and cut the overflow, centred.
    Cover,
    /// Stretch to the box exactly.
    Fill,
}

/// One step of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Operation {
    Crop {
        x: u32,
        y: u32,
        width: u32,
        height: u32,
    },
    /// Either side may be left out, to keep the aspect ratio.
    Resize {
        width: Option<u32>,
        height: Option<u32>,
        #[serde(default)]
        fit: Fit,
    },
    /// Unsharp mask: adds `amount` times the difference from a Gaussian blur.
    Sharpen {
        sigma: f32,
        amount: f32,
    },
    Blur {
        sigma: f32,
    },
    /// Emits an extra output: the image so far, its longest side `size`
    /// (never enlarged). The image the list goes on with is unchanged.
    Thumbnail {
        size: u32,
    },
}

impl Operation {
    /// The size of the image after this step, given the size before it.
    pub fn output_dimensions(&self, input: Dimensions) -> Dimensions {
        match *self {
            Operation::Crop { width, height, .. } => Dimensions::new(width, height),
            Operation::Resize { width, height, fit } => resized(input, width, height, fit),
            Operation::Sharpen { .. } | Operation::Blur { .. } | Operation::Thumbnail { .. } => {
                input
            }
        }
    }

    /// The size of the thumbnail a `thumbnail` step emits from `input`.
    pub fn thumbnail_dimensions(size: u32, input: Dimensions) -> Dimensions {
        if input.width.max(input.height) <= size {
            input
        } else {
            input.fit_within(Dimensions::new(size, size))
        }
    }
}

fn resized(input: Dimensions, width: Option<u32>, height: Option<u32>, fit: Fit) -> Dimensions {
    match (width, height) {
        (Some(width), Some(height)) => match fit {
            Fit::Contain => input.fit_within(Dimensions::new(width, height)),
            Fit::Cover | Fit::Fill => Dimensions::new(width, height),
        },
        (Some(width), None) => {
            let height = (f64::from(input.height) * f64::from(width) / f64::from(input.width))
                .round()
                .max(1.0) as u32;
            Dimensions::new(width, height)
        }
        (None, Some(height)) => {
            let width = (f64::from(input.width) * f64::from(height) / f64::from(input.height))
                .round()
                .max(1.0) as u32;
            Dimensions::new(width, height)
        }
        (None, None) => input,
    }
}

/// The encoding of a job's outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum OutputFormat {
    #[default]
    Jpeg,
    Png,
    /// Lossless WebP (the quality setting applies to JPEG only).
    Webp,
}

impl OutputFormat {
    pub fn media_type(self) -> MediaType {
        match self {
            OutputFormat::Jpeg => MediaType::Jpeg,
            OutputFormat::Png => MediaType::Png,
            OutputFormat::Webp => MediaType::Webp,
        }
    }
}

/// A validated job: what to do and how to encode the result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobSpec {
    pub operations: Vec<Operation>,
    pub format: OutputFormat,
    /// JPEG quality, 1 to 100.
    pub quality: u8,
}

impl JobSpec {
    /// The final image's size for an original of size `original`.
    pub fn result_dimensions(&self, original: Dimensions) -> Dimensions {
        self.operations.iter().fold(original, |size, operation| {
            operation.output_dimensions(size)
        })
    }
}

/// Parses the body of `POST /photos/{id}/jobs` for an original of size
/// `original`, reporting every problem with a JSON Pointer.
pub fn parse_job_spec(body: Value, original: Dimensions) -> Result<JobSpec, Vec<Violation>> {
    let Value::Object(mut fields) = body else {
        return Err(vec![Violation::new("", "a job is a JSON object")]);
    };
    let mut violations = Vec::new();
    for key in fields.keys() {
        if !matches!(key.as_str(), "operations" | "format" | "quality") {
            violations.push(Violation::new(
                format!("/{key}"),
                "unknown field; a job has `operations`, `format` and `quality`",
            ));
        }
    }
    let format = match fields.remove("format") {
        None => OutputFormat::default(),
        Some(value) => serde_json::from_value(value).unwrap_or_else(|_| {
            violations.push(Violation::new("/format", "the format is jpeg, png or webp"));
            OutputFormat::default()
        }),
    };
    let quality = match fields.remove("quality") {
        None => DEFAULT_QUALITY,
        Some(value) => match value.as_u64() {
            Some(quality @ 1..=100) => quality as u8,
            _ => {
                violations.push(Violation::new(
                    "/quality",
                    "the quality is a whole number from 1 to 100",
                ));
                DEFAULT_QUALITY
            }
        },
    };
    let operations = match fields.remove("operations") {
        Some(Value::Array(items)) => parse_operations(items, original, &mut violations),
        _ => {
            violations.push(Violation::new(
                "/operations",
                "`operations` is a list of steps such as {\"op\": \"resize\", \"width\": 1024}",
            ));
            Vec::new()
        }
    };
    if violations.is_empty() {
        Ok(JobSpec {
            operations,
            format,
            quality,
        })
    } else {
        Err(violations)
    }
}

fn parse_operations(
    items: Vec<Value>,
    original: Dimensions,
    violations: &mut Vec<Violation>,
) -> Vec<Operation> {
    if items.is_empty() || items.len() > MAX_OPERATIONS {
        violations.push(Violation::new(
            "/operations",
            format!("a job has from 1 to {MAX_OPERATIONS} operations"),
        ));
        return Vec::new();
    }
    let mut size = original;
    let mut operations = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let pointer = format!("/operations/{index}");
        let operation: Operation = match serde_json::from_value(item) {
            Ok(operation) => operation,
            Err(error) => {
                violations.push(Violation::new(
                    &pointer,
                    format!("not an operation ({error}); the operations are crop, resize, sharpen, blur and thumbnail"),
                ));
                // The sizes after an unreadable step are unknown; stop checking.
                return operations;
            }
        };
        let before = violations.len();
        check_bounds(&operation, size, &pointer, violations);
        if violations.len() > before {
            return operations;
        }
        size = operation.output_dimensions(size);
        operations.push(operation);
    }
    operations
}

fn check_bounds(
    operation: &Operation,
    size: Dimensions,
    pointer: &str,
    violations: &mut Vec<Violation>,
) {
    let mut refuse = |field: &str, detail: String| {
        violations.push(Violation::new(format!("{pointer}/{field}"), detail))
    };
    match *operation {
        Operation::Crop {
            x,
            y,
            width,
            height,
        } => {
            if width == 0 || height == 0 {
                refuse("width", "a crop is at least 1 pixel wide and high".into());
            } else if u64::from(x) + u64::from(width) > u64::from(size.width) {
                refuse(
                    "width",
                    format!(
                        "x + width is {}, past the image's width of {}",
                        u64::from(x) + u64::from(width),
                        size.width
                    ),
                );
            } else if u64::from(y) + u64::from(height) > u64::from(size.height) {
                refuse(
                    "height",
                    format!(
                        "y + height is {}, past the image's height of {}",
                        u64::from(y) + u64::from(height),
                        size.height
                    ),
                );
            }
        }
        Operation::Resize { width, height, .. } => {
            if width.is_none() && height.is_none() {
                refuse("width", "give a width, a height or both".into());
            }
            for (field, side) in [("width", width), ("height", height)] {
                if let Some(side) = side {
                    if !(1..=MAX_OUTPUT_SIDE).contains(&side) {
                        refuse(
                            field,
                            format!("a side is from 1 to {MAX_OUTPUT_SIDE} pixels"),
                        );
                    }
                }
            }
            let after = operation.output_dimensions(size);
            let sides_in_bounds = [width, height]
                .iter()
                .flatten()
                .all(|side| (1..=MAX_OUTPUT_SIDE).contains(side));
            if sides_in_bounds
                && (after.width > MAX_OUTPUT_SIDE
                    || after.height > MAX_OUTPUT_SIDE
                    || after.pixels() > MAX_OUTPUT_PIXELS)
            {
                refuse("width", format!("the result would be {}x{}, over the limit of {MAX_OUTPUT_SIDE} pixels a side and {MAX_OUTPUT_PIXELS} in all", after.width, after.height));
            }
        }
        Operation::Sharpen { sigma, amount } => {
            if !in_range(sigma, SHARPEN_SIGMA) {
                refuse(
                    "sigma",
                    format!("sigma is from {} to {}", SHARPEN_SIGMA.0, SHARPEN_SIGMA.1),
                );
            }
            if !in_range(amount, SHARPEN_AMOUNT) {
                refuse(
                    "amount",
                    format!(
                        "amount is from {} to {}",
                        SHARPEN_AMOUNT.0, SHARPEN_AMOUNT.1
                    ),
                );
            }
        }
        Operation::Blur { sigma } => {
            if !in_range(sigma, BLUR_SIGMA) {
                refuse(
                    "sigma",
                    format!("sigma is from {} to {}", BLUR_SIGMA.0, BLUR_SIGMA.1),
                );
            }
        }
        Operation::Thumbnail { size: side } => {
            if !(THUMBNAIL_SIZE.0..=THUMBNAIL_SIZE.1).contains(&side) {
                refuse(
                    "size",
                    format!(
                        "a thumbnail is from {} to {} pixels",
                        THUMBNAIL_SIZE.0, THUMBNAIL_SIZE.1
                    ),
                );
            }
        }
    }
}

fn in_range(value: f32, (low, high): (f32, f32)) -> bool {
    value.is_finite() && (low..=high).contains(&value)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const PHOTO: Dimensions = Dimensions {
        width: 4000,
        height: 3000,
    };

    fn pointers(body: Value) -> Vec<String> {
        parse_job_spec(body, PHOTO)
            .unwrap_err()
            .into_iter()
            .map(|violation| violation.pointer)
            .collect()
    }

    #[test]
    fn a_job_with_every_operation_parses_and_tracks_sizes() {
        let spec = parse_job_spec(
            json!({"operations": [
                {"op": "crop", "x": 100, "y": 100, "width": 3000, "height": 2000},
                {"op": "resize", "width": 1024, "height": 1024, "fit": "contain"},
                {"op": "sharpen", "sigma": 1.0, "amount": 0.8},
                {"op": "blur", "sigma": 0.5},
                {"op": "thumbnail", "size": 128},
            ], "format": "webp"}),
            PHOTO,
        )
        .unwrap();
        assert_eq!(spec.format, OutputFormat::Webp);
        assert_eq!(spec.quality, DEFAULT_QUALITY);
        assert_eq!(spec.result_dimensions(PHOTO), Dimensions::new(1024, 683));
        assert_eq!(
            Operation::thumbnail_dimensions(128, Dimensions::new(1024, 683)),
            Dimensions::new(128, 85)
        );
    }

    #[test]
    fn sizes_follow_each_fit() {
        let cases = [
            (Some(400), Some(400), Fit::Contain, (400, 300)),
            (Some(400), Some(400), Fit::Cover, (400, 400)),
            (Some(400), Some(100), Fit::Fill, (400, 100)),
            (Some(400), None, Fit::Contain, (400, 300)),
            (None, Some(300), Fit::Cover, (400, 300)),
        ];
        for (width, height, fit, (w, h)) in cases {
            let operation = Operation::Resize { width, height, fit };
            assert_eq!(
                operation.output_dimensions(PHOTO),
                Dimensions::new(w, h),
                "{operation:?}"
            );
        }
    }

    #[test]
    fn a_crop_outside_the_image_is_refused_where_it_is() {
        assert_eq!(
            pointers(
                json!({"operations": [{"op": "crop", "x": 3500, "y": 0, "width": 600, "height": 10}]})
            ),
            ["/operations/0/width"]
        );
        // Checked against the size after the resize, not the original's.
        assert_eq!(
            pointers(json!({"operations": [
                {"op": "resize", "width": 100},
                {"op": "crop", "x": 0, "y": 0, "width": 100, "height": 76},
            ]})),
            ["/operations/1/height"]
        );
    }

    #[test]
    fn out_of_bounds_values_are_refused() {
        let cases = [
            (json!({"op": "resize"}), "/operations/0/width"),
            (json!({"op": "resize", "width": 0}), "/operations/0/width"),
            (
                json!({"op": "resize", "height": 9000}),
                "/operations/0/height",
            ),
            (
                json!({"op": "resize", "width": 8000, "height": 8000, "fit": "fill"}),
                "/operations/0/width",
            ),
            (
                json!({"op": "sharpen", "sigma": 0.0, "amount": 1.0}),
                "/operations/0/sigma",
            ),
            (
                json!({"op": "sharpen", "sigma": 1.0, "amount": 50.0}),
                "/operations/0/amount",
            ),
            (json!({"op": "blur", "sigma": 500.0}), "/operations/0/sigma"),
            (json!({"op": "thumbnail", "size": 4}), "/operations/0/size"),
            (json!({"op": "rotate", "degrees": 90}), "/operations/0"),
            (
                json!({"op": "blur", "sigma": 1.0, "radius": 3}),
                "/operations/0",
            ),
            (
                json!({"op": "crop", "x": -1, "y": 0, "width": 1, "height": 1}),
                "/operations/0",
            ),
        ];
        for (operation, pointer) in cases {
            assert_eq!(
                pointers(json!({"operations": [operation]})),
                [pointer],
                "{operation}"
            );
        }
    }

    #[test]
    fn the_job_itself_is_checked() {
        assert_eq!(pointers(json!([])), [""]);
        assert_eq!(pointers(json!({})), ["/operations"]);
        assert_eq!(pointers(json!({"operations": []})), ["/operations"]);
        let many = vec![json!({"op": "blur", "sigma": 1.0}); MAX_OPERATIONS + 1];
        assert_eq!(pointers(json!({"operations": many})), ["/operations"]);
        assert_eq!(
            pointers(
                json!({"operations": [{"op": "blur", "sigma": 1.0}], "format": "gif", "quality": 0, "colour": 1})
            ),
            ["/colour", "/format", "/quality"]
        );
    }
}
