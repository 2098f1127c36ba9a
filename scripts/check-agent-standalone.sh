#!/usr/bin/env bash
# Proves the edge agent installs and runs on a device with only its own dependencies: packs the
# protocol and edge-agent workspaces, installs the tarballs into an empty folder (as on a device),
# checks that no cloud or dashboard package came along, then runs one real capture against
# Debian's Mosquitto and a simulated camera, waiting for the PUBACK.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

cd "$root"
npx tsc -b protocol edge-agent simulators
(cd protocol && npm pack --silent --pack-destination "$work" >/dev/null)
(cd edge-agent && npm pack --silent --pack-destination "$work" >/dev/null)

mkdir "$work/device" && cd "$work/device"
cp "$root/.npmrc" .
echo '{"name":"device","private":true,"allowScripts":{"onnxruntime-node":false}}' > package.json
npm install --omit=dev --no-audit --no-fund --loglevel=error "$work"/shelfsight-protocol-*.tgz "$work"/shelfsight-edge-agent-*.tgz
for forbidden in aedes express socket.io @duckdb/node-api @influxdata/influxdb-client vite echarts @shelfsight/cloud @shelfsight/simulators; do
  if [ -e "node_modules/$forbidden" ]; then echo "standalone agent pulled in $forbidden"; exit 1; fi
done
echo "agent install: $(du -sh node_modules | cut -f1) in node_modules, $(ls node_modules | wc -l) top-level packages"

port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
mqtt_port=$(port); cam_port=$(port)
mosquitto_bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$mqtt_port" > mosquitto.conf
"$mosquitto_bin" -c mosquitto.conf >/dev/null 2>&1 & pids+=($!)
node "$root/simulators/dist/cli.js" serve --port "$cam_port" --cameras 1 --seed 3 >/dev/null 2>&1 & pids+=($!)
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$cam_port/healthz" >/dev/null && break; sleep 0.1; done

cat > agent.json <<JSON
{
  "deviceId": "cam-standalone", "outletId": "outlet-x", "fixtureId": "cooler-x",
  "mqtt": { "url": "mqtt://127.0.0.1:$mqtt_port" },
  "camera": { "kind": "http", "url": "http://127.0.0.1:$cam_port/cameras/cooler-01/snapshot.jpg" },
  "capture": { "intervalS": 0 },
  "modelDir": "$root/models",
  "dataDir": "./data",
  "logLevel": "warn"
}
JSON
node node_modules/@shelfsight/edge-agent/dist/cli.js --config agent.json --once
echo "standalone agent: one capture published and acknowledged"
