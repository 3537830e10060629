#!/usr/bin/env bash
# Manage a private ClickHouse server on loopback, for tests, benchmarks and newcomers.
#
#   scripts/clickhouse-server.sh start  [--dir DIR] [--http-port N] [--tcp-port N] [--timezone TZ]
#   scripts/clickhouse-server.sh stop   [--dir DIR]
#   scripts/clickhouse-server.sh status [--dir DIR]
#
# Why a script and not the distribution's service: the tests need a server they can start and
# stop without systemd (CI runs in a container), on ports that never collide with a user's own
# server, with known test users, and with all its state in one directory that can be deleted.
#
# DIR defaults to ${XDG_STATE_HOME:-$HOME/.local/state}/ccusage-import/clickhouse; it holds the
# generated config.xml and users.xml, data/, tmp/, log/ and server.pid. Ports default to 8123
# (HTTP) and 9000 (native TCP); `--http-port 0` / `--tcp-port 0` pick free ports.
#
# The server listens on 127.0.0.1 only and has these users, all limited to 127.0.0.1 and ::1:
#   default         no password, full rights (what a newcomer's .env uses)
#   ccusage_writer  password writer-secret-pw, full rights          (tests)
#   ccusage_reader  password reader-secret-pw, readonly profile     (tests)
#   ccusage_noddl   password noddl-secret-pw, may read and write but not run DDL (allow_ddl=0)
#   ccusage_logged  no password, full rights, log_queries=1: its queries land in
#                   system.query_log (rows read per import: tests, scripts/fleet-sim.sh)
#
# `--timezone TZ` (default UTC) sets the server's time zone, to test that "today" stays the
# UTC day whatever the server's zone.
#
# `start` installs clickhouse-server with apt when it is missing, is a no-op when the server
# (or any ClickHouse) already answers on the HTTP port, and prints the URL as its last line.
# The config targets Debian bookworm's ClickHouse 18.16 (`<yandex>` root, users in users.xml,
# no SQL-driven access control); only 18.16 has been tried. On a host with systemd, installing
# the package also starts Debian's own service on 8123/9000; `start` then finds it answering on
# 8123 and uses it. CH_START_TIMEOUT_S (default 30) bounds the wait for a slow first start.
set -euo pipefail

readonly PROG="clickhouse-server.sh"
readonly START_TIMEOUT_S=${CH_START_TIMEOUT_S:-30} # override for very slow machines
readonly STOP_TIMEOUT_S=30

die() { echo "$PROG: error: $*" >&2; exit 1; }
say() { echo "$PROG: $*" >&2; }

usage() {
    cat <<'EOF'
usage: scripts/clickhouse-server.sh start  [--dir DIR] [--http-port N] [--tcp-port N] [--timezone TZ]
       scripts/clickhouse-server.sh stop   [--dir DIR]
       scripts/clickhouse-server.sh status [--dir DIR]

Runs a ClickHouse server on 127.0.0.1 as an ordinary background process, with its config, data
and logs in DIR (default: ${XDG_STATE_HOME:-$HOME/.local/state}/ccusage-import/clickhouse).
Ports default to 8123 (HTTP) and 9000 (TCP); 0 picks a free port. `start` prints the server's
URL as its last line. `status` exits 0 when running, 3 when not.
EOF
}

# ---- arguments -------------------------------------------------------------------------------

[[ $# -ge 1 ]] || { usage >&2; exit 2; }
cmd=$1
shift
case $cmd in
    start | stop | status) ;;
    -h | --help | help) usage; exit 0 ;;
    *) die "unknown command '$cmd' (expected start, stop or status)" ;;
esac

dir="${XDG_STATE_HOME:-$HOME/.local/state}/ccusage-import/clickhouse"
http_port=8123
tcp_port=9000
timezone=UTC
while [[ $# -gt 0 ]]; do
    case $1 in
        --dir) [[ $# -ge 2 ]] || die "--dir needs a value"; dir=$2; shift 2 ;;
        --dir=*) dir=${1#*=}; shift ;;
        --http-port) [[ $# -ge 2 ]] || die "--http-port needs a value"; http_port=$2; shift 2 ;;
        --http-port=*) http_port=${1#*=}; shift ;;
        --tcp-port) [[ $# -ge 2 ]] || die "--tcp-port needs a value"; tcp_port=$2; shift 2 ;;
        --tcp-port=*) tcp_port=${1#*=}; shift ;;
        --timezone) [[ $# -ge 2 ]] || die "--timezone needs a value"; timezone=$2; shift 2 ;;
        --timezone=*) timezone=${1#*=}; shift ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
[[ -n $dir ]] || die "--dir must not be empty"
for p in "$http_port" "$tcp_port"; do
    if ! [[ $p =~ ^[0-9]+$ ]] || ((p > 65535)); then
        die "invalid port '$p' (expected 0-65535)"
    fi
done
[[ $timezone =~ ^[A-Za-z0-9_/+-]+$ ]] || die "invalid --timezone '$timezone' (expected a zone name such as Asia/Kolkata)"
# The paths go into XML verbatim; refuse the few characters that would need escaping.
[[ $dir != *[\<\>\&\"\']* ]] || die "--dir must not contain < > & or quotes: $dir"

# Absolute path: the config file needs absolute paths, and the pid check compares them.
if [[ $cmd == start ]]; then
    mkdir -p "$dir" || die "cannot create $dir"
fi
if [[ -d $dir ]]; then
    dir=$(cd "$dir" && pwd -P)
fi
config="$dir/config.xml"
pidfile="$dir/server.pid"
logdir="$dir/log"

# ---- helpers ---------------------------------------------------------------------------------

# Prints "1" when a ClickHouse server answers SELECT 1 on 127.0.0.1:$1 (as the default user).
answers() {
    local body
    body=$(curl -fsS --max-time 2 "http://127.0.0.1:$1/?query=SELECT%201" 2>/dev/null) || return 1
    [[ $body == 1 ]]
}

# True when something (anything) accepts TCP connections on 127.0.0.1:$1.
port_in_use() {
    timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# A free loopback port from the ephemeral-looking range, for `--*-port 0`.
free_port() {
    local p
    for _ in {1..200}; do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        [[ $p != "${1:-}" ]] || continue
        port_in_use "$p" || { echo "$p"; return 0; }
    done
    die "found no free port on 127.0.0.1"
}

# The pid from server.pid when that process is alive and is this DIR's clickhouse-server
# (guards against a stale pid file whose pid was reused by something else).
running_pid() {
    local pid
    [[ -f $pidfile ]] || return 1
    pid=$(<"$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/cmdline ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "--config-file=$config" || return 1
    echo "$pid"
}

# The HTTP port written in DIR's config.xml (the port a running server of DIR listens on).
configured_http_port() {
    sed -n 's:.*<http_port>\([0-9]*\)</http_port>.*:\1:p' "$config" 2>/dev/null | head -n1
}

server_bin() {
    # /usr/sbin is not on an ordinary user's PATH on Debian.
    command -v clickhouse-server 2>/dev/null || { [[ -x /usr/sbin/clickhouse-server ]] && echo /usr/sbin/clickhouse-server; }
}

# Installs Debian packages; `apt-get update` runs once per invocation of this script.
apt_updated=
apt_install() {
    local sudo=()
    command -v apt-get >/dev/null || die "$* not installed and apt-get is unavailable: install ClickHouse yourself"
    if [[ $(id -u) != 0 ]]; then
        command -v sudo >/dev/null || die "$* not installed; run as root or install sudo"
        sudo=(sudo)
    fi
    local aptlog
    aptlog=$(mktemp)
    if [[ -z $apt_updated ]]; then
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update </dev/null >"$aptlog" 2>&1 ||
            { cat "$aptlog" >&2; rm -f "$aptlog"; die "apt-get update failed"; }
        apt_updated=1
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" </dev/null >"$aptlog" 2>&1 ||
        { tail -n 30 "$aptlog" >&2; rm -f "$aptlog"; die "apt-get install $* failed"; }
    rm -f "$aptlog"
    say "installed $* (apt)"
}

show_log_tail() {
    local f
    for f in "$logdir/clickhouse-server.err.log" "$logdir/stdout.log"; do
        [[ -s $f ]] || continue
        echo "---- last lines of $f ----" >&2
        tail -n 20 "$f" >&2
    done
}

write_config() {
    mkdir -p "$dir/data" "$dir/tmp" "$dir/user_files" "$dir/format_schemas" "$logdir"
    # Rewritten on every start so that DIR always matches this script and the requested ports.
    cat >"$config.tmp" <<EOF
<?xml version="1.0"?>
<!-- Generated by scripts/clickhouse-server.sh; rewritten on every start. -->
<yandex>
  <logger>
    <level>warning</level>
    <log>$logdir/clickhouse-server.log</log>
    <errorlog>$logdir/clickhouse-server.err.log</errorlog>
    <size>50M</size>
    <count>2</count>
  </logger>
  <http_port>$http_port</http_port>
  <tcp_port>$tcp_port</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <user_files_path>$dir/user_files/</user_files_path>
  <format_schema_path>$dir/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>$timezone</timezone>
  <mark_cache_size>536870912</mark_cache_size>
  <uncompressed_cache_size>536870912</uncompressed_cache_size>
</yandex>
EOF
    mv "$config.tmp" "$config"

    # Passwords are in plain text on purpose: these are throw-away test credentials on loopback.
    cat >"$dir/users.xml.tmp" <<'EOF'
<?xml version="1.0"?>
<!-- Generated by scripts/clickhouse-server.sh; rewritten on every start. -->
<yandex>
  <profiles>
    <default></default>
    <readonly><readonly>1</readonly></readonly>
    <noddl><allow_ddl>0</allow_ddl></noddl>
    <logged><log_queries>1</log_queries></logged>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
    <ccusage_writer>
      <password>writer-secret-pw</password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </ccusage_writer>
    <ccusage_logged>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>logged</profile>
      <quota>default</quota>
    </ccusage_logged>
    <ccusage_reader>
      <password>reader-secret-pw</password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>readonly</profile>
      <quota>default</quota>
    </ccusage_reader>
    <ccusage_noddl>
      <password>noddl-secret-pw</password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>noddl</profile>
      <quota>default</quota>
    </ccusage_noddl>
  </users>
  <quotas><default></default></quotas>
</yandex>
EOF
    mv "$dir/users.xml.tmp" "$dir/users.xml"
}

# ---- commands --------------------------------------------------------------------------------

cmd_start() {
    command -v curl >/dev/null || apt_install curl
    if [[ -z $(server_bin) ]]; then
        apt_install clickhouse-server clickhouse-client
    fi
    local bin
    bin=$(server_bin)
    [[ -n $bin ]] || die "clickhouse-server is still not found after installing it"

    # This DIR's server is already up: nothing to do (unless it was asked for other ports).
    local pid port
    if pid=$(running_pid); then
        port=$(configured_http_port)
        if [[ $http_port != 0 && $http_port != "$port" ]]; then
            die "the server of $dir already runs on port $port (pid $pid); stop it first to change ports"
        fi
        if answers "$port"; then
            say "already running from $dir (pid $pid)"
            echo "http://127.0.0.1:$port"
            return 0
        fi
        die "the server of $dir (pid $pid) runs but does not answer on port $port; see $logdir"
    fi
    rm -f "$pidfile"

    # Someone else's ClickHouse on the requested port: use it rather than fight over the port.
    if [[ $http_port != 0 ]] && answers "$http_port"; then
        say "a ClickHouse server already answers on 127.0.0.1:$http_port (not started from $dir); leaving it alone"
        echo "http://127.0.0.1:$http_port"
        return 0
    fi

    [[ $http_port != 0 ]] || http_port=$(free_port)
    [[ $tcp_port != 0 ]] || tcp_port=$(free_port "$http_port")
    [[ $http_port != "$tcp_port" ]] || die "HTTP and TCP ports must differ (both $http_port)"
    ! port_in_use "$http_port" || die "port $http_port is in use (and SELECT 1 as user default fails there); pass --http-port"
    ! port_in_use "$tcp_port" || die "TCP port $tcp_port is already in use; pass --tcp-port"

    write_config
    : >"$logdir/stdout.log"
    : >"$logdir/clickhouse-server.err.log"

    # setsid + nohup: the server outlives this shell and the terminal, and a Ctrl-C in the
    # caller's terminal does not reach it. The child writes its own pid, then execs the server,
    # so the pid file names the server itself whether or not setsid had to fork.
    # shellcheck disable=SC2016 # $$ and "$1".. expand in the child shell, on purpose
    setsid nohup bash -c 'echo $$ >"$1"; exec "$2" --config-file="$3"' _ \
        "$pidfile" "$bin" "$config" </dev/null >>"$logdir/stdout.log" 2>&1 &

    local deadline=$((SECONDS + START_TIMEOUT_S))
    while ((SECONDS < deadline)); do
        if answers "$http_port"; then
            pid=$(<"$pidfile")
            say "started from $dir (pid $pid, logs in $logdir)"
            echo "http://127.0.0.1:$http_port"
            return 0
        fi
        # Once the child has written its pid, a dead pid means the server gave up.
        if [[ -s $pidfile ]] && ! kill -0 "$(<"$pidfile")" 2>/dev/null; then
            show_log_tail
            rm -f "$pidfile"
            die "clickhouse-server exited during startup (config $config)"
        fi
        sleep 0.25
    done
    show_log_tail
    # We started this pid moments ago, so it cannot have been reused: end it, not leave it hung.
    if [[ -s $pidfile ]]; then
        pid=$(<"$pidfile")
        kill -TERM "$pid" 2>/dev/null || true
        sleep 1
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
    die "clickhouse-server did not answer on http://127.0.0.1:$http_port within ${START_TIMEOUT_S}s"
}

cmd_stop() {
    local pid
    if ! pid=$(running_pid); then
        rm -f "$pidfile"
        say "not running (no live server for $dir)"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + STOP_TIMEOUT_S))
    while kill -0 "$pid" 2>/dev/null; do
        if ((SECONDS >= deadline)); then
            say "pid $pid still running after ${STOP_TIMEOUT_S}s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.5
            break
        fi
        sleep 0.2
    done
    rm -f "$pidfile"
    say "stopped (pid $pid)"
}

cmd_status() {
    local pid port version
    if ! pid=$(running_pid); then
        echo "not running ($dir)"
        exit 3
    fi
    port=$(configured_http_port)
    if version=$(curl -fsS --max-time 2 "http://127.0.0.1:$port/?query=SELECT%20version()" 2>/dev/null); then
        echo "running: pid $pid, http://127.0.0.1:$port, ClickHouse $version ($dir)"
    else
        echo "pid $pid is alive but does not answer on http://127.0.0.1:$port ($dir)"
        exit 1
    fi
}

case $cmd in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
esac
