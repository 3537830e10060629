#!/usr/bin/env bash
# The fleet benchmark of issue 29: one machine's import must cost the server the same at 10
# machines and at N (default 1,000). Not a timed test: run it by hand or in a nightly job.
#
#   scripts/fleet-bench.sh --url URL [--machines N] [--max-ratio R] [--parallel P]
#
# Runs scripts/fleet-sim.sh at 10 and at N machines (databases fleet_sim_10 and fleet_sim_N,
# dropped first, left for inspection) with --user ccusage_logged (a user whose profile sets
# log_queries=1, as scripts/clickhouse-server.sh's), and compares what one machine's
# re-import (nothing changed) and a new machine's first import read and cost the server, from
# system.query_log. Rows read are the measure checked (server CPU and wall time are printed
# beside, but on a shared machine they wander by more than the target): the exit status is 1
# when the re-import or the new machine reads more than R (default 1.2) times the rows at N
# machines than at 10. Needs a release build (or CCUSAGE_IMPORT_BIN) as fleet-sim.sh does.
set -euo pipefail

readonly PROG="fleet-bench.sh"
die() { echo "$PROG: error: $*" >&2; exit 2; }
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
url= n=1000 max=1.2 parallel=2
while [[ $# -gt 0 ]]; do
    case $1 in
        --url) url=$2; shift 2 ;;
        --machines) n=$2; shift 2 ;;
        --max-ratio) max=$2; shift 2 ;;
        --parallel) parallel=$2; shift 2 ;;
        *) die "unknown argument '$1'" ;;
    esac
done
[[ -n $url ]] || die "usage: $PROG --url URL [--machines N] [--max-ratio R] [--parallel P]"
[[ $n =~ ^[0-9]+$ && $n -gt 10 ]] || die "--machines wants a whole number above 10"
[[ $max =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--max-ratio wants a number"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for size in 10 "$n"; do
    echo "== $size machines"
    bash "$root/scripts/fleet-sim.sh" "$size" --url "$url" --user ccusage_logged \
        --parallel "$parallel" --no-queries | tee "$out/$size.txt"
done

# "  re-import, nothing changed: 201 ms wall; 34 queries, 22680 rows read, 62 ms query time, 48 ms server CPU"
field() { # file, which import, what
    sed -n "s/^  $2: \([0-9]*\) ms wall; \([0-9]*\) queries, \([0-9]*\) rows read, \([0-9]*\) ms query time, \([0-9]*\) ms server CPU$/\1 \2 \3 \4 \5/p" "$1" |
        awk -v f="$3" '{print $f}'
}
failed=0
echo
printf '%-28s %12s %12s %7s   %s\n' "one machine's import" "10 machines" "$n machines" ratio "server CPU, 10 → $n"
for what in "re-import, nothing changed" "a new machine"; do
    small=$(field "$out/10.txt" "$what" 3)
    large=$(field "$out/$n.txt" "$what" 3)
    [[ -n $small && -n $large ]] || die "fleet-sim.sh printed no figures for '$what'"
    ratio=$(awk -v a="$large" -v b="$small" 'BEGIN { printf "%.2f", a / b }')
    cpu="$(field "$out/10.txt" "$what" 5) → $(field "$out/$n.txt" "$what" 5) ms"
    printf '%-28s %12s %12s %7s   %s\n' "$what" "$small" "$large" "×$ratio" "$cpu"
    if awk -v r="$ratio" -v m="$max" 'BEGIN { exit !(r > m) }'; then
        echo "$PROG: $what reads ×$ratio the rows at $n machines than at 10 (target ≤ ×$max)" >&2
        failed=1
    fi
done
((failed == 0)) && echo "target met: every ratio ≤ ×$max"
exit "$failed"
