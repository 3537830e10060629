#!/usr/bin/env bash
# The README's first command, as a newcomer runs it: from a clean clone of this repository,
# `scripts/install.sh --local-clickhouse` installs what is missing, builds the binary, writes
# .env, starts a private ClickHouse and imports this machine's logs. Run by scripts/test.sh.
#
# Differences from a newcomer's machine, each to keep the test command fast and its own:
# the dev profile (CCUSAGE_IMPORT_BUILD_PROFILE=dev) and this checkout's target directory (so
# the dependencies are not compiled again), a free port instead of 8123, XDG directories under a
# temporary directory (the server's data, no user settings file), and generated Claude logs
# (CLAUDE_CONFIG_DIR). Prints `ok`/`not ok` lines and `N passed, M failed`.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/newcomer.XXXXXX")
server_dir=$tmp/state/ccusage-import/clickhouse
cleanup() {
    bash "$root/scripts/clickhouse-server.sh" stop --dir "$server_dir" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT

passed=0 failed=0
check() {
    local what=$1
    shift
    if "$@"; then echo "ok   - $what"; passed=$((passed + 1)); else echo "not ok - $what"; failed=$((failed + 1)); fi
}

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
git clone -q "$root" "$tmp/clone"
python3 "$root/scripts/gen_claude_logs.py" --out "$tmp/claude" --projects 2 --days 4 --lines 120 --seed 7 >/dev/null 2>&1

set +e
(
    cd "$tmp/clone"
    env CCUSAGE_IMPORT_BUILD_PROFILE=dev CARGO_TARGET_DIR="$root/target" \
        XDG_STATE_HOME="$tmp/state" XDG_CONFIG_HOME="$tmp/config" CLAUDE_CONFIG_DIR="$tmp/claude" \
        bash scripts/install.sh --local-clickhouse --ch-port "$port" --machine-name newcomer
) >"$tmp/install.log" 2>&1
rc=$?
set -e

check "scripts/install.sh --local-clickhouse exits 0 from a clean clone (exit $rc)" test "$rc" -eq 0
check "... and created .env from .env.example, mode 600" \
    test "$(stat -c %a "$tmp/clone/.env" 2>/dev/null)" = 600
stored=$(curl -s "http://127.0.0.1:$port/" --data-binary \
    "SELECT sum(total_tokens) FROM ccusage.ccusage_v_daily_summary WHERE machine_name = 'newcomer'" || true)
printed=$(cd "$tmp" && CLAUDE_CONFIG_DIR="$tmp/claude" TZ=UTC ccusage claude daily --json --offline \
    --timezone UTC | python3 -c 'import json, sys; print(json.load(sys.stdin)["totals"]["totalTokens"])')
check "... and its first import stored what ccusage counts ($stored of $printed tokens)" \
    test "${stored:-0}" = "$printed"

if ((failed > 0)); then
    echo "--- install.sh's output:"
    tail -n 40 "$tmp/install.log"
fi
echo "$passed passed, $failed failed"
((failed == 0))
