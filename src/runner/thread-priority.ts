import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/**
 * Thread scheduling for the engine (Linux). On a board with two cores the models' runtime is the
 * critical path, and it leaves gaps: its intra-op threads sleep at every barrier (measured on the UNet:
 * two threads are 1.8× one, 1.77–1.87 cores busy). Reading, decoding, post-processing and encoding fit
 * into those gaps when every thread that is not the runtime's runs under SCHED_IDLE: the kernel then
 * gives such a thread a core only when no ordinary thread wants it, and takes it back the moment one
 * does. Where SCHED_IDLE cannot be set (no `chrt`), nice 19 is the next best; elsewhere (no /proc)
 * scheduling is left as it is.
 */
export interface PriorityOutcome {
  /** What the engine's own threads ran under. */
  policy: 'SCHED_IDLE' | 'nice 19' | 'unchanged';
  threads: number;
}

/** This process's thread ids, or undefined where there is no /proc. */
export function processThreadIds(): number[] | undefined {
  return taskIds('self');
}

/** The thread ids of process `pid`, or undefined where there is no /proc or the process has ended. */
function taskIds(pid: number | 'self'): number[] | undefined {
  try {
    return readdirSync(`/proc/${pid}/task`).map(Number).filter(Number.isInteger);
  } catch {
    return undefined;
  }
}

/** The calling thread's id (Linux: /proc/thread-self names it), or undefined where there is no /proc. */
export function currentThreadId(): number | undefined {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) ? tid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Moves every thread of this process except `keep` (the inference threads) to SCHED_IDLE, or nice 19.
 * Threads started later by a moved thread (libuv's pool grows on first use) inherit its policy.
 */
export async function backgroundAllBut(keep: readonly number[]): Promise<PriorityOutcome> {
  const tids = processThreadIds()?.filter((t) => !keep.includes(t));
  if (!tids || tids.length === 0) return { policy: 'unchanged', threads: 0 };
  // One shell for all: `chrt -p` takes one id at a time. A thread that ended meanwhile just fails, and so
  // does a missing chrt: what each thread ended up with is read back below. Asynchronous, because the
  // shell and its chrt processes take about 60 ms, which the first inference need not wait for.
  await execFileAsync('sh', ['-c', 'for t; do chrt --idle -p 0 "$t"; done', 'sh', ...tids.map(String)]).catch(() => undefined);
  const idle = tids.filter((t) => schedulingPolicy(t) === SCHED_IDLE).length;
  if (idle > 0) return { policy: 'SCHED_IDLE', threads: idle };
  let moved = 0;
  for (const tid of tids) {
    try {
      setPriority(tid, 19);
      moved++;
    } catch {
      // The thread ended meanwhile.
    }
  }
  return moved > 0 ? { policy: 'nice 19', threads: moved } : { policy: 'unchanged', threads: 0 };
}

/**
 * Lowers the calling thread to nice 19, where permitted. The engine's input threads start so: until the
 * models have loaded and backgroundAllBut moves them, they would otherwise share the cores evenly with
 * the loading, which is what the first inference waits for.
 */
export function lowerOwnPriority(): void {
  const tid = currentThreadId();
  if (tid === undefined) return;
  try {
    setPriority(tid, 19);
  } catch {
    // Not permitted here: the thread keeps its priority.
  }
}

export const SCHED_IDLE = 5;

/** A thread's scheduling policy (0 normal, 5 SCHED_IDLE). */
export function schedulingPolicy(tid: number): number | undefined {
  return threadStat('self', tid)?.policy;
}

/** One thread's CPU time so far and how it is scheduled. */
export interface ThreadStat {
  tid: number;
  /** User plus system time. */
  cpuMs: number;
  policy: number;
  nice: number;
}

/** Every thread of process `pid` (a number, or 'self'); empty where there is no /proc or the process has ended. */
export function processThreads(pid: number | 'self'): ThreadStat[] {
  return (taskIds(pid) ?? []).map((tid) => threadStat(pid, tid)).filter((t): t is ThreadStat => t !== undefined);
}

/** USER_HZ: the unit of /proc's CPU times, 100 on every Linux that Node supports. */
const TICKS_PER_SECOND = 100;

/**
 * Fields of /proc/<pid>/task/<tid>/stat, counted after the command name (which may hold spaces and
 * parentheses): utime 14, stime 15, nice 19, policy 41.
 */
function threadStat(pid: number | 'self', tid: number): ThreadStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { tid, cpuMs: ((Number(f[11]) + Number(f[12])) * 1000) / TICKS_PER_SECOND, nice: Number(f[16]), policy: Number(f[38]) };
  } catch {
    return undefined;
  }
}
