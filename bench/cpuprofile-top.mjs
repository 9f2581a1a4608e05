// The top frames of a V8 .cpuprofile (from `node --cpu-prof`) by self time, with the share of the
// profile's samples, for bench/RESULTS.md: `node bench/cpuprofile-top.mjs FILE.cpuprofile [N]`.
// Frames are merged by function, file and line; `(idle)`, `(program)` and `(garbage collector)`
// are kept, since where the time does not go is part of the answer. `--callers NAME` adds, for each
// frame of that function name, the call paths (`--depth N` frames up, default 3) its samples came through.
// `--inclusive REGEX` adds the frames whose key (function, file:line) matches, by inclusive time: the
// share of busy samples spent in them and everything they called (recursion counted once).
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const callersAt = args.indexOf('--callers');
const callersOf = callersAt >= 0 ? args.splice(callersAt, 2)[1] : null;
const depthAt = args.indexOf('--depth');
const depth = depthAt >= 0 ? Number(args.splice(depthAt, 2)[1]) : 3;
const inclusiveAt = args.indexOf('--inclusive');
const inclusiveOf = inclusiveAt >= 0 ? new RegExp(args.splice(inclusiveAt, 2)[1]) : null;
const [file, countArg] = args;
if (!file) {
  process.stderr.write('usage: node bench/cpuprofile-top.mjs FILE.cpuprofile [N]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const hits = new Map();
for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
const total = profile.samples.length;
let idle = 0;
for (const [id, n] of hits) if (byId.get(id).callFrame.functionName === '(idle)') idle += n;
const busy = total - idle;
const frameKey = (f) => {
  const where = f.url ? `${f.url.replace(/^.*\/(node_modules|packages)\//, '$1/')}:${f.lineNumber + 1}` : '';
  return `${f.functionName || '(anonymous)'} ${where}`;
};
const frames = new Map();
for (const [id, n] of hits) {
  const key = frameKey(byId.get(id).callFrame);
  frames.set(key, (frames.get(key) ?? 0) + n);
}
const top = [...frames].sort((a, b) => b[1] - a[1]).slice(0, Number(countArg ?? 25));
const ms = (profile.endTime - profile.startTime) / 1000;
process.stdout.write(`${file}: ${total} samples over ${(ms / 1000).toFixed(1)} s, ${busy} not idle\n`);
process.stdout.write('self %  of busy  frame\n');
for (const [key, n] of top) {
  process.stdout.write(
    `${((100 * n) / total).toFixed(1).padStart(6)}  ${((100 * n) / busy).toFixed(1).padStart(7)}  ${key}\n`,
  );
}

if (callersOf !== null) {
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n);
  const name = (n) =>
    `${n.callFrame.functionName || '(anonymous)'}${n.callFrame.url ? `@${n.callFrame.url.replace(/^.*\//, '')}:${n.callFrame.lineNumber + 1}` : ''}`;
  const paths = new Map();
  let all = 0;
  for (const [id, n] of hits) {
    let node = byId.get(id);
    if (node.callFrame.functionName !== callersOf) continue;
    all += n;
    const chain = [];
    for (let i = 0; i < depth && parent.has(node.id); i++) {
      node = parent.get(node.id);
      chain.push(name(node));
    }
    const key = chain.join(' < ');
    paths.set(key, (paths.get(key) ?? 0) + n);
  }
  process.stdout.write(`\ncallers of ${callersOf} (${all} samples):\n`);
  for (const [key, n] of [...paths].sort((a, b) => b[1] - a[1]).slice(0, 8)) {
    process.stdout.write(`${((100 * n) / all).toFixed(1).padStart(6)} %  ${key}\n`);
  }
}

if (inclusiveOf !== null) {
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map();
  for (const [id, n] of hits) {
    if (byId.get(id).callFrame.functionName === '(idle)') continue;
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const key = frameKey(byId.get(at).callFrame);
      if (seen.has(key) || !inclusiveOf.test(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + n);
    }
  }
  process.stdout.write(`\ninclusive % of busy, frames matching ${inclusiveOf}:\n`);
  for (const [key, n] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, Number(countArg ?? 25))) {
    process.stdout.write(`${((100 * n) / busy).toFixed(1).padStart(6)}  ${key}\n`);
  }
}
