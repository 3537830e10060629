#!/usr/bin/env bash
# Every named query of sql/queries.sql and sql/dashboard.sql on both ends of the ClickHouse range.
#
#   tests/chdb/run.sh
#
# 1. makes Claude Code logs for two machines (scripts/gen_claude_logs.py) and imports them with
#    the real binary (target/debug/ccusage-import) and real ccusage into a fresh database on the
#    test server ($CLICKHOUSE_URL: ClickHouse 18.16 in scripts/test.sh); the second machine is
#    imported twice with more logs in between, so its tables hold rows a later import replaced;
# 2. runs tests/chdb/check_queries.py, which loads the same schema and rows into chdb (a current
#    ClickHouse engine, from PyPI), runs every query on both engines, compares the answers, and
#    checks the totals against ccusage's own.
#
# scripts/test.sh calls it after cargo test, with CLICKHOUSE_URL set and target/venv/bin first
# on PATH. Run alone, it builds the binary if missing and starts (or reuses) the integration
# tests' server on 127.0.0.1:28124 when CLICKHOUSE_URL is unset. Prints `N passed, M failed`
# last; exits non-zero on any failure. The database is dropped when everything passed.
set -euo pipefail

readonly PROG="tests/chdb/run.sh"
die() { echo "$PROG: error: $*" >&2; exit 1; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$root"
exec </dev/null

python=${CHDB_PYTHON:-python3}
"$python" -c 'import chdb' 2>/dev/null ||
    die "$python cannot import chdb: run scripts/ensure-deps.sh --test (it installs target/venv)"
command -v ccusage >/dev/null || die "ccusage is not on PATH: run scripts/ensure-deps.sh --test"

url=${CLICKHOUSE_URL:-}
if [[ -z $url ]]; then
    url=$(bash scripts/clickhouse-server.sh start --dir target/it-clickhouse \
        --http-port 28124 --tcp-port 29001 | tail -n1) || die "could not start a test ClickHouse"
fi

bin="$root/target/debug/ccusage-import"
if [[ ! -x $bin ]]; then
    cargo build --quiet || die "cargo build failed"
fi

work=$(mktemp -d)
database="chdb_check_$$"
passed=0
cleanup() {
    rm -rf "$work"
    if ((passed)); then
        curl -sS --fail --data-binary "DROP DATABASE IF EXISTS $database" "$url/" >/dev/null || true
    else
        echo "$PROG: the database $database on $url is left for inspection" >&2
    fi
}
trap cleanup EXIT

generate() { # DIR ARGS...
    local out=$1
    shift
    local log
    log=$(python3 scripts/gen_claude_logs.py --out "$out" "$@" 2>&1) || die "the log generator failed: $log"
}

import() { # MACHINE CLAUDE_DIR: a clean environment, so nothing leaks in from the shell or a .env
    (cd "$work" && env -i PATH="$PATH" HOME="$work" CH_URL="$url" CH_DATABASE="$database" \
        CLAUDE_CONFIG_DIR="$2" "$bin" --machine-name "$1" --quiet) ||
        die "importing $1 failed"
}

generate "$work/laptop" --projects 3 --days 40 --lines 2000 --seed 3 --active
generate "$work/desktop" --projects 2 --days 12 --lines 600 --seed 9
import laptop "$work/laptop"
import desktop "$work/desktop"
# More sessions in the same projects and days: the second import replaces rows of the first.
generate "$work/desktop" --projects 2 --days 4 --lines 200 --seed 10
import desktop "$work/desktop"

"$python" tests/chdb/check_queries.py --url "$url" --database "$database" \
    --machine "laptop=$work/laptop" --machine "desktop=$work/desktop"
passed=1
