// Two sets of V8 .cpuprofile files (from `--cpu-prof`, e.g. the workers of two candidates in one
// bench/ab.ts run), compared per request: every frame's samples are divided by the samples of a
// reference frame that runs once per request in both (default `writev`, the response written to the
// client), so the figures are "reference units per request" and do not depend on how many requests
// each profile saw or how long it ran. Prints the busy total, the split by where the code lives
// (Gatehouse's packages, http-proxy-3, other libraries, Node's JavaScript, native, GC), and the
// frames that differ most:
//   node bench/cpuprofile-compare.mjs A1.cpuprofile [A2 ...] -- B1.cpuprofile [B2 ...]
//     [--ref writev | --ref name1,name2,...] [--skip 8] [--inclusive] [--top 30]
// --ref with several names: the unit is their samples summed. `writev` alone is a system call whose
// samples grow when other processes wake on the same cores; a set of JavaScript frames that run a
// fixed number of times per request (Node's HTTP client and server, http-proxy-3's stream pass) and
// that the compared change does not touch moves with the rest of the JavaScript instead (see
// README.md, "Comparing two profiles per request").
// --skip N leaves out each profile's first N seconds (start-up: module loading, compiling).
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
function option(name, fallback) {
  const at = args.indexOf(name);
  if (at < 0) return fallback;
  return args.splice(at, 2)[1];
}
const inclusiveAt = args.indexOf('--inclusive');
const inclusive = inclusiveAt >= 0;
if (inclusive) args.splice(inclusiveAt, 1);
const ref = option('--ref', 'writev');
const refs = new Set(ref.split(','));
const skipUs = Number(option('--skip', '0')) * 1e6;
const top = Number(option('--top', '30'));
const split = args.indexOf('--');
if (split <= 0 || split === args.length - 1) {
  process.stderr.write('usage: node bench/cpuprofile-compare.mjs A.cpuprofile [...] -- B.cpuprofile [...]\n');
  process.exit(2);
}

function where(frame) {
  const url = frame.url;
  if (url.includes('/packages/')) return 'gatehouse';
  if (url.includes('http-proxy-3')) return 'http-proxy-3';
  if (url.includes('node_modules')) return 'other libraries';
  if (url.includes('/bench/')) return 'bench';
  if (url.startsWith('node:')) return 'node (JS)';
  if (frame.functionName === '(garbage collector)') return 'gc';
  if (frame.functionName === '(program)') return 'program';
  return 'native';
}

function frameName(frame) {
  const file = frame.url.replace(/^.*\//, '');
  return `${frame.functionName || '(anonymous)'} ${file.startsWith('node:') ? file : file.replace(/:\d+$/, '')}`;
}

/** Samples per frame name (self, or inclusive) and per place, over the files, in reference units. */
function load(files) {
  const frames = new Map();
  const places = new Map();
  let busy = 0;
  let reference = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8'));
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map();
    for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
    let t = profile.startTime;
    for (let i = 0; i < profile.samples.length; i++) {
      t += profile.timeDeltas[i];
      if (t - profile.startTime < skipUs) continue;
      const node = byId.get(profile.samples[i]);
      if (node.callFrame.functionName === '(idle)') continue;
      busy++;
      if (refs.has(node.callFrame.functionName)) reference++;
      const place = where(node.callFrame);
      places.set(place, (places.get(place) ?? 0) + 1);
      if (!inclusive) {
        const name = frameName(node.callFrame);
        frames.set(name, (frames.get(name) ?? 0) + 1);
        continue;
      }
      const seen = new Set();
      for (let id = node.id; id !== undefined; id = parent.get(id)) {
        const name = frameName(byId.get(id).callFrame);
        if (seen.has(name)) continue;
        seen.add(name);
        frames.set(name, (frames.get(name) ?? 0) + 1);
      }
    }
  }
  if (reference === 0) throw new Error(`no samples in ${ref} in ${files.join(', ')}`);
  const per = (map) => new Map([...map].map(([k, v]) => [k, v / reference]));
  return { busy: busy / reference, frames: per(frames), places: per(places), reference };
}

const a = load(args.slice(0, split));
const b = load(args.slice(split + 1));
const f = (n) => n.toFixed(3).padStart(8);
const unit = refs.size === 1 ? ref : `reference-set (${refs.size} frames)`;
process.stdout.write(`per request, in ${unit} units (A: ${a.reference} reference samples, B: ${b.reference})\n`);
process.stdout.write(`${'A'.padStart(8)}${'B'.padStart(8)}${'B-A'.padStart(8)}\n`);
process.stdout.write(`${f(a.busy)}${f(b.busy)}${f(b.busy - a.busy)}  busy (B/A ${(b.busy / a.busy).toFixed(2)}×)\n`);
for (const place of new Set([...a.places.keys(), ...b.places.keys()])) {
  const x = a.places.get(place) ?? 0;
  const y = b.places.get(place) ?? 0;
  process.stdout.write(`${f(x)}${f(y)}${f(y - x)}  [${place}]\n`);
}
const rows = [...new Set([...a.frames.keys(), ...b.frames.keys()])]
  .map((name) => [name, a.frames.get(name) ?? 0, b.frames.get(name) ?? 0])
  .sort((p, q) => Math.abs(q[2] - q[1]) - Math.abs(p[2] - p[1]))
  .slice(0, top);
for (const [name, x, y] of rows) process.stdout.write(`${f(x)}${f(y)}${f(y - x)}  ${name}\n`);
