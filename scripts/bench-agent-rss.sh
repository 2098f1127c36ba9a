#!/usr/bin/env bash
# Peak memory of the edge agent process over sustained captures (one every second for DURATION
# seconds, default 120) against Mosquitto and a simulated camera. Prints one JSON line.
#   bash scripts/bench-agent-rss.sh [DURATION_S]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
duration=${1:-120}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
cd "$root" && npx tsc -b protocol edge-agent simulators
port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
mqtt_port=$(port); cam_port=$(port)
printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$mqtt_port" > "$work/mosquitto.conf"
"$(command -v mosquitto || echo /usr/sbin/mosquitto)" -c "$work/mosquitto.conf" >/dev/null 2>&1 & pids+=($!)
node simulators/dist/cli.js serve --port "$cam_port" --cameras 1 --seed 3 >/dev/null 2>&1 & pids+=($!)
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$cam_port/healthz" >/dev/null && break; sleep 0.1; done
cat > "$work/agent.json" <<JSON
{ "deviceId": "cam-rss", "outletId": "o", "fixtureId": "f",
  "mqtt": { "url": "mqtt://127.0.0.1:$mqtt_port" },
  "camera": { "kind": "http", "url": "http://127.0.0.1:$cam_port/cameras/cooler-01/snapshot.jpg" },
  "capture": { "intervalS": 1 }, "modelDir": "$root/models", "dataDir": "$work/data", "logLevel": "info" }
JSON
# As the systemd unit runs it (edge-agent/deploy/shelfsight-agent.service, D41); MALLOC_ARENA_MAX=16 (glibc's default on 2 cores) to compare.
MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}" node edge-agent/dist/cli.js --config "$work/agent.json" > "$work/agent.log" 2>&1 & agent=$!; pids+=($agent)
sleep "$duration"
hwm_kb=$(awk '/VmHWM/ {print $2}' "/proc/$agent/status")
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$agent/status")
captures=$(grep -c '"msg":"captured"' "$work/agent.log" || true)
kill -TERM "$agent"; wait "$agent" || true
printf '{"durationS":%s,"captures":%s,"peakRssMb":%s,"endRssMb":%s}\n' "$duration" "$captures" $((hwm_kb / 1024)) $((rss_kb / 1024))
