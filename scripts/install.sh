#!/usr/bin/env bash
# A newcomer's one command on a fresh Debian/Ubuntu machine: from a clone to a first import.
#
#   scripts/install.sh [ccusage-import arguments...]
#
# 1. installs what is missing (scripts/ensure-deps.sh; the ClickHouse packages only when the
#    database is local: CH_HOST unset or a loopback name, in the environment or in .env),
# 2. builds the release binary,
# 3. creates .env from .env.example when there is no .env yet,
# 4. when the database is local and nothing answers on its port (CH_PORT, default 8123), starts
#    a ClickHouse in the background with scripts/clickhouse-server.sh (it keeps running after
#    this script; `scripts/clickhouse-server.sh stop` stops it),
# 5. runs target/release/ccusage-import with the arguments given here, and exits with its code.
#
# Safe to re-run: each step does nothing when its work is already done.
set -euo pipefail

readonly PROG="install.sh"

die() { echo "$PROG: error: $*" >&2; exit 1; }
step_no=0
header() { step_no=$((step_no + 1)); printf '\n==> [%d/5] %s\n' "$step_no" "$*"; }

case ${1:-} in
    -h | --help)
        sed -n '2,16s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
        exit 0
        ;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"

# rustup's and npm's user-level bin directories, in case the login shell has not added them yet.
for d in "$HOME/.local/bin" "$HOME/.cargo/bin"; do
    if [[ -d $d && ":$PATH:" != *":$d:"* ]]; then PATH="$d:$PATH"; fi
done
export PATH

# The value ccusage-import will see for a setting: the environment wins over .env (the binary does
# not override), as in the binary itself. Prints nothing when the setting is unset in both.
setting() {
    local name=$1 line value
    if [[ -n ${!name+x} ]]; then
        printf '%s' "${!name}"
        return 0
    fi
    [[ -f .env ]] || return 0
    line=$(grep -E "^[[:space:]]*(export[[:space:]]+)?${name}[[:space:]]*=" .env | tail -n1) || return 0
    value=${line#*=}
    value="${value#"${value%%[![:space:]]*}"}" # trim leading blanks
    case $value in
        \"*) value=${value#\"}; value=${value%%\"*} ;;
        \'*) value=${value#\'}; value=${value%%\'*} ;;
        *) value=${value%%[[:space:]]#*}; value="${value%"${value##*[![:space:]]}"}" ;; # drop " # comment", trailing blanks
    esac
    printf '%s' "$value"
}

# True when CH_HOST names this machine (or is unset): then we may install and start ClickHouse.
host_is_local() {
    local host=$1
    host=${host#*://}   # tolerate a URL: http://localhost:8123/
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
if host_is_local "$(setting CH_HOST)"; then
    bash scripts/ensure-deps.sh
else
    echo "CH_HOST is $(setting CH_HOST): not installing a local ClickHouse"
    bash scripts/ensure-deps.sh --no-clickhouse
fi

# ---- 2. build --------------------------------------------------------------------------------

header "build (cargo build --release)"
cargo build --release || die "cargo build --release failed"

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
ch_host=$(setting CH_HOST)
ch_port=$(setting CH_PORT)
ch_port=${ch_port:-8123}
if ! host_is_local "$ch_host"; then
    echo "using the ClickHouse at $ch_host (CH_HOST)"
elif curl -s -o /dev/null --max-time 3 "http://127.0.0.1:$ch_port/ping"; then
    # Any HTTP answer will do: it may be the user's own server, with its own passwords.
    echo "a server already answers on 127.0.0.1:$ch_port: using it"
else
    [[ $ch_port =~ ^[0-9]+$ ]] || die "CH_PORT must be a port number, got '$ch_port'"
    # The importer speaks HTTP only; the native port (9000) just needs to be free, any will do.
    tcp_port=9000
    if timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/9000' 2>/dev/null; then tcp_port=0; fi
    bash scripts/clickhouse-server.sh start --http-port "$ch_port" --tcp-port "$tcp_port" ||
        die "could not start a local ClickHouse on port $ch_port"
    echo "(it keeps running in the background; stop it with: scripts/clickhouse-server.sh stop)"
fi

# ---- 5. first import -------------------------------------------------------------------------

header "import (target/release/ccusage-import${*:+ $*})"
exec target/release/ccusage-import "$@"
