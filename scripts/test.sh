#!/usr/bin/env bash
# The test command: everything CI checks, runnable from a clean clone on a fresh Debian machine.
#
#   scripts/test.sh
#
# 1. installs what is missing (scripts/ensure-deps.sh --test),
# 2. starts a dedicated ClickHouse for the tests in target/test-clickhouse on 127.0.0.1:28123
#    (TCP 29000), ports chosen so it never collides with a user's own server on 8123/9000,
# 3. runs cargo fmt --check, clippy with -D warnings, cargo test, tests/cron/run.sh, cargo package,
#    then tests/chdb/run.sh if present,
# 4. stops the test server (also on failure or Ctrl-C).
#
# The tests find their tools through the environment:
#   CLICKHOUSE_URL  http://127.0.0.1:28123 (users: default without password, ccusage_writer /
#                   writer-secret-pw, ccusage_reader / reader-secret-pw, readonly)
#   CCUSAGE18_BIN   ccusage 18.0.11, for the pre-19 command set
#   CHDB_PYTHON     a python3 that can `import chdb` (target/venv); tests/chdb/run.sh also gets
#                   target/venv/bin first on PATH, so plain `python3` works there too
#
# A failing check does not stop the later ones (one run shows every problem); the exit status is
# non-zero when any step failed, and the last line names the failed steps. Needs no stdin.
set -euo pipefail

readonly PROG="test.sh"
readonly CH_DIR=target/test-clickhouse
readonly CH_HTTP_PORT=28123
readonly CH_TCP_PORT=29000

header() { printf '\n==> %s\n' "$*"; }
die() { echo "$PROG: error: $*" >&2; exit 1; }

case ${1:-} in
    "") ;;
    -h | --help) sed -n '2,20s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "takes no arguments (got '$1')" ;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"
exec </dev/null

# User-level installs from ensure-deps.sh (npm's fallback prefix, rustup) must be found here too.
for d in "$HOME/.local/bin" "$HOME/.cargo/bin"; do
    if [[ -d $d && ":$PATH:" != *":$d:"* ]]; then PATH="$d:$PATH"; fi
done
export PATH

server_started=0
cleanup() {
    local rc=$?
    trap '' INT TERM # a second Ctrl-C must not leave the server running
    if ((server_started)); then
        bash scripts/clickhouse-server.sh stop --dir "$CH_DIR" || echo "$PROG: warning: could not stop the test ClickHouse" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- setup: a failure here stops the run -----------------------------------------------------

header "ensure dependencies (scripts/ensure-deps.sh --test)"
bash scripts/ensure-deps.sh --test || die "step 'ensure dependencies' failed"

header "start the test ClickHouse on 127.0.0.1:$CH_HTTP_PORT ($CH_DIR)"
# Each run starts from empty data, so a test never sees tables left by an earlier run; a server
# still running from an interrupted run is reused as it is.
if ! bash scripts/clickhouse-server.sh status --dir "$CH_DIR" >/dev/null 2>&1; then
    rm -rf "${CH_DIR:?}/data"
fi
server_started=1
url=$(bash scripts/clickhouse-server.sh start --dir "$CH_DIR" --http-port "$CH_HTTP_PORT" --tcp-port "$CH_TCP_PORT" | tail -n1) ||
    die "step 'start the test ClickHouse' failed"
echo "$url"

export CLICKHOUSE_URL="$url"
export CCUSAGE18_BIN="$root/target/ccusage-18/node_modules/.bin/ccusage"
export CHDB_PYTHON="$root/target/venv/bin/python"

# ---- checks: each runs even when an earlier one failed ----------------------------------------

failed=()
passed=()
step() {
    local name=$1 start=$SECONDS
    shift
    header "$name"
    if "$@"; then
        passed+=("$name")
        echo "$PROG: '$name' passed in $((SECONDS - start))s"
    else
        local rc=$?
        failed+=("$name")
        echo "$PROG: '$name' FAILED (exit $rc) after $((SECONDS - start))s" >&2
    fi
}

step "cargo fmt" cargo fmt --all -- --check
step "cargo clippy" cargo clippy --all-targets -- -D warnings
step "cargo test" cargo test --all-targets
step "tests/cron/run.sh" bash tests/cron/run.sh
# The crate as `cargo install --git` gets it: the files Cargo.toml includes (the SQL and the
# dashboard's assets among them) build on their own.
step "cargo package" cargo package --locked --allow-dirty --quiet
# The README's first command from a clean clone of what is committed (tests/newcomer/run.sh).
step "tests/newcomer/run.sh" bash tests/newcomer/run.sh
if [[ -f tests/chdb/run.sh ]]; then
    step "tests/chdb/run.sh" env PATH="$root/target/venv/bin:$PATH" bash tests/chdb/run.sh
fi

echo
if ((${#failed[@]} > 0)); then
    echo "$PROG: FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "$PROG: all steps passed: ${passed[*]}"
