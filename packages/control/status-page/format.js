// How the status page words and classifies values. Pure functions, no DOM: unit-tested under Node
// (packages/control/test/status-page-format.test.ts) and imported by the page as they are.

/** Days left under which a certificate is highlighted. */
export const EXPIRY_SOON_DAYS = 14;

/** `3d4h`, `2h05m`, `4m09s`, `12s`. */
export function formatDuration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d${h}h`;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

export function formatBytes(bytes) {
  if (!(bytes >= 0)) return '–';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

/** A rate with as many decimals as its size deserves; `–` when unknown. */
export function formatRate(perSecond) {
  if (perSecond === null || perSecond === undefined || !Number.isFinite(perSecond)) return '–';
  if (perSecond === 0) return '0';
  if (perSecond < 10) return perSecond.toFixed(1);
  return perSecond.toFixed(0);
}

/** A share (0..1) as a percentage; `–` when there is nothing to share. */
export function formatShare(share) {
  if (share === null || share === undefined || !Number.isFinite(share)) return '–';
  if (share === 0) return '0 %';
  if (share < 0.001) return '<0.1 %';
  return `${(share * 100).toFixed(share < 0.1 ? 1 : 0)} %`;
}

export function formatMs(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 10_000) return `${ms.toFixed(0)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/** What a backend is doing now, as a word: `up`, `down` or `ejected`. */
export function backendState(backend, nowMs) {
  if (backend.ejectedUntil > nowMs) return 'ejected';
  return backend.up ? 'up' : 'down';
}

/** `ok 200 · 3.2 ms`, `fail ECONNREFUSED`, `not probed`. */
export function describeProbe(probe) {
  if (!probe) return 'not probed';
  const what = probe.status ?? probe.error ?? '';
  const latency = probe.latencyMs === null || probe.latencyMs === undefined ? '' : ` · ${formatMs(probe.latencyMs)}`;
  return `${probe.ok ? 'ok' : 'fail'} ${what}${latency}`.trim();
}

/** `expired`, `soon` (under EXPIRY_SOON_DAYS) or `ok`, and the words that say it. */
export function certificateExpiry(daysLeft) {
  if (daysLeft < 0) {
    const ago = Math.ceil(-daysLeft);
    return { level: 'expired', text: `EXPIRED ${ago} day${ago === 1 ? '' : 's'} ago` };
  }
  const days = Math.floor(daysLeft);
  const count = `${days} day${days === 1 ? '' : 's'}`;
  if (daysLeft < EXPIRY_SOON_DAYS) return { level: 'soon', text: `expires in ${count}` };
  return { level: 'ok', text: count };
}

/** Time since an ISO date, or `never` for null. */
export function since(iso, nowMs) {
  if (!iso) return 'never';
  const at = Date.parse(iso);
  if (!Number.isFinite(at)) return '–';
  return `${formatDuration((nowMs - at) / 1000)} ago`;
}
