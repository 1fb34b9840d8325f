#!/usr/bin/env bash
# Installs what iotdefender needs to build, run and test, from Debian's packages.
# Idempotent: packages already present are left alone. Needs root (or sudo).
set -euo pipefail

PKGS=(build-essential cmake pkg-config clang libclang-rt-14-dev
      libmicrohttpd-dev libjansson-dev libsqlite3-dev libssl-dev libcurl4-openssl-dev
      libcmocka-dev openssl sqlite3 awscli python3
      mosquitto mosquitto-clients mosquitto-dev python3-paho-mqtt)

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
echo "setup: done"
