// The status page: reads the live /status document from /status/stream (Server-Sent Events, read
// with fetch so that the admin token can travel in the Authorization header, which EventSource
// cannot send) and redraws the sections on each event. The token is asked once and kept in this
// tab's session storage.
import { renderCertificates, renderCharts, renderGateway, renderRoutes, renderWorkers } from './render.js';

const TOKEN_KEY = 'gatehouse.adminToken';
const RETRY_MS = 1000;
/** The gateway sends a document every second; this long without one means the stream is stuck. */
const STALE_MS = 5000;

const connection = document.getElementById('connection');
const form = document.getElementById('token-form');
const input = document.getElementById('token-input');
const label = document.getElementById('token-label');
const main = document.getElementById('report');
const sections = {
  gateway: [document.getElementById('gateway'), renderGateway],
  charts: [document.getElementById('charts'), renderCharts],
  workers: [document.getElementById('workers'), renderWorkers],
  routes: [document.getElementById('routes'), renderRoutes],
  certificates: [document.getElementById('certificates'), renderCertificates],
};

let current = null;

function setConnection(state, text) {
  connection.dataset.state = state;
  connection.textContent = text;
}

function storedToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function askForToken(message) {
  setConnection('locked', 'admin token needed');
  label.textContent = message;
  form.hidden = false;
  input.focus();
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const token = input.value.trim();
  if (token === '') return;
  try {
    sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    // Storage refused (private mode): the token lives in this page only.
  }
  current = token;
  input.value = '';
  form.hidden = true;
  connect();
});

function render(report) {
  for (const [node, draw] of Object.values(sections)) node.replaceChildren(...draw(report));
  main.hidden = false;
  main.dataset.at = report.at;
  setConnection('live', `live · generation ${report.generation}`);
}

/** Splits the event stream into `data:` payloads; returns what is left of an unfinished event. */
function takeEvents(buffer, onData) {
  let end = buffer.indexOf('\n\n');
  while (end !== -1) {
    const block = buffer.slice(0, end);
    buffer = buffer.slice(end + 2);
    const data = block
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).trimStart())
      .join('\n');
    if (data !== '') onData(data);
    end = buffer.indexOf('\n\n');
  }
  return buffer;
}

async function connect() {
  const token = current ?? storedToken();
  const headers = { accept: 'text/event-stream' };
  if (token) headers.authorization = `Bearer ${token}`;
  const abort = new AbortController();
  let watchdog = setTimeout(() => abort.abort(), STALE_MS);
  const feed = () => {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => abort.abort(), STALE_MS);
  };
  try {
    const response = await fetch('/status/stream', { headers, cache: 'no-store', signal: abort.signal });
    if (response.status === 401) {
      clearTimeout(watchdog);
      try {
        sessionStorage.removeItem(TOKEN_KEY);
      } catch {}
      current = null;
      askForToken(
        token
          ? 'That token was not accepted. Enter the gateway’s admin token (gateway.admin.token).'
          : 'This gateway needs its admin token (gateway.admin.token).',
      );
      return;
    }
    if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
    if (token) current = token;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      feed();
      buffer = takeEvents(buffer + value, (data) => render(JSON.parse(data)));
    }
  } catch {
    // A dropped or stuck connection: say so and try again.
  }
  clearTimeout(watchdog);
  setConnection('offline', 'reconnecting…');
  setTimeout(connect, RETRY_MS);
}

connect();
