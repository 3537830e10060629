#!/bin/sh
# Set it and forget it: install, inspect and remove the hourly ccusage-import job.
#
#   scripts/setup_cronjob.sh install     add (or replace) the job, after one successful import
#   scripts/setup_cronjob.sh status      show the job, the last lines of its log, the last run
#   scripts/setup_cronjob.sh uninstall   remove the job and nothing else
#
# The job is one crontab line of the current user, found again by its trailing marker comment;
# every other line of the crontab is left exactly as it was. Without crontab, --systemd installs
# a systemd user timer instead. Run with --help for the options. POSIX sh; Linux.
set -eu

PROG=setup_cronjob.sh
MARKER='# ccusage-import (managed by setup_cronjob.sh)'
UNIT=ccusage-import
# Vixie-derived crons (Debian's among them) silently cut crontab commands at 1000 characters.
MAX_LINE=999

usage() {
    cat <<'EOF'
usage: scripts/setup_cronjob.sh install   [options]   add or replace the hourly import job
       scripts/setup_cronjob.sh status    [options]   show the job, its log and the last run
       scripts/setup_cronjob.sh uninstall             remove the job (and nothing else)

install first runs one import exactly as the job will (same binary, settings file and PATH, an
otherwise empty environment); this also creates the ClickHouse schema. If that import fails,
nothing is installed. Running install again replaces the job: there is never more than one,
and other crontab entries are never touched.

Options (install):
  --bin PATH        the importer [default: ccusage-import on PATH, else
                    <project>/target/release/ccusage-import]
  --env-file PATH   its settings: CH_HOST, CH_PORT, CH_USER, CH_PASSWORD, CH_DATABASE,
                    MACHINE_NAME, ... [default: the importer's own choice:
                    CCUSAGE_IMPORT_ENV_FILE, else ./.env, else
                    ~/.config/ccusage-import/.env]. The job sees only this file: variables
                    exported in your shell do not reach cron.
  --every MINUTES   run every MINUTES minutes [default: 60]: a divisor of 60 (1, 2, 5, 10,
                    15, 30, ...) or a multiple of 60 that divides 1440 (120, 360, 1440, ...).
                    The minute (and hour) is derived from the machine name, so the machines
                    of a fleet do not all write to ClickHouse at the same moment.
  --schedule EXPR   a five-field cron schedule instead, used as given, e.g. "7 */2 * * *"
  --log PATH        append the job's output to PATH
                    [default: ~/.local/state/ccusage-import/cron.log]
  --log-max-kb N    before a run, move the log to PATH.1 once it exceeds N KiB [default: 1024]
  --systemd         install a systemd user timer instead of a crontab entry (its output goes
                    to the journal: journalctl --user -u ccusage-import)
  --dry-run, --print
                    print the entry (or units) install would write; run and change nothing

Options (status):
  --env-file PATH   settings to read the ledger with [default: the installed job's]
  --lines N         log lines to show [default: 10]

Environment:
  CCUSAGE_IMPORT_CRONTAB   the crontab command [default: crontab]

Exit codes: 0 done; 1 failed, nothing changed; 2 bad usage; status: 3 when no job is installed.
EOF
}

die() { echo "$PROG: error: $*" >&2; exit 1; }
usage_error() { echo "$PROG: error: $* (see $PROG --help)" >&2; exit 2; }
warn() { echo "$PROG: warning: $*" >&2; }
say() { echo "$PROG: $*"; }

# ---- arguments -------------------------------------------------------------------------------

[ $# -ge 1 ] || { usage >&2; exit 2; }
cmd=$1
shift
case $cmd in
    install | uninstall | status) ;;
    -h | --help | help) usage; exit 0 ;;
    *) usage_error "unknown command '$cmd' (expected install, uninstall or status)" ;;
esac

opt_bin=
opt_env=
opt_every=
opt_schedule=
opt_log=
opt_log_max_kb=1024
opt_systemd=0
opt_dry_run=0
opt_lines=10

given= # the options given, for refusing those the command does not take

# needs_value OPTION COUNT: the option takes a value, so at least two arguments must remain.
needs_value() { [ "$2" -ge 2 ] || usage_error "$1 needs a value"; }

while [ $# -gt 0 ]; do
    case $1 in
        --*) given="$given ${1%%=*}" ;;
    esac
    case $1 in
        --bin) needs_value "$1" $#; opt_bin=$2; shift 2 ;;
        --bin=*) opt_bin=${1#*=}; shift ;;
        --env-file) needs_value "$1" $#; opt_env=$2; shift 2 ;;
        --env-file=*) opt_env=${1#*=}; shift ;;
        --every) needs_value "$1" $#; opt_every=$2; shift 2 ;;
        --every=*) opt_every=${1#*=}; shift ;;
        --schedule) needs_value "$1" $#; opt_schedule=$2; shift 2 ;;
        --schedule=*) opt_schedule=${1#*=}; shift ;;
        --log) needs_value "$1" $#; opt_log=$2; shift 2 ;;
        --log=*) opt_log=${1#*=}; shift ;;
        --log-max-kb) needs_value "$1" $#; opt_log_max_kb=$2; shift 2 ;;
        --log-max-kb=*) opt_log_max_kb=${1#*=}; shift ;;
        --lines) needs_value "$1" $#; opt_lines=$2; shift 2 ;;
        --lines=*) opt_lines=${1#*=}; shift ;;
        --systemd) opt_systemd=1; shift ;;
        --dry-run | --print) opt_dry_run=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done

# only_options OPTION...: refuses any option given that is not in the list.
only_options() {
    for _g in $given; do
        case " $* " in
            *" $_g "*) ;;
            *) usage_error "$cmd does not take $_g" ;;
        esac
    done
}

# number OPTION VALUE: VALUE as a plain decimal number (no leading zeros: sh reads 010 as
# octal), or a usage error.
number() {
    case $2 in
        '' | *[!0-9]*) usage_error "$1 must be a number, got '$2'" ;;
    esac
    _n=$(printf '%s' "$2" | sed 's/^0*//')
    [ ${#_n} -le 9 ] || usage_error "$1 is too large: $2"
    printf '%s\n' "${_n:-0}"
}

case $cmd in
    install)
        only_options --bin --env-file --every --schedule --log --log-max-kb --systemd --dry-run --print
        [ -z "$opt_every" ] || [ -z "$opt_schedule" ] || usage_error "give --every or --schedule, not both"
        opt_log_max_kb=$(number --log-max-kb "$opt_log_max_kb")
        [ "$opt_log_max_kb" -ge 1 ] || usage_error "--log-max-kb must be at least 1"
        [ -z "$opt_every" ] || opt_every=$(number --every "$opt_every")
        ;;
    status)
        only_options --env-file --lines
        opt_lines=$(number --lines "$opt_lines")
        ;;
    uninstall)
        only_options
        ;;
esac

[ -n "${HOME:-}" ] || die "HOME is not set"

# The project root, for the default binary and .env (this script lives in <root>/scripts).
root=$(cd "$(dirname "$0")/.." && pwd -P) || die "cannot find the project directory of $0"
config_home=${XDG_CONFIG_HOME:-$HOME/.config}
state_home=${XDG_STATE_HOME:-$HOME/.local/state}
crontab_cmd=${CCUSAGE_IMPORT_CRONTAB:-crontab}
unit_dir=$config_home/systemd/user
service_file=$unit_dir/$UNIT.service
timer_file=$unit_dir/$UNIT.timer

tmp=$(mktemp -d "${TMPDIR:-/tmp}/setup_cronjob.XXXXXX") || die "cannot create a temporary directory"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- helpers ---------------------------------------------------------------------------------

# abspath PATH: PATH made absolute (its directory must exist); symlinks in the name are kept.
abspath() {
    case $1 in
        */*) _dir=${1%/*}; _base=${1##*/}; [ -n "$_dir" ] || _dir=/ ;;
        *) _dir=.; _base=$1 ;;
    esac
    _dir=$(cd "$_dir" 2>/dev/null && pwd -P) || return 1
    case $_dir in
        /) printf '/%s\n' "$_base" ;;
        *) printf '%s/%s\n' "$_dir" "$_base" ;;
    esac
}

# The paths go into a crontab line inside single quotes; cron turns % into newlines.
check_path_chars() {
    case $2 in
        *"'"* | *%* | *'
'*) die "$1 must not contain a single quote, % or a newline: $2" ;;
    esac
}

# ask ENV_FILE ARGS...: runs the importer ($bin) with ARGS as the job will see its settings:
# ENV_FILE and no other environment. The importer reads the file itself, so nothing here can
# read it differently (a name set twice, quotes, comments): `ccusage-import config --get NAME`
# prints a setting, `--source NAME` where it came from (file or default, here).
ask() {
    _ask_env=$1
    shift
    (cd "$HOME" && exec env -i HOME="$HOME" PATH=/usr/bin:/bin "$bin" --env-file "$_ask_env" "$@")
}

# discovered_env_file: the settings file the importer reads when none is named, asked of the
# importer itself ($bin, in this directory and environment) so the rule cannot drift:
# CCUSAGE_IMPORT_ENV_FILE, else ./.env, else $XDG_CONFIG_HOME/ccusage-import/.env. Empty when
# there is none (or the importer cannot say).
discovered_env_file() {
    [ -x "${bin:-}" ] || return 0
    "$bin" config --get CCUSAGE_IMPORT_ENV_FILE 2>/dev/null || true
}

# error_of FILE: the first `ccusage-import: error:` message in FILE (warnings may come first).
error_of() { sed -n 's/^ccusage-import: error: //p' "$1" | head -n 1; }

# machine_name ENV_FILE: the name the importer tags rows with when cron runs it.
machine_name() {
    ask "$1" config --get MACHINE_NAME 2>"$tmp/config.err" ||
        die "$bin cannot read the settings in $1: $(error_of "$tmp/config.err")"
}

# A stable number from the machine name: the same on every run, different across a fleet.
name_hash() { printf '%s' "$1" | cksum | awk '{ print $1 }'; }

# seq_list FIRST STEP LAST: "FIRST,FIRST+STEP,..." up to LAST.
seq_list() {
    _i=$1 _out=
    while [ "$_i" -le "$3" ]; do
        _out=${_out:+$_out,}$_i
        _i=$((_i + $2))
    done
    printf '%s\n' "$_out"
}

# expand_field FIELD LO HI: a cron minute/hour field as an explicit list ("*" when it is every
# value), or nothing when the field is not understood. For systemd's OnCalendar.
expand_field() {
    awk -v f="$1" -v lo="$2" -v hi="$3" 'BEGIN {
        n = split(f, parts, ",")
        for (p = 1; p <= n; p++) {
            part = parts[p]; step = 1
            if (index(part, "/")) {
                step = substr(part, index(part, "/") + 1)
                part = substr(part, 1, index(part, "/") - 1)
                if (step !~ /^[0-9]+$/ || step + 0 < 1) exit 1
            }
            if (part == "*") { a = lo; b = hi }
            else if (part ~ /^[0-9]+-[0-9]+$/) { split(part, r, "-"); a = r[1] + 0; b = r[2] + 0 }
            else if (part ~ /^[0-9]+$/) { a = part + 0; b = (step > 1 || index(parts[p], "/")) ? hi : a }
            else exit 1
            if (a < lo || b > hi || a > b) exit 1
            for (v = a; v <= b; v += step) seen[v] = 1
        }
        out = ""; all = 1
        for (v = lo; v <= hi; v++) {
            if (v in seen) out = out (out == "" ? "" : ",") v
            else all = 0
        }
        print (all ? "*" : out)
    }'
}

# Reads the current crontab into $tmp/crontab (empty when the user has none).
read_crontab() {
    if "$crontab_cmd" -l >"$tmp/crontab" 2>"$tmp/crontab.err"; then
        return 0
    fi
    if grep -qi 'no crontab' "$tmp/crontab.err"; then
        : >"$tmp/crontab"
        return 0
    fi
    die "$crontab_cmd -l failed: $(head -n 1 "$tmp/crontab.err")"
}

# Lines of $tmp/crontab that are not ours, in order, byte for byte.
others() {
    awk -v m="$MARKER" '{
        line = $0; sub(/[ \t\r]+$/, "", line)
        if (length(line) >= length(m) && substr(line, length(line) - length(m) + 1) == m) next
        print
    }' "$tmp/crontab"
}
ours() {
    awk -v m="$MARKER" '{
        line = $0; sub(/[ \t\r]+$/, "", line)
        if (length(line) >= length(m) && substr(line, length(line) - length(m) + 1) == m) print
    }' "$tmp/crontab"
}

write_crontab() {
    "$crontab_cmd" "$1" 2>"$tmp/crontab.err" ||
        die "$crontab_cmd could not install the new crontab: $(head -n 1 "$tmp/crontab.err")"
}

have_crontab() { command -v "$crontab_cmd" >/dev/null 2>&1; }

# systemd's own quoting for ExecStart= arguments ($ would start a variable there).
sd_quote_exec() {
    printf '"%s"\n' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\$/$$/g')"
}
sd_quote_env() {
    printf '"%s"\n' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"
}

# ---- install ---------------------------------------------------------------------------------

# Sets bin and env_file from the options and defaults, and checks both.
resolve_bin_and_env() {
    if [ -n "$opt_bin" ]; then
        case $opt_bin in
            */*) bin=$opt_bin ;;
            *) bin=$(command -v "$opt_bin" 2>/dev/null) || die "--bin $opt_bin: not found on PATH" ;;
        esac
    elif bin=$(command -v ccusage-import 2>/dev/null); then
        :
    elif [ -x "$root/target/release/ccusage-import" ]; then
        bin=$root/target/release/ccusage-import
    else
        die "ccusage-import is not on PATH and $root/target/release/ccusage-import does not exist: build it (cargo build --release) or pass --bin PATH"
    fi
    [ -f "$bin" ] || die "the importer $bin does not exist"
    [ -x "$bin" ] || die "the importer $bin is not executable"
    bin=$(abspath "$bin") || die "cannot make $bin absolute"
    check_path_chars "the importer's path" "$bin"
    _version=$("$bin" --version 2>/dev/null | head -n 1) || die "$bin --version failed: is it ccusage-import?"
    case $_version in
        ccusage-import\ *) ;;
        *) die "$bin does not look like ccusage-import (its --version said: $_version)" ;;
    esac

    if [ -n "$opt_env" ]; then
        env_file=$opt_env
    else
        env_file=$(discovered_env_file)
        [ -n "$env_file" ] ||
            die "no settings file: create $config_home/ccusage-import/.env (see .env.example) or pass --env-file PATH"
    fi
    [ -f "$env_file" ] || die "the settings file $env_file does not exist"
    [ -r "$env_file" ] || die "the settings file $env_file is not readable"
    env_file=$(abspath "$env_file") || die "cannot make $env_file absolute"
    check_path_chars "the settings file's path" "$env_file"
}

# Sets cron_schedule and calendar (systemd OnCalendar=) from --every/--schedule and the name.
compute_schedule() {
    _hash=$(name_hash "$name")
    if [ -n "$opt_schedule" ]; then
        # Collapse blanks; no globbing while splitting (the fields hold *).
        set -f
        # shellcheck disable=SC2086 # splitting into fields is the point
        set -- $opt_schedule
        set +f
        case $# in
            1)
                case $1 in
                    @hourly) calendar=hourly ;;
                    @daily | @midnight) calendar=daily ;;
                    @weekly) calendar=weekly ;;
                    @monthly) calendar=monthly ;;
                    @yearly | @annually) calendar=yearly ;;
                    *) usage_error "--schedule '$opt_schedule' is not a cron schedule (five fields, or @hourly, @daily, ...)" ;;
                esac
                cron_schedule=$1
                ;;
            5)
                for _f in "$@"; do
                    case $_f in
                        *[!0-9A-Za-z*/,-]*) usage_error "--schedule '$opt_schedule': field '$_f' is not a cron field" ;;
                    esac
                done
                cron_schedule="$1 $2 $3 $4 $5"
                calendar=
                if [ "$3 $4 $5" = "* * *" ]; then
                    _m=$(expand_field "$1" 0 59) || _m=
                    _h=$(expand_field "$2" 0 23) || _h=
                    if [ -n "$_m" ] && [ -n "$_h" ]; then
                        calendar="*-*-* $_h:$_m:00"
                    fi
                fi
                ;;
            *) usage_error "--schedule '$opt_schedule' must have five fields (minute hour day month weekday)" ;;
        esac
        return 0
    fi

    _every=${opt_every:-60}
    if [ "$_every" -ge 1 ] && [ "$_every" -le 60 ] && [ $((60 % _every)) -eq 0 ]; then
        if [ "$_every" -eq 1 ]; then
            _minutes='*'
        else
            _minutes=$(seq_list $((_hash % _every)) "$_every" 59)
        fi
        cron_schedule="$_minutes * * * *"
        calendar="*-*-* *:$_minutes:00"
    elif [ $((_every % 60)) -eq 0 ] && [ $((1440 % _every)) -eq 0 ]; then
        _step=$((_every / 60))
        _minute=$((_hash % 60))
        _hours=$(seq_list $(((_hash / 60) % _step)) "$_step" 23)
        cron_schedule="$_minute $_hours * * *"
        calendar="*-*-* $_hours:$_minute:00"
    else
        usage_error "--every $_every: use a divisor of 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60) or a multiple of 60 that divides 1440 (120, 180, 240, 360, 480, 720, 1440), or --schedule"
    fi
}

# Sets job_path: where ccusage, node and npx are now, then the usual system directories.
compute_path() {
    job_path=
    for _tool in ccusage node npx; do
        _p=$(command -v "$_tool" 2>/dev/null) || continue
        case $_p in */*) ;; *) continue ;; esac
        _d=$(cd "$(dirname "$_p")" 2>/dev/null && pwd) || continue
        case $_d in
            *"'"* | *%* | *:* | *'
'*) warn "leaving $_d out of the job's PATH: it holds a quote, %, : or a newline"; continue ;;
        esac
        case ":$job_path:" in *":$_d:"*) ;; *) job_path=${job_path:+$job_path:}$_d ;; esac
    done
    if [ -z "$job_path" ] && [ -z "$(ask "$env_file" config --get CCUSAGE_BIN 2>/dev/null)" ]; then
        warn "neither ccusage nor npx is on PATH (and CCUSAGE_BIN is not set in $env_file)"
    fi
    for _d in /usr/local/bin /usr/bin /bin; do
        case ":$job_path:" in *":$_d:"*) ;; *) job_path=${job_path:+$job_path:}$_d ;; esac
    done
}

# Sets job_cmd, the shell command of the crontab line.
compute_job_cmd() {
    _max_bytes=$((opt_log_max_kb * 1024))
    # One run appends "date" and the importer's closing line; the log is moved to .1 before a
    # run once it is larger than the cap, so it never grows past about twice the cap.
    job_cmd="export PATH='$job_path'; L='$log'; if [ -f \"\$L\" ] && [ \"\$(wc -c <\"\$L\")\" -gt $_max_bytes ]; then mv -f \"\$L\" \"\$L.1\"; fi; { date -u; '$bin' --quiet --env-file '$env_file' || echo \"ccusage-import failed with exit code \$?\"; } >>\"\$L\" 2>&1"
}

service_unit() {
    cat <<EOF
# Managed by scripts/setup_cronjob.sh (setup_cronjob.sh uninstall removes it).
[Unit]
Description=Import Claude Code usage into ClickHouse (ccusage-import)
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
Environment=$(sd_quote_env "PATH=$job_path")
ExecStart=$(sd_quote_exec "$bin") --quiet --env-file $(sd_quote_exec "$env_file")
EOF
}

timer_unit() {
    cat <<EOF
# Managed by scripts/setup_cronjob.sh (setup_cronjob.sh uninstall removes it).
[Unit]
Description=Run ccusage-import on a schedule

[Timer]
OnCalendar=$calendar
Persistent=true

[Install]
WantedBy=timers.target
EOF
}

print_units() {
    echo "# ---- $service_file"
    service_unit
    echo
    echo "# ---- $timer_file"
    timer_unit
}

write_units() {
    mkdir -p "$unit_dir" || die "cannot create $unit_dir"
    { service_unit >"$service_file.tmp" && timer_unit >"$timer_file.tmp" &&
        mv -f "$service_file.tmp" "$service_file" && mv -f "$timer_file.tmp" "$timer_file"; } ||
        die "cannot write the unit files in $unit_dir"
}

# Runs the import as the job will: same command, settings file and PATH, no other environment.
test_import() {
    say "running one import as the job will: $bin --quiet --env-file $env_file"
    shell_only_settings
    _rc=0
    (
        cd "$HOME" || exit 1
        exec env -i HOME="$HOME" LOGNAME="${LOGNAME:-$(id -un)}" USER="${USER:-$(id -un)}" \
            SHELL=/bin/sh PATH="$job_path" "$bin" --quiet --env-file "$env_file"
    ) </dev/null >"$tmp/import.out" 2>&1 || _rc=$?
    sed 's/^/  /' "$tmp/import.out"
    if [ "$_rc" -ne 0 ]; then
        case $_rc in
            2) _why="bad usage or configuration" ;;
            3) _why="ClickHouse failed" ;;
            4) _why="a ccusage report failed" ;;
            6) _why="no ccusage report could be imported" ;;
            *) _why="see its output above" ;;
        esac
        die "the test import failed (exit $_rc: $_why); nothing was installed"
    fi
    # Start the log with this first run, so that status has something to show right away.
    if [ "$opt_systemd" -eq 0 ]; then
        { date -u; cat "$tmp/import.out"; } >>"$log" 2>/dev/null || warn "cannot write the log $log"
    fi
}

# Warns about settings exported in this shell that the job will not see (names only).
shell_only_settings() {
    for _k in CH_URL CH_HOST CH_PORT CH_SECURE CH_USER CH_PASSWORD CH_DATABASE MACHINE_NAME \
        CCUSAGE_BIN CLAUDE_CONFIG_DIR CCUSAGE_TIMEOUT CH_TIMEOUT; do
        eval "_set=\${$_k+x}"
        [ -n "$_set" ] || continue
        if [ "$(ask "$env_file" config --source "$_k" 2>/dev/null)" != file ]; then
            warn "$_k is set in your shell but not in $env_file: the job will not see it"
        fi
    done
}

remove_systemd_units() {
    [ -f "$service_file" ] || [ -f "$timer_file" ] || return 1
    if command -v systemctl >/dev/null 2>&1; then
        systemctl --user disable --now "$UNIT.timer" >/dev/null 2>&1 || true
    fi
    rm -f "$service_file" "$timer_file"
    if command -v systemctl >/dev/null 2>&1; then
        systemctl --user daemon-reload >/dev/null 2>&1 || true
    fi
    return 0
}

cmd_install() {
    # Bad --every/--schedule values are usage errors: report them before looking at anything
    # else. The schedule is computed again below, spread by the machine's name.
    name=
    compute_schedule
    resolve_bin_and_env
    name=$(machine_name "$env_file") || exit 1
    compute_schedule
    compute_path

    if [ -n "$opt_log" ]; then
        log=$opt_log
    else
        log=$state_home/ccusage-import/cron.log
    fi
    case $log in /*) ;; *) log=$(pwd -P)/$log ;; esac
    check_path_chars "the log's path" "$log"
    compute_job_cmd
    line="$cron_schedule $job_cmd $MARKER"

    if [ "$opt_systemd" -eq 1 ] || ! have_crontab; then
        [ -n "$calendar" ] || die "--schedule '$opt_schedule' cannot be turned into a systemd timer: use --every, or a schedule of numbers, ranges, lists and steps whose day, month and weekday are *"
    fi

    if [ "$opt_systemd" -eq 0 ] && ! have_crontab; then
        echo "$PROG: there is no crontab command on this machine (no cron installed)."
        echo "$PROG: this systemd user timer would run the import instead:"
        echo
        print_units
        echo
        die "'$crontab_cmd' not found: install cron (e.g. sudo apt-get install cron), or run again with --systemd to install the timer above; nothing was installed"
    fi

    if [ "$opt_systemd" -eq 1 ]; then
        if [ "$opt_dry_run" -eq 1 ]; then
            print_units
            return 0
        fi
        command -v systemctl >/dev/null 2>&1 || die "--systemd: systemctl not found"
    else
        _len=$(printf '%s' "$line" | wc -c | tr -d ' ')
        [ "$_len" -le $MAX_LINE ] ||
            die "the crontab line would be $_len bytes long; cron cuts lines at 1000: use shorter paths (--bin, --env-file, --log)"
        if [ "$opt_dry_run" -eq 1 ]; then
            printf '%s\n' "$line"
            return 0
        fi
        read_crontab # fail on an unreadable crontab before spending an import on it
    fi

    if [ "$opt_systemd" -eq 0 ]; then
        _logdir=$(dirname "$log")
        mkdir -p "$_logdir" || die "cannot create the log directory $_logdir"
    fi
    test_import

    if [ "$opt_systemd" -eq 1 ]; then
        write_units
        if ! systemctl --user daemon-reload >"$tmp/sd.err" 2>&1 ||
            ! systemctl --user enable --now "$UNIT.timer" >>"$tmp/sd.err" 2>&1; then
            rm -f "$service_file" "$timer_file"
            systemctl --user daemon-reload >/dev/null 2>&1 || true
            die "systemctl --user could not enable $UNIT.timer ($(tail -n 1 "$tmp/sd.err")); nothing was installed"
        fi
        say "installed the systemd user timer $timer_file (OnCalendar=$calendar)"
        if have_crontab; then
            read_crontab
            if [ -n "$(ours)" ]; then
                others >"$tmp/new"
                write_crontab "$tmp/new"
                say "removed this script's crontab entry (the timer replaces it)"
            fi
        fi
        if command -v loginctl >/dev/null 2>&1 &&
            [ "$(loginctl show-user "$(id -un)" -p Linger 2>/dev/null)" = "Linger=no" ]; then
            say "note: user timers run only while you are logged in; 'loginctl enable-linger' makes them run always"
        fi
        say "output goes to the journal: journalctl --user -u $UNIT"
        return 0
    fi

    read_crontab # again: it may have changed during the import
    _replaced=$(ours | wc -l | tr -d ' ')
    { others; printf '%s\n' "$line"; } >"$tmp/new"
    write_crontab "$tmp/new"
    if remove_systemd_units; then
        say "removed this script's systemd user timer (the crontab entry replaces it)"
    fi
    if [ "$_replaced" -gt 0 ]; then
        say "replaced the crontab entry (schedule: $cron_schedule, machine: $name)"
    else
        say "installed the crontab entry (schedule: $cron_schedule, machine: $name)"
    fi
    say "log: $log (see: $0 status)"
}

# ---- uninstall -------------------------------------------------------------------------------

cmd_uninstall() {
    _did=0
    if have_crontab; then
        read_crontab
        ours >"$tmp/ours"
        if [ -s "$tmp/ours" ]; then
            _log=$(head -n 1 "$tmp/ours" | sed -n "s/.* L='\\([^']*\\)'.*/\\1/p")
            others >"$tmp/new"
            write_crontab "$tmp/new"
            say "removed the crontab entry${_log:+ (its log stays in $_log)}"
            _did=1
        fi
    fi
    if remove_systemd_units; then
        say "removed the systemd user timer ($timer_file)"
        _did=1
    fi
    if [ "$_did" -eq 0 ]; then
        say "nothing to remove: no job of this script is installed"
    fi
}

# ---- status ----------------------------------------------------------------------------------

# last_ledger_row: of `ccusage-import query import_history --format csv` on stdin (newest
# first), the newest run that was not a dry run, as "started_at TAB exit_code TAB duration_ms
# TAB rows_written TAB rows_unchanged TAB error". A quoted field may hold commas, "" and line
# breaks; only the last one, error_start, can.
last_ledger_row() {
    awk '
        {
            record = (pending == "") ? $0 : pending "\n" $0
            probe = record
            if (gsub(/"/, "", probe) % 2) { pending = record; next }
            pending = ""
            if (++records == 1) next # the header
            rest = record
            for (i = 1; i <= 12; i++) {
                comma = index(rest, ",")
                field[i] = substr(rest, 1, comma - 1)
                gsub(/^"|"$/, "", field[i])
                rest = substr(rest, comma + 1)
            }
            if (field[4] != "0") next # dry_run
            if (substr(rest, 1, 1) == "\"") {
                rest = substr(rest, 2, length(rest) - 2)
                gsub(/""/, "\"", rest)
            }
            gsub(/[\t\n\r]/, " ", rest)
            printf "%s\t%s\t%s\t%s\t%s\t%s\n", field[1], field[3], field[5], field[6], field[7], rest
            exit
        }'
}

# ago SECONDS: "42 s ago", "5 min ago", "3 h ago", "2 days ago".
ago() {
    if [ "$1" -lt 120 ]; then echo "$1 s ago"
    elif [ "$1" -lt 7200 ]; then echo "$(($1 / 60)) min ago"
    elif [ "$1" -lt 172800 ]; then echo "$(($1 / 3600)) h ago"
    else echo "$(($1 / 86400)) days ago"
    fi
}

# last_run ENV_FILE: the newest row of this machine in the ccusage_import_runs ledger, read by
# the importer itself (`query import_history`) with the job's settings.
last_run() {
    _env=$1
    if [ ! -x "$bin" ]; then
        echo "last run: unknown (no importer to read the ledger with: $bin)"
        return 0
    fi
    if ! _name=$(ask "$_env" config --get MACHINE_NAME 2>"$tmp/config.err") ||
        ! _url=$(ask "$_env" config --get CH_URL 2>"$tmp/config.err") ||
        ! _db=$(ask "$_env" config --get CH_DATABASE 2>"$tmp/config.err"); then
        echo "last run: unknown ($(error_of "$tmp/config.err"))"
        return 0
    fi
    echo "last run of machine '$_name' (ledger $_db.ccusage_import_runs at $_url):"
    # One try, ten seconds: status should answer quickly even when the server is down.
    if ! ask "$_env" --max-retries 0 --ch-timeout 10 query import_history --format csv \
        >"$tmp/ledger" 2>"$tmp/ledger.err"; then
        echo "  (cannot read the ledger: $(error_of "$tmp/ledger.err" | cut -c 1-300))"
        return 0
    fi
    last_ledger_row <"$tmp/ledger" >"$tmp/last"
    if [ ! -s "$tmp/last" ]; then
        echo "  (no run of this machine in the ledger yet)"
        return 0
    fi
    _tab=$(printf '\t')
    IFS=$_tab read -r _started _exit _ms _written _unchanged _error <"$tmp/last" || true
    _when=unknown
    if _then=$(date -u -d "$_started" +%s 2>/dev/null); then
        _when=$(ago $(($(date -u +%s) - _then)))
    fi
    _result=FAILED
    [ "$_exit" != 0 ] || _result=ok
    printf '  %s UTC (%s): %s, exit code %s, %s rows written, %s unchanged, %s ms\n' \
        "$_started" "$_when" "$_result" "$_exit" "$_written" "$_unchanged" "$_ms"
    [ -z "$_error" ] || printf '  error: %s\n' "$_error"
}

# Sets bin for status: the installed job's importer, else the one install would pick.
status_bin() {
    bin=
    if [ -n "${1:-}" ]; then
        bin=$(printf '%s\n' "$1" | sed -n "s/.*; { date -u; '\\([^']*\\)' --quiet .*/\\1/p")
    fi
    if [ -z "$bin" ] && [ -f "$service_file" ]; then
        bin=$(sed -n 's/^ExecStart="\([^"]*\)" --quiet .*/\1/p' "$service_file" |
            sed -e 's/\$\$/$/g' -e 's/\\\\/\\/g')
    fi
    if [ -z "$bin" ]; then
        bin=$(command -v ccusage-import 2>/dev/null) || bin=$root/target/release/ccusage-import
    fi
}

cmd_status() {
    _installed=0
    _env=
    _line=
    _log=
    if have_crontab; then
        read_crontab
        ours >"$tmp/ours"
        if [ -s "$tmp/ours" ]; then
            _installed=1
            echo "crontab entry ($crontab_cmd -l):"
            sed 's/^/  /' "$tmp/ours"
            _line=$(head -n 1 "$tmp/ours")
            _env=$(printf '%s\n' "$_line" | sed -n "s/.* --env-file '\\([^']*\\)'.*/\\1/p")
            _log=$(printf '%s\n' "$_line" | sed -n "s/.* L='\\([^']*\\)'.*/\\1/p")
        else
            echo "crontab entry: none"
        fi
    else
        echo "crontab: not available on this machine ('$crontab_cmd' not found)"
    fi
    if [ -f "$timer_file" ] || [ -f "$service_file" ]; then
        _installed=1
        echo "systemd user timer: $timer_file"
        sed -n 's/^OnCalendar=/  OnCalendar=/p' "$timer_file" 2>/dev/null || true
        if command -v systemctl >/dev/null 2>&1; then
            systemctl --user list-timers "$UNIT.timer" --no-pager 2>/dev/null | sed 's/^/  /' || true
        fi
        if [ -z "$_env" ]; then
            _env=$(sed -n 's/^ExecStart=.* --env-file "\(.*\)"$/\1/p' "$service_file" 2>/dev/null |
                sed -e 's/\$\$/$/g' -e 's/\\"/"/g' -e 's/\\\\/\\/g')
        fi
    fi

    if [ -n "$_log" ]; then
        echo
        if [ -f "$_log" ]; then
            echo "log $_log (last $opt_lines lines):"
            tail -n "$opt_lines" "$_log" | sed 's/^/  /'
        else
            echo "log $_log: not written yet"
        fi
    elif [ -f "$service_file" ] && command -v journalctl >/dev/null 2>&1; then
        echo
        echo "journal (journalctl --user -u $UNIT, last $opt_lines lines):"
        journalctl --user -u "$UNIT.service" -n "$opt_lines" --no-pager 2>/dev/null | sed 's/^/  /' || true
    fi

    [ -z "$opt_env" ] || _env=$opt_env
    [ -n "$_env" ] || _env=$(discovered_env_file)
    echo
    status_bin "${_line:-}"
    if [ -n "$_env" ] && [ -r "$_env" ]; then
        last_run "$_env"
    else
        echo "last run: unknown (no readable settings file${_env:+: $_env}; pass --env-file)"
    fi

    if [ "$_installed" -eq 0 ]; then
        echo
        echo "not installed: $0 install"
        exit 3
    fi
}

case $cmd in
    install) cmd_install ;;
    uninstall) cmd_uninstall ;;
    status) cmd_status ;;
esac
