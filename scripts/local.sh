#!/usr/bin/env bash
# The quickstart: the `local` stack deployed into an AWS emulator (moto server on 127.0.0.1),
# with its state in .local-state/. `make up-local` runs `scripts/local.sh up`, `make down-local`
# runs `scripts/local.sh down`. Nothing here talks to real AWS: the emulator's port and account
# come from Pulumi.local.yaml, and every AWS variable is set to fake, loopback-only values.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
STACK=local
STATE_DIR="$ROOT/.local-state"
PY="${ECR_PLATFORM_PYTHON:-$ROOT/venv/bin/python}"
POLICY_CONFIG=policy/config/local.json

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# "<port> <account>" of the emulator that Pulumi.local.yaml points the AWS provider at.
emulator_settings() {
  "$PY" - <<'EOF'
import sys
from urllib.parse import urlsplit

import yaml

config = yaml.safe_load(open("Pulumi.local.yaml"))["config"]
endpoints = {url for entry in config["aws:endpoints"] for url in entry.values()}
parts = {(urlsplit(url).hostname, urlsplit(url).port) for url in endpoints}
if len(parts) != 1 or next(iter(parts))[0] != "127.0.0.1" or next(iter(parts))[1] is None:
    sys.exit(f"Pulumi.local.yaml: aws:endpoints must all be http://127.0.0.1:<port>, got {sorted(endpoints)}")
print(next(iter(parts))[1], config["aws:allowedAccountIds"][0])
EOF
}

# Fake credentials, no profiles or metadata service, no proxy for loopback, a local file backend.
use_local_environment() {
  unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_ROLE_ARN \
    AWS_WEB_IDENTITY_TOKEN_FILE AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
  export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
  export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
  export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
  export no_proxy="$NO_PROXY"
  # The backend for this script's commands only: the user's own `pulumi login` stays as it was.
  export PULUMI_BACKEND_URL="file://$STATE_DIR"
  export PULUMI_CONFIG_PASSPHRASE=""
  export PULUMI_SKIP_UPDATE_CHECK=true
}

# The CLI every workflow installs (.pulumi-version); make up-local runs exactly that version.
pinned_version() {
  local version
  version=$(tr -d '[:space:]' < .pulumi-version 2>/dev/null) || true
  [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die ".pulumi-version must hold one Pulumi CLI version (X.Y.Z), not '$version'"
  echo "$version"
}

# Puts a Pulumi CLI of exactly the pinned version first on PATH: yours (on PATH or in
# ~/.pulumi/bin) when it is that version, else the copy this script installed in .local-state/cli/.
find_pulumi() {
  local version=$1 candidate
  for candidate in "$(command -v pulumi 2>/dev/null || true)" "$HOME/.pulumi/bin/pulumi" \
      "$STATE_DIR/cli/$version/bin/pulumi"; do
    if [[ -x "$candidate" && "$("$candidate" version 2>/dev/null)" == "v$version" ]]; then
      PATH="$(dirname "$candidate"):$PATH"
      export PATH
      return 0
    fi
  done
  return 1
}

ensure_pulumi() {
  local version install_root
  version=$(pinned_version)
  if find_pulumi "$version"; then
    say "Pulumi CLI v$version: $(command -v pulumi)"
    return
  fi
  install_root="$STATE_DIR/cli/$version"
  say "No Pulumi CLI v$version (.pulumi-version) found. Installing it with Pulumi's official installer"
  say "into $install_root (any other pulumi you have is left as it is):"
  say "  curl -fsSL https://get.pulumi.com | sh -s -- --version $version --install-root $install_root --no-edit-path"
  command -v curl >/dev/null 2>&1 \
    || die "curl is needed to run the installer; install curl or the Pulumi CLI v$version (https://www.pulumi.com/docs/install/) and run make up-local again"
  curl -fsSL https://get.pulumi.com | sh -s -- --version "$version" --install-root "$install_root" --no-edit-path \
    || die "the Pulumi installer failed (see above); install the CLI v$version (https://www.pulumi.com/docs/install/) and run make up-local again"
  find_pulumi "$version" || die "the installer finished but $install_root/bin/pulumi is not v$version; install the CLI v$version by hand and run make up-local again"
  say "Pulumi CLI v$version installed: $(command -v pulumi)"
}

start_emulator() {
  local port=$1 account=$2
  say "AWS emulator (moto server) on 127.0.0.1:$port, account $account:"
  "$PY" -m devtools.emulator start --port "$port" --account-id "$account" --state-dir "$STATE_DIR" \
    || die "the AWS emulator did not start (see above); nothing was deployed"
}

stop_emulator() {
  say "Stopping the AWS emulator"
  "$PY" -m devtools.emulator stop --state-dir "$STATE_DIR"
}

up() {
  [[ -f "$POLICY_CONFIG" ]] || die "$POLICY_CONFIG is missing: the policy pack's configuration for the local stack"
  local settings port account
  settings=$(emulator_settings)
  read -r port account <<<"$settings"
  use_local_environment
  ensure_pulumi
  start_emulator "$port" "$account"
  mkdir -p "$STATE_DIR"
  say "State backend: $PULUMI_BACKEND_URL (empty passphrase; your pulumi login is unchanged)"
  pulumi stack select --create "$STACK" --non-interactive
  say "pulumi up --stack $STACK with the policy pack in policy/ ($POLICY_CONFIG)"
  if ! pulumi up --stack "$STACK" --yes --refresh --non-interactive \
      --policy-pack policy --policy-pack-config "$POLICY_CONFIG"; then
    die "pulumi up failed (see above). The emulator is still running on 127.0.0.1:$port: fix the problem and run make up-local again, or make down-local to stop everything"
  fi
  say "The local stack is up. Its outputs (what product teams read):"
  pulumi stack output --stack "$STACK" --json
  say "Look around with any AWS client: AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing aws ecr describe-repositories"
  say "Stop everything with: make down-local"
}

down() {
  local settings port account version status=0
  settings=$(emulator_settings)
  read -r port account <<<"$settings"
  version=$(pinned_version)
  use_local_environment
  if ! find_pulumi "$version"; then
    say "No Pulumi CLI v$version: nothing to destroy (the emulator's resources vanish with it)"
  elif ! pulumi stack select "$STACK" --non-interactive >/dev/null 2>&1; then
    say "No local stack in $STATE_DIR: nothing to destroy"
  else
    # destroy needs the API; an emulator that died took its resources along, and --refresh notices.
    start_emulator "$port" "$account"
    say "pulumi destroy --stack $STACK"
    pulumi destroy --stack "$STACK" --yes --refresh --non-interactive || status=$?
  fi
  stop_emulator
  if [[ $status -ne 0 ]]; then
    die "pulumi destroy failed (see above); the emulator is stopped, and the next make up-local refreshes the stale state"
  fi
  say "Everything make up-local started is stopped"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) die "usage: scripts/local.sh up|down" ;;
esac
