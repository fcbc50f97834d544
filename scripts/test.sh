#!/usr/bin/env bash
# Runs the whole ebpfc test suite: formatting, lints, unit, snapshot, kernel and
# differential tests. Installs what the tests need on a fresh Debian machine.
set -euo pipefail
cd "$(dirname "$0")/.."

# The LLVM backend (cargo feature `llvm`) builds against Debian's LLVM 19.
llvm_pkgs=(llvm-19-dev libpolly-19-dev zlib1g-dev libzstd-dev)
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }

need_pkgs=()
command -v bpftool >/dev/null 2>&1 || need_pkgs+=(bpftool)
command -v bpftrace >/dev/null 2>&1 || need_pkgs+=(bpftrace)
for pkg in "${llvm_pkgs[@]}"; do
    installed "$pkg" || need_pkgs+=("$pkg")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_pkgs[@]}"
    else
        echo "warning: ${need_pkgs[*]} missing; the tests that need them will skip" >&2
    fi
fi

# Every feature (the LLVM backend) when LLVM 19 is there; CI requires it.
all_features=(--all-features)
if [ ! -x /usr/lib/llvm-19/bin/llvm-config ]; then
    if [ "${EBPFC_REQUIRE_KERNEL:-}" = 1 ]; then
        echo "error: LLVM 19 (${llvm_pkgs[*]}) is required for --all-features" >&2
        exit 1
    fi
    echo "warning: LLVM 19 missing; the LLVM backend is not built or tested" >&2
    all_features=()
fi

cargo fmt --all -- --check
# The default build needs no LLVM: lint it, and test what differs without the feature.
cargo clippy --workspace --all-targets -- -D warnings
cargo test -p ebpfc-codegen --lib
cargo test --test backends
cargo clippy --workspace --all-targets "${all_features[@]}" -- -D warnings
cargo test --workspace "${all_features[@]}"
