// `npm run bench -- <flags>`: parsed once into BenchOptions. Every load is bounded by a duration and a
// connection count, so the defaults are the bounds too.
import { SCENARIO_NAMES, type ScenarioName } from './scenarios.ts';

export interface BenchOptions {
  scenarios: ScenarioName[];
  durationMs: number;
  warmupMs: number;
  connections: number;
  /** Load-generator threads (wrk -t, h2load -t). */
  threads: number;
  workers: number;
  /** Also run each scenario straight against the origin, for the ratio. */
  direct: boolean;
  accessLog: boolean;
  /** `rotation`: time between two certificate renames. */
  rotateEveryMs: number;
  /** `h2`: concurrent streams per connection. */
  h2Streams: number;
  loadgen: 'auto' | 'wrk' | 'autocannon';
  json: string | null;
  /** Where configs, certificates and logs go; a temp dir when null. */
  dir: string | null;
  keep: boolean;
  quick: boolean;
}

export const usage = `Usage: npm run bench -- [options]

Starts a fixed-response origin, Gatehouse in front of it, and a load generator (wrk when on the PATH,
else autocannon), all on 127.0.0.1. Prints req/s, p50, p99, errors, proxy CPU time per request and
peak RSS for each scenario, and the same scenario straight against the origin as a ratio.

Options:
  --scenarios a,b      ${SCENARIO_NAMES.join(', ')} (default: all but h2 and rotation when
                       their tool or feature is missing; see bench/README.md)
  --duration 10s       measured time per run (each scenario runs direct, then through Gatehouse)
  --warmup 2s          unmeasured load before each measured run
  --connections 50     concurrent client connections
  --threads 1          load-generator threads
  --workers 2          Gatehouse workers
  --no-direct          skip the runs straight against the origin
  --access-log off     turn the access log off (default on, as in production)
  --rotate-every 500ms rotation scenario: time between certificate renames
  --h2-streams 10      h2 scenario: concurrent streams per connection
  --loadgen wrk|autocannon   force a load generator
  --json FILE          also write the results as JSON
  --dir DIR            keep configs, certificates and logs in DIR (default: a temp dir, removed)
  --keep               keep the temp dir
  --quick              one short http scenario (2 s, 10 connections): what the test suite runs
`;

export class UsageError extends Error {
  readonly code = 'GH_BENCH_USAGE';
}

/** `500ms`, `10s`, `1m`, `1m30s`; a bare number is seconds. */
export function parseDuration(text: string): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let rest = text;
  while (rest.length > 0) {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)/.exec(rest);
    if (!match) throw new UsageError(`not a duration: "${text}" (examples: 500ms, 10s, 1m)`);
    total += Number(match[1]) * (units[match[2] as string] as number);
    rest = rest.slice(match[0].length);
  }
  return total;
}

function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} needs a positive integer, got "${value}"`);
  return n;
}

export function parseFlags(argv: string[]): BenchOptions {
  const options: BenchOptions = {
    scenarios: ['http', 'https', 'mtls', 'handshake', 'h2', 'large', 'rotation'],
    durationMs: 10_000,
    warmupMs: 2_000,
    connections: 50,
    threads: 1,
    workers: 2,
    direct: true,
    accessLog: true,
    rotateEveryMs: 500,
    h2Streams: 10,
    loadgen: 'auto',
    json: null,
    dir: null,
    keep: false,
    quick: false,
  };
  const explicit = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (eq > 0) return arg.slice(eq + 1);
      const next = argv[++i];
      if (next === undefined) throw new UsageError(`${flag} needs a value`);
      return next;
    };
    explicit.add(flag);
    switch (flag) {
      case '--scenarios': {
        const names = value()
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        for (const name of names) {
          if (!(SCENARIO_NAMES as readonly string[]).includes(name)) {
            throw new UsageError(`unknown scenario "${name}"; one of ${SCENARIO_NAMES.join(', ')}`);
          }
        }
        options.scenarios = names as ScenarioName[];
        break;
      }
      case '--duration':
        options.durationMs = parseDuration(value());
        break;
      case '--warmup':
        options.warmupMs = parseDuration(value());
        break;
      case '--connections':
      case '-c':
        options.connections = positiveInt(flag, value());
        break;
      case '--threads':
        options.threads = positiveInt(flag, value());
        break;
      case '--workers':
        options.workers = positiveInt(flag, value());
        break;
      case '--no-direct':
        options.direct = false;
        break;
      case '--access-log': {
        const v = value();
        if (v !== 'on' && v !== 'off') throw new UsageError('--access-log is on or off');
        options.accessLog = v === 'on';
        break;
      }
      case '--rotate-every':
        options.rotateEveryMs = parseDuration(value());
        break;
      case '--h2-streams':
        options.h2Streams = positiveInt(flag, value());
        break;
      case '--loadgen': {
        const v = value();
        if (v !== 'wrk' && v !== 'autocannon' && v !== 'auto') throw new UsageError('--loadgen is wrk or autocannon');
        options.loadgen = v;
        break;
      }
      case '--json':
        options.json = value();
        break;
      case '--dir':
        options.dir = value();
        break;
      case '--keep':
        options.keep = true;
        break;
      case '--quick':
        options.quick = true;
        break;
      default:
        throw new UsageError(`unknown option "${arg}"`);
    }
  }
  if (options.quick) {
    if (!explicit.has('--scenarios')) options.scenarios = ['http'];
    if (!explicit.has('--duration')) options.durationMs = 2_000;
    if (!explicit.has('--warmup')) options.warmupMs = 500;
    if (!explicit.has('--connections') && !explicit.has('-c')) options.connections = 10;
  }
  if (options.durationMs < 500) throw new UsageError('--duration must be at least 500ms');
  if (options.rotateEveryMs < 50) throw new UsageError('--rotate-every must be at least 50ms');
  return options;
}
