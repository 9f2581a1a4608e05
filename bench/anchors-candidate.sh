#!/usr/bin/env bash
# CANDIDATE_CMD for ../shared/anchors/run.sh: writes a Gatehouse config for the ports the harness asks
# for, then execs `gatehouse run` in the foreground (no daemon, no setsid: the harness measures and
# stops this process group). See bench/README.md ("Gatehouse in the anchors matrix") for the commands.
#
# Reads: CANDIDATE_HTTP_PORT, CANDIDATE_HTTPS_PORT, CANDIDATE_MTLS_PORT, CANDIDATE_NAME,
#        ANCHOR_BACKEND_HTTP, ANCHOR_BACKEND_HTTPS, ANCHOR_BACKEND_SNI, ANCHOR_PKI_DIR, ANCHOR_RUN_DIR,
#        ANCHOR_NODE24 (set by run.sh), and optionally
#        GATEHOUSE_WORKERS (2), GATEHOUSE_ACCESS_LOG (on|off, default on), GATEHOUSE_ADMIN_PORT,
#        GATEHOUSE_NODE_FLAGS (extra Node flags for the primary, which its workers inherit, e.g.
#        "--cpu-prof --cpu-prof-dir=/tmp/prof" for a profile of each process when it exits).
#
# Gatehouse has one plain and one TLS listener, and both serve the same routes. The mtls port needs
# the TLS listener with a different origin (HTTPS + client certificate), so it cannot share a run with
# the https port: set either HTTP and/or HTTPS, or MTLS alone (two harness runs, see the README).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
name=${CANDIDATE_NAME:-gatehouse}
http_port=${CANDIDATE_HTTP_PORT:-}
https_port=${CANDIDATE_HTTPS_PORT:-}
mtls_port=${CANDIDATE_MTLS_PORT:-}
pki=${ANCHOR_PKI_DIR:?ANCHOR_PKI_DIR is not set: run this through ../shared/anchors/run.sh}
backend_http=${ANCHOR_BACKEND_HTTP:-127.0.0.1:18080}
backend_https=${ANCHOR_BACKEND_HTTPS:-127.0.0.1:18443}
backend_sni=${ANCHOR_BACKEND_SNI:-backend.local}
workers=${GATEHOUSE_WORKERS:-2}
access_log=${GATEHOUSE_ACCESS_LOG:-on}

if [[ -n $mtls_port && -n $https_port ]]; then
  echo "anchors-candidate: CANDIDATE_MTLS_PORT and CANDIDATE_HTTPS_PORT need two runs (one TLS listener per gateway); see bench/README.md" >&2
  exit 2
fi
if [[ -z $http_port$https_port$mtls_port ]]; then
  echo "anchors-candidate: no CANDIDATE_*_PORT set" >&2
  exit 2
fi

node=$repo/node_modules/node/bin/node
[[ -x $node ]] || node=${ANCHOR_NODE24:?no Node 24: run npm ci in $repo}
# The gateway as installed runs the compiled dist/: build it first (turbo replays a cached build), on
# stderr so that the harness's stdout stays the gateway's. turbo finds the workspace from its working
# directory, and the harness starts this script in its own folder.
(cd "$repo" && PATH="$(dirname "$node"):$PATH" node_modules/.bin/turbo run build --output-logs=errors-only) >&2

dir=${ANCHOR_RUN_DIR:-$(mktemp -d)}/$name
mkdir -p "$dir"
first_port=${http_port:-${https_port:-$mtls_port}}
admin_port=${GATEHOUSE_ADMIN_PORT:-$((first_port + 100))}
[[ $access_log == off ]] && access_log_value=false || access_log_value=true

if [[ -n $mtls_port ]]; then
  config=$dir/gatehouse-mtls.yaml
  web=""
  web_secure="127.0.0.1:$mtls_port"
  upstream="https://$backend_https"
  upstream_tls="    security:
      tls:
        rootCAs: $pki/ca.crt
        clientCert: $pki/client.crt
        clientKey: $pki/client.key
        serverName: $backend_sni
"
else
  config=$dir/gatehouse.yaml
  web=${http_port:+127.0.0.1:$http_port}
  web_secure=${https_port:+127.0.0.1:$https_port}
  upstream="http://$backend_http"
  upstream_tls=""
fi

cat >"$config" <<YAML
# Written by bench/anchors-candidate.sh for the anchors harness (cell ports: http=${http_port:-off}
# https=${https_port:-off} mtls=${mtls_port:-off}). Every production feature is on: access log,
# admin listener (metrics), active health checks.
version: 2
gateway:
  entryPoints:
    web:
      address: "$web"
    webSecure:
      address: "$web_secure"
  tls:
    certificates:
      - cert: $pki/server.crt
        key: $pki/server.key
  log:
    level: info
    format: json
    accessLog: $access_log_value
  admin:
    address: "127.0.0.1:$admin_port"
routes:
  - name: origin
    path: /
    backends:
      - endpoint: $upstream
        weight: 1
$upstream_tls    healthCheck:
      path: /
      interval: 5s
      timeout: 1s
YAML

export GATEHOUSE_LOG_FORMAT=json
# shellcheck disable=SC2086 # GATEHOUSE_NODE_FLAGS is a list of flags
exec "$node" --conditions=gatehouse-built ${GATEHOUSE_NODE_FLAGS:-} "$repo/packages/gatehouse/launcher/gatehouse.js" run --config "$config" --workers "$workers"
