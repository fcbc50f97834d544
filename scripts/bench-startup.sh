#!/usr/bin/env bash
# Start-up benchmark: wall time and peak RSS of a trivial program under ebpfc and
# bpftrace, median of N runs each, printed as a table. Needs root and GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
program=${PROGRAM:-'BEGIN { exit(); }'}
cargo build --release -q
measure() { # prints "seconds kbytes" for one run of "$@"
    /usr/bin/time -f '%e %M' "$@" >/dev/null 2>/tmp/ebpfc-bench.$$ || true
    tail -n 1 /tmp/ebpfc-bench.$$
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
printf '%-10s %12s %14s\n' tool 'wall (ms)' 'peak RSS (KiB)'
for tool in ebpfc bpftrace; do
    if [ "$tool" = ebpfc ]; then cmd=(./target/release/ebpfc -e "$program"); else cmd=(bpftrace -e "$program"); fi
    command -v "${cmd[0]}" >/dev/null 2>&1 || { printf '%-10s %12s %14s\n' "$tool" - -; continue; }
    samples=$(for _ in $(seq "$runs"); do measure "${cmd[@]}"; done)
    wall=$(echo "$samples" | awk '{ print $1 * 1000 }' | median)
    rss=$(echo "$samples" | awk '{ print $2 }' | median)
    printf '%-10s %12s %14s\n' "$tool" "$wall" "$rss"
done
rm -f /tmp/ebpfc-bench.$$
