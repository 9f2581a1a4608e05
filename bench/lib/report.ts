// Turning measured runs into what a person reads (one block per scenario, then a summary table)
// and what a machine reads (--json).
import type { LoadResult } from './load.ts';
import type { RotationStats } from './rotation.ts';
import type { Scenario, ScenarioName } from './scenarios.ts';

export interface ProxyFigures {
  cpuSeconds: number;
  /** The primary's part of cpuSeconds: it should serve no request, so this stays small. */
  primaryCpuSeconds: number;
  /** CPU seconds of the whole gateway process tree divided by requests answered. */
  cpuPerRequestUs: number;
  /** VmHWM summed over primary and workers. */
  peakRssBytes: number;
  primaryPeakRssBytes: number;
  workerPeakRssBytes: number[];
  /** Process count at the start and at the end: a difference means a worker died or was respawned. */
  processesBefore: number;
  processesAfter: number;
}

/** Where the machine's CPU went during a measured window, in % of one vCPU (200 % = both of 2). */
export interface CpuShares {
  loadgen: number | null;
  origin: number;
  proxy: number | null;
  /** Everything else on the machine: a noise indicator. */
  other: number;
}

/** Above this, other processes disturbed the run enough to say so. */
export const NOISY_OTHER_PERCENT = 20;

export interface MeasuredRun extends LoadResult {
  target: 'direct' | 'gatehouse';
  url: string;
  proxy: ProxyFigures | null;
  cpuShares: CpuShares;
  /** New connections the origin accepted from Gatehouse during the window (null: direct run). */
  upstreamConnections: number | null;
}

/** More new upstream connections than this share of requests means the pool is not reused. */
export const UNPOOLED_SHARE = 0.05;

export interface ScenarioResult {
  name: ScenarioName;
  what: string;
  skipped: string | null;
  direct: MeasuredRun | null;
  gatehouse: MeasuredRun | null;
  /** gatehouse ÷ direct. */
  ratio: { rps: number; p99: number } | null;
  rotation: RotationStats | null;
  notes: string[];
}

const MiB = 1024 * 1024;
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (n >= 100 ? `${n.toFixed(0)} ms` : n >= 10 ? `${n.toFixed(1)} ms` : `${n.toFixed(2)} ms`);
const mib = (n: number) => `${(n / MiB).toFixed(0)} MiB`;
const pad = (s: string, n: number) => s.padStart(n);

export function scenarioHeader(scenario: Scenario): string {
  return `\n── ${scenario.name}: ${scenario.what}`;
}

export function columnsHeader(): string {
  return `  ${'target'.padEnd(18)}${pad('req/s', 10)}${pad('p50', 11)}${pad('p99', 11)}${pad('errors', 9)}${pad('CPU/req', 10)}${pad('peak RSS', 11)}`;
}

export function runRow(run: MeasuredRun): string {
  const label = run.target === 'direct' ? 'origin (direct)' : 'gatehouse';
  if (run.failure) return `  ${label.padEnd(18)}failed: ${run.failure}`;
  const cpu = run.proxy ? `${run.proxy.cpuPerRequestUs.toFixed(0)} µs` : '–';
  const rss = run.proxy ? mib(run.proxy.peakRssBytes) : '–';
  let line = `  ${label.padEnd(18)}${pad(int(run.rps), 10)}${pad(ms(run.p50Ms), 11)}${pad(ms(run.p99Ms), 11)}${pad(int(run.errors), 9)}${pad(cpu, 10)}${pad(rss, 11)}`;
  if (run.proxy) {
    const workers = run.proxy.workerPeakRssBytes.map((b) => (b / MiB).toFixed(0)).join(', ');
    const primaryShare = run.proxy.cpuSeconds > 0 ? (run.proxy.primaryCpuSeconds / run.proxy.cpuSeconds) * 100 : 0;
    line += `  (primary ${(run.proxy.primaryPeakRssBytes / MiB).toFixed(0)} · workers ${workers} MiB; primary ${primaryShare.toFixed(0)} % of the CPU)`;
  }
  if (run.errors > 0) {
    const detail = Object.entries(run.errorDetail)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    line += `\n  ${''.padEnd(18)}errors: ${detail}`;
  }
  return line;
}

export function cpuRow(run: MeasuredRun): string {
  const c = run.cpuShares;
  const pct = (n: number | null) => (n === null ? '?' : `${n.toFixed(0)} %`);
  const parts = [`load generator ${pct(c.loadgen)}`, `origin ${pct(c.origin)}`];
  if (c.proxy !== null) parts.push(`gatehouse ${pct(c.proxy)}`);
  parts.push(`other processes ${pct(c.other)}`);
  const noisy = c.other > NOISY_OTHER_PERCENT ? '  ← noisy: other processes shared the CPUs' : '';
  let line = `  ${''.padEnd(18)}CPU: ${parts.join(', ')} (of one vCPU)${noisy}`;
  if (run.upstreamConnections !== null) {
    const pooled = run.upstreamConnections <= run.requests * UNPOOLED_SHARE;
    line += `\n  ${''.padEnd(18)}upstream: ${run.upstreamConnections} new connections to the origin for ${Math.round(run.requests).toLocaleString('en-US')} requests (${pooled ? 'pooled' : 'NOT pooled'})`;
  }
  return line;
}

export function ratioRow(result: ScenarioResult): string | null {
  if (!result.ratio) return null;
  return `  ${'gatehouse/direct'.padEnd(18)}${pad(`${result.ratio.rps.toFixed(2)}×`, 10)}${pad('', 11)}${pad(`${result.ratio.p99.toFixed(2)}×`, 11)}`;
}

export function rotationRow(stats: RotationStats): string {
  // Renames that land within one debounce window are applied together, so reloads ≤ rotations.
  const generations =
    stats.generationBefore !== null && stats.generationAfter !== null
      ? `, ${stats.generationAfter - stats.generationBefore} reloads applied (config generation ${stats.generationBefore} → ${stats.generationAfter})`
      : '';
  const visible =
    stats.lastVisibleAfterMs === null
      ? 'the last certificate was NOT served within 5 s after the load'
      : `the last certificate was served ${stats.lastVisibleAfterMs} ms after the load`;
  return `  rotations: ${stats.rotations} done (atomic renames), ${stats.failedRenames} failed renames${generations}; ${visible}`;
}

export function summaryTable(results: ScenarioResult[]): string {
  const lines = [
    '',
    '| scenario | direct req/s | gatehouse req/s | ratio | p50 | p99 | errors | CPU/req | peak RSS (max worker) | other CPU |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    if (r.skipped) {
      lines.push(`| ${r.name} | skipped: ${r.skipped} |||||||||`);
      continue;
    }
    const g = r.gatehouse;
    const d = r.direct;
    const direct = d && !d.failure ? int(d.rps) : '–';
    if (!g || g.failure) {
      lines.push(`| ${r.name} | ${direct} | failed | | | | | | | |`);
      continue;
    }
    const maxWorker = g.proxy ? Math.max(0, ...g.proxy.workerPeakRssBytes) : 0;
    lines.push(
      `| ${r.name} | ${direct} | ${int(g.rps)} | ${r.ratio ? `${r.ratio.rps.toFixed(2)}×` : '–'} | ${ms(g.p50Ms)} | ${ms(g.p99Ms)} | ${g.errors} | ${g.proxy ? `${g.proxy.cpuPerRequestUs.toFixed(0)} µs` : '–'} | ${g.proxy ? `${mib(g.proxy.peakRssBytes)} (${mib(maxWorker)})` : '–'} | ${g.cpuShares.other.toFixed(0)} % |`,
    );
  }
  return lines.join('\n');
}
