#!/usr/bin/env bash
# The anchors matrix for Gatehouse's targets: Gatehouse, the Node floor and @fastify/http-proxy, each
# beside caddy-2p and node-cluster2, in alternated runs (round 1: the three of them, round 2: the
# three again, ...) so that a slow minute of the machine does not fall on one candidate only.
# Each candidate takes two harness runs per round: http + https + handshake (TLS front → HTTP origin)
# and mtls (TLS front → HTTPS origin with the client certificate), because Gatehouse's one TLS
# listener cannot send two ports to two origins. See bench/README.md ("The anchors matrix").
#
#   bench/anchors-alternate.sh                       # 3 rounds, 50 and 200 connections, 10 s cells
#   ROUNDS=1 CONNS=50 DURATION=5 bench/anchors-alternate.sh   # a short check (a few minutes)
#   CANDIDATES="gatehouse node-floor" bench/anchors-alternate.sh
#   CANDIDATES="gatehouse node-floor http-proxy-3-floor" bench/anchors-alternate.sh   # + the http-proxy-3 floor
#
# Environment: ANCHORS (../shared/anchors beside the repository), ROUNDS (3), CONNS ("50 200"),
# DURATION (10), CANDIDATES ("gatehouse node-floor fastify-proxy"), PROXIES ("caddy-2p
# node-cluster2"), OUT_ROOT (where each run's results go; the harness's default otherwise).
# Gatehouse runs as in production: access log, metrics (admin listener), health checks, 2 workers.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
anchors=${ANCHORS:-$(dirname "$repo")/shared/anchors}
rounds=${ROUNDS:-3}
conns=${CONNS:-"50 200"}
duration=${DURATION:-10}
candidates=${CANDIDATES:-"gatehouse node-floor fastify-proxy"}
proxies=${PROXIES:-"caddy-2p node-cluster2"}
node=$repo/node_modules/node/bin/node

[[ -x $anchors/run.sh ]] || { echo "anchors-alternate: no harness at $anchors (set ANCHORS)" >&2; exit 2; }

command_of() {
  case $1 in
    gatehouse) echo "$here/anchors-candidate.sh" ;;
    node-floor) echo "$node $here/node-floor.mjs" ;;
    http-proxy-3-floor) echo "$node $here/http-proxy-3-floor.mjs" ;;
    fastify-proxy) echo "$node $here/fastify-proxy.mjs" ;;
    *) echo "anchors-alternate: unknown candidate $1" >&2; exit 2 ;;
  esac
}

setup_done=0
for round in $(seq 1 "$rounds"); do
  for candidate in $candidates; do
    cmd=$(command_of "$candidate")
    for part in front mtls; do
      if [[ $part == front ]]; then
        ports=(CANDIDATE_HTTP_PORT=30080 CANDIDATE_HTTPS_PORT=30443 CANDIDATE_MTLS_PORT=)
        scenarios="http https handshake"
      else
        ports=(CANDIDATE_HTTP_PORT= CANDIDATE_HTTPS_PORT= CANDIDATE_MTLS_PORT=30444)
        scenarios="mtls"
      fi
      out=()
      [[ -n ${OUT_ROOT:-} ]] && out=(OUT="$OUT_ROOT/round$round-$candidate-$part")
      echo "== round $round/$rounds: $candidate ($scenarios)" >&2
      env "${ports[@]}" "${out[@]}" CANDIDATE_NAME="$candidate" CANDIDATE_CMD="$cmd" \
        PROXIES="$proxies" SCENARIOS="$scenarios" CONNS="$conns" HS_CONNS=50 ROUNDS=1 \
        DURATION="$duration" SKIP_SETUP=$setup_done "$anchors/run.sh"
      setup_done=1
    done
  done
done
