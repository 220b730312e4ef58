#!/usr/bin/env bash
# Builds the reference agent image offline: a local Node base (docker import of this machine's node + libs)
# when missing, then openclaw/agent:<content-hash>, tagged openclaw/agent:local. Skips what already exists.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BASE_IMAGE="${OPENCLAW_AGENT_BASE_IMAGE:-openclaw/node-base:local}"
AGENT_REPO="openclaw/agent"
DOCKERFILE="$ROOT/src/agent/Dockerfile"
AGENT_UID=1000
HASH_CHARS=16

say() { printf 'build-agent-image: %s\n' "$*" >&2; }

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

build_local_base() {
  local node_bin rootfs lib target
  node_bin="$(readlink -f "$(command -v node)")"
  rootfs="$(mktemp -d)"
  trap 'rm -rf "$rootfs"' RETURN
  mkdir -p "$rootfs/usr/local/bin" "$rootfs/etc" "$rootfs/tmp" "$rootfs/app"
  chmod 1777 "$rootfs/tmp"
  cp "$node_bin" "$rootfs/usr/local/bin/node"
  # Every library ldd names, and the dynamic loader, at the path the binary asks for (symlinks resolved).
  while read -r lib; do
    [ -n "$lib" ] || continue
    target="$rootfs$lib"
    mkdir -p "$(dirname "$target")"
    cp -L "$lib" "$target"
  done < <(ldd "$node_bin" | awk '/=> \//{print $3} /^[[:space:]]*\/[^ ]+/{print $1}')
  printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnode:x:%s:%s:node:/home/node:/usr/sbin/nologin\n' "$AGENT_UID" "$AGENT_UID" >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnode:x:%s:\n' "$AGENT_UID" >"$rootfs/etc/group"
  mkdir -p "$rootfs/home/node"
  tar -C "$rootfs" --numeric-owner --owner=0 --group=0 -cf - . |
    docker import \
      --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
      --change "LABEL openclaw.node-version=$(node --version)" \
      - "$BASE_IMAGE" >/dev/null
  say "imported local base $BASE_IMAGE from $node_bin ($(node --version))"
}

if image_exists "$BASE_IMAGE"; then
  say "base $BASE_IMAGE present"
elif [ "$BASE_IMAGE" = "openclaw/node-base:local" ]; then
  build_local_base
else
  say "base $BASE_IMAGE is not present locally; pull it or unset OPENCLAW_AGENT_BASE_IMAGE"
  exit 1
fi

# A private build context per run, so concurrent runs (parallel test workers) never share a directory.
CONTEXT_DIR="$(mktemp -d)"
trap 'rm -rf "$CONTEXT_DIR"' EXIT
mkdir -p "$CONTEXT_DIR/skeleton/injected-programs" "$CONTEXT_DIR/skeleton/logs" "$CONTEXT_DIR/skeleton/state"
(cd "$ROOT" && npx tsc -p src/agent/tsconfig.json --outDir "$CONTEXT_DIR/runtime")
say "compiled the agent runtime (src/agent, src/bytecode)"

# Content hash: the Dockerfile, every file in the context (path and bytes), and the base image id.
base_id="$(docker image inspect --format '{{.Id}}' "$BASE_IMAGE")"
hash="$(
  {
    printf '%s\n' "$base_id"
    sha256sum "$DOCKERFILE" | awk '{print $1}'
    (cd "$CONTEXT_DIR" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
    (cd "$CONTEXT_DIR" && find . -type d | LC_ALL=C sort)
  } | sha256sum | cut -c1-"$HASH_CHARS"
)"
tag="$AGENT_REPO:$hash"

if image_exists "$tag"; then
  say "$tag already built; nothing to do"
else
  docker build --quiet \
    --file "$DOCKERFILE" \
    --build-arg "BASE_IMAGE=$BASE_IMAGE" \
    --label "openclaw.content-hash=$hash" \
    --tag "$tag" \
    "$CONTEXT_DIR" >/dev/null
  say "built $tag"
fi
docker tag "$tag" "$AGENT_REPO:local"
say "tagged $AGENT_REPO:local -> $tag"
printf '%s\n' "$tag"
