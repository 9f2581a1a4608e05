// The floor of any forwarder built on http-proxy-3: bench/node-floor.mjs, but each request goes through
// http-proxy-3's `stream` pass, the step that makes and sends the upstream request, called directly
// with one precompiled options object, as Gatehouse's worker calls it (no ProxyServer.web() copy, no
// X-Forwarded fields, no router, health, metrics or access log). The response head goes out from
// the backend's raw header list in one writeHead, as Gatehouse's does.
//
// Beside the Node floor it answers one question: how much of Gatehouse's distance to the floor is the
// cost of forwarding through http-proxy-3 at all, which no work inside Gatehouse can remove. It is an
// anchors CANDIDATE_CMD like the floor (bench/anchors-alternate.sh, candidate `http-proxy-3-floor`).
import { createProxyServer } from 'http-proxy-3';
import { stream } from 'http-proxy-3/dist/lib/http-proxy/passes/web-incoming.js';
import { backendHost, HOP_BY_HOP, runFloor } from './lib/floor-server.mjs';

const HOP_BY_HOP_SET = new Set(HOP_BY_HOP);

function onProxyRes(proxyRes, _req, res) {
  const raw = proxyRes.rawHeaders;
  const head = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!HOP_BY_HOP_SET.has(raw[i].toLowerCase())) head.push(raw[i], raw[i + 1]);
  }
  res.writeHead(proxyRes.statusCode ?? 502, proxyRes.statusMessage, head);
  proxyRes.pipe(res);
}

function onError(_error, _req, res) {
  if (typeof res.writeHead === 'function' && !res.headersSent) res.writeHead(502);
  res.end();
}

function forwarder(agent, port, secure) {
  const proxy = createProxyServer({});
  proxy.on('proxyRes', onProxyRes);
  proxy.on('error', onError);
  const options = {
    target: { protocol: secure ? 'https:' : 'http:', host: backendHost, hostname: backendHost, port: Number(port) },
    agent,
    toProxy: true,
    prependPath: false,
    xfwd: false,
    secure: true,
    selfHandleResponse: true,
  };
  return (req, res) => {
    const headers = req.headers;
    for (const name of HOP_BY_HOP) delete headers[name];
    stream(req, res, options, undefined, proxy, undefined);
  };
}

runFloor(import.meta.filename, forwarder);
