#!/usr/bin/env bash
# The dashboard at fleet size: every API call and the whole page, 1,000 machines beside 10.
#
#   scripts/bench-dashboard.sh [--machines N] [--baseline M] [--days D] [--runs R]
#                              [--page-runs P] [--parallel J] [--keep] [--reuse]
#
# 1. makes D days of Claude Code logs (scripts/gen_claude_logs.py, ending now, with an active
#    block) and captures what the real ccusage prints for each report the importer asks for;
# 2. starts a ClickHouse of its own (scripts/clickhouse-server.sh, 127.0.0.1:38123, data in
#    target/bench-dashboard-ch) and imports M and N machines into two databases through the
#    release binary, each machine a stand-in printing those captured outputs under its own name
#    (scripts/fleet-sim.sh --fixtures);
# 3. serves each database with `ccusage-import dashboard` and times, side by side:
#    every API call the page makes (/api/config, /api/panels, /api/panel/NAME), R times each,
#    median ms, for the fleet view and for one machine; and the page until it is fully drawn
#    (body[data-state=ready]) in headless Chromium (scripts/bench_dashboard_page.py), P loads;
# 4. prints a table against the targets (an API call ≤ 300 ms median, the page ≤ 2 s, at N
#    machines) and exits 1 when one is missed.
#
# Defaults: N=1000, M=10, D=90, R=15, P=5, J=4. --keep leaves the server and databases
# (dash_bench_M, dash_bench_N) for a look. --reuse takes a database an earlier --keep run left
# when it holds its number of machines, instead of importing them again (1,000 machines take
# about 10 minutes on 2 cores): one machine is imported again, which brings its schema up to
# date. Needs what scripts/ensure-deps.sh --bench installs (ClickHouse, ccusage 20.0.24,
# Chromium, chromedriver, selenium in target/venv); builds the release binary first.
set -euo pipefail

readonly PROG="bench-dashboard.sh"
readonly ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
readonly CH_DIR=$ROOT/target/bench-dashboard-ch
readonly CH_HTTP=38123 CH_TCP=39000
readonly API_TARGET_MS=300 PAGE_TARGET_MS=2000
die() { echo "$PROG: error: $*" >&2; exit 1; }
say() { echo "$PROG: $*" >&2; }

usage() { sed -n '2,26s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

machines=1000 baseline=10 days=90 runs=15 page_runs=5 parallel=4 keep=0 reuse=0
number() { [[ $2 =~ ^[1-9][0-9]*$ ]] || die "$1 wants a positive whole number, got '$2'"; }
while [[ $# -gt 0 ]]; do
    case $1 in
        --machines) number "$1" "${2:-}"; machines=$2; shift 2 ;;
        --baseline) number "$1" "${2:-}"; baseline=$2; shift 2 ;;
        --days) number "$1" "${2:-}"; days=$2; shift 2 ;;
        --runs) number "$1" "${2:-}"; runs=$2; shift 2 ;;
        --page-runs) number "$1" "${2:-}"; page_runs=$2; shift 2 ;;
        --parallel) number "$1" "${2:-}"; parallel=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        --reuse) reuse=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done

cd "$ROOT"
exec </dev/null
python=$ROOT/target/venv/bin/python
"$python" -c 'import selenium' 2>/dev/null || die "selenium is missing: run scripts/ensure-deps.sh --bench"
[[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]] || die "Chromium is missing: run scripts/ensure-deps.sh --bench"
command -v ccusage >/dev/null || die "ccusage is missing: run scripts/ensure-deps.sh --bench"
bin=$ROOT/target/release/ccusage-import
say "building the release binary"
cargo build --release --quiet || die "cargo build --release failed"

work=$(mktemp -d)
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
    ((keep)) || bash scripts/clickhouse-server.sh stop --dir "$CH_DIR" >/dev/null 2>&1 || true
}
trap cleanup EXIT

url=$(bash scripts/clickhouse-server.sh start --dir "$CH_DIR" --http-port "$CH_HTTP" --tcp-port "$CH_TCP" | tail -n1) ||
    die "could not start ClickHouse in $CH_DIR"

# ---- 1. logs and ccusage's captured outputs ---------------------------------------------------
say "generating $days days of logs and capturing ccusage's reports"
python3 scripts/gen_claude_logs.py --out "$work/claude" --projects 6 --days "$days" \
    --lines $((days * 150)) --seed 7 --active >/dev/null
mkdir -p "$work/fixtures"
# The same dispatch as fleet-sim.sh's stand-in: one file per report the importer asks for,
# written by ccusage, or (REPLAY=1) only printed again.
cat >"$work/record-ccusage" <<EOF
#!/bin/sh
case " \$* " in
  *" --instances "*) f=claude-daily-instances ;;
  *" --by-agent "*) f=daily-sections-by-agent ;;
  *" session "*) f=claude-session ;;
  *" blocks "*) f=claude-blocks ;;
  *" daily "*) f=claude-daily ;;
  *) exec ccusage "\$@" ;;
esac
[ -n "\$REPLAY" ] || ccusage "\$@" >"$work/fixtures/\$f.json" || exit
cat "$work/fixtures/\$f.json"
EOF
chmod +x "$work/record-ccusage"
env -i PATH="$PATH" HOME="$work" CH_URL="$url" CH_DATABASE=dash_bench_capture \
    CLAUDE_CONFIG_DIR="$work/claude" "$bin" --machine-name capture --ccusage-bin "$work/record-ccusage" \
    --quiet --lock-file "$work/capture.lock" || die "the capturing import failed"
curl -fsS "$url/" --data-binary "DROP DATABASE IF EXISTS dash_bench_capture" >/dev/null

# ---- 2. two fleets ---------------------------------------------------------------------------
query() { curl -fsS "$url/" --data-binary "$1"; }
machines_in() { # DATABASE: how many machines it holds (0 when it has no usage table)
    if [[ $(query "EXISTS TABLE $1.ccusage_usage_daily") == 1 ]]; then
        query "SELECT uniqExact(machine_name) FROM $1.ccusage_usage_daily"
    else
        echo 0
    fi
}
for n in "$baseline" "$machines"; do
    if ((reuse)) && [[ $(machines_in "dash_bench_$n") == "$n" ]]; then
        say "reusing dash_bench_$n; importing fleet-0001 again brings its schema up to date"
        env -i PATH="$PATH" HOME="$work" CH_URL="$url" CH_DATABASE="dash_bench_$n" REPLAY=1 \
            "$bin" --machine-name fleet-0001 --ccusage-bin "$work/record-ccusage" \
            --quiet --lock-file "$work/reuse.lock" 2>"$work/reuse-$n.txt" ||
            die "importing fleet-0001 into dash_bench_$n failed: $(tail -n 3 "$work/reuse-$n.txt")"
        continue
    fi
    say "importing $n machines into dash_bench_$n"
    bash scripts/fleet-sim.sh "$n" --url "$url" --fixtures "$work/fixtures" \
        --database "dash_bench_$n" --parallel "$parallel" --no-queries >"$work/import-$n.txt" ||
        die "importing $n machines failed: $(tail -n 3 "$work/import-$n.txt")"
    rows=$(query "SELECT sum(rows) FROM system.parts WHERE database = 'dash_bench_$n' AND active")
    say "  $(sed -n 2p "$work/import-$n.txt"); $rows rows stored"
done

# ---- 3. the dashboards -----------------------------------------------------------------------
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
declare -A dash
for n in "$baseline" "$machines"; do
    port=$(free_port)
    env -i PATH="$PATH" HOME="$work" CH_URL="$url" CH_DATABASE="dash_bench_$n" \
        "$bin" dashboard --listen "127.0.0.1:$port" --plan-price 200 >"$work/dash-$n.log" 2>&1 &
    pids+=($!)
    dash[$n]="http://127.0.0.1:$port/"
    for _ in $(seq 100); do
        grep -q "dashboard at" "$work/dash-$n.log" && break
        sleep 0.1
    done
    grep -q "dashboard at" "$work/dash-$n.log" || die "the dashboard for $n machines did not start: $(cat "$work/dash-$n.log")"
done

median_ms() { # URL: the median of $runs requests, in ms (curl's total time)
    local i
    for i in $(seq "$runs"); do
        curl -fsS -o /dev/null -w '%{time_total}\n' "$1" || die "GET $1 failed"
    done | sort -n | awk '{a[NR]=$1} END {printf "%.0f", 1000 * a[int((NR+1)/2)]}'
}

calls=(api/config api/panels)
for name in $("$python" -c 'import json,sys; [print(p["name"]) for p in json.load(sys.stdin)]' \
    < <(curl -fsS "${dash[$baseline]}api/panels")); do
    calls+=("api/panel/$name")
done

missed=0
verdict() { # VALUE TARGET: sets $verdict (not in a subshell, so $missed sticks)
    if (($1 <= $2)); then verdict=ok; else verdict=MISSED; missed=1; fi
}
echo
echo "ccusage-import dashboard, $days days of usage per machine; $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg); ClickHouse $(curl -fsS "$url/" --data-binary 'SELECT version()')"
echo
printf '%-34s %12s %12s %12s %12s  %s\n' "median of $runs GETs (ms)" "$baseline fleet" "$machines fleet" "$baseline one" "$machines one" "target ≤ $API_TARGET_MS ms at $machines"
for call in "${calls[@]}"; do
    small=$(median_ms "${dash[$baseline]}$call")
    big=$(median_ms "${dash[$machines]}$call")
    small_one=$(median_ms "${dash[$baseline]}$call?machine=fleet-0001")
    big_one=$(median_ms "${dash[$machines]}$call?machine=fleet-0001")
    verdict $((big > big_one ? big : big_one)) "$API_TARGET_MS"
    printf '%-34s %12s %12s %12s %12s  %s\n' "$call" "$small" "$big" "$small_one" "$big_one" "$verdict"
done

echo
printf '%-34s %12s %12s %12s %12s  %s\n' "page fully drawn, median of $page_runs (ms)" "$baseline fleet" "$machines fleet" "$baseline one" "$machines one" "target ≤ $PAGE_TARGET_MS ms at $machines"
"$python" scripts/bench_dashboard_page.py --runs "$page_runs" \
    "${dash[$baseline]}" "${dash[$machines]}" "${dash[$baseline]}?machine=fleet-0001" "${dash[$machines]}?machine=fleet-0001" \
    >"$work/page.txt" || die "timing the page failed"
mapfile -t page < <(awk '{print $2}' "$work/page.txt")
verdict $((page[1] > page[3] ? page[1] : page[3])) "$PAGE_TARGET_MS"
printf '%-34s %12s %12s %12s %12s  %s\n' "/ (Chromium, headless)" "${page[0]}" "${page[1]}" "${page[2]}" "${page[3]}" "$verdict"
exit "$missed"
