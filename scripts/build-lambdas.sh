#!/usr/bin/env bash
# Builds the two Lambda functions for provided.al2023 (x86_64) into the zips
# Terraform uploads: target/lambda/api-lambda/bootstrap.zip and
# target/lambda/photo-lambda/bootstrap.zip. cargo-lambda (from
# scripts/install-toolchain.sh) cross-links with zig against the glibc of
# Amazon Linux 2023. arm64 needs an aarch64 standard library (`--arm64`),
# which this machine's toolchain lacks.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x .venv/bin/cargo-lambda ] || bash scripts/install-toolchain.sh
PATH="$PWD/.venv/bin:$PATH" cargo lambda build --release --output-format zip -p api-lambda -p photo-lambda
for function in api-lambda photo-lambda; do
  zip=target/lambda/$function/bootstrap.zip
  [ -s "$zip" ] || { echo "error: $zip was not written" >&2; exit 1; }
  echo "$zip: $(stat -c %s "$zip") bytes"
done
