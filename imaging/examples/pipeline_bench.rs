//! Runs the benchmark pipeline of `scripts/bench-photos.sh` on one image:
//! decode, crop, resize to 1024 px wide, sharpen, blur, encode as JPEG.
//!
//! ```text
//! cargo run --release -p millions-imaging --example pipeline_bench -- generate photo.jpg
//! cargo run --release -p millions-imaging --example pipeline_bench -- run photo.jpg 10
//! ```

use std::time::Instant;

use millions_core::photos::{parse_job_spec, Dimensions};
use millions_imaging::{run_pipeline, DecodeLimits};

/// 4000 × 3000: 12 megapixels, a phone camera's photo.
const WIDTH: u32 = 4000;
const HEIGHT: u32 = 3000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["generate", path] => generate(path),
        ["run", path, iterations] => run(path, iterations.parse().expect("a number of iterations")),
        _ => eprintln!("usage: pipeline_bench generate PATH | run PATH ITERATIONS"),
    }
}

/// A photo-like test image: gradients with fine texture, so the JPEG has
/// the entropy of a real photo (a flat image would decode unrealistically fast).
fn generate(path: &str) {
    let mut state = 0x2545_f491_u32;
    let image = image::RgbImage::from_fn(WIDTH, HEIGHT, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = state % 24;
        image::Rgb([
            ((x * 200 / WIDTH) + noise) as u8,
            ((y * 200 / HEIGHT) + noise) as u8,
            (((x / 7 + y / 5) % 160) + noise) as u8,
        ])
    });
    image
        .save_with_format(path, image::ImageFormat::Jpeg)
        .expect("the image is written");
}

fn run(path: &str, iterations: u32) {
    let original = std::fs::read(path).expect("the image is readable");
    let spec = parse_job_spec(
        serde_json::json!({"operations": [
            {"op": "crop", "x": 200, "y": 150, "width": 3600, "height": 2700},
            {"op": "resize", "width": 1024},
            {"op": "sharpen", "sigma": 1.0, "amount": 0.8},
            {"op": "blur", "sigma": 0.6},
        ], "format": "jpeg", "quality": 85}),
        Dimensions::new(WIDTH, HEIGHT),
    )
    .expect("the benchmark job is valid");
    let limits = DecodeLimits::default();
    let start = Instant::now();
    for _ in 0..iterations {
        let outputs = run_pipeline(&original, &spec, &limits).expect("the pipeline runs");
        assert_eq!(outputs[0].dimensions, Dimensions::new(1024, 768));
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{{\"images\": {iterations}, \"seconds\": {seconds:.3}, \"images_per_second\": {:.3}}}",
        f64::from(iterations) / seconds
    );
}
