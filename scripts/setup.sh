#!/usr/bin/env bash
# Rivulet self-setup: idempotent; run by `npm run demo` and `npm test` (README.md "The two commands"; ARCHITECTURE.md "Platform facts").
# 1. Debian packages (only when one is missing; as root).  2. npm ci (only when package-lock changed).
# 3. build (tsc, and the web view's assets with esbuild into dist/web).  4. Open vSwitch started with the userspace datapath when it is not running.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[setup] %s\n' "$*"; }

PKGS=(openvswitch-switch openvswitch-common mininet iperf3 tcpdump tshark ethtool iputils-ping iproute2 nftables chromium)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    log "missing Debian packages: ${missing[*]} (run as root to install them)"; exit 1
  fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; answer for it.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "Debian packages present"
fi

lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f node_modules/.rivulet-lock ] || [ "$(cat node_modules/.rivulet-lock)" != "$lock_hash" ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.rivulet-lock
else
  log "node_modules up to date"
fi

log "build (tsc, then the web view's bundle: esbuild)"
npx tsc -p tsconfig.json
node dist/scripts/build-web.js

if [ "$(id -u)" -eq 0 ]; then
  if ! ovs-vsctl --timeout=2 show >/dev/null 2>&1; then
    log "starting Open vSwitch (userspace datapath; no kernel module here)"
    # ovs-ctl warns that it cannot raise ulimits in this sandbox; the daemons start regardless.
    /usr/share/openvswitch/scripts/ovs-ctl start --system-id=random --no-mlockall >/dev/null 2>&1 || true
    ovs-vsctl --timeout=10 show >/dev/null
  fi
  log "Open vSwitch $(ovs-vsctl --version | head -1 | awk '{print $NF}') running"
else
  log "not root: skipping Open vSwitch (OVS and Mininet tests will be skipped)"
fi
