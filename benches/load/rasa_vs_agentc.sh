#!/usr/bin/env bash
# rasa-sdk's action server against `agentc serve` on the same Rasa webhook, the same work
# (one GET to a local nginx, two slots set, one reply) and the same load: wrk, 32
# connections, 2 threads, for DURATION each. Prints requests/s and p99 side by side.
# See benches/load/README.md.
#
#   benches/load/rasa_vs_agentc.sh            # 20 s per server
#   DURATION=60s RASA_WORKERS=1 benches/load/rasa_vs_agentc.sh
#
# AGENTC: the agentc binary (default: target/release/agentc, built first).
# RASA_WORKERS: Sanic worker processes for rasa-sdk (default: one per core, its fairest).
# NGINX_PORT, RASA_PORT, AGENTC_PORT: loopback ports (18080, 15055, 18090).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
duration=${DURATION:-20s}
connections=32
threads=2
nginx_port=${NGINX_PORT:-18080}
rasa_port=${RASA_PORT:-15055}
agentc_port=${AGENTC_PORT:-18090}
workers=${RASA_WORKERS:-$(nproc)}
orders="http://127.0.0.1:$nginx_port"

for tool in wrk nginx curl python3; do
    command -v "$tool" >/dev/null || {
        echo "error: \`$tool\` is missing (apt-get install wrk nginx curl python3)" >&2
        exit 1
    }
done
python3 -c 'import rasa_sdk, aiohttp' 2>/dev/null || {
    echo "error: rasa-sdk or aiohttp is missing (python3 -m pip install rasa-sdk aiohttp)" >&2
    exit 1
}

tmp=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

# Waits (at most 30 s) until URL answers 200.
wait_for() {
    for _ in $(seq 300); do
        curl -fs -o /dev/null "$1" && return 0
        sleep 0.1
    done
    echo "error: nothing answers $1; logs in $tmp" >&2
    return 1
}

# One call, checked before the load: both servers must give the same answer.
check_answer() {
    sed 's/@SENDER@/c-check/g; s/@CALL@/1/g' "$here/webhook.json" |
        curl -fs -H 'Content-Type: application/json' --data-binary @- "$1/webhook" |
        python3 -c '
import json, sys
answer = json.load(sys.stdin)
slots = {e["name"]: e["value"] for e in answer["events"] if e["event"] == "slot"}
assert slots == {"status": "shipped", "eta": "2026-11-24"}, answer
assert [r["text"] for r in answer["responses"]] == ["Order A-1001 is shipped."], answer
'
}

# Runs wrk against URL, keeps its output in FILE, prints "RPS P99".
load() {
    local url=$1 out=$2
    # A short warm-up: connections, caches, lazily made sessions.
    wrk -c"$connections" -t"$threads" -d3s -s "$here/webhook.lua" "$url" -- "$here/webhook.json" >/dev/null
    wrk -c"$connections" -t"$threads" -d"$duration" --latency -s "$here/webhook.lua" "$url" \
        -- "$here/webhook.json" >"$out"
    if ! grep -q '^bad answers: 0$' "$out"; then
        echo "error: $url gave bad answers under load:" >&2
        cat "$out" >&2
        return 1
    fi
    awk '/Requests\/sec:/ { rps = $2 } $1 == "99%" { p99 = $2 } END { print rps, p99 }' "$out"
}

pids+=("$("$here/nginx.sh" "$tmp/nginx" "$nginx_port")")
wait_for "$orders/orders/A-1001"

echo "rasa-sdk $(python3 -c 'import rasa_sdk; print(rasa_sdk.__version__)'), $workers Sanic worker(s), no auto-reload"
(
    cd "$here"
    ORDERS_URL=$orders SANIC_HOST=127.0.0.1 ACTION_SERVER_SANIC_WORKERS=$workers \
        exec python3 -m rasa_sdk --actions actions -p "$rasa_port" \
        >"$tmp/rasa.log" 2>&1
) &
pids+=("$!")
wait_for "http://127.0.0.1:$rasa_port/health"
check_answer "http://127.0.0.1:$rasa_port"
read -r rasa_rps rasa_p99 < <(load "http://127.0.0.1:$rasa_port" "$tmp/rasa.wrk")

agentc=${AGENTC:-}
if [ -z "$agentc" ]; then
    (cd "$repo" && cargo build --release -q --bin agentc)
    agentc=$repo/target/release/agentc
fi
# Started from the journal's directory: a relative AGENTC is made absolute first.
agentc=$(cd "$(dirname "$agentc")" && pwd)/$(basename "$agentc")
agentc_rps=- agentc_p99=-
if "$agentc" serve --help >/dev/null 2>&1; then
    echo "agentc serve ($agentc), SQLite journal in $tmp"
    (
        cd "$tmp"
        ORDERS_URL=$orders exec "$agentc" serve "$here/order_status.agent" \
            --listen "127.0.0.1:$agentc_port" --store "sqlite://$tmp/journal.sqlite" \
            >"$tmp/agentc.log" 2>&1
    ) &
    pids+=("$!")
    wait_for "http://127.0.0.1:$agentc_port/health"
    check_answer "http://127.0.0.1:$agentc_port"
    read -r agentc_rps agentc_p99 < <(load "http://127.0.0.1:$agentc_port" "$tmp/agentc.wrk")
else
    echo "MISSING: the agentc side: \`$agentc serve\` does not exist yet (issue #14)."
    echo "         Only rasa-sdk's figures are measured below."
fi

echo
echo "wrk -c$connections -t$threads -d$duration, POST /webhook, $(nproc) cores"
printf '%-10s %14s %12s\n' server requests/s p99
printf '%-10s %14s %12s\n' rasa-sdk "$rasa_rps" "$rasa_p99"
printf '%-10s %14s %12s\n' agentc "$agentc_rps" "$agentc_p99"
if [ "$agentc_rps" != - ]; then
    python3 - "$rasa_rps" "$agentc_rps" "$rasa_p99" "$agentc_p99" <<'EOF'
import sys

def ms(text):
    for unit, factor in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    raise ValueError(text)

rasa_rps, agentc_rps, rasa_p99, agentc_p99 = sys.argv[1:]
print(f"agentc/rasa-sdk: {float(agentc_rps) / float(rasa_rps):.1f}x the requests/s, "
      f"p99 {ms(agentc_p99) / ms(rasa_p99):.2f}x (goal: >= 10x, <= 0.20x)")
EOF
fi
