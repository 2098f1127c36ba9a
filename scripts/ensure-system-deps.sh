#!/usr/bin/env bash
# Debian packages the tests run for real (a browser, an MQTT broker nobody here wrote, a real
# InfluxDB server, Redis for the cloud cluster) and CJK fonts for zh-CN screenshots. Installs what is missing when it can
# (root + apt), otherwise says exactly what to install. Quiet when everything is there.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v mosquitto_passwd >/dev/null 2>&1 || need+=(mosquitto-clients)
[ -x /usr/bin/influxd ] || need+=(influxdb)
[ -x /usr/bin/redis-server ] || need+=(redis-server)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
[ -d /usr/share/fonts/opentype/noto ] || need+=(fonts-noto-cjk)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages the tests use: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  echo "the tests need these Debian packages: ${need[*]}" >&2
  echo "install them with: sudo apt-get install ${need[*]}" >&2
  exit 1
fi
