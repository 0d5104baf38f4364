#!/usr/bin/env bash
# Runs a benchmark inside a private network namespace (needs root): a veth pair gives it one
# address, 10.99.0.1, and a default route, so every WebRTC stack gathers a host candidate on
# it (libwebrtc never uses loopback). Nothing the benchmark sends can leave the namespace.
#   bench/run.sh bench/connect.mjs [args]
set -euo pipefail
cd "$(dirname "$0")/.."
exec unshare --net sh -c '
  ip link set lo up
  ip link add kvsb0 type veth peer name kvsb1
  ip addr add 10.99.0.1/24 dev kvsb0
  ip link set kvsb0 up
  ip link set kvsb1 up
  ip route add default dev kvsb0
  exec node "$@"
' bench "$@"
