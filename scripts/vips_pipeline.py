"""The benchmark pipeline of scripts/bench-photos.sh on libvips in one
process (pyvips): decode, crop, resize to 1024 px wide, sharpen, blur,
encode as JPEG at quality 85. Prints the same JSON as pipeline_bench."""

import json
import sys
import time

import pyvips


def main(path, iterations):
    start = time.perf_counter()
    for _ in range(iterations):
        image = pyvips.Image.new_from_file(path, access="sequential")
        image = image.crop(200, 150, 3600, 2700)
        image = image.resize(1024 / 3600, kernel="lanczos3")
        image = image.sharpen(sigma=1.0)
        image = image.gaussblur(0.6)
        out = image.jpegsave_buffer(Q=85)
        assert image.width == 1024 and image.height == 768 and out
    seconds = time.perf_counter() - start
    print(json.dumps({"images": iterations, "seconds": round(seconds, 3),
                      "images_per_second": round(iterations / seconds, 3)}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
