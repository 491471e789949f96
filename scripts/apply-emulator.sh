#!/usr/bin/env bash
# Applies terraform/ for real, against the moto AWS emulator: two regions,
# with `emulator = true` switching off what moto cannot create (DynamoDB
# replica blocks, the redrive allow policy) and `deploy_edge = false`. Then
#   1. checks through the AWS SDK (boto3) that the tables, queues, buckets
#      and functions exist with the right keys, TTL, redrive and settings;
#   2. runs `terraform plan -detailed-exitcode`: nothing may change (no
#      perpetual diff);
#   3. destroys everything.
# The Lambda packages are target/lambda/*/bootstrap.zip when built
# (`cargo lambda build --release --output-format zip`), else a placeholder.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

[ -x .venv/bin/moto_server ] || bash scripts/install-toolchain.sh
work=$(mktemp -d)
moto_pid=
cleanup() {
  [ -n "$moto_pid" ] && kill "$moto_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# Certificates are issued at once instead of after 60 s.
MOTO_ACM_VALIDATION_WAIT=0 .venv/bin/moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
for _ in $(seq 50); do curl -fs "$AWS_ENDPOINT_URL/moto-api/" >/dev/null 2>&1 && break; sleep 0.2; done
# Functions are created, not run: moto would need Docker to run them.
curl -fs -X POST "$AWS_ENDPOINT_URL/moto-api/config" -H 'content-type: application/json' -d '{"lambda": {"use_docker": false}}' >/dev/null

zone=$(.venv/bin/python - <<'PY'
import boto3
zone = boto3.client("route53").create_hosted_zone(Name="millions.test", CallerReference="apply-emulator")
print(zone["HostedZone"]["Id"].split("/")[-1])
PY
)

api_zip=target/lambda/api-lambda/bootstrap.zip
photo_zip=target/lambda/photo-lambda/bootstrap.zip
[ -f "$api_zip" ] || api_zip=terraform/tests/fixtures/bootstrap.zip
[ -f "$photo_zip" ] || photo_zip=terraform/tests/fixtures/bootstrap.zip
echo "packages: $api_zip, $photo_zip" >&2

export TF_CLI_CONFIG_FILE=/dev/null TF_IN_AUTOMATION=1 TF_DATA_DIR="$work/tf-data"
plugin_dir=${TF_PLUGIN_DIR:-/opt/tf-plugins}
tf() { terraform -chdir=terraform "$@"; }
if [ -d "$plugin_dir" ]; then
  tf init -input=false -plugin-dir="$plugin_dir" >/dev/null
else
  tf init -input=false >/dev/null
fi
vars=(-var emulator=true -var deploy_edge=false -var api_domain=api.millions.test -var "hosted_zone_id=$zone"
      -var "api_lambda_zip=$root/$api_zip" -var "photo_lambda_zip=$root/$photo_zip" -state="$work/terraform.tfstate")

echo "terraform apply against moto" >&2
start=$(date +%s)
tf apply -input=false -auto-approve -no-color "${vars[@]}" >"$work/apply.log" || { tail -40 "$work/apply.log"; exit 1; }
echo "applied $(grep -c 'Creation complete' "$work/apply.log") resources in $(( $(date +%s) - start )) s" >&2

echo "checking what was created" >&2
.venv/bin/python scripts/emulator_smoke.py

echo "terraform plan right after apply" >&2
set +e
tf plan -input=false -detailed-exitcode -no-color "${vars[@]}" >"$work/plan.log"
plan=$?
set -e
if [ "$plan" -ne 0 ]; then
  grep -E '^\s+[~+-/]|will be|must be' "$work/plan.log" | head -40
  echo "error: the plan after apply is not empty (exit $plan): a perpetual diff" >&2
  exit 1
fi
echo "plan after apply: no changes" >&2

tf destroy -input=false -auto-approve -no-color "${vars[@]}" >"$work/destroy.log" || { tail -40 "$work/destroy.log"; exit 1; }
echo "destroyed $(grep -c 'Destruction complete' "$work/destroy.log") resources" >&2
