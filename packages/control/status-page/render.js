// The /status document as page sections. Every value from the gateway (route names, hosts, error
// texts, certificate subjects) reaches the DOM through dom.js as text, never as markup.
import { lineChart } from './charts.js';
import { el } from './dom.js';
import {
  backendState,
  certificateExpiry,
  describeProbe,
  formatBytes,
  formatDuration,
  formatMs,
  formatRate,
  formatShare,
  since,
} from './format.js';

const HISTORY_WINDOW_MS = 5 * 60_000;

/** A state as a symbol and a word, so that colour is never the only sign. */
const BADGES = {
  up: '✓ UP',
  down: '✕ DOWN',
  ejected: '⏸ EJECTED',
  accepted: '✓ accepted',
  rejected: '✕ REJECTED',
  ok: '✓',
  soon: '⚠',
  expired: '✕',
  required: 'required',
  optional: 'optional',
  off: 'off',
};

function badge(level, text = BADGES[level], field = null) {
  return el('span', { class: 'badge', 'data-level': level, 'data-field': field }, text);
}

function facts(rows) {
  return el(
    'dl',
    { class: 'facts' },
    rows.map(([term, value, field, wide]) =>
      el('div', { class: wide ? 'fact wide' : 'fact' }, el('dt', null, term), el('dd', { 'data-field': field }, value)),
    ),
  );
}

function table(caption, headers, rows, attrs = {}) {
  return el(
    'div',
    { class: 'table-wrap' },
    el(
      'table',
      attrs,
      caption ? el('caption', { class: 'visually-hidden' }, caption) : null,
      el(
        'thead',
        null,
        el(
          'tr',
          null,
          headers.map((h) => el('th', { scope: 'col' }, h)),
        ),
      ),
      el('tbody', null, rows),
    ),
  );
}

export function renderGateway(report) {
  const reload = report.lastReload;
  const now = Date.parse(report.at);
  return [
    el('h2', { id: 'h-gateway' }, 'Gateway'),
    facts([
      ['Version', report.version, 'version'],
      ['Uptime', formatDuration(report.uptimeSeconds), 'uptime'],
      ['PID', String(report.pid), 'pid'],
      ['Generation', String(report.generation), 'generation'],
      ['Config file', el('code', null, report.configFile), 'config-file', true],
      [
        'Last reload',
        reload === null
          ? 'none since start'
          : [
              badge(reload.accepted ? 'accepted' : 'rejected', undefined, 'reload-result'),
              ' ',
              el('time', { 'data-field': 'reload-at', title: reload.at }, since(reload.at, now)),
              reload.message
                ? el(
                    reload.accepted ? 'span' : 'pre',
                    { class: reload.accepted ? 'reload-summary' : 'error', 'data-field': 'reload-message' },
                    reload.message,
                  )
                : null,
            ],
        'last-reload',
        true,
      ],
    ]),
  ];
}

export function renderCharts(report) {
  const now = Date.parse(report.at);
  const points = report.history.points;
  return [
    el('h2', { id: 'h-charts' }, 'Traffic, last 5 minutes'),
    el(
      'div',
      { class: 'charts' },
      lineChart({
        id: 'rps',
        title: 'Requests per second',
        points,
        value: (p) => p.requestsPerSecond,
        format: formatRate,
        floor: 1,
        now,
        windowMs: HISTORY_WINDOW_MS,
      }),
      lineChart({
        id: 'errors',
        title: 'Error rate (5xx)',
        points,
        value: (p) => p.errorRate,
        format: formatShare,
        floor: 0.05,
        now,
        windowMs: HISTORY_WINDOW_MS,
      }),
    ),
  ];
}

export function renderWorkers(report) {
  const rows = report.workers.map((w) =>
    el(
      'tr',
      { 'data-worker': String(w.pid) },
      el('td', { 'data-label': 'Worker' }, String(w.id)),
      el('td', { 'data-label': 'PID', 'data-field': 'pid' }, String(w.pid)),
      el(
        'td',
        { 'data-label': 'Generation', 'data-field': 'generation' },
        w.generation === report.generation
          ? String(w.generation)
          : [String(w.generation), ' ', badge('soon', '⚠ behind')],
      ),
      el('td', { 'data-label': 'Uptime', 'data-field': 'uptime' }, formatDuration(w.uptimeSeconds)),
      el('td', { 'data-label': 'RSS', 'data-field': 'rss' }, formatBytes(w.rssBytes)),
      el('td', { 'data-label': 'Event loop', 'data-field': 'elu' }, formatShare(w.eventLoopUtilization)),
      el('td', { 'data-label': 'Req/s', 'data-field': 'rps' }, formatRate(w.requestsPerSecond)),
      el('td', { 'data-label': 'Connections', 'data-field': 'connections' }, String(w.activeConnections)),
    ),
  );
  return [
    el('h2', { id: 'h-workers' }, `Workers (${report.workers.length})`),
    table('Workers', ['Worker', 'PID', 'Generation', 'Uptime', 'RSS', 'Event loop', 'Req/s', 'Connections'], rows, {
      class: 'stack',
    }),
  ];
}

function renderRoute(route, now) {
  const traffic = route.traffic;
  const backends = route.backends.map((b) => {
    const state = backendState(b, now);
    return el(
      'tr',
      { 'data-backend': b.endpoint, 'data-state': state },
      el('td', { 'data-label': 'Backend', 'data-field': 'endpoint' }, el('code', null, b.endpoint)),
      el('td', { 'data-label': 'Weight', 'data-field': 'weight' }, String(b.weight)),
      el('td', { 'data-label': 'State', 'data-field': 'state' }, badge(state)),
      el('td', { 'data-label': 'Last probe', 'data-field': 'probe' }, describeProbe(b.lastProbe)),
      el(
        'td',
        { 'data-label': 'Last change', 'data-field': 'since', title: b.lastTransitionAt ?? '' },
        since(b.lastTransitionAt, now),
      ),
    );
  });
  return el(
    'article',
    { class: 'route', 'data-route': route.name },
    el('h3', { 'data-field': 'name' }, route.name),
    facts([
      ['Hosts', route.hosts.length > 0 ? route.hosts.join(', ') : 'any host', 'hosts'],
      ['Path', el('code', null, route.path), 'path'],
      ['Client certificate', badge(route.clientAuth), 'client-auth'],
      ['Middlewares', route.middlewares.length > 0 ? route.middlewares.join(' → ') : 'none', 'middlewares'],
      ['Req/s', formatRate(traffic.requestsPerSecond), 'rps'],
      ['4xx (1 min)', formatShare(traffic.share4xx), 'share4xx'],
      ['5xx (1 min)', formatShare(traffic.share5xx), 'share5xx'],
      ['p50 (1 min)', formatMs(traffic.p50Ms), 'p50'],
      ['p99 (1 min)', formatMs(traffic.p99Ms), 'p99'],
    ]),
    backends.length > 0
      ? table(`Backends of ${route.name}`, ['Backend', 'Weight', 'State', 'Last probe', 'Last change'], backends, {
          class: 'stack',
        })
      : el('p', null, 'No backends.'),
  );
}

export function renderRoutes(report) {
  const now = Date.parse(report.at);
  return [
    el('h2', { id: 'h-routes' }, `Routes (${report.routes.length})`),
    ...report.routes.map((r) => renderRoute(r, now)),
  ];
}

export function renderCertificates(report) {
  const rows = report.certificates.map((c) => {
    const expiry = certificateExpiry(c.daysLeft);
    return el(
      'tr',
      { 'data-serial': c.serial, 'data-expiry': expiry.level },
      el('td', { 'data-label': 'Names', 'data-field': 'names' }, c.names.length > 0 ? c.names.join(', ') : '–'),
      el('td', { 'data-label': 'Subject', 'data-field': 'subject' }, c.subject),
      el('td', { 'data-label': 'Issuer', 'data-field': 'issuer' }, c.issuer),
      el('td', { 'data-label': 'Serial', 'data-field': 'serial' }, el('code', null, c.serial)),
      el('td', { 'data-label': 'Role', 'data-field': 'role' }, c.role),
      el('td', { 'data-label': 'Source', 'data-field': 'source', title: c.source }, c.sourceKind),
      el(
        'td',
        { 'data-label': 'Days left', 'data-field': 'expiry', title: c.notAfter },
        badge(expiry.level, `${BADGES[expiry.level]} ${expiry.text}`),
      ),
    );
  });
  return [
    el('h2', { id: 'h-certificates' }, `Certificates (${report.certificates.length})`),
    table('Certificates', ['Names', 'Subject', 'Issuer', 'Serial', 'Role', 'Source', 'Days left'], rows, {
      class: 'stack',
    }),
  ];
}
