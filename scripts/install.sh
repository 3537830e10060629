#!/usr/bin/env bash
# A newcomer's one command on a fresh Debian/Ubuntu machine: from a clone to a first import.
#
#   scripts/install.sh [--local-clickhouse] [ccusage-import arguments...]
#
# 1. installs what is missing to build and run (scripts/ensure-deps.sh --no-clickhouse),
# 2. builds the release binary,
# 3. creates .env from .env.example when there is no .env yet,
# 4. asks the binary where its ClickHouse is (`ccusage-import config`, with the arguments given
#    here). A server elsewhere, or one already answering here, is used as it is. When the
#    settings point at this machine and nothing answers, it stops and says so, unless you
#    asked for a private server with --local-clickhouse: then it installs the ClickHouse
#    packages and starts one in the background (scripts/clickhouse-server.sh; it keeps running,
#    `scripts/clickhouse-server.sh stop` stops it). A second machine of a fleet joins the
#    fleet's server instead: target/release/ccusage-import init.
# 5. runs the binary (target/release/ccusage-import) with the arguments given here, and exits with its code.
#
# Safe to re-run: each step does nothing when its work is already done.
#
# CCUSAGE_IMPORT_BUILD_PROFILE=dev builds the unoptimised binary instead (faster to build; the
# test command uses it to run this script from a clean clone), and CARGO_TARGET_DIR is honoured.
set -euo pipefail

readonly PROG="install.sh"

die() { echo "$PROG: error: $*" >&2; exit 1; }
step_no=0
header() { step_no=$((step_no + 1)); printf '\n==> [%d/5] %s\n' "$step_no" "$*"; }

case ${1:-} in
    -h | --help)
        sed -n '2,18s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
        exit 0
        ;;
esac
# --local-clickhouse is this script's; every other argument is the importer's.
local_clickhouse=0
args=()
for arg in "$@"; do
    if [[ $arg == --local-clickhouse ]]; then local_clickhouse=1; else args+=("$arg"); fi
done
set -- ${args[@]+"${args[@]}"}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"

profile=${CCUSAGE_IMPORT_BUILD_PROFILE:-release}
case $profile in
    release) bin=${CARGO_TARGET_DIR:-target}/release/ccusage-import ;;
    dev) bin=${CARGO_TARGET_DIR:-target}/debug/ccusage-import ;;
    *) die "CCUSAGE_IMPORT_BUILD_PROFILE is release or dev, not '$profile'" ;;
esac

# rustup's and npm's user-level bin directories, in case the login shell has not added them yet.
for d in "$HOME/.local/bin" "$HOME/.cargo/bin"; do
    if [[ -d $d && ":$PATH:" != *":$d:"* ]]; then PATH="$d:$PATH"; fi
done
export PATH

# True when the URL's host is this machine: then we may install and start ClickHouse.
host_is_local() {
    local host=$1
    host=${host#*://}   # http://localhost:8123/
    host=${host%%/*}
    case $host in
        \[*\]*) host=${host%%]*}; host=${host#[} ;; # [::1]:8123
        *:*:*) ;;                                   # bare IPv6
        *) host=${host%%:*} ;;                      # host:port
    esac
    case ${host,,} in
        "" | localhost | localhost.localdomain | 127.* | ::1 | 0:0:0:0:0:0:0:1) return 0 ;;
        *) return 1 ;;
    esac
}

# ---- 1. dependencies -------------------------------------------------------------------------

header "dependencies"
# The ClickHouse packages wait for step 4: only the binary knows where the database is.
bash scripts/ensure-deps.sh --no-clickhouse

# ---- 2. build --------------------------------------------------------------------------------

header "build (cargo build --profile $profile)"
cargo build --profile "$profile" || die "cargo build --profile $profile failed"

# ---- 3. .env ---------------------------------------------------------------------------------

header "configuration (.env)"
if [[ -e .env ]]; then
    echo ".env exists: keeping it"
elif [[ -f .env.example ]]; then
    # It will hold the ClickHouse password: readable by you alone from the start.
    (umask 077 && cp .env.example .env)
    echo "created .env from .env.example (mode 600): edit it to point at your ClickHouse"
else
    echo "no .env and no .env.example: using the environment and built-in defaults"
fi

# ---- 4. local ClickHouse ---------------------------------------------------------------------

header "ClickHouse"
# The binary resolves the settings (flags, environment, .env, defaults) exactly as the import
# below will; reading .env here would be a second copy that can disagree with it.
ch_url=$("$bin" "$@" config --get CH_URL) ||
    die "ccusage-import could not resolve its settings (see above); fix them and run again"
ch_port=${ch_url#*://}
ch_port=${ch_port%%/*}
ch_port=${ch_port##*:}
if ! host_is_local "$ch_url"; then
    echo "using the ClickHouse at $ch_url (ccusage-import config shows where that comes from)"
elif curl -s -o /dev/null --max-time 3 "http://127.0.0.1:$ch_port/ping"; then
    # Any HTTP answer will do: it may be the user's own server, with its own passwords.
    echo "a server already answers on 127.0.0.1:$ch_port: using it"
elif ((local_clickhouse == 0)); then
    # Starting a server here unasked would make a second machine of a fleet, whose .env still
    # says localhost, import into a private island instead of the fleet's server.
    die "the settings point at this machine ($ch_url) and no ClickHouse answers there. To join a fleet's server, run: $bin init (it asks for the server, checks it and writes ~/.config/ccusage-import/.env). To run a private ClickHouse on this machine, run again with --local-clickhouse."
else
    [[ $ch_port =~ ^[0-9]+$ ]] || die "the ClickHouse URL $ch_url names no port: set CH_PORT or a port in CH_URL"
    echo "starting a private ClickHouse on this machine (--local-clickhouse)"
    bash scripts/ensure-deps.sh
    # The importer speaks HTTP only; the native port (9000) just needs to be free, any will do.
    tcp_port=9000
    if timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/9000' 2>/dev/null; then tcp_port=0; fi
    bash scripts/clickhouse-server.sh start --http-port "$ch_port" --tcp-port "$tcp_port" ||
        die "could not start a local ClickHouse on port $ch_port"
    echo "(it keeps running in the background; stop it with: scripts/clickhouse-server.sh stop)"
fi

# ---- 5. first import -------------------------------------------------------------------------

header "import ($bin${*:+ $*})"
exec "$bin" "$@"
