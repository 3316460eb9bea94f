#!/usr/bin/env bash
# Time from the confirming block to `completed`: 20 real ERC-20 payments on anvil
# (--block-time 1), watched by the real `payd serve`. Prints median and p90.
# Settings (environment): BENCH_PAYMENTS=20 BENCH_CONFIRMATIONS=3 BENCH_POLL_MS=250 BENCH_BLOCK_TIME=1
# BENCH_WS=1 (also subscribe to newHeads over WebSocket)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x node_modules/.bin/anvil ] || npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
# BENCH_PROFILE=dev skips the release build (the figures then include debug-build overhead).
cargo bench --profile "${BENCH_PROFILE:-release}" -p payd-server --bench confirmation_latency
