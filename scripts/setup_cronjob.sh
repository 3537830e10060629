#!/bin/sh
# Set it and forget it: install, inspect and remove the hourly ccusage-import job.
#
#   scripts/setup_cronjob.sh install     add (or replace) the job, after one successful import
#   scripts/setup_cronjob.sh status      show the job, the last lines of its log, the last runs
#   scripts/setup_cronjob.sh uninstall   remove the job and nothing else
#
# A thin wrapper, kept for the commands people know: the work is done by the binary,
# `ccusage-import schedule install|status|uninstall` (see its --help). This script only picks
# the importer and the settings file the way it always did. POSIX sh.
set -eu

PROG=setup_cronjob.sh

usage() {
    cat <<'EOF'
usage: scripts/setup_cronjob.sh install   [options]   add or replace the hourly import job
       scripts/setup_cronjob.sh status    [options]   show the job, its log and the last runs
       scripts/setup_cronjob.sh uninstall             remove the job (and nothing else)

The same as `ccusage-import schedule install|status|uninstall`, with the importer and the
settings file picked as below. install first runs one import exactly as the job will (same
binary, settings file and PATH, an otherwise empty environment); if it fails, nothing is
installed. Running install again replaces the job: there is never more than one, and other
crontab entries are never touched.

Options (install):
  --bin PATH        the importer [default: ccusage-import on PATH, else
                    <project>/target/release/ccusage-import]
  --env-file PATH   its settings [default: the file every ccusage-import command finds:
                    CCUSAGE_IMPORT_ENV_FILE, else ./.env, else $XDG_CONFIG_HOME/ccusage-import/.env
                    (~/.config/ccusage-import/.env)]. The job sees only this file: variables
                    exported in your shell do not reach cron.
  --every MINUTES   run every MINUTES minutes [default: 60]: a divisor of 60 or a multiple of
                    60 that divides 1440; the minute comes from the machine name
  --schedule EXPR   a five-field cron schedule instead, used as given, e.g. "7 */2 * * *"
  --log PATH        append the job's output to PATH
                    [default: ~/.local/state/ccusage-import/cron.log]
  --log-max-kb N    before a run, move the log to PATH.1 once it exceeds N KiB [default: 1024]
  --systemd         install a systemd user timer instead of a crontab entry
  --dry-run, --print
                    print the entry (or units) install would write; run and change nothing

Options (status):
  --env-file PATH   settings to read the ledger with [default: the installed job's]
  --lines N         log lines to show [default: 10]

Environment:
  CCUSAGE_IMPORT_CRONTAB   the crontab command [default: crontab]

Exit codes: 0 done; 1 failed, nothing changed (status: no job installed); 2 bad usage.
EOF
}

die() { echo "$PROG: error: $*" >&2; exit 1; }
usage_error() { echo "$PROG: error: $* (see $PROG --help)" >&2; exit 2; }

[ $# -ge 1 ] || { usage >&2; exit 2; }
cmd=$1
shift
case $cmd in
    install | uninstall | status) ;;
    -h | --help | help) usage; exit 0 ;;
    *) usage_error "unknown command '$cmd' (expected install, uninstall or status)" ;;
esac

# The options this script reads itself; the rest go to the binary as they are.
opt_bin=
opt_env=
for _arg in "$@"; do
    case $_arg in -h | --help) usage; exit 0 ;; esac
done
set -- "$@" --end-of-options--
while [ "$1" != --end-of-options-- ]; do
    case $1 in
        --bin) [ $# -ge 3 ] || usage_error "--bin needs a value"; opt_bin=$2; shift 2 ;;
        --bin=*) opt_bin=${1#*=}; shift ;;
        --env-file) [ $# -ge 3 ] || usage_error "--env-file needs a value"; opt_env=$2; shift 2 ;;
        --env-file=*) opt_env=${1#*=}; shift ;;
        --dry-run) set -- "$@" --print; shift ;;
        *) set -- "$@" "$1"; shift ;;
    esac
done
shift

[ -n "${HOME:-}" ] || die "HOME is not set"
root=$(cd "$(dirname "$0")/.." && pwd -P) || die "cannot find the project directory of $0"

# The importer: --bin (a name is looked up on PATH), else ccusage-import on PATH, else the
# release build of this checkout.
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
case $("$bin" --version 2>/dev/null | head -n 1) in
    ccusage-import\ *) ;;
    *) die "$bin does not look like ccusage-import (see its --version)" ;;
esac

# The settings file: --env-file, else the one the binary finds by its own rule
# (CCUSAGE_IMPORT_ENV_FILE, ./.env, $XDG_CONFIG_HOME/ccusage-import/.env), so this script and
# every command of the binary read the same file.
if [ -n "$opt_env" ]; then
    [ -f "$opt_env" ] || die "the settings file $opt_env does not exist"
    env_file=$opt_env
else
    env_file=
fi

case $cmd in
    install) exec "$bin" ${env_file:+--env-file "$env_file"} schedule install --bin "$bin" "$@" ;;
    status) exec "$bin" ${env_file:+--env-file "$env_file"} schedule status "$@" ;;
    uninstall) exec "$bin" schedule uninstall "$@" ;;
esac
