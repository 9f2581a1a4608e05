// What the three shaping middlewares of the `shaping` scenario cost per request on their own,
// measured on the real modules with the scenario's own config (bench/lib/gateway-config.ts, parsed
// by the real parser): requestHeaders (applied in the chain and again after X-Forwarded-*),
// rewriteRegex, and responseHeaders with CORS editing the origin's response head. The loop without
// them (a fresh request header object and the backend head the forwarder builds) is timed too and
// subtracted. Both are CPU time (process.cpuUsage), not wall time: a whole-gateway CPU-per-request
// difference of a few µs drowns in a shared VM's noise; this isolates it. The functions timed have the same signatures since the scenario was
// added, so the script also runs unchanged in an older checkout (copy it there) for an A/B.
//
//   node bench/shaping-cost.ts [--iterations 1000000]
import { parseConfig, type RequestHeadersRule, type ResponseHeadersRule } from '@gatehouse/config';
import {
  applyRequestHeaders,
  applyResponseHeaders,
  compileRequestHeaders,
  compileResponseHeaders,
} from '../packages/dataplane/src/middleware/shaping/header-rules.ts';
import { compileRegexRule, rewriteTarget } from '../packages/dataplane/src/middleware/shaping/rewrites.ts';
import { clientResponseHeaders } from '../packages/dataplane/src/request/headers.ts';
import { gatewayConfigYaml } from './lib/gateway-config.ts';

const at = process.argv.indexOf('--iterations');
const iterations = at === -1 ? 1_000_000 : Number(process.argv[at + 1]);

const parsed = parseConfig(
  gatewayConfigYaml({
    httpPort: 30080,
    httpsPort: 30443,
    adminPort: 30900,
    certPath: '/dev/null',
    keyPath: '/dev/null',
    accessLog: true,
    endpoint: 'http://127.0.0.1:30001',
    upstreamTls: null,
    middlewares: 'shaping',
  }),
  '/tmp/bench-shaping.yaml',
  {},
);
if (!parsed.ok) throw new Error(`the scenario's config does not parse: ${JSON.stringify(parsed.errors)}`);
const rule = (type: string): unknown => parsed.config.middlewares.find((m) => m.type === type)?.rule;
const requestRule = compileRequestHeaders(rule('requestHeaders') as RequestHeadersRule);
const responseRule = compileResponseHeaders(rule('responseHeaders') as ResponseHeadersRule, {
  routeName: 'origin',
  routePath: '/',
  gatewayVersion: '0.1.0',
});
const rewrite = compileRegexRule(rule('rewriteRegex') as { pattern: string; replacement: string });

// The bench origin's answer as the forwarder receives it (Node adds Date, Connection, Keep-Alive).
const raw = [
  'content-type',
  'text/plain',
  'content-length',
  '1024',
  'Date',
  'Wed, 02 Dec 2026 11:00:00 GMT',
  'Connection',
  'keep-alive',
  'Keep-Alive',
  'timeout=75',
];

let sink = 0;
function run(n: number, shaped: boolean, origin: string | undefined): number {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const headers: Record<string, string> = { host: '127.0.0.1:30080' };
    if (origin !== undefined) headers.origin = origin;
    const head = clientResponseHeaders(raw, false);
    if (shaped) {
      applyRequestHeaders(requestRule, headers);
      const target = rewriteTarget(rewrite, i & 1 ? '/' : '/a?b=1');
      applyRequestHeaders(requestRule, headers);
      applyResponseHeaders(responseRule, 200, headers.origin, head);
      if (typeof target === 'string') sink += target.length;
    }
    sink += head.length;
  }
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / n; // ns of CPU per request
}

function median(shaped: boolean, origin: string | undefined): number {
  run(100_000, shaped, origin); // warm up the JIT
  const rounds: number[] = [];
  for (let r = 0; r < 7; r++) rounds.push(run(iterations, shaped, origin));
  rounds.sort((a, b) => a - b);
  return rounds[3] as number;
}

for (const [label, origin] of [
  ['no Origin (the bench: wrk sends none)', undefined],
  ['an allowed Origin (a CORS grant)', 'https://app.example.com'],
] as const) {
  const plain = median(false, origin);
  const shaped = median(true, origin);
  process.stdout.write(
    `${label}: shaping ${(shaped - plain).toFixed(0)} ns per request (loop with it ${shaped.toFixed(0)} ns, without ${plain.toFixed(0)} ns; medians of 7 x ${iterations.toLocaleString('en')})\n`,
  );
}
if (sink === 0) process.stdout.write('\n');
