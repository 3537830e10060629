#!/usr/bin/env bash
# A ClickHouse cluster on loopback: one ZooKeeper and 2 shards × 2 replicas of ClickHouse 18.16,
# for tests, the fleet simulation and anyone who wants to try cluster mode.
#
#   scripts/clickhouse-cluster.sh start      [--dir DIR] [--name CLUSTER]
#   scripts/clickhouse-cluster.sh stop       [--dir DIR]
#   scripts/clickhouse-cluster.sh stop-node  N [--dir DIR]   (N = 1..4; SIGKILL, as a crash)
#   scripts/clickhouse-cluster.sh start-node N [--dir DIR]
#   scripts/clickhouse-cluster.sh stop-zk    [--dir DIR]
#   scripts/clickhouse-cluster.sh start-zk   [--dir DIR]
#
# Nodes 1 and 2 are the replicas of shard 1, nodes 3 and 4 those of shard 2. Ports are picked
# free on the first start and kept in DIR/ports, so a node restarted later comes back on its
# own ports. `start` prints one line per node, "N http://127.0.0.1:PORT", and is a no-op for
# what already runs. Each node is an ordinary scripts/clickhouse-server.sh server in DIR/nodeN
# with the cluster's settings in DIR/nodeN/conf.d/cluster.xml (18.16 reads conf.d beside the
# main config). ZooKeeper is Debian's `zookeeper` package, its server class run directly with
# a private zoo.cfg: Debian's zkServer.sh expects its own layout.
set -euo pipefail

readonly PROG="clickhouse-cluster.sh"
readonly HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
die() { echo "$PROG: error: $*" >&2; exit 1; }
say() { echo "$PROG: $*" >&2; }

[[ $# -ge 1 ]] || die "usage: $PROG start|stop|stop-node N|start-node N|stop-zk|start-zk [--dir DIR] [--name CLUSTER]"
cmd=$1
shift
node=
case $cmd in
    start | stop | stop-zk | start-zk) ;;
    stop-node | start-node)
        [[ $# -ge 1 && $1 =~ ^[1-4]$ ]] || die "$cmd needs a node number 1-4"
        node=$1
        shift
        ;;
    *) die "unknown command '$cmd'" ;;
esac
dir="${XDG_STATE_HOME:-$HOME/.local/state}/ccusage-import/cluster"
name=fleet
while [[ $# -gt 0 ]]; do
    case $1 in
        --dir) dir=$2; shift 2 ;;
        --name) name=$2; shift 2 ;;
        *) die "unknown argument '$1'" ;;
    esac
done
[[ $dir != *[\<\>\&\"\']* ]] || die "--dir must not contain < > & or quotes: $dir"
[[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "--name must be a plain name: $name"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd -P)

port_in_use() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# DIR/ports holds "zk PORT" and "N HTTP TCP INTERSERVER" lines, written once.
ports() {
    [[ -s $dir/ports ]] && return 0
    local used=" " p line
    pick() {
        for _ in {1..200}; do
            # Below the kernel's ephemeral range (32768+), where outgoing connections take ports.
            p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
            [[ $used != *" $p "* ]] && ! port_in_use "$p" && { used+="$p "; echo "$p"; return 0; }
        done
        die "found no free port on 127.0.0.1"
    }
    {
        p=$(pick); used+="$p "; echo "zk $p"
        for n in 1 2 3 4; do
            line="$n"
            for _ in 1 2 3; do p=$(pick); used+="$p "; line+=" $p"; done
            echo "$line"
        done
    } >"$dir/ports.tmp"
    mv "$dir/ports.tmp" "$dir/ports"
}
port_of() { awk -v n="$1" -v f="$2" '$1 == n { print $f }' "$dir/ports"; }

zk_pid() {
    local pid
    [[ -f $dir/zk/pid ]] || return 1
    pid=$(<"$dir/zk/pid")
    [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$dir/zk/zoo.cfg" || return 1
    echo "$pid"
}

zk_answers() { [[ $(timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1; echo ruok >&3; cat <&3" 2>/dev/null) == imok ]]; }

start_zk() {
    zk_pid >/dev/null && return 0
    command -v java >/dev/null && [[ -f /usr/share/java/zookeeper.jar ]] ||
        die "ZooKeeper is not installed: apt-get install zookeeper (or scripts/ensure-deps.sh --test)"
    local port
    port=$(port_of zk 2)
    mkdir -p "$dir/zk/data"
    cat >"$dir/zk/zoo.cfg" <<EOF
tickTime=500
initLimit=10
syncLimit=5
dataDir=$dir/zk/data
clientPort=$port
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=ruok
maxClientCnxns=200
EOF
    # shellcheck disable=SC2016
    setsid nohup bash -c 'echo $$ >"$1"; exec java -Xmx256m -Dzookeeper.log.dir="$2" \
        -cp "/usr/share/java/*:/etc/zookeeper/conf" \
        org.apache.zookeeper.server.quorum.QuorumPeerMain "$3"' _ \
        "$dir/zk/pid" "$dir/zk" "$dir/zk/zoo.cfg" </dev/null >"$dir/zk/stdout.log" 2>&1 &
    local deadline=$((SECONDS + 30))
    until zk_answers "$port"; do
        ((SECONDS < deadline)) || { tail -n 20 "$dir/zk/stdout.log" >&2; die "ZooKeeper did not answer on 127.0.0.1:$port"; }
        sleep 0.1
    done
    say "ZooKeeper on 127.0.0.1:$port"
}

stop_zk() {
    local pid
    pid=$(zk_pid) || return 0
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    rm -f "$dir/zk/pid"
}

node_conf() {
    local n=$1 shard=$(( ($1 + 1) / 2 )) replica=$1
    mkdir -p "$dir/node$n/conf.d"
    {
        echo '<?xml version="1.0"?>'
        echo "<!-- Generated by scripts/clickhouse-cluster.sh -->"
        echo "<yandex>"
        echo "  <zookeeper><node><host>127.0.0.1</host><port>$(port_of zk 2)</port></node>"
        echo "    <session_timeout_ms>6000</session_timeout_ms></zookeeper>"
        echo "  <macros><shard>$shard</shard><replica>r$replica</replica></macros>"
        echo "  <interserver_http_host>127.0.0.1</interserver_http_host>"
        echo "  <interserver_http_port>$(port_of "$n" 4)</interserver_http_port>"
        echo "  <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>"
        echo "  <remote_servers><$name>"
        for s in 1 2; do
            echo "    <shard><internal_replication>true</internal_replication>"
            for r in $((2 * s - 1)) $((2 * s)); do
                echo "      <replica><host>127.0.0.1</host><port>$(port_of "$r" 3)</port></replica>"
            done
            echo "    </shard>"
        done
        echo "  </$name></remote_servers>"
        echo "</yandex>"
    } >"$dir/node$n/conf.d/cluster.xml"
}

start_node() {
    local n=$1
    node_conf "$n"
    # A killed server's process may linger a moment; a new one cannot lock data/status until
    # it is gone.
    local pidfile=$dir/node$n/server.pid
    if [[ -s $pidfile ]]; then
        local old
        old=$(<"$pidfile")
        while kill -0 "$old" 2>/dev/null && tr '\0' ' ' <"/proc/$old/cmdline" 2>/dev/null | grep -qF "$dir/node$n/"; do
            if "$HERE/clickhouse-server.sh" status --dir "$dir/node$n" >/dev/null 2>&1; then break; fi
            sleep 0.1
        done
    fi
    local url
    url=$("$HERE/clickhouse-server.sh" start --dir "$dir/node$n" \
        --http-port "$(port_of "$n" 2)" --tcp-port "$(port_of "$n" 3)" | tail -n1)
    echo "$n $url"
}

stop_node() {
    local pidfile=$dir/node$1/server.pid pid
    [[ -s $pidfile ]] || return 0
    pid=$(<"$pidfile")
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$dir/node$1/"; then
        kill -KILL "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    fi
    rm -f "$pidfile"
}

case $cmd in
    start)
        ports
        start_zk
        # The four servers start side by side: each waits for its own port only.
        pids=()
        for n in 1 2 3 4; do
            start_node "$n" >"$dir/node$n.url" &
            pids+=($!)
        done
        for p in "${pids[@]}"; do wait "$p" || die "a node did not start (see $dir/node*/log)"; done
        cat "$dir"/node{1,2,3,4}.url
        ;;
    stop)
        for n in 1 2 3 4; do
            [[ -d $dir/node$n ]] && "$HERE/clickhouse-server.sh" stop --dir "$dir/node$n" >/dev/null 2>&1 &
        done
        wait
        stop_zk
        ;;
    stop-node) stop_node "$node" ;;
    start-node) ports; start_node "$node" ;;
    stop-zk) stop_zk ;;
    start-zk) ports; start_zk ;;
esac
