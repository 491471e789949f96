#!/usr/bin/env bash
# The photo pipeline against libvips on the same 12-megapixel JPEG, in the
# same run: decode, crop to 3600x2700, resize to 1024 px wide, sharpen, blur,
# encode as JPEG at quality 85. Reports images per second and peak memory
# (GNU time's maximum resident set) for each, and the throughput ratio.
#   bash scripts/bench-photos.sh        ITERATIONS=20 ROUNDS=3 by default
# libvips runs twice: in one process through pyvips (its Python binding,
# PyPI, on Debian's libvips; the ratio is taken against this one), and as
# its command-line tool, one process per step with the fast `.v` format in
# between, as a shell script would use it. Every side uses the cores it wants.
set -euo pipefail
cd "$(dirname "$0")/.."

ITERATIONS=${ITERATIONS:-20}
ROUNDS=${ROUNDS:-3}
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v vips >/dev/null || [ ! -x /usr/bin/time ]; then
  echo "installing libvips-tools and time (Debian packages)" >&2
  as_root apt-get update -qq >&2 && as_root apt-get install -y -qq libvips-tools time >&2
fi
cargo build --release --quiet -p millions-imaging --example pipeline_bench >&2
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -c 'import pyvips' 2>/dev/null || .venv/bin/pip install -q 'pyvips==3.2.0' >&2
bench=target/release/examples/pipeline_bench

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bench" generate "$work/photo.jpg"

vips_once() {
  vips crop "$work/photo.jpg" "$work/1.v" 200 150 3600 2700
  vips resize "$work/1.v" "$work/2.v" "$(awk 'BEGIN { print 1024 / 3600 }')" --kernel lanczos3
  vips sharpen "$work/2.v" "$work/3.v" --sigma 1
  vips gaussblur "$work/3.v" "$work/4.v" 0.6
  vips jpegsave "$work/4.v" "$work/out.jpg" --Q 85
}
export -f vips_once
export work

rust_rates=()
pyvips_rates=()
vips_rates=()
for round in $(seq "$ROUNDS"); do
  /usr/bin/time -f "%M" -o "$work/rust.mem" "$bench" run "$work/photo.jpg" "$ITERATIONS" >"$work/rust.json"
  rust_rates+=("$(sed -E 's/.*"images_per_second": ([0-9.]+).*/\1/' "$work/rust.json")")
  rust_mem=$(cat "$work/rust.mem")
  /usr/bin/time -f "%M" -o "$work/pyvips.mem" .venv/bin/python scripts/vips_pipeline.py "$work/photo.jpg" "$ITERATIONS" >"$work/pyvips.json"
  pyvips_rates+=("$(sed -E 's/.*"images_per_second": ([0-9.]+).*/\1/' "$work/pyvips.json")")
  pyvips_mem=$(cat "$work/pyvips.mem")
  start=$(date +%s.%N)
  peak=0
  for _ in $(seq "$ITERATIONS"); do
    /usr/bin/time -f "%M" -o "$work/vips.mem" bash -c vips_once
    mem=$(cat "$work/vips.mem")
    [ "$mem" -gt "$peak" ] && peak=$mem
  done
  end=$(date +%s.%N)
  vips_rates+=("$(awk -v n="$ITERATIONS" -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", n / (e - s) }')")
  vips_mem=$peak
  echo "round $round: rust ${rust_rates[-1]} img/s (${rust_mem} KiB), pyvips ${pyvips_rates[-1]} img/s (${pyvips_mem} KiB), vips CLI ${vips_rates[-1]} img/s (${vips_mem} KiB)" >&2
done

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
rust=$(median "${rust_rates[@]}")
pyvips=$(median "${pyvips_rates[@]}")
vips=$(median "${vips_rates[@]}")
ratio=$(awk -v r="$rust" -v v="$pyvips" 'BEGIN { printf "%.2f", r / v }')
version=$(vips --version | awk '{ print $1 }' | sed 's/vips-//')
echo "| pipeline | images/s (median of $ROUNDS rounds of $ITERATIONS) | peak RSS |"
echo "|---|---|---|"
echo "| millions-imaging (image + fast_image_resize) | $rust | $((rust_mem / 1024)) MiB |"
echo "| libvips $version in one process (pyvips) | $pyvips | $((pyvips_mem / 1024)) MiB (with the Python interpreter) |"
echo "| libvips $version as the vips CLI, one process per step | $vips | $((vips_mem / 1024)) MiB (largest step) |"
echo
echo "Throughput ratio millions / libvips in one process: **$ratio** (target: at least 1.0)."
echo "Machine: $(nproc) cores, $(uname -srm)."
