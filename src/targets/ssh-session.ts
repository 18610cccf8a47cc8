import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { targetError } from '../errors.js';
import { parseEvent, type RunnerEvent } from '../runner/events.js';
import { BenchJobSchema, type BenchJob } from '../bench/job.js';
import { JobSchema, type Job, type JobModel } from '../runner/job.js';
import { gitSha, hilVersion } from '../results/environment.js';
import type { Environment } from '../results/schema.js';
import { commitTemp, discardTemp, tempPathFor } from '../util/atomic.js';
import { PACKAGE_ROOT } from '../util/package-root.js';
import { buildBundle } from './bundle.js';
import { buildRemoteCgroupScripts } from './cgroup-remote.js';
import { DEFAULT_CACHE_ROOT, deployBundle, probeRemotePlatform, resolveRemotePath, runRemote, type DeployResult, type RemotePlatform } from './deploy.js';
import { tailKeeper } from './local.js';
import { probeTarget } from './probe.js';
import { acquireTargetLock, type LockOptions, type TargetLock } from './lock.js';
import type { TargetProfile, Transport } from './profile.js';
import { RUNNER_ENV, RUNNER_NODE_ARGS } from './runner-env.js';
import { connectSsh, shellQuote, type SshConnection } from './ssh.js';
import type { RunnerExit, TargetSession } from './transport.js';

type SshTransport = Extract<Transport, { kind: 'ssh' }>;

const expandHome = (p: string) => (p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : p);

/** Opens an SSH session to a board: connect with a pinned host key, take the board's lock, learn its platform. */
export async function sshSession(target: TargetProfile, lockOptions: Pick<LockOptions, 'waitMs' | 'onWait'> = {}): Promise<TargetSession> {
  const t = target.transport as SshTransport;
  const conn = await connectSsh({
    host: t.host,
    port: t.port,
    user: t.user,
    privateKeyPath: t.privateKey ? expandHome(t.privateKey) : undefined,
    agent: t.agent,
    hostKey: t.fingerprint ? { fingerprint: t.fingerprint } : { knownHostsFile: expandHome(t.knownHosts ?? '~/.ssh/known_hosts') },
    connectTimeoutMs: t.connectTimeoutMs,
    retries: 2,
  });
  let lock: TargetLock | undefined;
  try {
    const cacheRoot = await resolveRemotePath(conn, t.cacheRoot ?? DEFAULT_CACHE_ROOT);
    lock = await acquireTargetLock({ kind: 'ssh', conn, cacheRoot }, target.name, lockOptions);
    const platform = await probeRemotePlatform(conn);
    return new SshTargetSession(target, conn, lock, cacheRoot, platform);
  } catch (err) {
    await lock?.release().catch(() => undefined);
    await conn.close();
    throw err;
  }
}

class SshTargetSession implements TargetSession {
  readonly kind = 'ssh' as const;
  lastDeploy: DeployResult | undefined;

  constructor(
    private readonly target: TargetProfile,
    private readonly conn: SshConnection,
    private readonly lock: TargetLock,
    private readonly cacheRoot: string,
    private readonly platform: RemotePlatform,
  ) {}

  /**
   * Deploys the runner bundle plus the job's input and model files (content-addressed: what the board
   * already has is not sent again), runs the job there with the job's paths mapped onto the bundle, and
   * fetches the outputs back to the paths the coordinator asked for.
   */
  async runRunner(args: string[], onEvent: (ev: RunnerEvent) => void, signal?: AbortSignal): Promise<RunnerExit> {
    const jobIdx = args.findIndex((a) => a.endsWith('.json'));
    const raw: unknown = jobIdx >= 0 ? JSON.parse(readFileSync(args[jobIdx], 'utf8')) : undefined;
    const bench = args[0] === '--bench' ? BenchJobSchema.parse(raw) : undefined;
    const local = raw !== undefined && !bench ? JobSchema.parse(raw) : undefined;
    const runDir = `${this.cacheRoot}/runs/${createHash('sha256').update(args.join('\0') + Date.now()).digest('hex').slice(0, 16)}`;
    const { remoteJob, extra } = local ? mapJob(local, runDir) : bench ? mapBenchJob(bench) : { remoteJob: undefined, extra: [] };
    const bundle = await buildBundle({ projectRoot: PACKAGE_ROOT, platform: this.platform.platform, arch: this.platform.arch, extraFiles: extra });
    const deploy = await deployBundle(this.conn, bundle.files, { cacheRoot: this.cacheRoot, platform: this.platform });
    this.lastDeploy = deploy;
    if (remoteJob) {
      // A run job or a bench job, with its paths mapped onto the board.
      const jobText = JSON.stringify(remoteJob);
      const put = await this.conn.capture(`mkdir -p ${shellQuote(runDir)} && cat > ${shellQuote(`${runDir}/job.json`)}`, jobText);
      if (put.exitCode !== 0) throw targetError(`cannot write the job on ${this.target.name}: ${put.stderr.trim()}`, 'check free disk and permissions in the cache folder on the target');
    }
    const runnerArgs = [...RUNNER_NODE_ARGS, 'dist/runner/main.js', ...args.map((a, i) => (i === jobIdx ? `${runDir}/job.json` : a))];
    const limits = this.target.limits;
    const cgroup = limits ? buildRemoteCgroupScripts({ limits, hostCpus: await this.remoteCores() }) : undefined;
    const stderr = tailKeeper();
    try {
      const r = await runRemote(this.conn, {
        nodePath: deploy.nodePath,
        remoteRoot: deploy.remoteRoot,
        args: runnerArgs,
        wrapper: cgroup?.prefix,
        env: RUNNER_ENV,
        signal,
        onStdoutLine: (line) => {
          const ev = parseEvent(line);
          if (ev) onEvent(ev);
        },
        onStderr: (c) => stderr.push(c),
      });
      const setupError = cgroup?.setupError(r.exitCode ?? -1, stderr.get());
      if (setupError) throw setupError;
      const cg = cgroup ? cgroup.result(r.exitCode, r.signal as NodeJS.Signals | null, (await this.conn.capture(cgroup.cleanup)).stdout) : undefined;
      if (local && r.exitCode === 0) await this.fetchOutputs(local, remoteJob as Job);
      return {
        exitCode: r.exitCode,
        signal: r.signal,
        oomKilled: cg?.oomKilled ?? false,
        cgroupPeakBytes: cg?.peakMemoryBytes ?? null,
        stderrTail: stderr.get(),
        limits: cg
          ? { memoryBytes: cg.limits.memoryBytes, cpus: cg.limits.cpuQuota, cpuset: cg.limits.cpuset, note: `remote cgroup v${cg.version}; ${cg.limits.swapBytes === 0 ? 'swap off' : 'swap not controllable'}` }
          : undefined,
        deploy: { sentFiles: deploy.sentFiles, sentBytes: deploy.sentBytes, reusedFiles: deploy.reusedFiles, bundleId: deploy.bundleId },
      };
    } finally {
      await this.conn.capture(`rm -rf ${shellQuote(runDir)}`).catch(() => undefined);
    }
  }

  async environment(): Promise<Environment> {
    const host = await probeTarget(this, this.target.name);
    // The bundle is this coordinator's build, so its version and commit are ours.
    return { ...probeToEnvironment(host), hil: hilVersion(), gitSha: gitSha() };
  }

  private async remoteCores(): Promise<number> {
    const r = await this.conn.capture('nproc');
    const n = Number(r.stdout.trim());
    return Number.isInteger(n) && n > 0 ? n : 1;
  }

  private async fetchOutputs(local: Job, remote: Job): Promise<void> {
    const sftp = await this.conn.sftp();
    for (const key of ['sc', 'ac'] as const) {
      const dest = local.output[key];
      const src = remote.output[key];
      if (!dest || !src || local.output.discard) continue;
      await mkdir(path.dirname(dest), { recursive: true });
      const tmp = tempPathFor(dest);
      try {
        await this.conn.orLost(new Promise<void>((resolve, reject) => sftp.fastGet(src, tmp, (err) => (err ? reject(err) : resolve()))));
        await commitTemp(tmp, dest);
      } catch (err) {
        await discardTemp(tmp);
        throw targetError(`cannot fetch ${src} from ${this.target.name}: ${(err as Error).message}`, 'check the connection and free disk here');
      }
    }
    sftp.end();
  }

  async close(): Promise<void> {
    await this.lock.release().catch(() => undefined);
    await this.conn.close();
  }
}

type Extra = { localPath: string; relPath: string }[];

/** Puts a local file into the bundle under `folder`, returning its path there. */
function placer(extra: Extra) {
  return (localPath: string, folder: string) => {
    const relPath = `${folder}/${path.basename(localPath)}`;
    extra.push({ localPath, relPath });
    return relPath;
  };
}

/** A model's file(s) in the bundle: an OpenVINO IR is two, the runtime finds the weights beside the .xml. */
function placeModel(place: ReturnType<typeof placer>, m: JobModel): string | undefined {
  if (!m.path) return undefined;
  if (m.manifest.format === 'openvino-ir') place(m.path.replace(/\.xml$/i, '.bin'), 'models');
  return place(m.path, 'models');
}

/** The job as it must read on the board: input and models inside the bundle, outputs in a run folder. */
function mapJob(job: Job, runDir: string): { remoteJob: Job; extra: Extra } {
  const extra: Extra = [];
  const place = placer(extra);
  const remoteJob: Job = structuredClone(job);
  remoteJob.input.path = place(job.input.path, 'inputs');
  for (const key of ['sc', 'ac'] as const) {
    const m = job.models[key];
    if (m) remoteJob.models[key]!.path = placeModel(place, m);
    if (job.output[key]) remoteJob.output[key] = `${runDir}/${key}.tif`;
  }
  return { remoteJob, extra };
}

function mapBenchJob(job: BenchJob): { remoteJob: BenchJob; extra: Extra } {
  const extra: Extra = [];
  const remoteJob: BenchJob = structuredClone(job);
  remoteJob.model.path = placeModel(placer(extra), job.model);
  return { remoteJob, extra };
}

export function probeToEnvironment(host: Record<string, unknown>): Environment {
  const str = (k: string) => (typeof host[k] === 'string' ? (host[k] as string) : 'unknown');
  const num = (k: string) => (typeof host[k] === 'number' ? (host[k] as number) : 0);
  return {
    cpuModel: str('cpuModel'),
    cores: num('cores'),
    memTotalBytes: num('memTotalBytes'),
    os: str('os'),
    kernel: str('kernel'),
    arch: str('arch'),
    node: str('node'),
    onnxruntime: typeof host.onnxruntime === 'string' ? host.onnxruntime : null,
    hil: 'unknown',
    gitSha: null,
  };
}
