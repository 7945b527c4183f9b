#!/usr/bin/env bash
# Install the Debian packages the build needs, only those that are missing.
set -euo pipefail
packages=(g++ make python3-venv zstd libgtest-dev libbenchmark-dev libcli11-dev nlohmann-json3-dev libfmt-dev libyaml-cpp-dev libpng-dev libzip-dev libssl-dev pkg-config libsimdjson-dev chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
