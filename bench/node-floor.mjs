// The floor Node allows: the smallest correct keep-alive forwarder on node:http, with none of
// Gatehouse (no router, balancer, health, metrics, access log, timeouts, header policy) and no
// http-proxy-3. It exists only to be measured beside Gatehouse, so that "how much of a request's CPU
// is Node's own HTTP server and client" is a number from the same run.
//
// It is an anchors CANDIDATE_CMD (see bench/README.md, "The Node floor"): it reads CANDIDATE_HTTP_PORT,
// CANDIDATE_HTTPS_PORT, CANDIDATE_MTLS_PORT and the ANCHOR_* variables, and runs NODE_FLOOR_WORKERS
// (2) processes that each bind the ports with reusePort, as Gatehouse's workers do. Never a product.
import http from 'node:http';
import https from 'node:https';
import { backendHost, HOP_BY_HOP, runFloor } from './lib/floor-server.mjs';

function forwarder(agent, port, secure) {
  const request = secure ? https.request : http.request;
  return (req, res) => {
    const headers = req.headers;
    for (const name of HOP_BY_HOP) delete headers[name];
    const upstream = request(
      { host: backendHost, port, method: req.method, path: req.url, headers, agent },
      (upstreamRes) => {
        const out = upstreamRes.headers;
        for (const name of HOP_BY_HOP) delete out[name];
        res.writeHead(upstreamRes.statusCode ?? 502, out);
        upstreamRes.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  };
}

runFloor(import.meta.filename, forwarder);
