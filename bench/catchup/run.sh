#!/usr/bin/env bash
# Catch-up scan: a release `payd serve` with a fresh database scans an anvil chain from block 0
# to its head and credits every payment paid on it, beside the floor of plain eth_getLogs calls
# over the same block ranges.
#
# The chain (bench/catchup/chain.js): BLOCKS blocks holding TRANSFERS ERC-20 Transfer logs of
# one token (BenchToken, batches of PER_TX logs per transaction), PAID of them to deposit
# addresses of the WATCHED open live payments inserted directly into payd's database (amounts
# matching), the rest to addresses payd does not know. payd's network: `confirmations` 12,
# `block_range` BLOCK_RANGE, `start_block` 0, polling every 250 ms. The clock runs from payd's
# start until every paid payment reads `completed` in the database and the cursor is at the
# head; the run fails if any of them does not complete within TIMEOUT seconds.
#
#   bash bench/catchup/run.sh                          # SQLite and PostgreSQL, the sizes below
#   BACKENDS=sqlite BLOCKS=5000 TRANSFERS=10000 PAID=1000 WATCHED=20000 bash bench/catchup/run.sh
#   PAYD_BIN=/path/to/payd bash bench/catchup/run.sh   # an already built binary
# Settings (defaults): BACKENDS="sqlite postgres" BLOCKS=20000 TRANSFERS=50000 PAID=5000
#   WATCHED=100000 PER_TX=500 BLOCK_RANGE=500 TIMEOUT=600
#   PAYD_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres
# Prints a markdown table (one row per backend) and the command that reproduces it.
set -euo pipefail
cd "$(dirname "$0")/../.."
backends="${BACKENDS:-sqlite postgres}"
export BLOCKS="${BLOCKS:-20000}" TRANSFERS="${TRANSFERS:-50000}" PAID="${PAID:-5000}" WATCHED="${WATCHED:-100000}"
export PER_TX="${PER_TX:-500}" BLOCK_RANGE="${BLOCK_RANGE:-500}"
timeout_s="${TIMEOUT:-600}"
pg_server="${PAYD_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
for tool in curl sqlite3 node; do
  command -v "$tool" >/dev/null || { echo "error: $tool is not installed" >&2; exit 1; }
done
case " $backends " in *" postgres "*) command -v psql >/dev/null || { echo "error: psql is not installed" >&2; exit 1; } ;; esac
[ -x node_modules/.bin/anvil ] || npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
if [ -n "${PAYD_BIN:-}" ]; then
  payd="$PAYD_BIN"
else
  cargo build --quiet --locked --release -p payd-server --bin payd
  payd="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/release/payd"
fi

work="$(mktemp -d)"
server=""
anvil=""
dbs=()
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  if [ -n "$anvil" ]; then kill "$anvil" 2>/dev/null || true; wait "$anvil" 2>/dev/null || true; fi
  for db in "${dbs[@]}"; do psql -q "$pg_server" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/master.key"
now_ms() { date +%s%3N; }

# The chain. Cancun, not anvil's default Prague: anvil 1.7's EIP-2935 history contract makes
# each mined block slower as the chain grows (foundry-rs/foundry#15715), and a 20,000-block
# chain would take many minutes to make; nothing the watcher reads depends on the hardfork.
node_modules/.bin/anvil --port 0 --hardfork cancun >"$work/anvil.out" 2>&1 &
anvil=$!
rpc_port=""
for _ in $(seq 1 200); do
  rpc_port="$(sed -n 's/^Listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/anvil.out" | head -n1)"
  [ -n "$rpc_port" ] && break
  sleep 0.05
done
[ -n "$rpc_port" ] || { echo "error: anvil did not start:" >&2; cat "$work/anvil.out" >&2; exit 1; }
export RPC="http://127.0.0.1:$rpc_port"
t0="$(now_ms)"
RPC="$RPC" node bench/catchup/chain.js generate >"$work/chain.json"
gen_ms=$(( $(now_ms) - t0 ))
json() { node -e "process.stdout.write(String(require('$work/chain.json').$1))"; }
token="$(json token)"
head_block="$(json head)"
echo "chain: $head_block blocks, $TRANSFERS transfers ($PAID to watched addresses) made in $gen_ms ms" >&2

# The floor: the same ranges over plain eth_getLogs (best of two, the first warming anvil).
TOKEN="$token" HEAD="$head_block" node bench/catchup/chain.js floor >"$work/floor1.json"
TOKEN="$token" HEAD="$head_block" node bench/catchup/chain.js floor >"$work/floor2.json"
floor_s="$(node -e "const a=require('$work/floor1.json'),b=require('$work/floor2.json'); if (a.logs !== $TRANSFERS) throw new Error('floor read ' + a.logs + ' logs'); process.stdout.write(Math.min(a.seconds,b.seconds).toFixed(3))")"
floor_calls="$(node -e "process.stdout.write(String(require('$work/floor1.json').calls))")"
echo "floor: $floor_calls eth_getLogs calls, $TRANSFERS logs in $floor_s s" >&2

sql() {
  case "$1" in
    sqlite:*) sqlite3 "${1#sqlite:}" "$2" ;;
    *) psql -qtA "$1" -c "$2" ;;
  esac
}
# Starts payd on database $1 in directory $2 with networks $3 (JSON); sets $server, $port.
start() {
  (
    cd "$2"
    exec env PAYD_DATABASE_URL="$1" PAYD_MASTER_KEY_FILE="$work/master.key" PAYD_LOG=warn PAYD_DEVNET_BLOCK_MS=0 \
      PAYD_NETWORKS="$3" "$payd" serve --listen 127.0.0.1:0 >>"$2/serve.out" 2>>"$2/serve.err"
  ) &
  server=$!
}
wait_started() { # $1 dir
  for _ in $(seq 1 600); do
    grep -q '^payd is listening on port' "$1/serve.out" 2>/dev/null && return 0
    kill -0 "$server" 2>/dev/null || break
    sleep 0.05
  done
  echo "error: payd serve did not start:" >&2
  cat "$1/serve.out" "$1/serve.err" >&2
  exit 1
}
stop() { kill "$server"; wait "$server" 2>/dev/null || true; server=""; }

# WATCHED open live payments on the network, as chain.js addresses and prices them: payment i
# has deposit address 0x1 + i in 39 digits and is due 1000000 + i (USDC, 6 decimals).
payments_sql() {
  local merchant="$1" now created expires
  now="$(now_ms)"; created=$(( now - 3600 * 1000 )); expires=$(( now + 2 * 86400 * 1000 ))
  local cols="id, merchant_id, mode, dialect, slug, status, underpaid, overpaid, paid_late, price_amount, \
price_currency, token, network, token_decimals, amount_due, confirmations, deposit_address, received_confirmed, \
received_pending, line_items, metadata, expires_at, created_at, updated_at, version, partial_seen, paid_in_time, \
received_late"
  if [ "$2" = postgres ]; then
    echo "INSERT INTO payments ($cols) SELECT 'pay_' || lpad(to_hex(i), 32, '0'), '$merchant', 'live', 'native', \
'c' || i, 'pending', FALSE, FALSE, FALSE, '1.00', 'USD', 'USDC', 'anvil', 6, (1000000 + i)::text, 12, \
'0x1' || lpad(i::text, 39, '0'), '0', '0', '[]', '{}', $expires, $created, $created, 1, FALSE, FALSE, '0' \
FROM generate_series(1, $WATCHED) AS i"
  else
    echo "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $WATCHED) \
INSERT INTO payments ($cols) SELECT 'pay_' || printf('%032x', i), '$merchant', 'live', 'native', 'c' || i, \
'pending', 0, 0, 0, '1.00', 'USD', 'USDC', 'anvil', 6, CAST(1000000 + i AS TEXT), 12, '0x1' || printf('%039d', i), \
'0', '0', '[]', '{}', $expires, $created, $created, 1, 0, 0, '0' FROM s"
  fi
}

networks="$(printf '[{"name":"anvil","chain_id":31337,"rpc_url":"%s","confirmations":12,"block_range":%s,"poll_interval_ms":250,"start_block":0,"tokens":[{"symbol":"USDC","contract":"%s","decimals":6}]}]' \
  "$RPC" "$BLOCK_RANGE" "$token")"
rows=()
for backend in $backends; do
  dir="$work/$backend"; mkdir -p "$dir"
  if [ "$backend" = postgres ]; then
    name="payd_bench_catchup_$$"
    dbs+=("$name")
    psql -q "$pg_server" -c "CREATE DATABASE $name" >/dev/null
    url="${pg_server%/*}/$name"
  else
    url="sqlite:$dir/payd.db"
  fi
  # A first start (no network) migrates and makes the demo merchant; then the payments go in.
  start "$url" "$dir" "[]"
  wait_started "$dir"
  stop
  merchant="$(sql "$url" "SELECT id FROM merchants LIMIT 1")"
  sql "$url" "$(payments_sql "$merchant" "$backend")" >/dev/null
  [ "$backend" = postgres ] && sql "$url" "ANALYZE" >/dev/null
  t0="$(now_ms)"
  start "$url" "$dir" "$networks"
  # PERF_DIR=dir: a perf profile of payd during the scan (perf record, cpu-clock, call graphs).
  perf_pid=""
  if [ -n "${PERF_DIR:-}" ]; then
    perf record -q -e cpu-clock -F 499 --call-graph dwarf,16384 -o "$PERF_DIR/catchup-$backend.data" -p "$server" 2>/dev/null &
    perf_pid=$!
  fi
  done_ms=""
  while [ $(( $(now_ms) - t0 )) -lt $(( timeout_s * 1000 )) ]; do
    state="$(sql "$url" "SELECT (SELECT COUNT(*) FROM payments WHERE network = 'anvil' AND status = 'completed') || ' ' || \
COALESCE((SELECT block_number FROM chain_cursors WHERE network = 'anvil'), -1)" 2>/dev/null || echo "0 -1")"
    completed="${state% *}"; cursor="${state#* }"
    if [ "$completed" -ge "$PAID" ] && [ "$cursor" -ge "$head_block" ]; then done_ms=$(( $(now_ms) - t0 )); break; fi
    kill -0 "$server" 2>/dev/null || { echo "error: payd serve exited:" >&2; cat "$dir/serve.err" >&2; exit 1; }
    sleep 0.1
  done
  if [ -n "$perf_pid" ]; then kill -INT "$perf_pid" 2>/dev/null || true; wait "$perf_pid" 2>/dev/null || true; fi
  stop
  [ -n "$done_ms" ] || { echo "error: after ${timeout_s} s on $backend: $completed of $PAID completed, cursor $cursor of $head_block" >&2; tail -n 20 "$dir/serve.err" >&2; exit 1; }
  # Exactly the paid ones, each once: nothing else completed, one transfer per payment.
  others="$(sql "$url" "SELECT COUNT(*) FROM payments WHERE network = 'anvil' AND status <> 'pending' AND status <> 'completed'")"
  credited="$(sql "$url" "SELECT COUNT(*) FROM chain_transfers WHERE network = 'anvil' AND payment_id IS NOT NULL")"
  [ "$completed" -eq "$PAID" ] && [ "$others" -eq 0 ] && [ "$credited" -eq "$PAID" ] ||
    { echo "error: $backend: $completed completed (want $PAID), $others in another state, $credited transfers credited" >&2; exit 1; }
  secs="$(awk -v ms="$done_ms" 'BEGIN { printf "%.2f", ms / 1000 }')"
  bps="$(awk -v b="$head_block" -v ms="$done_ms" 'BEGIN { printf "%.0f", b / (ms / 1000) }')"
  floor_bps="$(awk -v b="$head_block" -v s="$floor_s" 'BEGIN { printf "%.0f", b / s }')"
  ratio="$(awk -v a="$floor_s" -v b="$done_ms" 'BEGIN { printf "%.2f", a / (b / 1000) }')"
  echo "payd ($backend): $completed/$PAID completed, cursor at $cursor, in $secs s" >&2
  rows+=("| $backend | $secs s ($bps blocks/s), $completed/$PAID completed | $floor_s s ($floor_bps blocks/s) | $ratio |")
done

echo
echo "Catch-up scan: $head_block blocks, $TRANSFERS Transfer logs, $PAID to watched addresses among $WATCHED open payments; block_range $BLOCK_RANGE"
echo "| backend | payd: scan from 0 to head, all paid completed | floor: eth_getLogs over the same ranges ($floor_calls calls) | payd speed / floor |"
echo "|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo "Reproduce: BACKENDS=\"$backends\" BLOCKS=$BLOCKS TRANSFERS=$TRANSFERS PAID=$PAID WATCHED=$WATCHED PER_TX=$PER_TX BLOCK_RANGE=$BLOCK_RANGE bash bench/catchup/run.sh"
