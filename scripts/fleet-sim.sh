#!/usr/bin/env bash
# Imports N simulated machines into one ClickHouse server (or a cluster) through the real
# binary, several at once, and measures what a fleet does to the database.
#
#   scripts/fleet-sim.sh N [--url URL] [--cluster NAME --hosts H1,H2,…] [--parallel P]
#                          [--fixtures DIR] [--database NAME] [--no-queries] [--user NAME]
#
# Each machine is a stand-in ccusage printing ccusage 20.0.24's captured outputs
# (tests/fixtures/ccusage/20.0.24, or --fixtures DIR holding the same file names) under its
# own MACHINE_NAME (fleet-0001, …), its session ids and projects prefixed with the machine's
# name: a fleet of distinct logs, as real machines have (the same sessions on every machine
# would measure the shared-logs warning instead). Prints the median import time of the first
# and the last tenth of the machines, the active parts per table, what one machine's import
# costs the server once the fleet is in (a re-import of fleet-0001 that changes nothing, and
# a new machine's first import: rows read, query time and server CPU summed over the
# importer's queries in system.query_log; needs --user naming a user whose profile sets
# log_queries=1, as scripts/clickhouse-server.sh's ccusage_logged), and (unless --no-queries) the time of
# every fleet_ query of sql/queries.sql (run by `ccusage-import query`). The database is
# fleet_sim_<N> (or --database NAME), dropped first. Needs a release build (cargo build
# --release), or CCUSAGE_IMPORT_BIN naming another binary.
set -euo pipefail

readonly PROG="fleet-sim.sh"
readonly ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
die() { echo "$PROG: error: $*" >&2; exit 1; }

[[ $# -ge 1 && $1 =~ ^[0-9]+$ ]] || die "usage: $PROG N [--url URL] [--cluster NAME --hosts H,…] [--parallel P] [--fixtures DIR] [--database NAME] [--no-queries]"
n=$1
shift
url=http://127.0.0.1:8123 cluster= hosts= parallel=4 db=fleet_sim_$n queries=1 user=
fixtures=$ROOT/tests/fixtures/ccusage/20.0.24
while [[ $# -gt 0 ]]; do
    case $1 in
        --url) url=$2; shift 2 ;;
        --cluster) cluster=$2; shift 2 ;;
        --hosts) hosts=$2; shift 2 ;;
        --parallel) parallel=$2; shift 2 ;;
        --fixtures) fixtures=$(cd "$2" && pwd -P) || die "no fixtures directory $2"; shift 2 ;;
        --database) db=$2; shift 2 ;;
        --no-queries) queries=0; shift ;;
        --user) user=$2; shift 2 ;;
        *) die "unknown argument '$1'" ;;
    esac
done
[[ $db =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "--database wants a plain name, got '$db'"
for f in claude-daily claude-daily-instances daily-sections-by-agent claude-session claude-blocks; do
    [[ -f $fixtures/$f.json ]] || die "$fixtures has no $f.json"
done
bin=${CCUSAGE_IMPORT_BIN:-$ROOT/target/release/ccusage-import}
[[ -x $bin ]] || die "build first: cargo build --release"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The machine's name is the stand-in's directory's name ($work/m/NAME/ccusage).
cat >"$work/ccusage" <<EOF
#!/bin/sh
m=\$(basename "\$(dirname "\$0")")
case " \$* " in
  *" --version "*) echo 'ccusage 20.0.24' ;;
  *" --instances "*) sed "s/\"project\": \"/&\$m-/" '$fixtures/claude-daily-instances.json' ;;
  *" --by-agent "*) cat '$fixtures/daily-sections-by-agent.json' ;;
  *" session "*) sed "s/\"sessionId\": \"/&\$m-/; s/\"projectPath\": \"/&\$m-/" '$fixtures/claude-session.json' ;;
  *" blocks "*) cat '$fixtures/claude-blocks.json' ;;
  *" daily "*) cat '$fixtures/claude-daily.json' ;;
  *) echo '[]' ;;
esac
EOF
chmod +x "$work/ccusage"

target=(CH_URL="$url" ${user:+CH_USER="$user"})
[[ -z $cluster ]] || target=(CH_URL= CH_HOST="$hosts" CH_CLUSTER="$cluster")
first_url=${url}
[[ -z $cluster ]] || first_url=http://${hosts%%,*}
curl -fsS "$first_url/" --data-binary "DROP DATABASE IF EXISTS $db${cluster:+ ON CLUSTER $cluster}" >/dev/null

import_one() {
    local i=$1 name start end
    name=$(printf 'fleet-%04d' "$i")
    mkdir -p "$work/m/$name"
    ln -sf "$work/ccusage" "$work/m/$name/ccusage"
    start=$(date +%s%N)
    env -i PATH="$PATH" HOME="$work" "${target[@]}" CH_DATABASE="$db" \
        "$bin" --machine-name "$name" --ccusage-bin "$work/m/$name/ccusage" --quiet \
        --lock-file "$work/$name.lock" >/dev/null 2>"$work/$name.err" ||
        { echo "machine $name failed: $(cat "$work/$name.err")" >&2; return 1; }
    end=$(date +%s%N)
    echo "$i $(((end - start) / 1000000))" >>"$work/times"
}
export -f import_one
export work bin db
# The first machine alone creates the schema; the rest run $parallel at a time.
import_one 1
seq 2 "$n" | xargs -P "$parallel" -I{} bash -c "$(declare -p target); import_one {}"

median() { sort -n | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : 0)}'; }
tenth=$(((n + 9) / 10))
first=$(sort -n "$work/times" | head -n "$tenth" | awk '{print $2}' | median)
last=$(sort -n "$work/times" | tail -n "$tenth" | awk '{print $2}' | median)
where="one server"
[[ -z $cluster ]] || where="cluster $cluster"
echo "machines: $n, parallel $parallel, $where"
echo "median import, first tenth: $first ms; last tenth: $last ms"
echo "active parts per table:"
curl -fsS "$first_url/" --data-binary "SELECT table, count() FROM system.parts WHERE database = '$db' AND active GROUP BY table ORDER BY table FORMAT TSV" | sed 's/^/  /'
# One machine's import measured alone, from the server's query log: the importer's queries
# between two flushes (nothing else runs then).
measure() {
    local what=$1 i=$2 since
    [[ -n $user ]] || return 0
    curl -fsS "$first_url/" --data-binary "SYSTEM FLUSH LOGS" >/dev/null
    since=$(curl -fsS "$first_url/" --data-binary "SELECT toUInt32(now())")
    sleep 1
    : >"$work/times"
    import_one "$i"
    curl -fsS "$first_url/" --data-binary "SYSTEM FLUSH LOGS" >/dev/null
    printf '  %s: %s ms wall; ' "$what" "$(awk '{print $2}' "$work/times")"
    curl -fsS "$first_url/" --data-binary "SELECT concat(toString(count()), ' queries, ', toString(sum(read_rows)), ' rows read, ', toString(sum(query_duration_ms)), ' ms query time, ', toString(intDiv(sum(arraySum(arrayMap((n, v) -> if(n IN ('UserTimeMicroseconds', 'SystemTimeMicroseconds'), v, 0), ProfileEvents.Names, ProfileEvents.Values))), 1000)), ' ms server CPU') FROM system.query_log WHERE type = 2 AND user = '$user' AND event_time > toDateTime($since) FORMAT TSVRaw"
    curl -fsS "$first_url/" --data-binary "SELECT concat('    ', toString(read_rows), ' rows ', replaceRegexpAll(substring(query, 1, 60), '[[:space:]]+', ' ')) FROM system.query_log WHERE type = 2 AND user = '$user' AND event_time > toDateTime($since) AND read_rows > 1000 ORDER BY read_rows DESC LIMIT 5 FORMAT TSVRaw" >"$work/top"
    cat "$work/top"
}
if [[ -n $user ]]; then
    echo "one machine's import with $n machines stored (server's query log):"
    measure "re-import, nothing changed" 1
    measure "a new machine" $((n + 1))
fi
((queries)) || exit 0
echo "fleet_ queries:"
for q in $(sed -n 's/^-- name: \(fleet_[a-z_]*\).*/\1/p' "$ROOT/sql/queries.sql"); do
    start=$(date +%s%N)
    env -i PATH="$PATH" HOME="$work" "${target[@]}" CH_DATABASE="$db" "$bin" query "$q" >/dev/null 2>&1 || q="$q (failed)"
    end=$(date +%s%N)
    echo "  $q: $(((end - start) / 1000000)) ms"
done
