#!/usr/bin/env node
// Validates `hil gate` on real runs: an A/A experiment (the same build against itself) measures how often
// the speed gate cries wolf, and a deliberately slowed build measures how often it catches a real
// slowdown. The slowed build is a heavier AC model on the same input (--slowed-model), or another build
// of hil, e.g. one with an extra busy-wait in the runner (--slowed-cli path/to/dist/cli/main.js).
// Baseline and candidate runs are interleaved, as in CI.
//
//   npm run build && node scripts/gate-experiment.mjs [--aa 40] [--slowed-trials 20] [--repeats 6]
//       [--size 512] [--baseline-model no-correction] [--baseline-cli dist/cli/main.js]
//       [--slowed-model CNN_corrector] [--slowed-cli DIST_CLI] [--label TEXT]
//       [--gate-config gate.json] [--models-dir DIR] [--out results/gate-experiment.json]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist', 'cli', 'main.js');
if (!existsSync(cli)) {
  console.error(`gate-experiment: ${cli} is missing — run npm run build first`);
  process.exit(2);
}
const { writeFileAtomic, ensureWritableDir } = await import(path.join(root, 'dist', 'util', 'atomic.js'));

const { values: opt } = parseArgs({
  options: {
    aa: { type: 'string', default: '40' },
    'slowed-trials': { type: 'string', default: '20' },
    repeats: { type: 'string', default: '6' },
    size: { type: 'string', default: '512' },
    'baseline-model': { type: 'string', default: 'no-correction' },
    'baseline-cli': { type: 'string', default: cli },
    'slowed-model': { type: 'string' },
    'slowed-cli': { type: 'string' },
    label: { type: 'string' },
    'gate-config': { type: 'string' },
    'models-dir': { type: 'string', default: process.env.HIL_MODELS_DIR ?? path.resolve(root, '..', 'shared', 'models') },
    out: { type: 'string', default: path.join(root, 'results', 'gate-experiment.json') },
  },
});
const baseline = { cli: path.resolve(opt['baseline-cli']), model: opt['baseline-model'] };
// Another build is slowed by its own code; the same build is slowed by a heavier model.
const slowedBuild = {
  cli: path.resolve(opt['slowed-cli'] ?? opt['baseline-cli']),
  model: opt['slowed-model'] ?? (opt['slowed-cli'] ? opt['baseline-model'] : 'CNN_corrector'),
};
const slowedLabel = opt.label ?? (opt['slowed-cli'] ? `${slowedBuild.cli} with ${slowedBuild.model}` : `heavier model ${slowedBuild.model}`);
const aaTrials = Number(opt.aa);
const slowedTrials = Number(opt['slowed-trials']);
const repeats = Number(opt.repeats);
// Each round runs two repeats per side, so a trial of `repeats` per side interleaves repeats / 2 rounds.
const perRound = 2;
const rounds = Math.ceil(repeats / perRound);

const work = mkdtempSync(path.join(os.tmpdir(), 'hil-gate-exp-'));
function hil(args, { allowFail = false, via = cli } = {}) {
  const r = spawnSync(process.execPath, [via, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0 && !allowFail) throw new Error(`hil ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r;
}

const crop = path.join(work, 'crop.tif');
hil(['data', 'synth', '--res', '60', '--size', opt.size, '--out', crop]);

function measure(build, out) {
  hil(['run', '--target', 'local', '--res', '60', '--scenario', 'ac', '--ac-model', build.model, '--models-dir', opt['models-dir'], '--input', crop, '--repeat', String(perRound), '--out', out, '--json'], { via: build.cli });
}

/** One trial: interleaved rounds of baseline and candidate, then the gate on the two sets. */
function trial(i, candidate) {
  const dir = path.join(work, `trial-${i}`);
  const a = path.join(dir, 'baseline');
  const b = path.join(dir, 'candidate');
  for (let r = 0; r < rounds; r++) {
    // Alternate which side goes first, so that neither always runs on a warmer cache.
    const order = r % 2 === 0 ? [[baseline, a], [candidate, b]] : [[candidate, b], [baseline, a]];
    for (const [build, out] of order) measure(build, path.join(out, `round-${r}`));
  }
  const dirs = (d) => readdirSync(d).map((x) => path.join(d, x));
  const config = opt['gate-config'] ? ['--gate-config', opt['gate-config']] : [];
  const g = hil(['gate', '--baseline', ...dirs(a), '--candidate', ...dirs(b), '--json', ...config], { allowFail: true });
  if (g.status !== 0 && g.status !== 1) throw new Error(`hil gate exited ${g.status}: ${g.stderr}`);
  const result = JSON.parse(g.stdout);
  const speed = result.checks.find((c) => c.name === 'speed');
  rmSync(dir, { recursive: true, force: true });
  return { speed: speed.speed.status, p: speed.speed.p, change: speed.speed.change, gateExit: g.status, failedChecks: result.checks.filter((c) => c.status === 'fail').map((c) => c.name) };
}

/** Wilson score interval for k successes in n trials (95 %). */
function wilson(k, n) {
  const z = 1.959964;
  const p = k / n;
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / (1 + (z * z) / n);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

function summarise(trials) {
  const n = trials.length;
  const count = (s) => trials.filter((t) => t.speed === s).length;
  const changes = trials.map((t) => t.change).sort((x, y) => x - y);
  return {
    trials: n,
    regressions: count('regression'),
    inconclusive: count('inconclusive'),
    passes: count('pass'),
    regressionRate: count('regression') / n,
    regressionRate95: wilson(count('regression'), n),
    medianChange: changes[Math.floor(n / 2)],
    perTrial: trials,
  };
}

const started = Date.now();
const aa = [];
for (let i = 0; i < aaTrials; i++) {
  aa.push(trial(`aa-${i}`, baseline));
  process.stderr.write(`A/A ${i + 1}/${aaTrials}: ${aa.at(-1).speed} (${(aa.at(-1).change * 100).toFixed(1)} %)\n`);
}
const slowed = [];
for (let i = 0; i < slowedTrials; i++) {
  slowed.push(trial(`slow-${i}`, slowedBuild));
  process.stderr.write(`slowed ${i + 1}/${slowedTrials}: ${slowed.at(-1).speed} (${(slowed.at(-1).change * 100).toFixed(1)} %)\n`);
}
rmSync(work, { recursive: true, force: true });

const result = {
  schema: 'hil.gate-experiment/1',
  createdAt: new Date().toISOString(),
  command: `node ${process.argv.slice(1).map((a) => path.relative(root, a) || a).join(' ')}`,
  durationS: Math.round((Date.now() - started) / 1000),
  machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism(), loadAverageAtEnd: os.loadavg().map((x) => Number(x.toFixed(2))) },
  design: {
    scenario: `ac at 60 m on a ${opt.size} × ${opt.size} px synthetic crop, target local`,
    baseline: `${path.relative(root, baseline.cli) || baseline.cli} with ${baseline.model}`,
    slowed: slowedLabel,
    repeatsPerSide: rounds * perRound,
    interleaving: `${rounds} rounds of ${perRound} repeats per side, order alternating`,
    gate: opt['gate-config'] ? `hil gate with ${readFileSync(opt['gate-config'], 'utf8').trim()}` : 'hil gate defaults: one-sided Mann–Whitney U, alpha 0.01, minimum effect 5 % on totalMs',
  },
  aa: aa.length ? { ...summarise(aa), falsePositiveRate: aa.filter((t) => t.speed === 'regression').length / aa.length } : null,
  slowed: slowed.length ? { ...summarise(slowed), detectionRate: slowed.filter((t) => t.speed === 'regression').length / slowed.length } : null,
};
await ensureWritableDir(path.dirname(opt.out));
await writeFileAtomic(opt.out, `${JSON.stringify(result, null, 2)}\n`);
const pct = (x) => `${(x * 100).toFixed(1)} %`;
if (result.aa) {
  console.log(`A/A: ${result.aa.regressions}/${aaTrials} false positives (${pct(result.aa.falsePositiveRate)}, 95 % CI ${result.aa.regressionRate95.map(pct).join('–')}), ${result.aa.inconclusive} inconclusive`);
}
if (result.slowed) {
  console.log(`slowed (${slowedLabel}, median ${pct(result.slowed.medianChange)}): ${result.slowed.regressions}/${slowedTrials} detected (${pct(result.slowed.detectionRate)}, 95 % CI ${result.slowed.regressionRate95.map(pct).join('–')})`);
}
console.log(`written ${opt.out}`);
