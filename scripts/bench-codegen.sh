#!/usr/bin/env bash
# Code-quality benchmark: for every program under scripts/bench-programs/ (or the files
# given as arguments), the eBPF instructions each backend emits (8-byte slots of the
# program sections of the --emit-elf object; ld_imm64 counts twice) and the in-kernel
# cost per event (run_time_ns / run_cnt from `bpftool prog show`, kernel.bpf_stats_enabled)
# while a fixed workload runs, median of RUNS runs. Prints one table. Needs root, bpftool
# and jq; kernel.bpf_stats_enabled is restored on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
iterations=${ITERATIONS:-150}
[ "$(id -u)" = 0 ] || { echo "bench-codegen: needs root (BPF, bpf_stats_enabled)" >&2; exit 1; }
for tool in bpftool jq readelf; do
    command -v "$tool" >/dev/null || { echo "bench-codegen: $tool is missing" >&2; exit 1; }
done
cargo build --release --features llvm -q -p ebpfc
bin=$(realpath "${CARGO_TARGET_DIR:-target}/release/ebpfc")
work=$(mktemp -d /tmp/ebpfc-bench-codegen.XXXXXX)
old_stats=$(sysctl -n kernel.bpf_stats_enabled)
trap 'sysctl -qw kernel.bpf_stats_enabled="$old_stats"; rm -rf "$work"' EXIT
sysctl -qw kernel.bpf_stats_enabled=1

# The workload runs as `ebpfc -c` (the probes are attached before it starts and detached
# after it exits): files opened and read, writes, execs, setlocale/getenv in libc, and time
# for profile and interval probes. It then samples the stats of the programs its parent
# (ebpfc) holds, found through /proc/PID/fdinfo.
cat >"$work/workload.sh" <<EOF
#!/bin/sh
i=0
while [ \$i -lt $iterations ]; do
    cat /etc/hostname >/dev/null
    head -c 8192 /dev/zero >/dev/null
    dd if=/dev/zero of=/dev/null bs=512 count=8 status=none
    i=\$((i + 1))
done
ids=\$(grep -h '^prog_id:' /proc/\$PPID/fdinfo/* 2>/dev/null | awk '{ print \$2 }' | sort -u)
for id in \$ids; do bpftool prog show id "\$id" -j; echo; done >"$work/stats.json"
EOF
chmod +x "$work/workload.sh"

insns() { # instruction slots in the program sections (flags AX) of ELF $1
    local bytes=0 size
    for size in $(readelf -SW "$1" | sed -n 's/^ *\[ *[0-9]*\] //p' | awk '$7 ~ /X/ { print $5 }'); do
        bytes=$((bytes + 16#$size))
    done
    echo $((bytes / 8))
}
ns_per_event() { # median over $runs runs of program $1 on backend $2
    for _ in $(seq "$runs"); do
        rm -f "$work/stats.json"
        if ! "$bin" -q --backend "$2" -c "$work/workload.sh" "$1" >/dev/null 2>"$work/err"; then
            echo "bench-codegen: $1 failed on $2: $(head -n 3 "$work/err")" >&2
            exit 1
        fi
        jq -s '[.[] | select(.run_cnt != null)] | (map(.run_time_ns) | add) as $t
               | (map(.run_cnt) | add) as $c | if ($c // 0) > 0 then $t / $c else 0 end' \
            "$work/stats.json"
    done | sort -n | awk '{ v[NR] = $1 } END { printf "%.0f", v[int((NR + 1) / 2)] }'
}

programs=("$@")
[ ${#programs[@]} -gt 0 ] || programs=(scripts/bench-programs/*.bt)
row='%-22s %15s %10s %6s %18s %13s\n'
printf "$row" program 'insns bytecode' 'insns llvm' ratio 'ns/event bytecode' 'ns/event llvm'
total_b=0 total_l=0
for p in "${programs[@]}"; do
    "$bin" --backend bytecode --emit-elf "$work/b.o" "$p"
    "$bin" --backend llvm --emit-elf "$work/l.o" "$p"
    ib=$(insns "$work/b.o") il=$(insns "$work/l.o")
    total_b=$((total_b + ib)) total_l=$((total_l + il))
    nb=$(ns_per_event "$p" bytecode) nl=$(ns_per_event "$p" llvm)
    ratio=$(awk -v b="$ib" -v l="$il" 'BEGIN { printf "%.2f", b / l }')
    printf "$row" "$(basename "$p" .bt)" "$ib" "$il" "$ratio" "$nb" "$nl"
done
ratio=$(awk -v b="$total_b" -v l="$total_l" 'BEGIN { printf "%.2f", b / l }')
printf "$row" total "$total_b" "$total_l" "$ratio" - -
