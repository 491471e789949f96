#!/usr/bin/env bash
# Scans terraform/ with checkov (pinned, in its own virtualenv so its
# dependencies never meet moto's). Every check passes or is skipped inline,
# next to the resource, with the reason.
set -euo pipefail
cd "$(dirname "$0")/.."

# The pinned version is installed by scripts/install-toolchain.sh --ci.
[ -x .venv-checkov/bin/checkov ] || bash scripts/install-toolchain.sh --ci
.venv-checkov/bin/checkov --directory terraform --framework terraform --quiet --compact --output cli
