#!/usr/bin/env bash
# All of payd's benchmarks in one table, each figure beside its floor measured in the same run:
#   - create payment (native `POST /v1/payments`, and AstraPay `POST /v1/api/payments` with an
#     asset, both deriving a devnet deposit address) on SQLite and on PostgreSQL: throughput at
#     saturation (wrk, CONNS connections, SAT_SECS s) and p50/p99 at a fixed RATE/s (payd-load,
#     open loop, RATE_SECS s), beside the floor (bench/floor: the same axum + sqlx stack doing
#     one insert of a payment-shaped row per request) and the ratio payd/floor;
#   - the HTTP ceiling (the same stack echoing JSON, no database);
#   - idle CPU, RSS and devnet pay → completed with 0 / 100,000 / 1,000,000 payments in the
#     database (bench/idle/run.sh), beside its N = 0 row;
#   - catch-up scan of an anvil chain from block 0 (bench/catchup/run.sh), beside plain
#     eth_getLogs over the same ranges;
#   - matching against the watched-address index with 1,000,000 addresses, ns per log and
#     bytes per address (bench/matching, criterion), beside a HashMap<[u8; 20], u32>;
#   - detection latency, confirming block → `completed` in the database and → webhook
#     received (bench/confirmation-latency), beside one eth_getLogs round trip;
#   - webhook deliveries/s on both backends (bench/webhooks, release build), beside plain
#     POSTs to the same receiver.
# Every request that is not a 2xx is counted and printed; a row with failures says so.
#
#   bash bench/run.sh                                     # everything, ~15 min on 2 cores (builds cached)
#   BACKENDS=sqlite IDLE_SIZES="0 100000" bash bench/run.sh
#   PARTS="catchup matching" bash bench/run.sh            # only some parts
#   PAYD_BIN=/path/to/payd bash bench/run.sh              # an already built payd
# Settings (defaults): PARTS="create idle catchup matching detection webhooks"
#   BACKENDS="sqlite postgres" CONNS=64 SAT_SECS=15 RATE=1000 RATE_SECS=15
#   RATE_CONNS=64 ECHO_SECS=10 IDLE_BACKENDS="sqlite postgres" IDLE_SIZES="0 100000 1000000"
#   IDLE_SECS=10 CATCHUP_BACKENDS="sqlite postgres" CATCHUP_BLOCKS=20000 CATCHUP_TRANSFERS=50000
#   CATCHUP_PAID=5000 CATCHUP_WATCHED=100000 MATCHING_ADDRESSES=1000000 MATCHING_SECS=3
#   DETECT_PAYMENTS=100 DETECT_WS="0 1" WEBHOOK_EVENTS=2000 WEBHOOK_CONCURRENCY=16
#   PAYD_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres
# Needs wrk (Debian: apt-get install -y wrk), curl, sqlite3, psql, node (and npm ci for anvil).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
backends="${BACKENDS:-sqlite postgres}"
conns="${CONNS:-64}"
sat_secs="${SAT_SECS:-15}"
rate="${RATE:-1000}"
rate_secs="${RATE_SECS:-15}"
rate_conns="${RATE_CONNS:-64}"
echo_secs="${ECHO_SECS:-10}"
idle_backends="${IDLE_BACKENDS:-sqlite postgres}"
idle_sizes="${IDLE_SIZES:-0 100000 1000000}"
idle_secs="${IDLE_SECS:-10}"
pg_server="${PAYD_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
parts="${PARTS:-create idle catchup matching detection webhooks}"
catchup_backends="${CATCHUP_BACKENDS:-sqlite postgres}"
catchup_blocks="${CATCHUP_BLOCKS:-20000}"
catchup_transfers="${CATCHUP_TRANSFERS:-50000}"
catchup_paid="${CATCHUP_PAID:-5000}"
catchup_watched="${CATCHUP_WATCHED:-100000}"
matching_addresses="${MATCHING_ADDRESSES:-1000000}"
matching_secs="${MATCHING_SECS:-3}"
detect_payments="${DETECT_PAYMENTS:-100}"
detect_ws="${DETECT_WS:-0 1}"
webhook_events="${WEBHOOK_EVENTS:-2000}"
webhook_concurrency="${WEBHOOK_CONCURRENCY:-16}"
part() { [[ " $parts " == *" $1 "* ]]; }
for tool in wrk curl sqlite3 psql; do
  command -v "$tool" >/dev/null || { echo "error: $tool is not installed (Debian: apt-get install -y $tool)" >&2; exit 1; }
done

# Release builds: payd from the workspace, the floor and the load generator from bench/floor
# (a workspace of its own, so CI never builds it), both into CARGO_TARGET_DIR (or the
# worktree's configured one).
if [ -n "${PAYD_BIN:-}" ]; then
  payd="$PAYD_BIN"
else
  cargo build --quiet --locked --release -p payd-server --bin payd
  payd="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/release/payd"
fi
(cd bench/floor && cargo build --quiet --locked --release)
bench_target="$(cd bench/floor && cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
floor_bin="$bench_target/release/payd-floor"
load_bin="$bench_target/release/payd-load"

work="$(mktemp -d)"
server=""
dbs=()
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  for db in "${dbs[@]}"; do psql -q "$pg_server" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/master.key"

# A fresh database for a run named $1 on backend $2; sets $url (not printed: a command
# substitution's subshell would lose the name cleanup must drop).
fresh_db() {
  if [ "$2" = postgres ]; then
    local name="payd_bench_${1}_$$"
    dbs+=("$name")
    psql -q "$pg_server" -c "CREATE DATABASE $name" >/dev/null
    url="${pg_server%/*}/$name"
  else
    mkdir -p "$work/$1"
    url="sqlite:$work/$1/db.sqlite"
  fi
}
count_rows() { # $1 url
  case "$1" in
    sqlite:*) sqlite3 "${1#sqlite:}" 'SELECT COUNT(*) FROM payments' ;;
    *) psql -qtA "$1" -c 'SELECT COUNT(*) FROM payments' ;;
  esac
}
stop() { if [ -n "$server" ]; then kill "$server"; wait "$server" 2>/dev/null || true; server=""; fi; }
# Waits for "$2 is listening on port N" in $1; sets $port.
wait_port() {
  port=""
  for _ in $(seq 1 300); do
    port="$(sed -n "s/^$2 is listening on port \([0-9]*\).*/\1/p" "$1" | head -n1)"
    if [ -n "$port" ]; then
      if [ "$2" != payd ] || grep -q 'pk_test_' "$1"; then return 0; fi
    fi
    kill -0 "$server" 2>/dev/null || break
    sleep 0.1
  done
  echo "error: $2 did not start:" >&2
  cat "$1" "$1.err" >&2 || true
  exit 1
}
start_floor() { # $1 url or none, $2 run dir
  mkdir -p "$2"
  ( exec "$floor_bin" "$1" 127.0.0.1:0 >"$2/out" 2>"$2/out.err" ) &
  server=$!
  wait_port "$2/out" floor
}
start_payd() { # $1 url, $2 run dir; sets $key
  mkdir -p "$2"
  # Quiet logs, no devnet block production (only creates are measured), no rate limit in the
  # way (the limits are per minute); every other setting as a fresh install runs.
  (
    cd "$2"
    exec env PAYD_DATABASE_URL="$1" PAYD_MASTER_KEY_FILE="$work/master.key" PAYD_LOG=warn PAYD_DEVNET_BLOCK_MS=0 \
      PAYD_RATE_LIMITS=native=1000000,astrapay=1000000 "$payd" serve --listen 127.0.0.1:0 >"$2/out" 2>"$2/out.err"
  ) &
  server=$!
  wait_port "$2/out" payd
  key="$(grep -o 'pk_test_[0-9a-f]*' "$2/out" | head -n1)"
}

# Saturation: wrk over $conns connections for $sat_secs s. Args: url path header body.
# Sets sat_rps, sat_p99 (ms), sat_bad (non-2xx + socket errors).
saturate() {
  {
    echo 'wrk.method = "POST"'
    echo 'wrk.headers["Content-Type"] = "application/json"'
    [ -z "$3" ] || echo "wrk.headers[\"${3%%:*}\"] = \"${3#*: }\""
    echo "wrk.body = '$4'"
  } >"$work/wrk.lua"
  wrk -t2 -c"$conns" -d"${5:-$sat_secs}s" --latency -s "$work/wrk.lua" "$1$2" >"$work/wrk.out" 2>&1 || true
  sat_rps="$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$work/wrk.out")"
  local total non2xx sock
  total="$(awk '/requests in/ {print $1}' "$work/wrk.out")"
  non2xx="$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$work/wrk.out")"
  sock="$(awk '/Socket errors:/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$work/wrk.out")"
  sat_bad=$(( ${non2xx:-0} + ${sock:-0} ))
  # wrk's own rate counts every answer; the figure reported is 2xx answers per second.
  if [ "$sat_bad" -gt 0 ] && [ -n "$total" ] && [ "$total" -gt 0 ]; then
    sat_rps="$(awk -v r="$sat_rps" -v t="$total" -v b="${non2xx:-0}" 'BEGIN { printf "%.0f", r * (t - b) / t }')"
  fi
  sat_p99="$(awk '$1 == "99%" {print $2}' "$work/wrk.out")"
  [ "$sat_bad" -eq 0 ] || grep -E 'Non-2xx|Socket errors' "$work/wrk.out" | sed "s|^ *|wrk on $2: |" >&2
  [ -n "$sat_rps" ] || { echo "error: wrk failed:" >&2; cat "$work/wrk.out" >&2; exit 1; }
}
# Fixed rate: payd-load at $rate/s for $rate_secs s. Args: url path header body.
# Sets fx_p50, fx_p99, fx_achieved, fx_bad.
fixed() {
  local args=(--url "$1$2" --rate "$rate" --duration "$rate_secs" --connections "$rate_conns"
    --header 'Content-Type: application/json' --body "$4")
  [ -n "$3" ] && args+=(--header "$3")
  "$load_bin" "${args[@]}" >"$work/load.out"
  local line; line="$(cat "$work/load.out")"
  get() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $line" | sed 's/ms$//; s,/s$,,'; }
  fx_p50="$(get p50)"; fx_p99="$(get p99)"; fx_achieved="$(get achieved)"
  fx_bad=$(( $(get non2xx) + $(get errors) ))
  # Below 95 % of the rate asked for, the server did not keep up: the latencies are those of
  # a growing queue, and the row says so.
  fx_note="$(fmt "$fx_achieved")/s"
  if awk -v a="$fx_achieved" -v r="$rate" 'BEGIN { exit !(a < 0.95 * r) }'; then fx_note="**not sustained: $fx_note**"; fi
}

rows=()
fmt() { awk -v n="$1" 'BEGIN { s = sprintf("%.0f", n); r = ""; while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) } print s r }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "—" }'; }
errs() { if [ "$1" -gt 0 ]; then echo "**$1 failed**"; else echo 0; fi; }

native_body='{"amount":"10.00","currency":"USD","token":"USDC","network":"base"}'
astrapay_body='{"amount":10.00,"token":"USDC","network":"BASE"}'
native_path=/v1/payments
astrapay_path=/v1/api/payments

part create || backends=""
for backend in $backends; do
  # The floor: one insert per request, a fresh table.
  fresh_db "floor_$backend" "$backend"
  start_floor "$url" "$work/floor_$backend"
  base="http://127.0.0.1:$port"
  fixed "$base" "$native_path" "" "$native_body"
  floor_p50="$fx_p50"; floor_p99="$fx_p99"; floor_fx_bad="$fx_bad"; floor_note="$fx_note"
  saturate "$base" "$native_path" "" "$native_body"
  floor_rps="$sat_rps"; floor_sat_p99="$sat_p99"; floor_sat_bad="$sat_bad"
  stop
  echo "floor ($backend): $floor_rps/s at saturation (p99 $floor_sat_p99), p50 ${floor_p50} ms / p99 ${floor_p99} ms at $rate/s; rows written: $(count_rows "$url")" >&2
  rows+=("| create: floor (one insert) | $backend | $(fmt "$floor_rps")/s (p99 $floor_sat_p99) | — | — | ${floor_p50} / ${floor_p99} ms ($floor_note) | — | $(errs "$floor_sat_bad") / $(errs "$floor_fx_bad") |")

  for api in native astrapay; do
    fresh_db "${api}_$backend" "$backend"
    start_payd "$url" "$work/${api}_$backend"
    base="http://127.0.0.1:$port"
    if [ "$api" = native ]; then
      path="$native_path"; header="Authorization: Bearer $key"; body="$native_body"; label="create: payd native"
    else
      path="$astrapay_path"; header="X-Api-Key: $key"; body="$astrapay_body"; label="create: payd AstraPay, asset"
    fi
    # One request first: a wrong request must stop the run, not be measured.
    status="$(curl -s -o "$work/first.json" -w '%{http_code}' "$base$path" -H "$header" -H 'Content-Type: application/json' -d "$body")"
    if [ "$status" != 201 ]; then
      echo "error: $api create answered $status: $(cat "$work/first.json")" >&2
      exit 1
    fi
    fixed "$base" "$path" "$header" "$body"
    saturate "$base" "$path" "$header" "$body"
    stop
    echo "payd $api ($backend): $sat_rps/s at saturation (p99 $sat_p99), p50 ${fx_p50} ms / p99 ${fx_p99} ms at $rate/s; rows written: $(count_rows "$url")" >&2
    rows+=("| $label | $backend | $(fmt "$sat_rps")/s (p99 $sat_p99) | $(fmt "$floor_rps")/s | $(ratio "$sat_rps" "$floor_rps") | ${fx_p50} / ${fx_p99} ms ($fx_note) | ${floor_p50} / ${floor_p99} ms | $(errs "$sat_bad") / $(errs "$fx_bad") |")
  done
done

# The ceiling: the same stack answering JSON without a database.
if part create; then
  start_floor none "$work/echo"
  saturate "http://127.0.0.1:$port" /echo "" "$native_body" "$echo_secs"
  stop
  rows+=("| bare HTTP (JSON echo, same stack) | — | — | $(fmt "$sat_rps")/s (p99 $sat_p99) | — | — | — | $(errs "$sat_bad") / — |")
fi

# Idle cost over history, from bench/idle/run.sh; its N = 0 row is the floor of the others.
part idle || idle_backends=""
for backend in $idle_backends; do
  BACKEND="$backend" SIZES="$idle_sizes" SECS="$idle_secs" PAYD_BIN="$payd" bash bench/idle/run.sh >"$work/idle.out" 2>&1 ||
    { echo "error: bench/idle/run.sh failed:" >&2; cat "$work/idle.out" >&2; exit 1; }
  cat "$work/idle.out" >&2
  floor_idle=""
  while IFS='|' read -r _ n _ cpu rss lat _; do
    n="$(echo $n)"; cpu="$(echo $cpu)"; rss="$(echo $rss)"; lat="$(echo $lat)"
    [[ "$n" =~ ^[0-9]+$ ]] || continue
    [ -n "$floor_idle" ] || floor_idle="$cpu, $rss, $lat"
    rows+=("| idle CPU, RSS, pay → completed: $(fmt "$n") payments | $backend | $cpu, $rss, $lat | $floor_idle | — | — | — | — |")
  done <"$work/idle.out"
done

# Catch-up scan, from bench/catchup/run.sh (one chain, each backend a fresh database).
if part catchup && [ -n "$catchup_backends" ]; then
  BACKENDS="$catchup_backends" BLOCKS="$catchup_blocks" TRANSFERS="$catchup_transfers" PAID="$catchup_paid" \
    WATCHED="$catchup_watched" PAYD_BIN="$payd" bash bench/catchup/run.sh >"$work/catchup.out" 2>&1 ||
    { echo "error: bench/catchup/run.sh failed:" >&2; cat "$work/catchup.out" >&2; exit 1; }
  cat "$work/catchup.out" >&2
  label="catch-up scan from block 0: $(fmt "$catchup_blocks") blocks, $(fmt "$catchup_transfers") transfers, $(fmt "$catchup_paid") paid of $(fmt "$catchup_watched") watched"
  while IFS='|' read -r _ b payd_fig floor_fig r _; do
    b="$(echo $b)"
    case "$b" in sqlite | postgres) ;; *) continue ;; esac
    rows+=("| $label | $b | $(echo $payd_fig) | $(echo $floor_fig) | $(echo $r) | — | — | — |")
  done <"$work/catchup.out"
fi

# Matching, from bench/matching (criterion): the estimate criterion prints for each function.
if part matching; then
  MATCHING_ADDRESSES="$matching_addresses" MEASURE_SECS="$matching_secs" bash bench/matching/run.sh >"$work/matching.out" 2>&1 ||
    { echo "error: bench/matching/run.sh failed:" >&2; cat "$work/matching.out" >&2; exit 1; }
  cat "$work/matching.out" >&2
  # criterion: the name line, then "time:   [low estimate high]"; the estimate is kept.
  ns() { awk -v name="$1" 'index($0, name) { found = 1 } found && /time:/ { sub(/.*time: */, ""); gsub(/\[|\]/, ""); print $3, $4; exit }' "$work/matching.out" |
    awk '{ v = $1; if ($2 == "ps") v /= 1000; if ($2 == "µs" || $2 == "us") v *= 1000; printf "%.1f", v }'; }
  for who in "watched" "not watched"; do
    p="$(ns "payd WatchIndex::attribute, $who")"; f="$(ns "floor HashMap<[u8; 20], u32>, $who")"
    rows+=("| matching, $(fmt "$matching_addresses") watched addresses: recipient $who | — | $p ns/log | $f ns/log | $(ratio "$p" "$f") | — | — | — |")
  done
  pb="$(sed -n 's/^  payd WatchIndex: \([0-9]*\) B\/address.*/\1/p' "$work/matching.out")"
  fb="$(sed -n 's/^  floor HashMap<\[u8; 20\], u32>: \([0-9]*\) B\/address.*/\1/p' "$work/matching.out")"
  rows+=("| matching: heap bytes per watched address | — | $pb B | $fb B | $(ratio "$pb" "$fb") | — | — | — |")
fi

# Detection latency, from bench/confirmation-latency (SQLite, anvil with 1 s blocks), polling
# and with newHeads over WebSocket.
if part detection; then
  for ws in $detect_ws; do
    BENCH_PAYMENTS="$detect_payments" BENCH_WS="$ws" bash bench/confirmation-latency/run.sh >"$work/detect.out" 2>&1 ||
      { echo "error: bench/confirmation-latency/run.sh failed:" >&2; cat "$work/detect.out" >&2; exit 1; }
    grep -A6 '^detection latency' "$work/detect.out" >&2
    mp() { sed -n "s/.*$1 *median \([-0-9.]*\) ms *p95 \([-0-9.]*\) ms.*/\1 \/ \2 ms/p" "$work/detect.out"; }
    how="poll 250 ms"; [ "$ws" = 1 ] && how="newHeads over WebSocket"
    fl="$(mp 'floor, one eth_getLogs:')"
    rows+=("| detection ($how), confirming block → completed in the DB, median / p95 | sqlite | $(mp 'completed in the database:') | $fl | — | — | — | — |")
    rows+=("| detection ($how), confirming block → webhook received, median / p95 | sqlite | $(mp 'webhook received:') | $fl | — | — | — | — |")
  done
fi

# Webhook deliveries/s, from bench/webhooks (release build), both backends.
if part webhooks; then
  PROFILE=release bash bench/webhooks/run.sh "$webhook_events" "$webhook_concurrency" >"$work/webhooks.out" 2>&1 ||
    { echo "error: bench/webhooks/run.sh failed:" >&2; cat "$work/webhooks.out" >&2; exit 1; }
  cat "$work/webhooks.out" >&2
  wf="$(sed -n 's/^floor: .* = \([0-9]*\) requests\/s$/\1/p' "$work/webhooks.out")"
  for b in Sqlite Postgres; do
    w="$(sed -n "s/^$b: .* = \([0-9]*\) deliveries\/s\$/\1/p" "$work/webhooks.out")"
    [ -n "$w" ] || continue
    rows+=("| webhook deliveries ($(fmt "$webhook_events") events, $webhook_concurrency in flight) | ${b,,} | $(fmt "$w")/s | $(fmt "$wf")/s | $(ratio "$w" "$wf") | — | — | — |")
  done
fi

echo
echo "payd benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo "| measurement | backend | payd (saturation: wrk $conns conns, ${sat_secs} s) | floor, same run | payd / floor | p50 / p99 at $rate/s (achieved) | floor p50 / p99 at $rate/s | failed (saturation / fixed rate) |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo "Idle rows: CPU is a share of one core over $idle_secs s; the floor is the N = 0 row (cost must not grow with history)."
echo "payd / floor is the ratio of the two figures as printed (rates: below 1 is slower; ns and bytes: above 1 is more)."
echo "Reproduce: PARTS=\"$parts\" BACKENDS=\"${BACKENDS:-sqlite postgres}\" CONNS=$conns SAT_SECS=$sat_secs RATE=$rate RATE_SECS=$rate_secs RATE_CONNS=$rate_conns ECHO_SECS=$echo_secs IDLE_BACKENDS=\"${IDLE_BACKENDS:-sqlite postgres}\" IDLE_SIZES=\"$idle_sizes\" IDLE_SECS=$idle_secs \\"
echo "  CATCHUP_BACKENDS=\"$catchup_backends\" CATCHUP_BLOCKS=$catchup_blocks CATCHUP_TRANSFERS=$catchup_transfers CATCHUP_PAID=$catchup_paid CATCHUP_WATCHED=$catchup_watched MATCHING_ADDRESSES=$matching_addresses MATCHING_SECS=$matching_secs \\"
echo "  DETECT_PAYMENTS=$detect_payments DETECT_WS=\"$detect_ws\" WEBHOOK_EVENTS=$webhook_events WEBHOOK_CONCURRENCY=$webhook_concurrency bash bench/run.sh"
