#!/usr/bin/env bash
# Idle cost as history grows: a release `payd serve` (devnet producing a block a second, its
# watcher, the expiry sweeper and the webhook dispatcher running) on a database holding N
# payments of the past (completed, expired long ago: rows inserted directly for speed), with
# nothing happening. Prints per N: the CPU payd uses (share of one core, over SECS seconds),
# its RSS, and the time from a devnet payment to `completed` (create, test_pay, poll).
# The cost must not grow with N: every step is bounded by live payments, not history.
#
#   bash bench/idle/run.sh                          # SQLite; N = 0 100000 1000000; SECS = 20
#   BACKEND=postgres bash bench/idle/run.sh         # a fresh database at PAYD_TEST_POSTGRES_URL's server
#   SIZES="0 100000" SECS=10 bash bench/idle/run.sh
#   PAYD_BIN=/path/to/payd bash bench/idle/run.sh   # an already built binary
set -euo pipefail
cd "$(dirname "$0")/../.."
backend="${BACKEND:-sqlite}"
sizes="${SIZES:-0 100000 1000000}"
secs="${SECS:-20}"
pg_server="${PAYD_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/payd-target}"
for tool in curl sqlite3; do
  command -v "$tool" >/dev/null || { echo "error: $tool is not installed" >&2; exit 1; }
done
if [ "$backend" = postgres ]; then command -v psql >/dev/null || { echo "error: psql is not installed" >&2; exit 1; }; fi
if [ -n "${PAYD_BIN:-}" ]; then
  payd="$PAYD_BIN"
else
  cargo build --quiet --locked --release -p payd-server --bin payd
  payd="$CARGO_TARGET_DIR/release/payd"
fi
ticks="$(getconf CLK_TCK)"

work="$(mktemp -d)"
server=""
dbs=()
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  for db in "${dbs[@]}"; do psql -q "$pg_server" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT
# One master key for every run (PostgreSQL deployments name theirs).
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/master.key"

# Starts payd on database $1 in directory $2; sets $server, $port and $key.
start() {
  (
    cd "$2"
    exec env PAYD_DATABASE_URL="$1" PAYD_MASTER_KEY_FILE="$work/master.key" PAYD_LOG=warn PAYD_RATE_LIMITS=native=1000000 \
      "$payd" serve --listen 127.0.0.1:0 >"$2/serve.out" 2>"$2/serve.err"
  ) &
  server=$!
  port=""; key=""
  for _ in $(seq 1 300); do
    port="$(sed -n 's/^payd is listening on port \([0-9]*\).*/\1/p' "$2/serve.out" | head -n1)"
    key="$(grep -o 'pk_test_[0-9a-f]*' "$2/serve.out" | head -n1 || true)"
    [ -n "$port" ] && { [ -n "$key" ] || [ -n "${3:-}" ]; } && return 0
    sleep 0.1
  done
  echo "error: payd serve did not start:" >&2
  cat "$2/serve.out" "$2/serve.err" >&2
  exit 1
}
stop() { kill "$server"; wait "$server" 2>/dev/null || true; server=""; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
sql() {
  if [ "$backend" = postgres ]; then psql -qtA "$1" -c "$2"; else sqlite3 "${1#sqlite:}" "$2"; fi
}

# N rows of history: completed test payments of the demo merchant that expired 30 days ago,
# each with its own address (the shape a busy merchant's table has).
history_sql() {
  local n="$1" merchant="$2" old
  old=$(( ($(date +%s) - 30 * 86400) * 1000 ))
  local cols="id, merchant_id, mode, dialect, slug, status, underpaid, overpaid, paid_late, price_amount, \
price_currency, token, network, token_decimals, amount_due, confirmations, deposit_address, received_confirmed, \
received_pending, line_items, metadata, expires_at, created_at, updated_at, completed_at, version, partial_seen, \
paid_in_time, received_late"
  if [ "$backend" = postgres ]; then
    echo "INSERT INTO payments ($cols) SELECT 'pay_' || lpad(to_hex(i), 32, '0'), '$merchant', 'test', 'native', \
'h' || i, 'completed', FALSE, FALSE, FALSE, '10.00', 'USD', 'USDC', 'base', 6, '10000000', 12, \
'0x' || lpad(to_hex(i), 40, '0'), '10000000', '0', '[]', '{}', $old, $old - 1800000, $old, $old, 3, FALSE, TRUE, '0' \
FROM generate_series(1, $n) AS i"
  else
    echo "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $n) \
INSERT INTO payments ($cols) SELECT 'pay_' || printf('%032x', i), '$merchant', 'test', 'native', 'h' || i, \
'completed', 0, 0, 0, '10.00', 'USD', 'USDC', 'base', 6, '10000000', 12, '0x' || printf('%040x', i), '10000000', \
'0', '[]', '{}', $old, $old - 1800000, $old, $old, 3, 0, 1, '0' FROM s"
  fi
}

rows=()
for n in $sizes; do
  dir="$work/$n"; mkdir -p "$dir"
  if [ "$backend" = postgres ]; then
    name="payd_bench_idle_${n}_$$"
    psql -q "$pg_server" -c "CREATE DATABASE $name" >/dev/null
    dbs+=("$name")
    url="${pg_server%/*}/$name"
  else
    url="sqlite:$dir/payd.db"
  fi
  # A first start migrates and makes the demo merchant; then the history goes in.
  start "$url" "$dir"
  demo_key="$key"
  stop
  merchant="$(sql "$url" "SELECT id FROM merchants LIMIT 1")"
  if [ "$n" -gt 0 ]; then sql "$url" "$(history_sql "$n" "$merchant")" >/dev/null; fi
  [ "$backend" = postgres ] && sql "$url" "ANALYZE" >/dev/null
  start "$url" "$dir" restart
  key="$demo_key"
  sleep 3 # past start-up work
  t0="$(cpu_ticks "$server")"; sleep "$secs"; t1="$(cpu_ticks "$server")"
  cpu="$(awk -v d="$((t1 - t0))" -v hz="$ticks" -v s="$secs" 'BEGIN { printf "%.1f", 100 * d / hz / s }')"
  rss="$(awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$server/status")"
  base="http://127.0.0.1:$port"
  started="$(date +%s%3N)"
  id="$(curl -sf "$base/v1/payments" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    -d '{"amount": "10.00", "currency": "USD", "token": "USDC", "network": "base"}' | sed -n 's/.*"id":"\(pay_[0-9a-f]*\)".*/\1/p')"
  curl -sf -X POST "$base/v1/payments/$id/test_pay" -H "Authorization: Bearer $key" -o /dev/null
  status=""
  for _ in $(seq 1 1200); do
    status="$(curl -sf "$base/v1/payments/$id" -H "Authorization: Bearer $key" | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p')"
    [ "$status" = completed ] && break
    sleep 0.05
  done
  latency="$(( $(date +%s%3N) - started ))"
  [ "$status" = completed ] || latency="not completed"
  stop
  rows+=("| $n | $backend | $cpu % | $rss MiB | $latency ms |")
done

echo
echo "Idle cost over history ($backend; CPU over $secs s; devnet: 1 block/s, base needs 12 confirmations)"
echo "| payments in the database | backend | idle CPU (one core) | RSS | devnet pay → completed |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo "Floor: the same CPU and latency at every size (cost bounded by live payments, not history)."
echo "Reproduce: BACKEND=$backend SIZES=\"$sizes\" SECS=$secs bash bench/idle/run.sh"
