#!/usr/bin/env bash
# Detection latency: confirming block → `completed` in the database and → webhook received,
# 100 real ERC-20 payments on anvil
# (--block-time 1), watched by the real `payd serve`. Prints median and p95.
# Settings (environment): BENCH_PAYMENTS=100 BENCH_PER_BLOCK=10 BENCH_CONFIRMATIONS=3 BENCH_POLL_MS=250 BENCH_BLOCK_TIME=1
# BENCH_WS=1 (also subscribe to newHeads over WebSocket)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x node_modules/.bin/anvil ] || npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
# BENCH_PROFILE=dev skips the release build (the figures then include debug-build overhead).
cargo bench --profile "${BENCH_PROFILE:-release}" -p payd-server --bench confirmation_latency
