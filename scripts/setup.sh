#!/usr/bin/env bash
# Installs what iotdefender needs to build, run and test, from Debian's packages.
# Idempotent: packages already present are left alone. Needs root (or sudo).
set -euo pipefail

PKGS=(build-essential cmake pkg-config clang libclang-rt-14-dev
      libmicrohttpd-dev libjansson-dev libsqlite3-dev libpq-dev libssl-dev libcurl4-openssl-dev
      libcmocka-dev openssl sqlite3 awscli python3 dpkg-dev
      mosquitto mosquitto-clients mosquitto-dev python3-paho-mqtt
      chromium chromium-driver python3-selenium
      postgresql-15 postgresql-client-15 libpq-dev)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
else
  echo "setup: all Debian packages present"
fi

# The integration tests and benchmarks use boto3 and the aws CLI v1 (python3 on PATH).
# The image ships them; on a bare Debian machine fall back to Debian's boto3.
if ! python3 -c "import boto3" 2>/dev/null; then
  echo "setup: boto3 missing for $(command -v python3); installing python3-boto3"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q python3-boto3
fi
# The web console's front end (web/): built with npm from web/package-lock.json into
# web/dist, which `serve` serves under /console/. Node 20 may come from another source
# than Debian's packages, so only a missing node or npm is installed from Debian.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "setup: node/npm missing; installing nodejs npm"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q nodejs npm
fi
WEB="$(cd "$(dirname "$0")/.." && pwd)/web"
if [ -f "$WEB/package.json" ]; then
  if [ ! -f "$WEB/node_modules/.package-lock.json" ] || [ "$WEB/package-lock.json" -nt "$WEB/node_modules/.package-lock.json" ]; then
    echo "setup: npm ci in web/"
    (cd "$WEB" && npm ci --no-audit --no-fund)
  fi
  if [ ! -f "$WEB/dist/index.html" ] || [ -n "$(find "$WEB/src" "$WEB/index.html" "$WEB/vite.config.js" \
        "$WEB/package-lock.json" -newer "$WEB/dist/index.html" -print -quit)" ]; then
    echo "setup: building the console (web/dist)"
    (cd "$WEB" && npm run build)
  else
    echo "setup: console front end is up to date"
  fi
fi
echo "setup: done"
