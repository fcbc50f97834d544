#!/usr/bin/env bash
# Start-up benchmark: wall time and peak RSS of a trivial program under ebpfc and
# bpftrace, median of N runs each, printed as a table. Needs root and GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
program=${PROGRAM:-'BEGIN { exit(); }'}
cargo build --release -q
bin=${CARGO_TARGET_DIR:-target}/release/ebpfc
measure() { # prints "milliseconds kbytes" for one run of "$@"; a failed run stops the bench
    local start=$EPOCHREALTIME
    if ! /usr/bin/time -f '%M' "$@" >/dev/null 2>/tmp/ebpfc-bench.$$; then
        echo "failed: $* ($(head -n 3 /tmp/ebpfc-bench.$$))" >&2
        exit 1
    fi
    local end=$EPOCHREALTIME
    echo "$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", (e - s) * 1000 }') $(tail -n 1 /tmp/ebpfc-bench.$$)"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
printf '%-10s %12s %14s\n' tool 'wall (ms)' 'peak RSS (KiB)'
for tool in ebpfc bpftrace; do
    if [ "$tool" = ebpfc ]; then cmd=("$bin" -e "$program"); else cmd=(bpftrace -e "$program"); fi
    command -v "${cmd[0]}" >/dev/null 2>&1 || { printf '%-10s %12s %14s\n' "$tool" - -; continue; }
    samples=$(for _ in $(seq "$runs"); do measure "${cmd[@]}"; done)
    wall=$(echo "$samples" | awk '{ print $1 }' | median)
    rss=$(echo "$samples" | awk '{ print $2 }' | median)
    printf '%-10s %12s %14s\n' "$tool" "$wall" "$rss"
done
rm -f /tmp/ebpfc-bench.$$
