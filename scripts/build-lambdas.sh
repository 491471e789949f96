#!/usr/bin/env bash
# Builds the two Lambda functions for provided.al2023 (x86_64) into the zips
# Terraform uploads: target/lambda/api-lambda/bootstrap.zip and
# target/lambda/photo-lambda/bootstrap.zip. cargo-lambda (from
# scripts/install-toolchain.sh) cross-links with zig against the glibc of
# Amazon Linux 2023. arm64 needs an aarch64 standard library (`--arm64`),
# which this machine's toolchain lacks. These are the packages to deploy.
#
# --from-test-build packages the functions' binaries that `cargo test
# --workspace` has already built (the dev profile, linked for this machine)
# instead, in a few seconds. They are for checks that upload packages but
# never run them, such as CI's `terraform apply` against the moto emulator:
# a release build would compile the whole dependency graph a second time,
# with link-time optimisation, for a package nobody runs. Never deploy them.
set -euo pipefail
cd "$(dirname "$0")/.."

functions=(api-lambda photo-lambda)

if [ "${1:-}" = --from-test-build ]; then
  # A no-op after `cargo test --workspace`, which builds these binaries for
  # the functions' integration tests; otherwise it builds them the same way.
  cargo test --quiet --workspace --no-run
  for function in "${functions[@]}"; do
    out=target/lambda/$function
    mkdir -p "$out"
    rm -f "$out/bootstrap" "$out/bootstrap.zip"
    # Debug info is most of a dev binary's size; the upload needs none.
    objcopy --strip-debug "target/debug/$function" "$out/bootstrap"
    (cd "$out" && python3 -m zipfile -c bootstrap.zip bootstrap && rm bootstrap)
  done
else
  [ -x .venv/bin/cargo-lambda ] || bash scripts/install-toolchain.sh
  PATH="$PWD/.venv/bin:$PATH" cargo lambda build --release --output-format zip -p api-lambda -p photo-lambda
fi
for function in "${functions[@]}"; do
  zip=target/lambda/$function/bootstrap.zip
  [ -s "$zip" ] || { echo "error: $zip was not written" >&2; exit 1; }
  echo "$zip: $(stat -c %s "$zip") bytes"
done
