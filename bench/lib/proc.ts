// CPU time and peak memory of a process tree, from /proc (Linux). The gateway is a primary plus
// cluster workers, so every figure is summed over the tree rooted at the primary's pid.
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let clockTicks = 0;
export function clockTicksPerSecond(): number {
  if (clockTicks === 0) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

interface StatLine {
  pid: number;
  ppid: number;
  /** utime + stime in clock ticks, all threads. */
  cpuTicks: number;
}

function readStat(pid: number): StatLine | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name is in parentheses and may hold spaces: the fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
  return { pid, ppid: Number(fields[1]), cpuTicks: Number(fields[11]) + Number(fields[12]) };
}

/** The pid and all its descendants that are alive now. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (!stat) continue;
    const list = children.get(stat.ppid);
    if (list) list.push(pid);
    else children.set(stat.ppid, [pid]);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    if (!readStat(pid)) continue;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

export interface CpuSample {
  /** pid → CPU seconds (user + system) used since the process started. */
  perPid: Map<number, number>;
}

export function sampleCpu(pids: number[]): CpuSample {
  const perPid = new Map<number, number>();
  const hz = clockTicksPerSecond();
  for (const pid of pids) {
    const stat = readStat(pid);
    if (stat) perPid.set(pid, stat.cpuTicks / hz);
  }
  return { perPid };
}

/**
 * CPU seconds used between two samples, over the processes of `after`. A process that was born in
 * between (a respawned worker) counts from zero; one that died in between is lost, which the caller
 * sees as a changed process list.
 */
export function cpuSecondsBetween(before: CpuSample, after: CpuSample): number {
  let total = 0;
  for (const [pid, seconds] of after.perPid) total += seconds - (before.perPid.get(pid) ?? 0);
  return total;
}

/** Peak resident set size (VmHWM) of one process in bytes, 0 when it is gone. */
export function peakRssBytes(pid: number): number {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return 0;
  }
  const line = text.split('\n').find((l) => l.startsWith('VmHWM:'));
  if (!line) return 0;
  return Number(line.replace(/[^0-9]/g, '')) * 1024;
}

/** CPU seconds the whole machine spent busy (all CPUs, everything but idle and iowait) since boot. */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return (
    ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / clockTicksPerSecond()
  );
}
