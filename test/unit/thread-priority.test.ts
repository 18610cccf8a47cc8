import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { haveProc, haveTool } from '../helpers/shared.js';

/**
 * Module code that starts a worker thread, which first runs `before` (with thread-priority.js's exports
 * in scope) and then reports its thread id, and waits for that id as `tid`.
 */
const workerReportingTid = (before = '') => `
import { Worker } from 'node:worker_threads';
const w = new Worker("import { parentPort } from 'node:worker_threads'; import { currentThreadId, lowerOwnPriority } from '${process.cwd()}/dist/runner/thread-priority.js'; ${before} parentPort.postMessage(currentThreadId()); setInterval(() => {}, 1000);", { eval: true });
const tid = await new Promise((r) => w.once('message', r));
`;

// In a child process: moving threads to SCHED_IDLE is for the runner's own process, never vitest's.
const script = `${workerReportingTid()}
import { backgroundAllBut, currentThreadId, processThreadIds, schedulingPolicy as policy } from './dist/runner/thread-priority.js';
const keep = tid;
const outcome = await backgroundAllBut([keep]);
const others = processThreadIds().filter((t) => t !== keep);
console.log(JSON.stringify({ outcome, main: currentThreadId() === process.pid, keepPolicy: policy(keep), otherPolicies: others.map(policy) }));
await w.terminate();
`;

describe.runIf(haveProc('thread scheduling'))('backgroundAllBut', () => {
  it.runIf(haveTool('chrt', 'util-linux'))('moves every thread but the kept ones to SCHED_IDLE', async () => {
    const { stdout } = await execa(process.execPath, ['--input-type=module', '-e', script]);
    const r = JSON.parse(stdout);
    expect(r.main).toBe(true);
    expect(r.outcome.policy).toBe('SCHED_IDLE');
    expect(r.keepPolicy).toBe(0);
    expect(r.otherPolicies.length).toBeGreaterThan(1);
    expect(r.otherPolicies.every((p: number) => p === 5)).toBe(true);
  });

  it('falls back to nice 19 without chrt', async () => {
    const { stdout } = await execa(process.execPath, ['--input-type=module', '-e', `${script}\nconsole.log(JSON.stringify({ nice: (await import('node:os')).getPriority(process.pid) }));`], { env: { PATH: '/nonexistent' }, extendEnv: true });
    const [first, second] = stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(first.outcome.policy).toBe('nice 19');
    expect(first.otherPolicies.every((p: number) => p === 0)).toBe(true);
    expect(second.nice).toBe(19);
  });
});

describe.runIf(haveProc('thread priorities'))('lowerOwnPriority', () => {
  it('lowers the calling thread only, to nice 19', async () => {
    const { stdout } = await execa(process.execPath, [
      '--input-type=module',
      '-e',
      `${workerReportingTid('lowerOwnPriority();')}
import { getPriority } from 'node:os';
import { processThreads } from './dist/runner/thread-priority.js';
const threads = processThreads('self');
console.log(JSON.stringify({ lowered: threads.find((t) => t.tid === tid).nice, others: threads.filter((t) => t.tid !== tid).map((t) => t.nice), own: getPriority(0) }));
await w.terminate();
`,
    ]);
    const r = JSON.parse(stdout);
    expect(r.lowered).toBe(19);
    expect(r.others.length).toBeGreaterThan(1);
    // The rest keep the process's own priority (0 unless the test itself runs under nice).
    expect(r.own).toBeLessThan(19);
    expect(r.others.every((n: number) => n === r.own)).toBe(true);
  });
});

describe.runIf(haveProc('per-thread CPU times'))('processThreads', () => {
  it("reads each thread's CPU time and scheduling from /proc", async () => {
    const { processThreads } = await import('../../src/runner/thread-priority.js');
    const mine = () => processThreads('self').find((t) => t.tid === process.pid)!;
    const before = mine();
    const end = performance.now() + 300;
    while (performance.now() < end);
    const after = mine();
    // /proc counts in 10 ms ticks, and the machine may take the core away meanwhile.
    expect(after.cpuMs - before.cpuMs).toBeGreaterThanOrEqual(100);
    expect(after.cpuMs - before.cpuMs).toBeLessThan(2000);
    expect(after.policy).toBe(0);
    expect(after.nice).toBe((await import('node:os')).getPriority(0));
    expect(processThreads('self').length).toBeGreaterThan(1);
  });

  it('is empty for a process that does not exist', async () => {
    const { processThreads } = await import('../../src/runner/thread-priority.js');
    expect(processThreads(2 ** 22 + 1)).toEqual([]);
  });
});
