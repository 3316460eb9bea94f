#!/usr/bin/env bash
# Matching: payd's watched-address index (WatchIndex) with MATCHING_ADDRESSES (1,000,000)
# addresses — ns per log (criterion) for a watched and an unwatched recipient, and heap bytes
# per address (a counting allocator) — beside the floor, a HashMap<[u8; 20], u32>.
# Builds bench/matching (a crate outside payd's workspace, its own Cargo.lock) with cargo's
# bench profile into the same target directory.
#
#   bash bench/matching/run.sh                         # 1,000,000 addresses, 3 s per measurement
#   MATCHING_ADDRESSES=100000 MEASURE_SECS=1 bash bench/matching/run.sh
set -euo pipefail
cd "$(dirname "$0")"
export MATCHING_ADDRESSES="${MATCHING_ADDRESSES:-1000000}"
secs="${MEASURE_SECS:-3}"
cargo bench --quiet --locked --bench matching -- --warm-up-time 1 --measurement-time "$secs" --noplot
