import { readdirSync } from 'node:fs';
import { tryReadText } from '../util/read-text.js';

/**
 * Memory of a whole process tree from /proc. Sen2Cor is a shell wrapper around Python, which starts the
 * closed atmospheric-correction binary as a child, so the root process alone would under-report; the
 * tree's summed RSS is what a memory limit sees (short of a cgroup, which counts page cache too).
 */

/** Parent pid of every live process, from /proc/<pid>/stat (the command name may contain spaces and parens). */
function parentMap(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = tryReadText(`/proc/${entry}/stat`);
    // Gone: the process exited between listing and reading.
    if (!stat) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    const list = children.get(ppid);
    if (list) list.push(Number(entry));
    else children.set(ppid, [Number(entry)]);
  }
  return children;
}

/** The root and all its live descendants. */
export function processTree(root: number): number[] {
  const children = parentMap();
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]) ?? []));
  return tree;
}

/** VmRSS of one process in bytes; 0 once it has exited (or for kernel threads, which have none). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(tryReadText(`/proc/${pid}/status`) ?? '');
  return m ? Number(m[1]) * 1024 : 0;
}

export interface TreeSample {
  pids: number[];
  rssBytes: number;
}

export function sampleTree(root: number): TreeSample {
  const pids = processTree(root);
  return { pids, rssBytes: pids.reduce((sum, pid) => sum + rssBytes(pid), 0) };
}

/**
 * Polls a process tree's summed RSS every `intervalMs` and keeps the maximum. Peaks shorter than the
 * interval can be missed; that is the price of not needing a cgroup.
 */
export class TreePeakSampler {
  private timer: NodeJS.Timeout | undefined;
  peakBytes = 0;

  constructor(
    private readonly root: number,
    private readonly intervalMs = 100,
    private readonly onSample?: (sample: TreeSample) => void,
  ) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    return this;
  }

  sample(): void {
    const s = sampleTree(this.root);
    if (s.rssBytes > this.peakBytes) this.peakBytes = s.rssBytes;
    this.onSample?.(s);
  }

  stop(): number {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    return this.peakBytes;
  }
}
