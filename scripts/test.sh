#!/usr/bin/env bash
# Runs the whole ebpfc test suite: formatting, lints, unit, snapshot, kernel and
# differential tests. Installs what the tests need on a fresh Debian machine.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
command -v bpftool >/dev/null 2>&1 || need_pkgs+=(bpftool)
command -v bpftrace >/dev/null 2>&1 || need_pkgs+=(bpftrace)
if [ ${#need_pkgs[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_pkgs[@]}"
    else
        echo "warning: ${need_pkgs[*]} missing; kernel comparison tests will skip" >&2
    fi
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace
