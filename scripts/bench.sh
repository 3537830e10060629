#!/usr/bin/env bash
# How much ccusage-import costs beyond ccusage itself, on a heavy user's logs.
#
#   scripts/bench.sh [--quick] [--sizes "10000 50000 200000"] [--runs N] [--runs-d N]
#                    [--max-load X] [--load-wait S] [--out DIR] [--keep-logs]
#
# For each size (lines of logs) it writes synthetic Claude Code logs with
#   scripts/gen_claude_logs.py --projects 50 --days 90 --lines SIZE --seed 2 --active --pad 800
# (200000 lines are about 300 MB: the heavy user), then measures with hyperfine, side by side:
#   A  the floor: the exact ccusage commands the importer runs (read from its --verbose --dry-run
#      log), started at once by the shell and awaited; no importer;
#   B  a full import into an empty database (a fresh database for every repetition);
#   C  the import again on the same logs (nothing changed; must write 0 rows);
#   D  the importer's own cost: the import with a stand-in ccusage that cats the reports' output
#      captured once from real ccusage (fresh database every repetition, like B).
# It reports median and spread, the ratios B/A, C/A and D/A, rows written in B and C, and the
# importer's own peak RSS (getrusage RUSAGE_SELF, the "peak_rss_bytes" of --json; children are
# not counted) with GNU time's maximum RSS of one D run as a cross-check; and how A, B and D grow
# with the size of the logs. Results go to DIR/results.md and DIR/results.json.
#
# Targets (checked on the largest size): B/A <= 1.10, D/A <= 0.10, C writes 0 rows, peak RSS
# <= 100 MB, and D grows no faster than the logs. The exit status is 1 when one is missed
# (with --quick only a C that writes rows fails: small logs are all fixed cost).
#
# Everything runs against a private ClickHouse (scripts/clickhouse-server.sh, in
# DIR/clickhouse on 127.0.0.1:28125, TCP 29002), stopped at the end. The importer and ccusage
# run with a clean environment (HOME=DIR/home, no CH_* or CCUSAGE_* settings, no .env), so
# neither your ClickHouse settings nor other agents' logs take part. Before measuring it waits
# (at most --load-wait seconds, default 600) until the 1-minute load is below --max-load
# (default 1.0), and records the load at start and end.
#
#   --quick        smoke test: 2000 and 10000 lines, 3 repetitions (5 for D), no load wait
#   --sizes LIST   lines per size, e.g. "10000 50000 200000" (the default)
#   --runs N       repetitions of A, B and C (default 7), after one warm-up run each
#   --runs-d N     repetitions of D (default 15)
#   --max-load X   wait for a 1-minute load below X before measuring (default 1.0; 0: don't wait)
#   --load-wait S  wait at most S seconds for that (default 600), then measure anyway
#   --out DIR      work and results directory (default target/bench)
#   --keep-logs    keep the generated logs (DIR/logs) instead of deleting them at the end
#
# Needs: what scripts/ensure-deps.sh --bench installs (ClickHouse, ccusage 20, hyperfine,
# python3, cargo) and /usr/bin/time for the cross-check (optional). CCUSAGE_BIN names another
# ccusage than the one on PATH.
set -euo pipefail

readonly PROG="bench.sh"
readonly CH_HTTP_PORT=28125
readonly CH_TCP_PORT=29002
readonly GEN_ARGS=(--projects 50 --days 90 --seed 2 --active --pad 800)

die() { echo "$PROG: error: $*" >&2; exit 1; }
say() { echo "$PROG: $*" >&2; }
header() { printf '\n==> %s\n' "$*" >&2; }

quick=0
sizes=""
runs=""
runs_d=""
max_load=""
load_wait=600
out=target/bench
keep_logs=0
while [[ $# -gt 0 ]]; do
    case $1 in
        --quick) quick=1; shift ;;
        --sizes) [[ $# -ge 2 ]] || die "--sizes needs a value"; sizes=${2//,/ }; shift 2 ;;
        --runs) [[ $# -ge 2 ]] || die "--runs needs a value"; runs=$2; shift 2 ;;
        --runs-d) [[ $# -ge 2 ]] || die "--runs-d needs a value"; runs_d=$2; shift 2 ;;
        --max-load) [[ $# -ge 2 ]] || die "--max-load needs a value"; max_load=$2; shift 2 ;;
        --load-wait) [[ $# -ge 2 ]] || die "--load-wait needs a value"; load_wait=$2; shift 2 ;;
        --out) [[ $# -ge 2 ]] || die "--out needs a value"; out=$2; shift 2 ;;
        --keep-logs) keep_logs=1; shift ;;
        -h | --help) sed -n '2,45s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
if ((quick)); then
    : "${sizes:=2000 10000}" "${runs:=3}" "${runs_d:=5}" "${max_load:=0}"
else
    : "${sizes:=10000 50000 200000}" "${runs:=7}" "${runs_d:=15}" "${max_load:=1.0}"
fi
for n in $sizes "$runs" "$runs_d" "$load_wait"; do
    [[ $n =~ ^[0-9]+$ && $n -gt 0 ]] || die "expected a positive whole number, got '$n'"
done
[[ $max_load =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--max-load must be a number, got '$max_load'"
# Ascending, so the last is the heavy user the targets are checked on.
read -r -a size_list <<<"$sizes"
sizes=$(printf '%s\n' "${size_list[@]}" | sort -n | uniq | tr '\n' ' ')
sizes=${sizes% }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"
exec </dev/null
for d in "$HOME/.local/bin" "$HOME/.cargo/bin"; do
    if [[ -d $d && ":$PATH:" != *":$d:"* ]]; then PATH="$d:$PATH"; fi
done
export PATH
mkdir -p "$out"
out=$(cd "$out" && pwd -P)

# One bench at a time per DIR: they would share the server, the logs and the results.
exec 9>"$out/bench.lock"
flock -n 9 || die "another scripts/bench.sh is running with $out"

# ---- setup -----------------------------------------------------------------------------------

header "dependencies and the release binary"
scripts/ensure-deps.sh --bench >&2
command -v hyperfine >/dev/null || die "hyperfine is missing (scripts/ensure-deps.sh --bench installs it)"
cargo build --release >&2
importer=$root/target/release/ccusage-import
[[ -x $importer ]] || die "$importer was not built"
ccusage=${CCUSAGE_BIN:-$(command -v ccusage || true)}
[[ -n $ccusage && -x $ccusage ]] || die "ccusage is not on PATH (scripts/ensure-deps.sh installs it)"
ccusage_version=$("$ccusage" --version 2>/dev/null | head -n1) || die "$ccusage --version failed"
gnu_time=
if [[ -x /usr/bin/time ]] && /usr/bin/time -f %M true >/dev/null 2>&1; then gnu_time=/usr/bin/time; fi

work=$out/run
home=$out/home
rm -rf "$work" "$home"
mkdir -p "$work" "$home"
(umask 077 && : >"$out/empty.env") # --env-file: no .env of yours takes part
echo '{}' >"$out/empty-config.json"  # the floor's --config, as the importer's own
created_dbs=$work/created-dbs
: >"$created_dbs"

url=
server_started=0
cleanup() {
    local rc=$?
    trap '' INT TERM
    if [[ -n $url && -s $created_dbs ]]; then
        local db
        while read -r db; do
            curl -fsS --max-time 30 "$url/" --data-binary "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
        done <"$created_dbs"
    fi
    if ((server_started)); then
        scripts/clickhouse-server.sh stop --dir "$out/clickhouse" || say "warning: could not stop the bench ClickHouse"
    fi
    if ((!keep_logs)); then rm -rf "$out/logs"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

header "ClickHouse on 127.0.0.1:$CH_HTTP_PORT"
server_started=1
url=$(scripts/clickhouse-server.sh start --dir "$out/clickhouse" --http-port "$CH_HTTP_PORT" --tcp-port "$CH_TCP_PORT" | tail -n1)
ch_version=$(curl -fsS --max-time 5 "$url/?query=SELECT%20version()") || die "ClickHouse does not answer on $url"

# The importer and ccusage see only this; CLAUDE_CONFIG_DIR is added per size.
clean_env=(env -i "PATH=$PATH" "HOME=$home" "LANG=C.UTF-8" "TMPDIR=${TMPDIR:-/tmp}")
importer_args=(--env-file "$out/empty.env" --lock-file "$work/import.lock" --ch-url "$url"
    --machine-name bench --color never --json)

# ---- preparation per size: logs, the commands, captured output, a populated database for C ----

# Writes the scripts hyperfine runs for one size into $1 (see the python for what each is).
write_scripts() {
    python3 - "$@" <<'PY'
import json, os, shlex, stat, sys

(dirpath, verbose_log, ccusage, version_text, config, importer, url, tag,
 created_dbs, *importer_args) = sys.argv[1:]
q = shlex.quote

def put(name, text):
    path = os.path.join(dirpath, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path

# The reports the importer ran, as it logged them: "ccusage-import: verbose: run <command line>".
prefix = "ccusage-import: verbose: run "
commands = []
for line in open(verbose_log, encoding="utf-8", errors="replace"):
    line = line.rstrip("\n")
    if not line.startswith(prefix):
        continue
    rest = line[len(prefix):]
    if not rest.startswith(ccusage + " "):
        sys.exit(f"bench.sh: unexpected command line in {verbose_log}: {rest}")
    args = rest[len(ccusage) + 1:].split(" ")
    if args == ["--version"]:
        continue  # asked once before the reports; part of the importer's own cost
    if "--config" in args:  # the importer's temporary {} file is gone by now: use ours
        args[args.index("--config") + 1] = config
    commands.append(args)
if not commands:
    sys.exit(f"bench.sh: the importer logged no ccusage command in {verbose_log}")

# The same dispatch as tests/it/harness.rs `stand_in`, in the same order.
def report_name(args):
    words = set(args)
    if "--since" in words:  # a one-day session report (ccusage 19+), one per day
        return "session_day_" + args[args.index("--since") + 1]
    for flag, name in (("--instances", "instances"), ("--by-agent", "agents")):
        if flag in words:
            return name
    for word in ("monthly", "session", "blocks", "daily"):
        if word in words:
            return word
    sys.exit("bench.sh: cannot tell which report this is: " + " ".join(args))
names = [report_name(a) for a in commands]
if len(set(names)) != len(names):
    sys.exit(f"bench.sh: two commands map to the same report: {names}")

def launch_all(redirect):
    lines = ["#!/bin/sh", "TZ=UTC; export TZ"]
    for i, (args, name) in enumerate(zip(commands, names)):
        words = " ".join(q(w) for w in [ccusage, *args])
        lines.append(f"{words} </dev/null {redirect(name)} & p{i}=$!")
    lines.append("s=0")
    lines += [f"wait $p{i} || s=1" for i in range(len(commands))]
    lines.append("exit $s")
    return "\n".join(lines) + "\n"

cap = os.path.join(dirpath, "capture")
# A: the floor. Output goes nowhere; the importer's reading of the pipes is its own cost.
put("A.sh", launch_all(lambda n: ">/dev/null 2>&1"))
put("capture.sh", launch_all(lambda n: f">{q(os.path.join(cap, n + '.json'))} 2>{q(os.path.join(cap, n + '.err'))}"))

# D's ccusage: answers --version like the real one, cats the captured report.
cases = [f"  *\" --version \"*) printf '%s\\n' {q(version_text)}; exit 0 ;;"]
for name in names:  # before "session": their command lines hold it too
    if name.startswith("session_day_"):
        day = name[len("session_day_"):]
        cases.append(f"  *\" --since {day} \"*) exec cat {q(os.path.join(cap, name + '.json'))} ;;")
for flag, name in (("--instances", "instances"), ("--by-agent", "agents"), ("monthly", "monthly"),
                   ("session", "session"), ("blocks", "blocks"), ("daily", "daily")):
    if name in names:
        cases.append(f"  *\" {flag} \"*) exec cat {q(os.path.join(cap, name + '.json'))} ;;")
cases.append("  *) echo \"stand-in ccusage: unexpected arguments: $*\" >&2; exit 64 ;;")
stand_in = put("ccusage", "#!/bin/sh\n# Stand-in ccusage for D: prints the captured reports.\n"
               'case " $* " in\n' + "\n".join(cases) + "\nesac\n")

# next.sh SERIES: names the database (and the JSON file) of SERIES' next run. B and D get a
# fresh, empty database every run; the bench's own previous one is dropped (outside the timing).
# C always re-imports into the one database the preparation filled.
put("next.sh", f"""#!/bin/sh
s=$1; d={q(dirpath)}; n=0
[ -f "$d/$s.n" ] && n=$(cat "$d/$s.n")
case $s in
  C) db={tag}_C; [ "$n" -gt 0 ] || echo "$db" >> {q(created_dbs)} ;;
  *) if [ "$n" -gt 0 ]; then
       curl -fsS --max-time 30 {q(url + '/')} --data-binary "DROP DATABASE IF EXISTS {tag}_${{s}}_$n" >/dev/null
     fi
     db={tag}_${{s}}_$((n + 1)); echo "$db" >> {q(created_dbs)} ;;
esac
echo $((n + 1)) > "$d/$s.n"
echo "$db $((n + 1))" > "$d/$s.next"
""")

def importer_script(series, bin_path):
    words = " ".join(q(w) for w in [importer, *importer_args, "--ccusage-bin", bin_path])
    runs = q(os.path.join(dirpath, "runs"))
    return (f"#!/bin/sh\nread -r db n < {q(os.path.join(dirpath, series + '.next'))}\n"
            f"exec {words} --ch-database \"$db\" >{runs}/{series}.$n.json 2>{runs}/{series}.$n.err\n")
put("B.sh", importer_script("B", ccusage))
put("C.sh", importer_script("C", ccusage))
put("D.sh", importer_script("D", stand_in))
json.dump({"commands": [[ccusage, *a] for a in commands], "reports": names},
          open(os.path.join(dirpath, "commands.json"), "w"), indent=1)
print(len(commands))
PY
}

# One size: logs, command lines, captured output, C's database. Sets nothing global.
prepare() {
    local lines=$1 dir=$work/$1 logs=$out/logs/$1 tag=bench_$$_$1
    mkdir -p "$dir/capture" "$dir/runs"
    rm -rf "$logs"
    say "$lines lines: generating logs in $logs"
    python3 scripts/gen_claude_logs.py --out "$logs" --lines "$lines" "${GEN_ARGS[@]}" >"$dir/gen.txt" 2>&1
    cat "$dir/gen.txt" >&2
    local env_logs=("${clean_env[@]}" "CLAUDE_CONFIG_DIR=$logs")

    "${env_logs[@]}" "$importer" "${importer_args[@]}" --ccusage-bin "$ccusage" --dry-run --verbose \
        >"$dir/dry-run.json" 2>"$dir/dry-run.log" || { cat "$dir/dry-run.log" >&2; die "the dry run failed"; }
    local n
    n=$(write_scripts "$dir" "$dir/dry-run.log" "$ccusage" "$ccusage_version" "$out/empty-config.json" \
        "$importer" "$url" "$tag" "$created_dbs" "${importer_args[@]}")
    say "$lines lines: the importer runs $n ccusage reports; capturing their output for D"
    "${env_logs[@]}" "$dir/capture.sh" || { tail -n 5 "$dir"/capture/*.err >&2; die "a ccusage report failed"; }

    say "$lines lines: filling C's database (one full import)"
    "${env_logs[@]}" "$dir/next.sh" C
    "${env_logs[@]}" "$dir/C.sh" || { cat "$dir/runs/C.1.err" >&2; die "the import into C's database failed"; }
    # hyperfine runs prepare before each run (warm-up included); name a first one anyway.
    for s in B D; do "$dir/next.sh" "$s"; done
}

# ---- measure ---------------------------------------------------------------------------------

load1() { cut -d' ' -f1 /proc/loadavg; }

wait_for_quiet() {
    local started=$SECONDS load last=-60
    awk "BEGIN { exit !($max_load > 0) }" || return 0
    while :; do
        load=$(load1)
        awk "BEGIN { exit !($load < $max_load) }" && return 0
        if ((SECONDS - started >= load_wait)); then
            say "the 1-minute load is still $load after ${load_wait}s; measuring anyway (the results say so)"
            return 0
        fi
        if ((SECONDS - last >= 60)); then
            say "waiting for a quiet machine: 1-minute load $load, want below $max_load (at most ${load_wait}s)"
            last=$SECONDS
        fi
        sleep 5
    done
}

measure() {
    local lines=$1 dir=$work/$1 logs=$out/logs/$1
    local env_logs=("${clean_env[@]}" "CLAUDE_CONFIG_DIR=$logs")
    header "$lines lines: A, B, C ($runs runs each) and D ($runs_d runs)"
    load1 >"$dir/load-before"
    local qd # hyperfine -N splits its commands like a shell: quote the directory
    qd=$(printf %q "$dir")
    "${env_logs[@]}" hyperfine -N --style basic --warmup 1 --runs "$runs" \
        --export-json "$dir/abc.json" \
        --prepare true --prepare "$qd/next.sh B" --prepare "$qd/next.sh C" \
        -n "A floor" "$qd/A.sh" -n "B import" "$qd/B.sh" -n "C re-import" "$qd/C.sh" >&2
    "${env_logs[@]}" hyperfine -N --style basic --warmup 1 --runs "$runs_d" \
        --export-json "$dir/d.json" --prepare "$qd/next.sh D" -n "D importer alone" "$qd/D.sh" >&2
    if [[ -n $gnu_time ]]; then
        "$dir/next.sh" D
        "${env_logs[@]}" "$gnu_time" -f %M -o "$dir/d-time-maxrss-kib" "$dir/D.sh" ||
            die "D under $gnu_time failed"
    fi
    load1 >"$dir/load-after"
}

header "preparing: logs, ccusage's commands and output, C's database"
for lines in $sizes; do prepare "$lines"; done

header "waiting for the machine to be quiet"
wait_for_quiet
started_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load_start=$(load1)
say "measuring (1-minute load $load_start)"
heavy=${sizes##* }
measure "$heavy" # the heavy user first, while the machine is as quiet as it gets
for lines in $sizes; do
    [[ $lines == "$heavy" ]] || measure "$lines"
done
load_end=$(load1)

# ---- report ----------------------------------------------------------------------------------

header "results"
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
mem_gib=$(free -g | awk '/^Mem:/ { print $2 }')
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git status --porcelain -- src Cargo.toml Cargo.lock sql 2>/dev/null) ]]; then commit="$commit+local changes"; fi
command_line="scripts/bench.sh"
if ((quick)); then command_line+=" --quick"; fi
cores=$(nproc)
hyperfine_version=$(hyperfine --version | awk '{ print $2 }')
export BENCH_COMMAND=$command_line BENCH_STARTED_AT=$started_at BENCH_CPU=$cpu BENCH_CORES=$cores \
    BENCH_MEM_GIB=$mem_gib BENCH_CCUSAGE=$ccusage_version BENCH_CLICKHOUSE=$ch_version \
    BENCH_HYPERFINE=$hyperfine_version BENCH_COMMIT=$commit \
    BENCH_LOAD_START=$load_start BENCH_LOAD_END=$load_end \
    BENCH_GENERATOR="scripts/gen_claude_logs.py ${GEN_ARGS[*]} --lines N"
python3 - "$work" "$out" "$sizes" "$heavy" "$quick" <<'PY'
import json, os, re, statistics, sys

work, out, sizes, heavy, quick = sys.argv[1:]
sizes = [int(s) for s in sizes.split()]
heavy, quick = int(heavy), quick == "1"
env = os.environ
meta = {
    "command": env["BENCH_COMMAND"], "started_at": env["BENCH_STARTED_AT"], "cpu": env["BENCH_CPU"],
    "cores": int(env["BENCH_CORES"]), "memory_gib": int(env["BENCH_MEM_GIB"]),
    "ccusage": env["BENCH_CCUSAGE"], "clickhouse": env["BENCH_CLICKHOUSE"],
    "hyperfine": env["BENCH_HYPERFINE"], "importer_commit": env["BENCH_COMMIT"],
    "load_start": float(env["BENCH_LOAD_START"]), "load_end": float(env["BENCH_LOAD_END"]),
    "generator": env["BENCH_GENERATOR"],
}
USAGE = "ccusage_usage_"

def series_runs(d, s):
    rows = []
    for f in sorted(os.listdir(os.path.join(d, "runs"))):
        if f.startswith(s + ".") and f.endswith(".json"):
            with open(os.path.join(d, "runs", f)) as fh:
                rows.append(json.load(fh))
    return rows

results = []
for lines in sizes:
    d = os.path.join(work, str(lines))
    bench = {r["command"][0]: r for r in json.load(open(os.path.join(d, "abc.json")))["results"]}
    bench.update({r["command"][0]: r for r in json.load(open(os.path.join(d, "d.json")))["results"]})
    # The generator's last words: "210192 lines, 295747402 bytes in 6888 files; ..."
    gen = re.search(r"(\d+) lines, (\d+) bytes in (\d+) files", open(os.path.join(d, "gen.txt")).read())
    if not gen:
        sys.exit(f"bench.sh: cannot read the generator's summary in {d}/gen.txt")
    size = {"lines": lines, "jsonl_lines": int(gen[1]), "bytes": int(gen[2]), "files": int(gen[3]), "series": {},
            "load_before": float(open(os.path.join(d, "load-before")).read()),
            "load_after": float(open(os.path.join(d, "load-after")).read())}
    for s in "ABCD":
        r = bench[s]
        entry = {k: r[k] for k in ("median", "mean", "stddev", "min", "max")}
        entry["runs"] = len(r["times"])
        entry["times"] = r["times"]
        if s != "A":
            js = series_runs(d, s)
            bad = [j for j in js if j.get("exit_code") != 0]
            if bad:
                sys.exit(f"bench.sh: a {s} run failed: {bad[0].get('errors')}")
            usage = [sum(v for k, v in j["tables"].items() if k.startswith(USAGE)) for j in js]
            children = [sum(v for k, v in j["tables"].items() if not k.startswith(USAGE)) for j in js]
            rss = [j["peak_rss_bytes"] for j in js if j.get("peak_rss_bytes")]
            # C.1 is the preparation's first import, not a re-run.
            keep = slice(1, None) if s == "C" else slice(None)
            entry.update(usage_rows=usage[keep], child_rows=children[keep],
                         peak_rss_max=max(rss) if rss else None,
                         fetch_ms=statistics.median(j["timings_ms"]["fetch"] for j in js),
                         map_ms=statistics.median(j["timings_ms"]["map"] for j in js),
                         write_ms=statistics.median(j["timings_ms"]["write"] for j in js))
        size["series"][s] = entry
    t = os.path.join(d, "d-time-maxrss-kib")
    size["d_gnu_time_maxrss"] = int(open(t).read().split()[-1]) * 1024 if os.path.exists(t) else None
    S = size["series"]
    for s in "BCD":
        size[s + "/A"] = S[s]["median"] / S["A"]["median"]
    results.append(size)

by = {r["lines"]: r for r in results}
H = by[heavy]
S = H["series"]
peak = max(x for x in (S["B"]["peak_rss_max"], S["C"]["peak_rss_max"], S["D"]["peak_rss_max"],
                       H["d_gnu_time_maxrss"]) if x)
small = results[0]
grow_logs = H["bytes"] / small["bytes"]
grow_d = S["D"]["median"] / small["series"]["D"]["median"]
targets = [
    ("B/A <= 1.10", f"{H['B/A']:.3f}", H["B/A"] <= 1.10, True),
    ("D/A <= 0.10", f"{H['D/A']:.3f}", H["D/A"] <= 0.10, True),
    ("C writes 0 usage rows", f"{max(S['C']['usage_rows'])} usage, {max(S['C']['child_rows'])} child rows "
     f"in every one of {len(S['C']['usage_rows'])} re-runs", max(S["C"]["usage_rows"]) == 0, False),
    ("importer's own peak RSS <= 100 MB", f"{peak / 1e6:.1f} MB", peak <= 100e6, True),
]
if len(results) > 1:
    targets.append((f"D grows no faster than the logs ({small['lines']} -> {heavy} lines)",
                    f"D x{grow_d:.2f}, logs x{grow_logs:.2f}", grow_d <= grow_logs, True))

def sec(x): return f"{x:.3f} s"
def spread(e): return f"± {e['stddev']:.3f} ({e['min']:.3f}–{e['max']:.3f})"
def mb(b): return f"{b / 1e6:.0f} MB" if b else "–"
what = {"A": "floor: the %d ccusage reports at once, no importer" % len(json.load(open(os.path.join(work, str(heavy), "commands.json")))["commands"]),
        "B": "full import into an empty database",
        "C": "import again, nothing changed",
        "D": "importer alone (stand-in ccusage cats the captured reports)"}
md = []
md.append(f"{'Largest logs' if quick else 'Heavy user'}: {H['jsonl_lines']:,} lines, {H['bytes'] / 1e6:.0f} MB in {H['files']:,} files "
          f"({meta['generator'].replace(' N', ' ' + str(heavy))}).\n")
md.append("| run | what | median | ± σ (min–max) | runs | ratio to A | usage rows written | child rows written | importer peak RSS |")
md.append("|---|---|---:|---|---:|---:|---:|---:|---:|")
for s in "ABCD":
    e = S[s]
    ratio = "1" if s == "A" else f"{H[s + '/A']:.3f}"
    rows = "–" if s == "A" else (str(e["usage_rows"][0]) if len(set(e["usage_rows"])) == 1 else str(e["usage_rows"]))
    child = "–" if s == "A" else (str(e["child_rows"][0]) if len(set(e["child_rows"])) == 1 else str(e["child_rows"]))
    md.append(f"| {s} | {what[s]} | {sec(e['median'])} | {spread(e)} | {e['runs']} | {ratio} | {rows} | {child} | "
              f"{mb(e.get('peak_rss_max'))} |")
md.append("")
md.append("| target | measured | met |")
md.append("|---|---|---|")
for name, value, ok, _ in targets:
    md.append(f"| {name} | {value} | {'yes' if ok else '**no**'} |")
md.append("")
md.append("Growth with the size of the logs (medians):\n")
md.append("| lines | logs | A | B | C | D | B − A | B/A | D/A | D per 100 MB of logs |")
md.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in results:
    e = r["series"]
    md.append(f"| {r['jsonl_lines']:,} | {r['bytes'] / 1e6:.0f} MB | {sec(e['A']['median'])} | {sec(e['B']['median'])} | "
              f"{sec(e['C']['median'])} | {sec(e['D']['median'])} | {sec(e['B']['median'] - e['A']['median'])} | "
              f"{r['B/A']:.3f} | {r['D/A']:.3f} | {e['D']['median'] / (r['bytes'] / 1e8):.3f} s |")
md.append("")
md.append(f"Importer's own timings in B (medians of its --json): fetch {S['B']['fetch_ms']:.0f} ms "
          f"(ccusage running, mapping as each report ends), map {S['B']['map_ms']:.0f} ms, "
          f"write {S['B']['write_ms']:.0f} ms. Peak RSS is getrusage(RUSAGE_SELF) of the importer "
          f"(children excluded), the largest over every B, C and D run"
          + (f"; GNU time's maximum RSS of one D run (its children are a tiny sh and cat): "
             f"{H['d_gnu_time_maxrss'] / 1e6:.1f} MB." if H["d_gnu_time_maxrss"] else "."))
md.append("")
md.append(f"Made by `{meta['command']}` on {meta['started_at']}: {meta['cores']} cores ({meta['cpu']}), "
          f"{meta['memory_gib']} GiB memory, ccusage {meta['ccusage'].split()[-1]}, ClickHouse {meta['clickhouse']}, "
          f"hyperfine {meta['hyperfine']}, importer {meta['importer_commit']}; 1-minute load "
          f"{meta['load_start']:.2f} when measuring began, {meta['load_end']:.2f} at the end (which "
          f"counts the bench's own reports, all at once on {meta['cores']} cores). "
          f"B and D import into a fresh database every run; C re-imports into one filled beforehand.")
text = "\n".join(md) + "\n"
open(os.path.join(out, "results.md"), "w").write(text)
json.dump({"meta": meta, "sizes": results,
           "targets": [{"target": n, "measured": v, "met": ok} for n, v, ok, _ in targets]},
          open(os.path.join(out, "results.json"), "w"), indent=1)
print(text)
print(f"ratios on {H['jsonl_lines']:,} lines: B/A {H['B/A']:.3f} (target <= 1.10), "
      f"C/A {H['C/A']:.3f}, D/A {H['D/A']:.3f} (target <= 0.10)")
missed = [n for n, v, ok, fixed_cost in targets if not ok and not (quick and fixed_cost)]
if missed:
    print("missed: " + "; ".join(missed))
    sys.exit(1)
print("every target met" + (" that applies to --quick (small logs are all fixed cost)" if quick else ""))
PY
say "results in $out/results.md and $out/results.json"
