#!/usr/bin/env bash
# Checks the Terraform configuration without a cloud account:
#   terraform fmt -check, terraform validate, and terraform test (mocked providers).
# Needs terraform >= 1.9 and the hashicorp/aws 5.100.0 provider, from the
# registry or from a local mirror (TF_PLUGIN_DIR, default /opt/tf-plugins).
set -euo pipefail
cd "$(dirname "$0")/../terraform"

if ! command -v terraform >/dev/null; then
  echo "error: terraform is not installed; install terraform >= 1.9 to check terraform/ (no check was skipped silently)" >&2
  exit 1
fi
# No user CLI configuration: the checks must not depend on one.
export TF_CLI_CONFIG_FILE=/dev/null
export TF_IN_AUTOMATION=1
plugin_dir=${TF_PLUGIN_DIR:-/opt/tf-plugins}

terraform fmt -check -recursive
if [ -d "$plugin_dir" ]; then
  terraform init -input=false -backend=false -plugin-dir="$plugin_dir" >/dev/null
else
  echo "no provider mirror at $plugin_dir: initialising from the Terraform registry" >&2
  terraform init -input=false -backend=false >/dev/null
fi
terraform validate -no-color
terraform test -no-color
