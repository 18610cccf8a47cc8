import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { constants as fsc, existsSync, promises as fs, statSync } from 'node:fs';
import path from 'node:path';
import { configError, inputError } from '../errors.js';
import type { Resolution } from '../raster/bands.js';
import { ensureWritableDir } from '../util/atomic.js';
import { processTree, TreePeakSampler } from './proc-tree.js';
import { parseSen2CorVersion, type Sen2CorVersion } from './version.js';

export type SpawnFn = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

export interface RunSen2CorOptions {
  /** The S2X_MSIL1C_*.SAFE folder. */
  safe: string;
  resolution: Resolution;
  outputDir: string;
  workDir: string;
  /** Path of L2A_Process; else it is looked up on PATH (or after sourcing `bashrc`). */
  l2aProcess?: string;
  /** Sen2Cor's L2A_Bashrc; when given the command runs as `bash -c 'source <bashrc> && exec L2A_Process …'`. */
  bashrc?: string;
  extraArgs?: readonly string[];
  /** Replaces child_process.spawn, e.g. to start the run inside a cgroup. */
  spawn?: SpawnFn;
  /**
   * cgroup v2 folder the run is placed in (by `spawn`). Its `memory.peak` then replaces the /proc
   * estimate, and an increase of `oom_kill` in `memory.events` marks the run as `oom`.
   */
  cgroupDir?: string;
  /**
   * The memory limit the run is under. A run that dies of SIGKILL under a limit is recorded as `oom`
   * (the kernel's OOM killer cannot say so itself). Without a `cgroupDir` to enforce it, the sampler
   * enforces it: the tree is SIGKILLed as soon as its summed RSS passes the limit.
   */
  memoryLimitBytes?: number;
  sampleIntervalMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface Sen2CorRun {
  /** `oom`: killed by SIGKILL under a memory limit, or the cgroup counted an OOM kill. */
  status: 'ok' | 'error' | 'oom';
  version?: Sen2CorVersion;
  wallMs: number;
  peakRssBytes: number;
  /** `cgroup`: memory.peak of cgroupDir; `proc`: the maximum of the tree's summed VmRSS, polled. */
  peakSource: 'cgroup' | 'proc';
  /** The L2A .SAFE the run produced. */
  product?: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Why a run is not `ok`, in one line. */
  message?: string;
  command: string[];
  /** The last lines of stdout and stderr together. */
  logTail: string;
}

const LOG_TAIL_LINES = 40;
const L2A_NAME = /^S2[A-D]_MSIL2A_.*\.SAFE$/;

const notFound = (what: string) =>
  configError(
    `${what} was not found`,
    'install Sen2Cor 2.10 with its standalone installer (https://step.esa.int/main/snap-supported-plugins/sen2cor/) ' +
      'and put its bin/ on PATH, or give the path of L2A_Process or of <install>/L2A_Bashrc',
  );

function onPath(command: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await fs.access(file, fsc.X_OK);
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}

async function checkL1C(safe: string): Promise<void> {
  if (!existsSync(path.join(safe, 'MTD_MSIL1C.xml'))) {
    throw inputError(
      `${safe} is not a Sentinel-2 L1C product (no MTD_MSIL1C.xml in it)`,
      'give Sen2Cor the unzipped S2X_MSIL1C_*.SAFE folder',
    );
  }
}

/** The command line, as argv; through bash only when Sen2Cor's environment script must be sourced. */
function commandLine(opts: RunSen2CorOptions, l2a: string): string[] {
  const args = [
    path.resolve(opts.safe),
    '--resolution',
    String(opts.resolution),
    '--output_dir',
    path.resolve(opts.outputDir),
    '--work_dir',
    path.resolve(opts.workDir),
    ...(opts.extraArgs ?? []),
  ];
  if (!opts.bashrc) return [l2a, ...args];
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return ['bash', '-c', `source ${quote(path.resolve(opts.bashrc))} && exec ${[l2a, ...args].map(quote).join(' ')}`];
}

async function readNumber(file: string, pattern?: RegExp): Promise<number | undefined> {
  try {
    const text = await fs.readFile(file, 'utf8');
    const m = pattern ? pattern.exec(text) : /^\s*(\d+)/.exec(text);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

const oomKills = (cgroupDir: string) => readNumber(path.join(cgroupDir, 'memory.events'), /^oom_kill\s+(\d+)/m);

async function l2aProducts(dir: string): Promise<Set<string>> {
  const entries = await fs.readdir(dir).catch(() => [] as string[]);
  return new Set(entries.filter((e) => L2A_NAME.test(e)));
}

/** Runs Sen2Cor's L2A_Process on one L1C product, timing it and measuring the memory of its process tree. */
export async function runSen2Cor(opts: RunSen2CorOptions): Promise<Sen2CorRun> {
  const env = opts.env ?? process.env;
  await checkL1C(opts.safe);
  let l2a: string;
  if (opts.l2aProcess) {
    if (!(await isExecutable(opts.l2aProcess))) throw notFound(`L2A_Process at ${opts.l2aProcess}`);
    l2a = path.resolve(opts.l2aProcess);
  } else if (opts.bashrc) {
    if (!existsSync(opts.bashrc)) throw notFound(`Sen2Cor environment script ${opts.bashrc}`);
    l2a = 'L2A_Process';
  } else {
    l2a = onPath('L2A_Process', env) ?? '';
    if (!l2a) throw notFound('L2A_Process (Sen2Cor) on PATH');
  }
  await ensureWritableDir(opts.outputDir);
  await ensureWritableDir(opts.workDir);

  const command = commandLine(opts, l2a);
  const before = await l2aProducts(opts.outputDir);
  const oomBefore = opts.cgroupDir ? await oomKills(opts.cgroupDir) : undefined;
  const spawn = opts.spawn ?? nodeSpawn;

  const lines: string[] = [];
  let fullText = '';
  let version: Sen2CorVersion | undefined;
  const collect = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    if (!version) {
      fullText += text;
      version = parseSen2CorVersion(fullText);
      if (version || fullText.length > 1 << 16) fullText = '';
    }
    lines.push(...text.split(/\r?\n/).filter((l) => l.trim() !== ''));
    if (lines.length > LOG_TAIL_LINES * 4) lines.splice(0, lines.length - LOG_TAIL_LINES);
  };

  const started = performance.now();
  const child = spawn(command[0], command.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  let killedForMemory = false;
  const limit = opts.memoryLimitBytes;
  const enforce = limit !== undefined && !opts.cgroupDir;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; spawnError?: Error }>((resolve) => {
    child.once('error', (err) => resolve({ code: null, signal: null, spawnError: err }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  let sampler: TreePeakSampler | undefined;
  if (child.pid !== undefined) {
    const root = child.pid;
    sampler = new TreePeakSampler(root, opts.sampleIntervalMs ?? 100, (s) => {
      if (enforce && !killedForMemory && s.rssBytes > limit) {
        killedForMemory = true;
        for (const pid of processTree(root)) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }
    }).start();
  }
  const { code, signal, spawnError } = await exited;
  const wallMs = performance.now() - started;
  const treePeak = sampler?.stop() ?? 0;
  if (spawnError) {
    if ((spawnError as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(command[0]);
    throw spawnError;
  }
  const logTail = lines.slice(-LOG_TAIL_LINES).join('\n');
  if (opts.bashrc && code === 127 && /L2A_Process.*not found/.test(logTail)) {
    throw notFound(`L2A_Process after sourcing ${opts.bashrc}`);
  }

  let peakRssBytes = treePeak;
  let peakSource: Sen2CorRun['peakSource'] = 'proc';
  let cgroupOom = false;
  if (opts.cgroupDir) {
    const cgPeak = await readNumber(path.join(opts.cgroupDir, 'memory.peak'));
    if (cgPeak !== undefined) {
      peakRssBytes = cgPeak;
      peakSource = 'cgroup';
    }
    const oomAfter = await oomKills(opts.cgroupDir);
    cgroupOom = oomAfter !== undefined && oomAfter > (oomBefore ?? 0);
  }

  const fresh = [...(await l2aProducts(opts.outputDir))].filter((p) => !before.has(p));
  let product: string | undefined;
  if (fresh.length > 0) {
    const withTimes = await Promise.all(
      fresh.map(async (p) => ({ p, t: (await fs.stat(path.join(opts.outputDir, p))).mtimeMs })),
    );
    withTimes.sort((a, b) => b.t - a.t);
    product = path.resolve(opts.outputDir, withTimes[0].p);
  }

  const base = { version, wallMs, peakRssBytes, peakSource, product, exitCode: code, signal, command, logTail };
  if (killedForMemory || cgroupOom || (limit !== undefined && signal === 'SIGKILL')) {
    return { ...base, status: 'oom', message: `killed for memory (${limit !== undefined ? `limit ${Math.round(limit / 2 ** 20)} MiB` : 'the cgroup counted an OOM kill'})` };
  }
  if (code !== 0) {
    return { ...base, status: 'error', message: `L2A_Process ended with ${signal ? `signal ${signal}` : `exit code ${code}`}` };
  }
  if (!product) {
    return { ...base, status: 'error', message: `L2A_Process succeeded but wrote no S2X_MSIL2A_*.SAFE into ${opts.outputDir}` };
  }
  return { ...base, status: 'ok' };
}
