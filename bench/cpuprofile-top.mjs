// The top frames of a V8 .cpuprofile (from `node --cpu-prof`) by self time, with the share of the
// profile's samples, for bench/RESULTS.md: `node bench/cpuprofile-top.mjs FILE.cpuprofile [N]`.
// Frames are merged by function, file and line; `(idle)`, `(program)` and `(garbage collector)`
// are kept, since where the time does not go is part of the answer.
import { readFileSync } from 'node:fs';

const [file, countArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node bench/cpuprofile-top.mjs FILE.cpuprofile [N]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const hits = new Map();
for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
const total = profile.samples.length;
const busy = total - (hits.get([...byId.values()].find((n) => n.callFrame.functionName === '(idle)')?.id) ?? 0);
const frames = new Map();
for (const [id, n] of hits) {
  const f = byId.get(id).callFrame;
  const where = f.url ? `${f.url.replace(/^.*\/(node_modules|packages)\//, '$1/')}:${f.lineNumber + 1}` : '';
  const key = `${f.functionName || '(anonymous)'} ${where}`;
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
