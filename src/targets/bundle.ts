import { createHash } from 'node:crypto';
import { createReadStream, promises as fs, type Dirent } from 'node:fs';
import path from 'node:path';
import { targetError, usageError } from '../errors.js';

/** One file of a bundle: where it is here, where it goes under the bundle root, and what it is. */
export interface BundleFile {
  localPath: string;
  /** POSIX path under the bundle root. */
  relPath: string;
  sha256: string;
  size: number;
  /** 0o755 or 0o644: only the executable bit matters on the target. */
  mode: number;
}

export interface Bundle {
  /** sha256 over the sorted (relPath, sha256, mode) list: equal ids mean identical trees. */
  id: string;
  files: BundleFile[];
}

export interface ExtraFile {
  localPath: string;
  relPath: string;
  mode?: number;
}

export interface BundleOptions {
  /** The checkout or install holding package.json, dist/ and node_modules/. */
  projectRoot: string;
  /** The target's Node platform and arch (`linux`, `x64`): picks onnxruntime-node's native binaries. */
  platform: string;
  arch: string;
  /** Packages the runner imports at run time; their dependencies are followed. */
  rootPackages?: string[];
  /** Model builds, the job file, anything else the run needs. */
  extraFiles?: ExtraFile[];
}

/** What the runner imports on the target. Everything else in node_modules serves the coordinator only. */
export const RUNNER_PACKAGES = ['onnxruntime-node', 'onnxruntime-common', 'geotiff', 'zod', 'systeminformation', 'tinybench'];

const hashCache = new Map<string, { mtimeMs: number; size: number; sha256: string }>();

/** sha256 of a file, remembered per path, mtime and size for the life of the process so re-deploys skip it. */
export async function hashFile(file: string): Promise<{ sha256: string; size: number; mode: number }> {
  const st = await fs.stat(file);
  const mode = st.mode & 0o111 ? 0o755 : 0o644;
  const cached = hashCache.get(file);
  if (cached && cached.mtimeMs === st.mtimeMs && cached.size === st.size) return { sha256: cached.sha256, size: st.size, mode };
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  const sha256 = hash.digest('hex');
  hashCache.set(file, { mtimeMs: st.mtimeMs, size: st.size, sha256 });
  return { sha256, size: st.size, mode };
}

export function bundleId(files: Pick<BundleFile, 'relPath' | 'sha256' | 'mode'>[]): string {
  const hash = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0))) {
    hash.update(`${f.relPath}\0${f.sha256}\0${f.mode.toString(8)}\n`);
  }
  return hash.digest('hex');
}

/** Files under `dir`, skipping nested node_modules (dependencies are resolved and added on their own). */
async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  let entries: Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw err;
  }
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules') out.push(...(await walk(full)));
    } else if (e.isFile()) {
      out.push(full);
    } else if (e.isSymbolicLink()) {
      const st = await fs.stat(full).catch(() => undefined);
      if (st?.isFile()) out.push(full);
      else if (st?.isDirectory()) out.push(...(await walk(full)));
    }
  }
  return out;
}

/** Node's lookup: `<dir>/node_modules/<name>` from `fromDir` upwards, not above `root`. */
async function resolvePackageDir(name: string, fromDir: string, root: string): Promise<string | undefined> {
  let dir = fromDir;
  for (;;) {
    const candidate = path.join(dir, 'node_modules', name);
    if (await fs.stat(path.join(candidate, 'package.json')).then(() => true, () => false)) return candidate;
    if (dir === root || path.dirname(dir) === dir) return undefined;
    dir = path.dirname(dir);
  }
}

interface PackageJson {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/** Package folders the roots need, transitively through `dependencies` (and installed `optionalDependencies`). */
async function collectPackages(root: string, names: string[]): Promise<string[]> {
  const seen = new Set<string>();
  const queue: { name: string; from: string; by: string }[] = names.map((name) => ({ name, from: root, by: 'the runner' }));
  while (queue.length > 0) {
    const { name, from, by } = queue.shift()!;
    const dir = await resolvePackageDir(name, from, root);
    if (!dir) {
      throw targetError(`package ${name} (needed by ${by}) is not installed in ${root}`, 'run npm install (or npm ci) there');
    }
    if (seen.has(dir)) continue;
    seen.add(dir);
    const pkg = JSON.parse(await fs.readFile(path.join(dir, 'package.json'), 'utf8')) as PackageJson;
    for (const dep of Object.keys(pkg.dependencies ?? {})) queue.push({ name: dep, from: dir, by: name });
    for (const dep of Object.keys(pkg.optionalDependencies ?? {})) {
      if (await resolvePackageDir(dep, dir, root)) queue.push({ name: dep, from: dir, by: name });
    }
  }
  return [...seen];
}

/** onnxruntime-node ships binaries for every platform (~290 MB); the target needs only its own. */
function keepOrtFile(relInPackage: string, platform: string, arch: string): boolean {
  const m = /^bin\/napi-v\d+\/([^/]+)\/([^/]+)\//.exec(relInPackage);
  return !m || (m[1] === platform && m[2] === arch);
}

function checkRelPath(rel: string): string {
  const norm = path.posix.normalize(rel.split(path.sep).join('/'));
  if (norm.startsWith('../') || norm === '..' || path.posix.isAbsolute(norm) || norm === '.') {
    throw usageError(`bundle path "${rel}" points outside the bundle`, 'give extra files a relative path inside the bundle');
  }
  return norm;
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  });
  await Promise.all(workers);
  return out;
}

/**
 * The self-contained tree a target needs to run the runner: dist/, package.json, the runner's runtime
 * packages with onnxruntime-node's binaries for the target's platform only, and the caller's extra files.
 */
export async function buildBundle(opts: BundleOptions): Promise<Bundle> {
  const root = path.resolve(opts.projectRoot);
  const dist = path.join(root, 'dist');
  if (!(await fs.stat(dist).then((s) => s.isDirectory(), () => false))) {
    throw usageError(`${dist} is missing: the runner has not been compiled`, 'run npm run build first');
  }
  const sources: { localPath: string; relPath: string; mode?: number }[] = [];
  const add = (localPath: string) => sources.push({ localPath, relPath: path.relative(root, localPath).split(path.sep).join('/') });
  for (const f of await walk(dist)) add(f);
  add(path.join(root, 'package.json'));
  let ortBinaries = 0;
  for (const pkgDir of await collectPackages(root, opts.rootPackages ?? RUNNER_PACKAGES)) {
    const isOrt = path.basename(pkgDir) === 'onnxruntime-node';
    for (const f of await walk(pkgDir)) {
      const inPkg = path.relative(pkgDir, f).split(path.sep).join('/');
      if (isOrt && !keepOrtFile(inPkg, opts.platform, opts.arch)) continue;
      if (isOrt && inPkg.startsWith('bin/')) ortBinaries++;
      add(f);
    }
    if (isOrt && ortBinaries === 0) {
      throw targetError(
        `onnxruntime-node has no native binary for ${opts.platform}/${opts.arch}`,
        'run on a target whose platform onnxruntime-node supports (linux x64/arm64, darwin arm64, win32 x64/arm64), or use an exec backend',
      );
    }
  }
  for (const x of opts.extraFiles ?? []) sources.push({ ...x, relPath: checkRelPath(x.relPath) });

  const byRel = new Map<string, string>();
  for (const s of sources) {
    const prev = byRel.get(s.relPath);
    if (prev !== undefined && prev !== s.localPath) {
      throw usageError(`two files map to ${s.relPath} in the bundle: ${prev} and ${s.localPath}`, 'give extra files distinct paths');
    }
    byRel.set(s.relPath, s.localPath);
  }
  const unique = [...new Map(sources.map((s) => [s.relPath, s])).values()];
  const files = await mapLimit(unique, 8, async (s): Promise<BundleFile> => {
    const h = await hashFile(s.localPath).catch((err: NodeJS.ErrnoException) => {
      throw usageError(`cannot read ${s.localPath} for the bundle (${err.code ?? err.message})`, 'check the file exists and is readable');
    });
    const mode = (s.mode ?? h.mode) & 0o111 ? 0o755 : 0o644;
    return { localPath: s.localPath, relPath: s.relPath, sha256: h.sha256, size: h.size, mode };
  });
  files.sort((a, b) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0));
  return { id: bundleId(files), files };
}
