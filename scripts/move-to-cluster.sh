#!/usr/bin/env bash
# Copies a single-server ccusage-import database into a cluster's database, through the
# cluster's Distributed tables, so every row lands on its machine's shard.
#
#   scripts/move-to-cluster.sh --from HOST:TCP_PORT --from-database DB \
#       --to URL --cluster NAME [--database DB] [--user USER]
#
#   --from           the old server's native (TCP) address, as the cluster's nodes reach it
#   --from-database  the old database (default: ccusage)
#   --to             the HTTP URL of one cluster node (default: http://127.0.0.1:8123)
#   --database       the cluster's database (default: the old database's name)
#   --user           the user for both (default: default); the password, if any, is read from
#                    CH_PASSWORD and sent in the request headers to the node and in the
#                    remote() call to the old server (ClickHouse logs queries: use a user
#                    made for the move)
#
# First create the cluster schema: run ccusage-import once with CH_CLUSTER=NAME against the
# cluster (any machine; its rows replace nothing but its own). Then stop the hourly imports
# (or let them run: nothing is lost either way, see below), run this, and point every machine
# at the cluster (CH_CLUSTER, CH_HOST).
#
# Each table is copied with one INSERT … SELECT FROM remote(…), naming the columns both sides
# have. Usage tables are ReplacingMergeTree keyed by machine and report key with a version,
# so copying twice, or copying after machines already wrote into the cluster, doubles nothing:
# FINAL keeps the newest figure of every key. The run ledger (ccusage_import_runs, one row per
# run) copies only runs the cluster does not hold yet. At the end every table's row count
# (FINAL, of the old server's machines) is compared on both sides and printed; fewer rows in
# the cluster exits 1.
set -euo pipefail

readonly PROG="move-to-cluster.sh"
die() { echo "$PROG: error: $*" >&2; exit 1; }
say() { echo "$PROG: $*" >&2; }

from= from_db=ccusage to=http://127.0.0.1:8123 cluster= db= user=default
while [[ $# -gt 0 ]]; do
    case $1 in
        --from) from=$2; shift 2 ;;
        --from-database) from_db=$2; shift 2 ;;
        --to) to=${2%/}; shift 2 ;;
        --cluster) cluster=$2; shift 2 ;;
        --database) db=$2; shift 2 ;;
        --user) user=$2; shift 2 ;;
        -h | --help) sed -n '2,29p' "$0"; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
[[ -n $from && -n $cluster ]] || die "--from and --cluster are required (see --help)"
db=${db:-$from_db}
plain='^[A-Za-z_][A-Za-z0-9_]*$'
for name in "$from_db" "$db" "$cluster" "$user"; do
    [[ $name =~ $plain ]] || die "'$name' is not a plain name (letters, digits and _)"
done
[[ $from =~ ^[A-Za-z0-9.:_-]+$ ]] || die "--from must be HOST:PORT, not '$from'"
password=${CH_PASSWORD:-}
[[ $password != *"'"* && $password != *\\* ]] || die "a password holding quotes or backslashes cannot be passed to remote()"

# Runs SQL on the cluster node; the database and settings go in the URL. in_order: the counts
# are read from the replicas the inserts went to, not from one still fetching them.
q() {
    curl -sS --fail-with-body -H "X-ClickHouse-User: $user" -H "X-ClickHouse-Key: $password" \
        "$to/?database=$db&insert_distributed_sync=1&load_balancing=in_order&distributed_product_mode=global" \
        --data-binary "$1"
}
# remote(DATABASE, TABLE): the old server's table, as a table function.
remote() { echo "remote('$from', $1, $2, '$user', '$password')"; }

tables=$(q "SELECT name FROM system.tables WHERE database = currentDatabase() AND engine = 'Distributed' ORDER BY name") ||
    die "cannot read the cluster database $db at $to: $tables"
[[ -n $tables ]] || die "the cluster database $db has no tables yet: run CH_CLUSTER=$cluster ccusage-import once against the cluster first"

status=0
for table in $tables; do
    source_table=$(remote "$from_db" "$table")
    columns=$(q "SELECT arrayStringConcat(groupArray(name), ', ') FROM (SELECT name FROM system.columns WHERE database = currentDatabase() AND table = '$table' AND name IN (SELECT name FROM $(remote system columns) WHERE database = '$from_db' AND table = '$table') ORDER BY name)") ||
        die "cannot compare the columns of $table: $columns"
    [[ -n $columns ]] || { say "$table: not in the old database, skipped"; continue; }
    where=
    final=FINAL
    if [[ $table == ccusage_import_runs ]]; then
        # GLOBAL: the subquery runs here, on the cluster, not on the old server.
        where="WHERE run_id GLOBAL NOT IN (SELECT run_id FROM $db.$table)"
        final=
    fi
    out=$(q "INSERT INTO $table ($columns) SELECT $columns FROM $source_table $where") ||
        die "copying $table failed (nothing of it was changed in $from_db): $out"
    old=$(q "SELECT count() FROM $source_table $final")
    # Of the old server's machines only; the cluster may hold other machines, and rows the
    # old machines wrote since (never fewer).
    new=$(q "SELECT count() FROM $table $final WHERE machine_name GLOBAL IN (SELECT machine_name FROM $source_table)")
    if ((new >= old)); then
        say "$table: $old rows copied ($new in the cluster for these machines)"
    else
        say "$table: $old rows in $from_db, $new in the cluster: check before switching"
        status=1
    fi
done
exit "$status"
