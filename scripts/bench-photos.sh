#!/usr/bin/env bash
# The photo pipeline against libvips on the same 12-megapixel JPEG, in the
# same run: decode, crop to 3600x2700, resize to 1024 px wide, sharpen, blur,
# encode as JPEG at quality 85. Reports images per second and peak memory
# (GNU time's maximum resident set) for each, and the throughput ratio.
#   bash scripts/bench-photos.sh        ITERATIONS=20 ROUNDS=3 by default
# libvips runs as its command-line tool (`vips`, Debian's libvips-tools),
# one process per step with the fast `.v` format in between, as a shell
# pipeline would use it; both sides use every core they want.
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
vips_rates=()
for round in $(seq "$ROUNDS"); do
  /usr/bin/time -f "%M" -o "$work/rust.mem" "$bench" run "$work/photo.jpg" "$ITERATIONS" >"$work/rust.json"
  rust_rates+=("$(sed -E 's/.*"images_per_second": ([0-9.]+).*/\1/' "$work/rust.json")")
  rust_mem=$(cat "$work/rust.mem")
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
  echo "round $round: rust ${rust_rates[-1]} img/s (${rust_mem} KiB), vips ${vips_rates[-1]} img/s (${vips_mem} KiB)" >&2
done

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
rust=$(median "${rust_rates[@]}")
vips=$(median "${vips_rates[@]}")
ratio=$(awk -v r="$rust" -v v="$vips" 'BEGIN { printf "%.2f", r / v }')
echo "| pipeline | images/s (median of $ROUNDS rounds of $ITERATIONS) | peak RSS |"
echo "|---|---|---|"
echo "| millions-imaging (image + fast_image_resize) | $rust | $((rust_mem / 1024)) MiB |"
echo "| libvips $(vips --version | awk '{ print $1 }' | sed 's/vips-//') (vips CLI, one process per step) | $vips | $((vips_mem / 1024)) MiB (largest step) |"
echo
echo "Throughput ratio millions / libvips: **$ratio** (target: at least 1.0)."
echo "Machine: $(nproc) cores, $(uname -srm)."
