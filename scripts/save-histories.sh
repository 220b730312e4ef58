#!/usr/bin/env bash
# Copies the workflow histories the last test run saved (history-*.json in its run directory) into test/histories/,
# replacing the fixtures that test/workflows/replay.test.ts replays. Run after `npx jest test/workflows/swarm-injection`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
latest="$(ls -1dt "${TMPDIR:-/tmp}"/openclaw-test-* 2>/dev/null | while read -r dir; do
  if compgen -G "$dir/history-*.json" >/dev/null; then echo "$dir"; break; fi
done)"
[ -n "$latest" ] || { echo "save-histories: no run directory with saved histories under ${TMPDIR:-/tmp}" >&2; exit 1; }
rm -f "$ROOT"/test/histories/history-*.json
cp "$latest"/history-*.json "$ROOT/test/histories/"
echo "save-histories: copied $(ls "$latest"/history-*.json | wc -l) histories from $latest"
