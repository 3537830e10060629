#!/usr/bin/env bash
# Fuzzes the ccusage JSON -> rows mapping (fuzz/fuzz_targets/map_reports.rs) with libFuzzer.
#
#   scripts/fuzz.sh [SECONDS]     default 600
#
# Needs a nightly toolchain and cargo-fuzz (`rustup toolchain install nightly`,
# `cargo install cargo-fuzz`). Seeds the corpus with every captured ccusage output in
# tests/fixtures, each prefixed with the byte that selects its report kind. Not part of
# scripts/test.sh: a run takes minutes and its figures go into docs/failures.md by hand.
set -euo pipefail

seconds=${1:-600}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
corpus="$root/fuzz/corpus/map_reports"
mkdir -p "$corpus"

# Report kind selectors, as in the fuzz target: 0 daily, 1 monthly, 2 session, 3 blocks,
# 4 daily --instances, 5 the all-agent daily report.
seed() {
    local selector=$1 file=$2
    { printf "\\x0$selector"; cat "$root/tests/fixtures/ccusage/$file"; } >"$corpus/seed-$(basename "$(dirname "$file")")-$(basename "$file")"
}
seed 0 18.0.11/daily.json
seed 1 18.0.11/monthly.json
seed 2 18.0.11/session.json
seed 3 18.0.11/blocks.json
seed 4 18.0.11/daily-instances.json
seed 0 20.0.24/claude-daily.json
seed 1 20.0.24/claude-monthly.json
seed 2 20.0.24/claude-session.json
seed 3 20.0.24/claude-blocks.json
seed 4 20.0.24/claude-daily-instances.json
seed 5 20.0.24/daily.json
seed 5 20.0.24/daily-sections-by-agent.json

cd "$root/fuzz"
exec cargo +nightly fuzz run map_reports "$corpus" -- -max_total_time="$seconds" -print_final_stats=1
