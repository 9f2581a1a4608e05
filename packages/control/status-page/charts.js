// Small line charts as inline SVG, drawn from the /status history: no chart library, nothing loaded.
import { el, svg } from './dom.js';

const WIDTH = 300;
const HEIGHT = 80;

/** 1, 2 or 5 times a power of ten, at least `value`: a readable top for the axis. */
export function niceCeiling(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/** Runs of consecutive points with a value, as SVG `points` strings (a gap where the value is null). */
function polylines(points, value, from, windowMs, top) {
  const runs = [];
  let run = [];
  for (const point of points) {
    const v = value(point);
    if (v === null || v === undefined || !Number.isFinite(v)) {
      if (run.length > 0) runs.push(run);
      run = [];
      continue;
    }
    const x = ((point.at - from) / windowMs) * WIDTH;
    const y = HEIGHT - (Math.min(v, top) / top) * HEIGHT;
    run.push(`${Math.max(0, x).toFixed(1)},${y.toFixed(1)}`);
  }
  if (run.length > 0) runs.push(run);
  return runs.map((r) => (r.length === 1 ? [r[0], r[0]] : r).join(' '));
}

/**
 * A figure: a caption with the latest value in words, and the line over the last `windowMs`. The
 * SVG carries a text alternative, so the chart is never the only place a number is shown.
 */
export function lineChart({ id, title, points, value, format, floor, now, windowMs }) {
  const values = points.map(value).filter((v) => v !== null && v !== undefined && Number.isFinite(v));
  const last = points.length > 0 ? value(points[points.length - 1]) : null;
  const latest = last !== null && last !== undefined && Number.isFinite(last) ? last : null;
  const peak = values.length > 0 ? Math.max(...values) : null;
  const top = niceCeiling(Math.max(peak ?? 0, floor));
  const from = now - windowMs;
  const summary = `${title} over the last ${Math.round(windowMs / 60000)} minutes: now ${format(latest)}, peak ${format(peak)}`;
  const chart = svg(
    'svg',
    {
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      preserveAspectRatio: 'none',
      role: 'img',
      'aria-label': summary,
      class: 'chart',
    },
    svg('title', null, summary),
    svg('line', { x1: 0, x2: WIDTH, y1: 0.5, y2: 0.5, class: 'grid' }),
    svg('line', { x1: 0, x2: WIDTH, y1: HEIGHT / 2, y2: HEIGHT / 2, class: 'grid' }),
    svg('line', { x1: 0, x2: WIDTH, y1: HEIGHT - 0.5, y2: HEIGHT - 0.5, class: 'axis' }),
    ...polylines(points, value, from, windowMs, top).map((p) => svg('polyline', { points: p, class: 'line' })),
  );
  return el(
    'figure',
    { class: 'figure', 'data-chart': id },
    el(
      'figcaption',
      null,
      el('span', { class: 'figure-title' }, title),
      ' ',
      el('span', { class: 'figure-value', 'data-field': `${id}-now` }, format(latest)),
    ),
    el('div', { class: 'chart-box' }, el('span', { class: 'chart-top' }, format(top)), chart),
    el('div', { class: 'chart-axis', 'aria-hidden': 'true' }, el('span', null, '5 min ago'), el('span', null, 'now')),
  );
}
