#!/usr/bin/env bash
# What an hourly import adds to ccusage's own time on small logs (issue 29): the importer's
# fixed cost, where most users are.
#
#   scripts/fixed-cost.sh --url URL [--lines N] [--runs N] [BINARY …]
#
# Writes synthetic logs (scripts/gen_claude_logs.py --projects 50 --days 90 --seed 2 --active
# --pad 800 --lines N, default 10000: about 15 MB), imports them once with each BINARY
# (default target/release/ccusage-import) into its own database on URL, then measures with
# hyperfine, side by side:
#   floor  the ccusage commands an hourly re-import runs (read from the last BINARY's
#          --verbose log: the reports and today's one-day session report), started at once;
#   BINARY the re-import (nothing changed) with each binary.
# and prints each binary's --verbose step timings of one re-import (ClickHouse requests and
# ccusage commands, in the order they ended), so the fixed cost can be told apart: asking
# the version, the schema check, the read-backs, a ccusage run that waits for another.
# The databases (fixed_cost_1, …) are dropped at the end. Needs ccusage on PATH, hyperfine.
set -euo pipefail

readonly PROG="fixed-cost.sh"
die() { echo "$PROG: error: $*" >&2; exit 1; }
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
url= lines=10000 runs=10 bins=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --url) url=$2; shift 2 ;;
        --lines) lines=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        -*) die "unknown argument '$1'" ;;
        *) bins+=("$(cd "$(dirname "$1")" && pwd -P)/$(basename "$1")"); shift ;;
    esac
done
[[ -n $url ]] || die "usage: $PROG --url URL [--lines N] [--runs N] [BINARY …]"
[[ $lines =~ ^[0-9]+$ && $runs =~ ^[0-9]+$ ]] || die "--lines and --runs want whole numbers"
((${#bins[@]})) || bins=("$root/target/release/ccusage-import")
for b in "${bins[@]}"; do [[ -x $b ]] || die "$b is not an executable (cargo build --release)"; done
ccusage=$(command -v ccusage) || die "ccusage is not on PATH"
command -v hyperfine >/dev/null || die "hyperfine is missing"

work=$(mktemp -d)
dbs=()
cleanup() {
    for db in "${dbs[@]}"; do
        curl -fsS "$url/" --data-binary "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
python3 "$root/scripts/gen_claude_logs.py" --out "$work/logs" --lines "$lines" --projects 50 \
    --days 90 --seed 2 --active --pad 800 >"$work/gen.txt" 2>&1 || { cat "$work/gen.txt" >&2; die "the logs"; }
echo "logs: $(head -n1 "$work/gen.txt")"
echo '{}' >"$work/empty-config.json"
: >"$work/empty.env"
clean=(env -i "PATH=$PATH" "HOME=$work" "LANG=C.UTF-8" "CLAUDE_CONFIG_DIR=$work/logs")
i=0 cmds=()
for b in "${bins[@]}"; do
    i=$((i + 1))
    db=fixed_cost_$i
    dbs+=("$db")
    curl -fsS "$url/" --data-binary "DROP DATABASE IF EXISTS $db" >/dev/null
    run=("${clean[@]}" "$b" --env-file "$work/empty.env" --lock-file "$work/lock" --ch-url "$url"
        --ch-database "$db" --machine-name fixed-cost --quiet)
    # The first import stores every day; the second is the first hourly one (it stores today's
    # sessions), so the third and later are what a machine runs every hour.
    "${run[@]}" >/dev/null 2>"$work/first.$i" || { cat "$work/first.$i" >&2; die "$b: the import failed"; }
    "${run[@]}" >/dev/null 2>&1
    "${run[@]}" --verbose >/dev/null 2>"$work/verbose.$i"
    printf '%q ' "${run[@]}" >"$work/run.$i.sh"
    cmds+=(-n "import #$i" "sh $work/run.$i.sh")
done
# The floor: the ccusage commands of the last binary's re-import, at once.
{
    echo "#!/bin/sh"
    sed -n "s|^ccusage-import: verbose: run \($ccusage .*\)|\1|p" "$work/verbose.$i" | grep -v -- ' --version$' |
        sed "s|--config [^ ]*|--config $work/empty-config.json|; s|\$| >/dev/null 2>\&1 \&|"
    echo "wait"
} >"$work/floor.sh"
echo "floor: $(grep -c '&$' "$work/floor.sh") ccusage commands at once"
(cd "$work" && "${clean[@]}" TZ=UTC hyperfine -N --style basic --warmup 1 --runs "$runs" \
    -n floor "sh $work/floor.sh" "${cmds[@]}")
i=0
for b in "${bins[@]}"; do
    i=$((i + 1))
    echo "steps of one re-import, $b (#$i):"
    sed -n 's/^ccusage-import: verbose: \(.*: [0-9]* ms\).*/  \1/p' "$work/verbose.$i" |
        sed "s|$ccusage ||; s|--json --offline.*UTC --config [^ ]*||"
done
