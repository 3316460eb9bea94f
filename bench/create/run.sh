#!/usr/bin/env bash
# Create throughput on SQLite: wrk drives native `POST /v1/payments` (a test-mode USDC payment
# on base, so each create also allocates a devnet deposit address) against a release
# `payd serve` on a fresh SQLite file, for DURATION seconds with CONNECTIONS connections, and
# prints the creates per second beside FLOOR. Needs wrk (Debian: apt-get install -y wrk).
#
#   bash bench/create/run.sh [DURATION] [CONNECTIONS]      # defaults: 20 16
#   FLOOR=200 bash bench/create/run.sh                      # the figure to stay above
#   PAYD_BIN=/path/to/payd bash bench/create/run.sh         # an already built binary
set -euo pipefail
cd "$(dirname "$0")/../.."
duration="${1:-20}"
connections="${2:-16}"
floor="${FLOOR:-200}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/payd-target}"

if ! command -v wrk >/dev/null; then
  echo "error: wrk is not installed (Debian: apt-get install -y wrk)" >&2
  exit 1
fi
if [ -n "${PAYD_BIN:-}" ]; then
  payd="$PAYD_BIN"
else
  cargo build --quiet --locked --release -p payd-server --bin payd
  payd="$CARGO_TARGET_DIR/release/payd"
fi

work="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Quiet logs, no devnet block production (only creates are measured), no rate limit in the way.
# Every other setting is the default a fresh install runs with.
# `exec`: the PID waited on and killed is payd's own, not a subshell's.
(
  cd "$work"
  exec env -u PAYD_DATABASE_URL PAYD_LOG=warn PAYD_DEVNET_BLOCK_MS=0 PAYD_RATE_LIMITS=native=1000000 \
    "$payd" serve --listen 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.err"
) &
server=$!
key=""; port=""
for _ in $(seq 1 100); do
  port="$(sed -n 's/^payd is listening on port \([0-9]*\).*/\1/p' "$work/serve.out" | head -n1)"
  key="$(grep -o 'pk_test_[0-9a-f]*' "$work/serve.out" | head -n1 || true)"
  [ -n "$port" ] && [ -n "$key" ] && break
  sleep 0.1
done
if [ -z "$port" ] || [ -z "$key" ]; then
  echo "error: payd serve did not start:" >&2
  cat "$work/serve.out" "$work/serve.err" >&2
  exit 1
fi

cat >"$work/create.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $key"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"amount":"10.00","currency":"USD","token":"USDC","network":"base"}'
LUA

wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$work/create.lua" \
  "http://127.0.0.1:$port/v1/payments" | tee "$work/wrk.out"

rps="$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk.out")"
errors="$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$work/wrk.out")"
created="$(sqlite3 "$work/payd-data/payd.db" 'SELECT COUNT(*) FROM payments;' 2>/dev/null || echo '?')"
echo
echo "create throughput (SQLite, ${PAYD_BIN:-release build of $(git rev-parse --short HEAD 2>/dev/null || echo '?')}): $rps creates/s over ${duration}s, $connections connections" \
  "(non-2xx: ${errors:-0}; payments written: $created); floor: $floor creates/s"
echo "reproduce: bash bench/create/run.sh $duration $connections"
if [ -n "${errors:-}" ] && [ "${errors}" != "0" ]; then
  echo "error: some creates failed" >&2
  exit 1
fi
awk -v r="$rps" -v f="$floor" 'BEGIN { exit !(r + 0 >= f + 0) }' || { echo "below the floor" >&2; exit 1; }
