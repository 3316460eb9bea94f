#!/usr/bin/env bash
# Webhook delivery throughput on SQLite and PostgreSQL: EVENTS deliveries (default 2000) to
# one receiver on 127.0.0.1, CONCURRENCY in flight (default 16). PostgreSQL is reached at
# PAYD_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres); each run uses a
# fresh database that is dropped afterwards. PROFILE=release for an optimised build (slow to
# compile); the default dev profile compiles dependencies at opt-level 1.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PAYD_TEST_POSTGRES_URL="${PAYD_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export PAYD_LOG="${PAYD_LOG:-warn}"
profile="${PROFILE:-dev}"
exec cargo run --quiet --locked --profile "$profile" -p payd-server --example webhook_bench -- "${1:-2000}" "${2:-16}"
