#!/usr/bin/env bash
# Runs every fuzz target, one after the other, for RUNS executions each (or MAX_SECONDS,
# whichever comes first), with the per-input limits that make slow and big inputs failures:
#   -timeout=2 -rss_limit_mb=1024 -malloc_limit_mb=1024
# then prints a Markdown table: target, executions, seconds, exec/s, corpus size, findings.
#
# Usage: fuzz/run-all.sh [RUNS [MAX_SECONDS [TARGET...]]]
#   RUNS         executions per target (default 10000000)
#   MAX_SECONDS  time cap per target (default 3600)
#   TARGET...    targets to run (default: all, in the order below)
# Environment: BUILD=1 builds the binaries first (see README.md, "Running"). One process, one
# target at a time (no -jobs/-workers: libFuzzer would fork and log to fuzz-N.log).
#
# Needs bin/<target> (built as README.md says: -s none).
# Corpora grow in corpus/<target>, findings land in artifacts/<target>/, logs in logs/.
# A target stops at its first finding (libFuzzer's default): "findings" is the number of new
# crash-/timeout-/oom-/leak- files, so 0 means the run reached RUNS or MAX_SECONDS cleanly.
set -euo pipefail
cd "$(dirname "$0")"

runs=${1:-10000000}
max=${2:-3600}
shift $(( $# > 2 ? 2 : $# ))
all=(pickle torch npy rle json csv pickle_rep torch_rep)
targets=("${@:-${all[@]}}")

if [[ ${BUILD:-0} == 1 ]]; then
    export RUSTC_BOOTSTRAP=1 CARGO_BUILD_JOBS=1
    for t in "${all[@]}"; do
        cargo fuzz build -s none "$t"
    done
    mkdir -p bin
    for t in "${all[@]}"; do
        cp target/x86_64-unknown-linux-gnu/release/$t bin/
    done
fi

mkdir -p logs
rows=()
for t in "${targets[@]}"; do
    [[ -x bin/$t ]] || { echo "bin/$t missing: run with BUILD=1" >&2; exit 1; }
    mkdir -p "corpus/$t" "artifacts/$t"
    before=$(find "artifacts/$t" -type f | wc -l)
    log=logs/run_$t.log
    start=$(date +%s.%N)
    # A finding makes libFuzzer exit non-zero: record it, go on with the next target.
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} \
        "bin/$t" "corpus/$t" "seeds/$t" -dict="dicts/${t%_rep}.dict" \
        -timeout=2 -rss_limit_mb=1024 -malloc_limit_mb=1024 \
        -runs="$runs" -max_total_time="$max" \
        -artifact_prefix="artifacts/$t/" -print_final_stats=1 >"$log" 2>&1 || true
    end=$(date +%s.%N)
    secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", b - a }')
    # Final stats when the run ended cleanly, else the last progress line ("#N ...").
    execs=$(awk -F: '/stat::number_of_executed_units/ { gsub(/ /, "", $2); n = $2 }
        /^#[0-9]+/ { if (!n) { p = substr($1, 2); sub(/[^0-9].*/, "", p); last = p } }
        END { print (n ? n : last) + 0 }' "$log")
    rate=$(awk -v e="$execs" -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", e / (b - a) }')
    corpus=$(find "corpus/$t" -type f | wc -l)
    after=$(find "artifacts/$t" -type f | wc -l)
    found=$((after - before))
    # A native build dies silently on a stack overflow (libFuzzer's SIGSEGV handler runs on the
    # overflowed stack): a run that ended before RUNS and before MAX_SECONDS counts as a finding
    # (rebuild that target with -s address to get the input).
    if (( found == 0 && execs < runs && secs + 5 < max )); then
        echo "$t: stopped after $execs executions without a report: a crash" >&2
        found=1
    fi
    echo "$t: $execs executions in ${secs} s, corpus $corpus, findings $found (log $log)" >&2
    rows+=("| \`$t\` | $execs | $secs | $rate | $corpus | $found |")
done

echo
echo "Runs of ${runs} executions (cap ${max} s) per target, \`-timeout=2 -rss_limit_mb=1024 -malloc_limit_mb=1024\`:"
echo
echo "| target | executions | seconds | exec/s | corpus after | findings |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
