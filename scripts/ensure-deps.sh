#!/usr/bin/env bash
# Install what ccusage-import needs to build, run and be tested, and nothing that is already there.
#
#   scripts/ensure-deps.sh [--test] [--bench] [--no-clickhouse]
#
# Used by scripts/install.sh (a newcomer's first run) and scripts/test.sh (the test command, also
# CI's), so that both work on a fresh Debian/Ubuntu machine from a clean clone. Every check comes
# first; only what is missing is installed, one line printed per thing installed. Re-running is
# a no-op.
#
#   always           Debian packages: clickhouse-server clickhouse-client (unless --no-clickhouse),
#                    curl, ca-certificates, python3, gcc (the linker, and `ring` builds C),
#                    nodejs + npm when `node` is missing;
#                    ccusage 20.0.24 from npm, globally (what the importer runs);
#                    rustfmt and clippy in the Rust toolchain (cargo itself must be there: Debian's
#                    rustc is older than this crate's rust-version, so get it with rustup).
#   --test           ccusage 18.0.11 in target/ccusage-18 (a second, older ccusage for tests),
#                    chdb (a modern ClickHouse engine in-process, for checking SQL) in a virtualenv
#                    at target/venv: a venv sidesteps Debian's "externally managed" pip refusal
#                    and never touches the system's Python packages; tmux and openssl (the
#                    live-view and TLS tests); cron (the hourly job's test); zookeeper and its JRE (the cluster tests);
#                    chromium and chromium-driver (the dashboard's browser tests).
#   --bench          hyperfine; Chromium and chromedriver, and selenium in target/venv (the
#                    dashboard benchmark, scripts/bench-dashboard.sh).
#   --no-clickhouse  skip the ClickHouse packages (the database is on another host).
#
# sudo is used only for apt, and only when not root. npm installs globally without sudo: when
# npm's global prefix is not writable, ccusage goes to ~/.local instead.
set -euo pipefail

readonly PROG="ensure-deps.sh"
readonly CCUSAGE_VERSION=20.0.24
readonly CCUSAGE_OLD_VERSION=18.0.11
readonly CHDB_VERSION=4.4.0 # pinned so that every machine checks SQL against the same engine
readonly SELENIUM_VERSION=4.51.0 # scripts/bench_dashboard_page.py's WebDriver client

die() { echo "$PROG: error: $*" >&2; exit 1; }
installed() { echo "$PROG: installed $*"; installed_any=1; }
warn() { echo "$PROG: warning: $*" >&2; }

usage() {
    cat <<'EOF'
usage: scripts/ensure-deps.sh [--test] [--bench] [--no-clickhouse]

Installs what is missing: Debian packages (ClickHouse, curl, python3, gcc, Node.js), ccusage
20.0.24 from npm, rustfmt and clippy; with --test also ccusage 18.0.11 in target/ccusage-18,
chdb in target/venv, ZooKeeper, tmux, openssl, Chromium and ChromeDriver; with --bench also
hyperfine, Chromium, ChromeDriver and selenium in target/venv. Prints one line per thing installed.
EOF
}

want_test=0
want_bench=0
want_clickhouse=1
for arg in "$@"; do
    case $arg in
        --test) want_test=1 ;;
        --bench) want_bench=1 ;;
        --no-clickhouse) want_clickhouse=0 ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown argument '$arg' (see --help)" ;;
    esac
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"
exec </dev/null # never wait for a prompt (CI has no stdin)

# Where earlier runs may have put user-level installs (npm's fallback prefix, rustup).
for d in "$HOME/.local/bin" "$HOME/.cargo/bin"; do
    if [[ -d $d && ":$PATH:" != *":$d:"* ]]; then PATH="$d:$PATH"; fi
done
export PATH

installed_any=0
have() { command -v "$1" >/dev/null 2>&1; }

# Runs "$@" with its output in a temp file; on failure shows the tail and dies with $1's label.
quietly() {
    local label=$1 log
    shift
    log=$(mktemp)
    if ! "$@" >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        rm -f "$log"
        die "$label failed"
    fi
    rm -f "$log"
}

# The first x.y.z in a command's output ("ccusage 20.0.24" and "20.0.24" both give 20.0.24).
version_of() {
    "$@" 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n1 || true
}

# ---- Debian packages -------------------------------------------------------------------------

apt_updated=0
apt_install() {
    local sudo=()
    have apt-get || die "missing $*, and apt-get is unavailable: install them yourself"
    if [[ $(id -u) != 0 ]]; then
        have sudo || die "missing $*: run as root or install sudo"
        sudo=(sudo)
    fi
    if ((apt_updated == 0)); then
        quietly "apt-get update" "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
        apt_updated=1
    fi
    quietly "apt-get install $*" "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "$@"
    local p
    for p in "$@"; do installed "$p (apt)"; done
}

apt_missing=()
if ((want_clickhouse)); then
    # /usr/sbin is not on an ordinary user's PATH on Debian.
    have clickhouse-server || [[ -x /usr/sbin/clickhouse-server ]] || apt_missing+=(clickhouse-server)
    have clickhouse-client || apt_missing+=(clickhouse-client)
fi
have curl || apt_missing+=(curl)
[[ -e /etc/ssl/certs/ca-certificates.crt ]] || apt_missing+=(ca-certificates)
have python3 || apt_missing+=(python3)
have cc || apt_missing+=(gcc libc6-dev)
if ! have node; then
    apt_missing+=(nodejs npm)
elif ! have npm; then
    apt_missing+=(npm)
fi
((want_bench == 0)) || have hyperfine || apt_missing+=(hyperfine)
# The tests drive a real terminal (tmux) to check the live view, and make a TLS server
# (openssl) to check certificate verification.
((want_test == 0)) || have tmux || apt_missing+=(tmux)
((want_test == 0)) || have openssl || apt_missing+=(openssl)
# tests/cron/run.sh runs the installed job under Debian's real cron daemon.
((want_test == 0)) || [[ -x /usr/sbin/cron ]] || apt_missing+=(cron)
# The cluster tests run ZooKeeper (Debian's package brings its JRE) beside four ClickHouse
# servers (scripts/clickhouse-cluster.sh).
if ((want_test)) && { [[ ! -f /usr/share/java/zookeeper.jar ]] || ! have java; }; then
    apt_missing+=(zookeeper)
fi
# The dashboard tests drive Debian's headless Chromium through its WebDriver (chromedriver).
((want_test == 0 && want_bench == 0)) || [[ -x /usr/bin/chromium ]] || apt_missing+=(chromium)
((want_test == 0 && want_bench == 0)) || [[ -x /usr/bin/chromedriver ]] || apt_missing+=(chromium-driver)
((${#apt_missing[@]} == 0)) || apt_install "${apt_missing[@]}"

# Debian splits venv support (ensurepip) out of python3; pyenv and others ship it.
if ((want_test || want_bench)) && ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    apt_install python3-venv
fi

# ---- ccusage from npm ------------------------------------------------------------------------

npm_quiet=(--no-audit --no-fund --loglevel=error)

if [[ $(version_of ccusage --version) != "$CCUSAGE_VERSION" ]]; then
    npm_root=$(npm root -g 2>/dev/null || true)
    if [[ $(id -u) == 0 || (-n $npm_root && -w $npm_root) || (-n $npm_root && ! -e $npm_root && -w $(dirname "$npm_root")) ]]; then
        quietly "npm install -g ccusage@$CCUSAGE_VERSION" npm install -g "${npm_quiet[@]}" "ccusage@$CCUSAGE_VERSION"
        where="global"
    else
        # No sudo for npm: a user-level prefix instead of a root-owned global one.
        quietly "npm install -g ccusage@$CCUSAGE_VERSION" npm install -g --prefix "$HOME/.local" "${npm_quiet[@]}" "ccusage@$CCUSAGE_VERSION"
        where="in $HOME/.local; put $HOME/.local/bin on PATH"
        [[ ":$PATH:" == *":$HOME/.local/bin:"* ]] || PATH="$HOME/.local/bin:$PATH"
    fi
    hash -r
    got=$(version_of ccusage --version)
    [[ $got == "$CCUSAGE_VERSION" ]] ||
        die "installed ccusage $CCUSAGE_VERSION, but ccusage on PATH ($(command -v ccusage || echo none)) reports '${got:-nothing}'"
    installed "ccusage $CCUSAGE_VERSION (npm, $where)"
fi

if ((want_test)); then
    old_bin="target/ccusage-18/node_modules/.bin/ccusage"
    if [[ $(version_of "$old_bin" --version) != "$CCUSAGE_OLD_VERSION" ]]; then
        mkdir -p target/ccusage-18
        quietly "npm install ccusage@$CCUSAGE_OLD_VERSION" \
            npm install --prefix target/ccusage-18 "${npm_quiet[@]}" "ccusage@$CCUSAGE_OLD_VERSION"
        got=$(version_of "$old_bin" --version)
        [[ $got == "$CCUSAGE_OLD_VERSION" ]] ||
            die "$old_bin reports '${got:-nothing}', not $CCUSAGE_OLD_VERSION"
        installed "ccusage $CCUSAGE_OLD_VERSION (npm, in target/ccusage-18)"
    fi

    # ---- chdb in target/venv ------------------------------------------------------------------
    venv_py="target/venv/bin/python"
    chdb_ok="import sys, chdb; sys.exit(chdb.__version__ != '$CHDB_VERSION')"
    if ! "$venv_py" -c "$chdb_ok" >/dev/null 2>&1; then
        # A venv whose interpreter is gone (python upgraded or moved) cannot be repaired: rebuild.
        if ! "$venv_py" -c 'import sys' >/dev/null 2>&1; then
            rm -rf target/venv
            quietly "python3 -m venv target/venv" python3 -m venv target/venv
        fi
        quietly "pip install chdb==$CHDB_VERSION" \
            "$venv_py" -m pip install --disable-pip-version-check --no-input -q "chdb==$CHDB_VERSION"
        "$venv_py" -c "$chdb_ok" >/dev/null 2>&1 || die "chdb $CHDB_VERSION does not import in target/venv"
        installed "chdb $CHDB_VERSION (pip, in target/venv)"
    fi
fi

# ---- selenium in target/venv (--bench) --------------------------------------------------------
if ((want_bench)); then
    venv_py="target/venv/bin/python"
    selenium_ok="import sys, selenium; sys.exit(selenium.__version__ != '$SELENIUM_VERSION')"
    if ! "$venv_py" -c "$selenium_ok" >/dev/null 2>&1; then
        if ! "$venv_py" -c 'import sys' >/dev/null 2>&1; then
            rm -rf target/venv
            quietly "python3 -m venv target/venv" python3 -m venv target/venv
        fi
        quietly "pip install selenium==$SELENIUM_VERSION" \
            "$venv_py" -m pip install --disable-pip-version-check --no-input -q "selenium==$SELENIUM_VERSION"
        "$venv_py" -c "$selenium_ok" >/dev/null 2>&1 || die "selenium $SELENIUM_VERSION does not import in target/venv"
        installed "selenium $SELENIUM_VERSION (pip, in target/venv)"
    fi
fi

# ---- Rust toolchain --------------------------------------------------------------------------

have cargo || die "cargo not found: install Rust with rustup (Debian's rustc is too old for this crate)"
need_rust=$(sed -n 's/^rust-version *= *"\([0-9.]*\)".*/\1/p' Cargo.toml 2>/dev/null | head -n1)
have_rust=$(version_of rustc --version)
if [[ -n $need_rust && -n $have_rust ]] &&
    [[ $(printf '%s\n%s\n' "$need_rust" "$have_rust" | sort -V | head -n1) != "$need_rust" ]]; then
    die "rustc $have_rust is older than $need_rust (Cargo.toml rust-version): run 'rustup update stable'"
fi

components=()
cargo fmt --version >/dev/null 2>&1 || components+=(rustfmt)
cargo clippy --version >/dev/null 2>&1 || components+=(clippy)
if ((${#components[@]} > 0)); then
    if have rustup && rustup component add "${components[@]}" >/dev/null 2>&1; then
        for c in "${components[@]}"; do installed "$c (rustup)"; done
    elif ((want_test)); then
        die "missing ${components[*]} and 'rustup component add ${components[*]}' failed"
    else
        warn "missing ${components[*]} (only needed for tests): run 'rustup component add ${components[*]}'"
    fi
fi

((installed_any)) || echo "$PROG: all dependencies present"
