#!/usr/bin/env bash
# Copies the workflow histories the last test run saved (history-*.json in its run directory) into
# test/histories/<generation>/, the fixtures test/workflows/replay.test.ts replays against every change.
#
#   npx jest test/workflows/swarm-injection test/workflows/abort-race && bash scripts/save-histories.sh 2-trace-first-locally
#
# Each generation is the histories one build of the workflows wrote. Keep the older generations: a worker must replay
# whatever a previous build left running, so a change that needs a patch() shows up against them. Replacing a
# generation's files is for when that same build's histories are re-recorded.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
generation="${1:-}"
[[ "$generation" =~ ^[0-9]+-[a-z0-9-]+$ ]] || { echo "usage: save-histories.sh <n>-<name>, e.g. 2-trace-first-locally (a directory under test/histories)" >&2; exit 2; }
latest="$(ls -1dt "${TMPDIR:-/tmp}"/openclaw-test-* 2>/dev/null | while read -r dir; do
  if compgen -G "$dir/history-*.json" >/dev/null; then echo "$dir"; break; fi
done)"
[ -n "$latest" ] || { echo "save-histories: no run directory with saved histories under ${TMPDIR:-/tmp}" >&2; exit 1; }
target="$ROOT/test/histories/$generation"
mkdir -p "$target"
rm -f "$target"/history-*.json
cp "$latest"/history-*.json "$target/"
echo "save-histories: copied $(ls "$latest"/history-*.json | wc -l) histories from $latest to test/histories/$generation"
