#!/usr/bin/env bash
# Scans terraform/ with checkov (pinned, in its own virtualenv so its
# dependencies never meet moto's). Every check passes or is skipped inline,
# next to the resource, with the reason.
set -euo pipefail
cd "$(dirname "$0")/.."

CHECKOV_VERSION=3.3.30
if ! .venv-checkov/bin/pip show checkov 2>/dev/null | grep -x "Version: $CHECKOV_VERSION" >/dev/null; then
  echo "installing checkov $CHECKOV_VERSION into .venv-checkov" >&2
  python3 -m venv .venv-checkov
  .venv-checkov/bin/pip install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION"
fi
.venv-checkov/bin/checkov --directory terraform --framework terraform --quiet --compact --output cli
