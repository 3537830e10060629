#!/usr/bin/env bash
# Tests of scripts/setup_cronjob.sh: install, status and uninstall against a stand-in crontab
# (tests/cron/bin/crontab keeps "the crontab" in a file), a temporary HOME, generated Claude logs
# and a real ClickHouse.
#
#   bash tests/cron/run.sh
#
# ClickHouse: $CLICKHOUSE_URL when set (scripts/test.sh sets it), else a private server started
# with scripts/clickhouse-server.sh on free ports and stopped at the end. The tests use their
# own database, cron_test_<pid>, dropped at the end.
# The importer: $CCUSAGE_IMPORT_BIN, else the newer of target/release and target/debug (built
# with `cargo build` when neither exists). ccusage must be on PATH.
# The script runs under dash when available (else sh), some checks also under `bash --posix`;
# CRON_TEST_SH overrides the shell.
#
# Prints one line per check and "N passed, M failed" last; exits 1 when any check failed.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$root" || exit 1
exec </dev/null

MARKER='# ccusage-import (managed by ccusage-import schedule)'
SCRIPT=$root/scripts/setup_cronjob.sh
if [[ -n ${CRON_TEST_SH:-} ]]; then
    SH=$CRON_TEST_SH
elif command -v dash >/dev/null; then
    SH=dash
else
    SH="sh"
fi

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   - $1"; }
not_ok() {
    failed=$((failed + 1))
    echo "FAIL - $1"
    shift
    local d
    for d in "$@"; do printf '       %s\n' "$d"; done
    if [[ -s $T/out ]]; then
        echo "       ---- output of the last setup_cronjob.sh run:"
        sed 's/^/       | /' "$T/out" | tail -n 30
    fi
}
# result NAME: records the check NAME, which passed when the command just before succeeded:
#   [[ $rc == 0 ]] && out_has "installed"
#   result "install exits 0"
result() {
    local status=$?
    if ((status == 0)); then ok "$1"; else not_ok "$@"; fi
}
fatal() { echo "run.sh: error: $*" >&2; echo "$passed passed, $((failed + 1)) failed"; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/cron-test.XXXXXX") || fatal "mktemp failed"
server_dir=
db=cron_test_$$
ch_url=

cleanup() {
    local rc=$?
    if [[ -n $ch_url ]]; then
        curl -sS --max-time 10 "$ch_url/" --data-binary "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
    fi
    if [[ -n $server_dir ]]; then
        bash scripts/clickhouse-server.sh stop --dir "$server_dir" >/dev/null 2>&1 ||
            echo "run.sh: warning: could not stop the ClickHouse of $server_dir" >&2
    fi
    rm -rf "$T"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- setup -----------------------------------------------------------------------------------

real_ccusage=$(command -v ccusage) || fatal "ccusage is not on PATH (npm install -g ccusage@20.0.24)"
command -v curl >/dev/null || fatal "curl is needed"

importer=${CCUSAGE_IMPORT_BIN:-}
if [[ -z $importer ]]; then
    for b in target/release/ccusage-import target/debug/ccusage-import; do
        [[ -x $b ]] || continue
        if [[ -z $importer || $b -nt $importer ]]; then importer=$b; fi
    done
fi
if [[ -z $importer ]]; then
    echo "run.sh: building the importer (cargo build)"
    cargo build --quiet || fatal "cargo build failed"
    importer=target/debug/ccusage-import
fi
importer=$(cd "$(dirname "$importer")" && pwd -P)/$(basename "$importer")

if [[ -n ${CLICKHOUSE_URL:-} ]]; then
    ch_url=${CLICKHOUSE_URL%/}
else
    server_dir=$T/clickhouse
    ch_url=$(bash scripts/clickhouse-server.sh start --dir "$server_dir" --http-port 0 --tcp-port 0 2>"$T/ch.err" | tail -n 1) ||
        { cat "$T/ch.err" >&2; server_dir=; fatal "could not start a ClickHouse server"; }
fi
ch_hostport=${ch_url#*://}
ch_host=${ch_hostport%:*}
ch_port=${ch_hostport##*:}
[[ $ch_port =~ ^[0-9]+$ ]] || fatal "cannot read the port of $ch_url"

# The test servers' password user, so that status is tested with a password; else default.
ch_user=default
ch_password=
if [[ $(printf 'header = "X-ClickHouse-User: ccusage_writer"\nheader = "X-ClickHouse-Key: writer-secret-pw"\n' |
    curl -sS --max-time 5 -K - "$ch_url/" --data-binary 'SELECT 1' 2>/dev/null) == 1 ]]; then
    ch_user=ccusage_writer
    ch_password=writer-secret-pw
fi
# sql QUERY: runs QUERY as the default user (the tests' reads and the final DROP).
sql() { curl -sS --max-time 20 "$ch_url/" --data-binary "$1"; }

export HOME=$T/home
mkdir -p "$HOME/.config/ccusage-import" "$T/bin" "$T/nodebin"
python3 scripts/gen_claude_logs.py --out "$HOME/.claude" --projects 2 --days 8 --lines 400 --seed 1 >"$T/gen.log" 2>&1 ||
    { cat "$T/gen.log" >&2; fatal "gen_claude_logs.py failed"; }

# ccusage-import on PATH (the default --bin), and a ccusage outside cron's PATH that notes each
# call: when the job finds it, it used the PATH recorded at install time.
ln -s "$importer" "$T/bin/ccusage-import"
cat >"$T/nodebin/ccusage" <<EOF
#!/bin/sh
echo "\$*" >>'$T/ccusage.calls'
exec '$real_ccusage' "\$@"
EOF
chmod +x "$T/nodebin/ccusage"

# A machine name with a quote, a backslash and a space: status must escape it in its SQL.
machine="cron test o'neil \\ $$"
env_file=$HOME/.config/ccusage-import/.env
cat >"$env_file" <<EOF
# settings for the cron tests
CH_HOST=$ch_host
CH_PORT=$ch_port
CH_USER=$ch_user
CH_PASSWORD="$ch_password"
CH_DATABASE=$db
MACHINE_NAME="cron test o'neil \\\\ $$"
EOF
sed "s/^CH_PORT=.*/CH_PORT=1/" "$env_file" >"$T/bad.env"

PATH=$root/tests/cron/bin:$T/bin:$T/nodebin:$PATH
export PATH
unset CH_URL CH_HOST CH_PORT CH_USER CH_PASSWORD CH_DATABASE MACHINE_NAME CCUSAGE_BIN \
    CLAUDE_CONFIG_DIR CCUSAGE_IMPORT_ENV_FILE XDG_CONFIG_HOME XDG_STATE_HOME CCUSAGE_IMPORT_CRONTAB
export FAKE_CRONTAB=$T/crontab FAKE_SYSTEMCTL_LOG=$T/systemctl.log

echo "# shell: $SH; importer: $importer; ClickHouse: $ch_url (user $ch_user, database $db)"

# setup [--shell SHELL] ARGS...: runs setup_cronjob.sh; output in $T/out, status in $rc.
rc=0
setup() {
    local shell=$SH
    if [[ $1 == --shell ]]; then shell=$2; shift 2; fi
    rc=0
    # shellcheck disable=SC2086 # "bash --posix" is two words
    $shell "$SCRIPT" "$@" >"$T/out" 2>&1 || rc=$?
}
out_has() { grep -qF -- "$1" "$T/out"; }
entries() { grep -cF -- "$MARKER" "$T/crontab" 2>/dev/null || true; }
entry() { grep -F -- "$MARKER" "$T/crontab"; }
others_are() { diff <(grep -vF -- "$MARKER" "$T/crontab") "$1" >/dev/null; }
# The command of the installed entry: the line without its five schedule fields.
entry_cmd() {
    local cmd
    cmd=$(entry)
    for _ in 1 2 3 4 5; do cmd=${cmd#*[[:space:]]}; done
    printf '%s' "$cmd"
}
sql_str() { local s=${1//\\/\\\\}; printf "'%s'" "${s//\'/\\\'}"; }
# The number of successful runs of this machine in the ledger (0 before the schema exists).
runs_ok() {
    local n
    n=$(sql "SELECT count() FROM $db.ccusage_import_runs WHERE machine_name = $(sql_str "$machine") AND exit_code = 0 AND dry_run = 0" 2>/dev/null)
    [[ $n =~ ^[0-9]+$ ]] || n=0
    echo "$n"
}

hash=$(printf '%s' "$machine" | cksum | awk '{ print $1 }')
minute=$((hash % 60))

# A crontab with entries of its own, which every install and uninstall must leave alone.
cat >"$T/others" <<'EOF'
# m h dom mon dow command
MAILTO=""
SHELL=/bin/sh
0 3 * * * /usr/bin/true # nightly backup, not ours
*/5 * * * * echo "ccusage-import" >/dev/null
EOF
cp "$T/others" "$T/crontab"

# ---- usage -----------------------------------------------------------------------------------

setup --help
[[ $rc == 0 ]] && out_has "install" && out_has "uninstall" && out_has "status" && out_has "--every" && out_has "--systemd"
result "--help exits 0 and names the commands and options"
setup frobnicate
[[ $rc == 2 ]] && out_has "unknown command"
result "an unknown command exits 2"
setup install --every 7
[[ $rc == 2 ]] && out_has "--every 7"
result "--every 7 is refused (exit 2)"
setup install --every 15 --schedule '0 * * * *'
[[ $rc == 2 ]]
result "--every with --schedule is refused (exit 2)"
setup install --schedule '0 * *'
[[ $rc == 2 ]]
result "a schedule of three fields is refused (exit 2)"
cmp -s "$T/crontab" "$T/others"
result "usage errors leave the crontab alone"

# ---- checks before installing ----------------------------------------------------------------

setup install --bin "$T/no-such-importer"
[[ $rc == 1 ]] && [[ $(wc -l <"$T/out") == 1 ]] && out_has "no-such-importer"
result "a missing --bin fails with a one-line message"
setup install --bin /bin/true
[[ $rc == 1 ]] && out_has "does not look like ccusage-import"
result "a --bin that is not ccusage-import is refused"
setup install --env-file "$T/no-such.env"
[[ $rc == 1 ]] && [[ $(wc -l <"$T/out") == 1 ]] && out_has "no-such.env"
result "a missing --env-file fails with a one-line message"
setup install --env-file "$T/bad.env"
[[ $rc != 0 ]] && out_has "test import failed" && out_has "nothing was installed"
result "a failing test import (wrong port) exits non-zero and says nothing was installed"
cmp -s "$T/crontab" "$T/others"
result "... and the crontab is unchanged"
setup install --dry-run
[[ $rc == 0 ]] && out_has "$MARKER"
result "install --dry-run prints the entry"
cmp -s "$T/crontab" "$T/others"
result "... and changes nothing"

# ---- install ---------------------------------------------------------------------------------

before=$(runs_ok)
setup install
[[ $rc == 0 ]]
result "install (defaults: importer from PATH, ~/.config/ccusage-import/.env) exits 0"
[[ $(runs_ok) -gt $before ]]
result "the test import ran before installing (a ledger row)"
[[ $(entries) == 1 ]]
result "install leaves one entry"
others_are "$T/others"
result "install leaves the other entries as they were"
first_entry=$(entry)
[[ $first_entry == "$minute * * * * "* ]]
result "the entry runs hourly at the machine's minute ($minute)"
[[ $first_entry == *"'$T/bin/ccusage-import'"* ]]
result "the entry names the importer by its absolute path"
[[ $first_entry == *"--env-file '$env_file'"* ]]
result "the entry names the settings file by its absolute path"
[[ $first_entry == *"PATH='$T/nodebin:"* ]]
result "the entry's PATH holds the directory where ccusage was found"
[[ $first_entry == *"L='$HOME/.local/state/ccusage-import/cron.log'"* ]]
result "the entry appends to a log under ~/.local/state/ccusage-import/"
[[ $first_entry == *"$MARKER" ]]
result "the entry ends with the marker"
[[ -z $ch_password ]] || ! grep -qF -- "$ch_password" "$T/crontab" "$T/out"
result "no password in the crontab or the output"

setup install
[[ $rc == 0 ]]
result "a second install exits 0"
[[ $(entries) == 1 ]]
result "two installs leave one entry"
[[ $(entry) == "$first_entry" ]]
result "... the same entry (the minute is stable)"
others_are "$T/others"
result "... and the other entries as they were"

setup install --every 15
o=$((hash % 15))
[[ $rc == 0 && $(entries) == 1 && $(entry) == "$o,$((o + 15)),$((o + 30)),$((o + 45)) * * * * "* ]]
result "--every 15 replaces the entry with a quarter-hourly one ($o,$((o + 15)),$((o + 30)),$((o + 45)))"
setup install --schedule '7 */2 * * *'
[[ $rc == 0 && $(entries) == 1 && $(entry) == "7 */2 * * * "* ]]
result "--schedule replaces the entry with the given schedule"
others_are "$T/others"
result "... and the other entries are still as they were"
setup install
[[ $rc == 0 && $(entry) == "$first_entry" ]]
result "installing the hourly default again"

# ---- the entry, run the way cron runs it -----------------------------------------------------

cmd=$(entry_cmd)
log=$HOME/.local/state/ccusage-import/cron.log
before=$(runs_ok)
: >"$T/ccusage.calls"
job_rc=0
env -i HOME="$HOME" PATH=/usr/bin:/bin /bin/sh -c "$cmd" >"$T/job.out" 2>&1 || job_rc=$?
[[ $job_rc == 0 ]]
result "the entry runs under env -i with cron's PATH and exits 0"
[[ ! -s $T/job.out ]]
result "... prints nothing (all output goes to the log, so cron sends no mail)"
[[ -s $T/ccusage.calls ]]
result "... finds ccusage through the PATH recorded at install"
[[ $(runs_ok) -eq $((before + 1)) ]]
result "... and imports into ClickHouse (a new ledger row with exit code 0)"
[[ $(sql "SELECT count() FROM $db.ccusage_usage_daily WHERE machine_name = $(sql_str "$machine")") -gt 0 ]]
result "... rows of this machine are in ccusage_usage_daily"
tail -n 1 "$log" | grep -q "^ccusage-import: ok"
result "... and the log ends with the importer's ok line"
if command -v dash >/dev/null; then
    job_rc=0
    env -i HOME="$HOME" PATH=/usr/bin:/bin dash -c "$cmd" >"$T/job.out" 2>&1 || job_rc=$?
    [[ $job_rc == 0 && ! -s $T/job.out ]]
    result "the entry also runs under dash"
fi

# ---- status ----------------------------------------------------------------------------------

setup status
[[ $rc == 0 ]]
result "status exits 0"
out_has "$MARKER"
result "status shows the entry"
out_has "ccusage-import: ok: machine $machine"
result "status shows the log's last lines"
out_has "last runs of machine '$machine'" && out_has ": ok, exit code 0"
result "status shows the last runs from the ledger"
[[ -z $ch_password ]] || ! out_has "$ch_password"
result "status does not print the password"

# ---- a settings file that sets a name twice --------------------------------------------------

# The importer (src/envfile.rs) takes the first of a name set twice; the script asks the importer
# (`ccusage-import config`, `query import_history`) instead of reading the file, so it agrees.
(umask 077 && { cat "$env_file"; echo 'MACHINE_NAME="another name"'; echo "CH_PORT=1"; } >"$T/twice.env")
setup install --dry-run --env-file "$T/twice.env"
[[ $rc == 0 ]] && [[ $(cat "$T/out") == "$minute * * * * "* ]]
result "a name set twice in the settings file: the first MACHINE_NAME sets the minute ($minute)"
setup status --env-file "$T/twice.env"
out_has "last runs of machine '$machine' (ledger $db.ccusage_import_runs at http://$ch_host:$ch_port)" && out_has ": ok, exit code 0"
result "... and status reads the ledger at the first CH_PORT, for the first MACHINE_NAME"
CH_PORT=1 MACHINE_NAME=shell setup status
out_has "last runs of machine '$machine'" && out_has ": ok, exit code 0"
result "status reads the ledger with the job's settings, not the shell's"

setup status --env-file "$T/bad.env"
out_has "(cannot read the ledger: cannot reach ClickHouse at http://$ch_host:1"
result "status with a server that does not answer says why it cannot read the ledger"

# A failed run whose error holds a comma and quotes, as the ledger's CSV quotes them (the
# query shows the error's first 100 characters).
cat >"$T/broken-ccusage" <<'EOF'
#!/bin/sh
[ "$1" = --version ] && { echo 20.0.24; exit 0; }
echo '"x",y' >&2
exit 3
EOF
chmod +x "$T/broken-ccusage"
sleep 1 # the ledger's started_at counts whole seconds: let this run be the later one
env -i HOME="$HOME" PATH=/usr/bin:/bin "$importer" --quiet --env-file "$env_file" --ccusage-bin "$T/broken-ccusage" >/dev/null 2>&1
setup status
out_has ": FAILED, exit code 6" && out_has '  error: every ccusage report failed, nothing was imported: exited with code 3; it printed: ""x",y"'
result "status shows a failed last run with the start of its error"

# ---- the log is capped ----------------------------------------------------------------------

setup install --log "$T/small/cron.log" --log-max-kb 1
[[ $rc == 0 && $(entries) == 1 ]]
result "install --log --log-max-kb exits 0 and still leaves one entry"
head -c 3000 /dev/zero | tr '\0' 'x' >"$T/small/cron.log"
cmd=$(entry_cmd)
env -i HOME="$HOME" PATH=/usr/bin:/bin /bin/sh -c "$cmd" >/dev/null 2>&1
[[ $(wc -c <"$T/small/cron.log.1") == 3000 ]]
result "a log over the cap is moved to .1 before the run"
[[ $(wc -c <"$T/small/cron.log") -lt 1024 ]] && grep -q "^ccusage-import: ok" "$T/small/cron.log"
result "... and the new log holds only the new run"

# ---- uninstall -------------------------------------------------------------------------------

setup uninstall
[[ $rc == 0 ]]
result "uninstall exits 0"
[[ $(entries) == 0 ]]
result "uninstall removes the entry"
others_are "$T/others"
result "uninstall leaves the other entries as they were"
setup uninstall
[[ $rc == 0 ]] && out_has "nothing to remove"
result "a second uninstall exits 0 and says there is nothing to remove"
cmp -s "$T/crontab" "$T/others"
result "... and leaves the crontab as it was"
setup status
[[ $rc == 1 ]] && out_has "not installed"
result "status without a job exits 1 and says so"

rm -f "$T/crontab"
setup install
[[ $rc == 0 && $(wc -l <"$T/crontab") == 1 && $(entries) == 1 ]]
result "install with no crontab at all yet creates one with just the entry"
setup uninstall
[[ $rc == 0 && ! -s $T/crontab ]]
result "... and uninstall empties it again"
cp "$T/others" "$T/crontab"

# ---- bash --posix ----------------------------------------------------------------------------

setup --shell "bash --posix" install
setup --shell "bash --posix" install
[[ $rc == 0 && $(entries) == 1 ]] && others_are "$T/others"
result "under bash --posix: two installs leave one entry"
setup --shell "bash --posix" status
[[ $rc == 0 ]] && out_has "$MARKER" && out_has ": ok, exit code 0"
result "under bash --posix: status shows the entry and the last run"
setup --shell "bash --posix" uninstall
[[ $rc == 0 ]] && cmp -s "$T/crontab" "$T/others"
result "under bash --posix: uninstall leaves only the other entries"

# ---- no crontab: the systemd user timer --------------------------------------------------------

unit_dir=$HOME/.config/systemd/user
CCUSAGE_IMPORT_CRONTAB=$T/no-such-crontab setup install
[[ $rc == 1 ]] && out_has "no crontab command" && out_has "--systemd"
result "without crontab, install says so and exits 1"
out_has "[Timer]" && out_has "OnCalendar=*-*-* *:$minute:00" && out_has "ExecStart=\"$T/bin/ccusage-import\" --quiet --env-file \"$env_file\""
result "... and prints the systemd user timer it would use"
[[ ! -e $unit_dir ]] && cmp -s "$T/crontab" "$T/others"
result "... and installs nothing"

FAKE_SYSTEMCTL_FAIL=1 setup install --systemd
[[ $rc == 1 && ! -e $unit_dir/ccusage-import.timer && ! -e $unit_dir/ccusage-import.service ]]
result "install --systemd fails cleanly when systemctl --user fails"

setup install
: >"$T/systemctl.log"
setup install --systemd
[[ $rc == 0 && -f $unit_dir/ccusage-import.service && -f $unit_dir/ccusage-import.timer ]]
result "install --systemd exits 0 and writes the service and the timer"
grep -qx "systemctl --user enable --now ccusage-import.timer" "$T/systemctl.log"
result "... enables the timer"
grep -qx "OnCalendar=\*-\*-\* \*:$minute:00" "$unit_dir/ccusage-import.timer"
result "... at the machine's minute"
[[ $(entries) == 0 ]] && cmp -s "$T/crontab" "$T/others"
result "... and replaces this script's crontab entry, leaving the others"
if command -v systemd-analyze >/dev/null; then
    systemd-analyze calendar "$(sed -n 's/^OnCalendar=//p' "$unit_dir/ccusage-import.timer")" >/dev/null 2>&1
    result "systemd-analyze accepts the timer's OnCalendar"
fi
if command -v systemd-analyze >/dev/null; then
    (cd "$unit_dir" && XDG_RUNTIME_DIR=$T timeout 60 systemd-analyze verify ./ccusage-import.service ./ccusage-import.timer) >"$T/verify.out" 2>&1
    result "systemd-analyze verify accepts the service and the timer" "$(head -n 5 "$T/verify.out")"
fi
setup status
[[ $rc == 0 ]] && out_has "systemd user timer" && out_has ": ok, exit code 0"
result "status shows the timer and the last run"
setup uninstall
[[ $rc == 0 && ! -e $unit_dir/ccusage-import.timer && ! -e $unit_dir/ccusage-import.service ]] && grep -q "disable --now ccusage-import.timer" "$T/systemctl.log"
result "uninstall removes the timer"
cmp -s "$T/crontab" "$T/others"
result "... and leaves the crontab alone"

# ---- the binary itself, under a real cron ------------------------------------------------------

# Debian's cron daemon and crontab (scripts/ensure-deps.sh --test installs them): the job that
# `ccusage-import schedule install` writes really runs an import when cron starts it. This uses
# the user's real crontab, so only as root (a container, CI) or with CRON_TEST_REAL=1; the
# crontab is saved first and restored byte for byte.
real_crontab=$(PATH=/usr/bin:/bin command -v crontab || true)
if [[ -x /usr/sbin/cron && -n $real_crontab && (${CRON_TEST_REAL:-} == 1 || $(id -u) == 0) ]]; then
    export CCUSAGE_IMPORT_CRONTAB=$real_crontab
    saved=none
    if "$real_crontab" -l >"$T/real.saved" 2>/dev/null; then saved=$T/real.saved; fi
    restore_crontab() {
        if [[ $saved == none ]]; then "$real_crontab" -r >/dev/null 2>&1 || true; else "$real_crontab" "$saved"; fi
    }
    started_cron=
    if ! { [[ -f /run/crond.pid ]] && kill -0 "$(cat /run/crond.pid)" 2>/dev/null; }; then
        /usr/sbin/cron && started_cron=1
    fi
    # cron gives the job the user's HOME from the password database: the logs are named in
    # the settings file, as `init` writes them.
    (umask 077 && { cat "$env_file"; echo "CLAUDE_CONFIG_DIR=$HOME/.claude"; } >"$T/real.env")
    { cat "$T/others"; [[ $saved == none ]] || cat "$saved"; } >"$T/real.others"
    "$real_crontab" "$T/real.others"
    bin() { rc=0; "$importer" "$@" >"$T/out" 2>&1 || rc=$?; }
    real_entries() { "$real_crontab" -l 2>/dev/null | grep -cF -- "$MARKER" || true; }
    bin --env-file "$T/real.env" schedule install --schedule '* * * * *' --log "$T/real/cron.log"
    bin --env-file "$T/real.env" schedule install --schedule '* * * * *' --log "$T/real/cron.log"
    [[ $rc == 0 && $(real_entries) == 1 ]]
    result "real cron: schedule install twice leaves one entry"
    diff <("$real_crontab" -l | grep -vF -- "$MARKER") "$T/real.others" >/dev/null
    result "... and the other lines as they were"
    before=$(runs_ok)
    waited=0
    while (($(runs_ok) <= before && waited < 150)); do sleep 5; waited=$((waited + 5)); done
    [[ $(runs_ok) -gt $before ]]
    result "real cron ran the job: a new ledger row with exit code 0 (after ${waited}s)"
    sleep 2
    grep -c "^ccusage-import: ok" "$T/real/cron.log" | grep -qv '^[01]$'
    result "... and its ok line is in the job's log, after the test import's"
    bin schedule status
    [[ $rc == 0 ]] && out_has "$MARKER" && out_has "log $T/real/cron.log" && out_has ": ok, exit code 0"
    result "schedule status shows the entry, its log and the last runs"
    bin schedule uninstall
    bin schedule uninstall
    [[ $rc == 0 ]] && out_has "nothing to remove" && [[ $(real_entries) == 0 ]]
    result "schedule uninstall twice: the entry is gone"
    diff <("$real_crontab" -l) "$T/real.others" >/dev/null
    result "... and the crontab holds exactly the other lines"
    restore_crontab
    if [[ -n $started_cron && -f /run/crond.pid ]]; then kill "$(cat /run/crond.pid)" 2>/dev/null || true; fi
    unset CCUSAGE_IMPORT_CRONTAB
else
    echo "# skipped the real cron checks (need /usr/sbin/cron and root, or CRON_TEST_REAL=1)"
fi

# ---- done ------------------------------------------------------------------------------------

: >"$T/out"
echo "$passed passed, $failed failed"
[[ $failed == 0 ]]
