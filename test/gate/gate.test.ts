import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { DEFAULT_GATE_CONFIG, parseGateConfig } from '../../src/gate/config.js';
import { runGate } from '../../src/gate/gate.js';
import { gateJunit, gateMarkdown } from '../../src/gate/output.js';
import { literatureRecords } from '../../src/results/literature.js';
import type { ResultRecord } from '../../src/results/schema.js';
import { hil } from '../helpers/cli.js';
import { record, type RecordSpec } from '../results/records.js';
import { hilErrorOf } from '../helpers/errors.js';
import { tempDir } from '../helpers/temp.js';

const base = [1000, 1010, 1020, 1030, 1040, 1050];
const slow = base.map((t) => t * 1.2);
const rec = (spec: RecordSpec) => record({ target: 'local', scenario: 'ac', res: 60, ...spec });
const statusOf = (checks: { name: string; status: string }[]) => Object.fromEntries(checks.map((c) => [c.name, c.status]));


describe('runGate', () => {
  it('passes the same build and fails a slower one, pooling the samples of several records', () => {
    const pass = runGate([rec({ times: base.slice(0, 3) }), rec({ times: base.slice(3) })], [rec({ times: base })], DEFAULT_GATE_CONFIG);
    expect(pass.exitCode).toBe(ExitCode.ok);
    expect(statusOf(pass.checks)).toEqual({ run: 'pass', speed: 'pass', 'memory.limit': 'pass', 'memory.growth': 'pass' });
    const fail = runGate([rec({ times: base })], [rec({ times: slow.slice(0, 2) }), rec({ times: slow.slice(2) })], DEFAULT_GATE_CONFIG);
    expect(fail.verdict).toBe('regression');
    expect(fail.exitCode).toBe(ExitCode.failed);
    expect(fail.checks.find((c) => c.name === 'speed')!.speed).toMatchObject({ baselineN: 6, candidateN: 6, status: 'regression' });
  });

  it('passes, with a warning, when there are too few repeats', () => {
    const r = runGate([rec({ times: [1000, 1001] })], [rec({ times: [2000, 2001] })], DEFAULT_GATE_CONFIG);
    expect(r.exitCode).toBe(ExitCode.ok);
    expect(statusOf(r.checks).speed).toBe('inconclusive');
    const strict = parseGateConfig({ speed: { failOnInconclusive: true } }, 'gate.json');
    expect(runGate([rec({ times: [1000, 1001] })], [rec({ times: [2000, 2001] })], strict).exitCode).toBe(ExitCode.failed);
  });

  it('gates a stage instead of the total when configured', () => {
    const cfg = parseGateConfig({ speed: { metric: 'write' } }, 'gate.json');
    const r = runGate([rec({ times: base })], [rec({ times: slow })], cfg);
    expect(r.checks.map((c) => c.name)).toContain('speed.write');
  });

  it('fails memory above the limit or budget, growth beyond the threshold, and a Memory crash', () => {
    const limits = { memoryBytes: 1_700_000_000 };
    const over = runGate([rec({ times: base, limits })], [rec({ times: base, limits, peaks: base.map(() => 1.8e9) })], DEFAULT_GATE_CONFIG);
    expect(over.checks.find((c) => c.name === 'memory.limit')!.message).toBe("peak 1.8 GB above the target's memory limit of 1.7 GB");
    expect(statusOf(over.checks)['memory.growth']).toBe('fail');
    const budget = parseGateConfig({ memory: { budgetBytes: 250e6, maxGrowth: 0.5 } }, 'gate.json');
    expect(statusOf(runGate([rec({ times: base })], [rec({ times: base })], budget).checks)).toMatchObject({ 'memory.limit': 'fail', 'memory.growth': 'pass' });
    const oom = runGate([rec({ times: base })], [rec({ status: 'oom' })], DEFAULT_GATE_CONFIG);
    expect(statusOf(oom.checks)).toMatchObject({ run: 'fail', 'memory.limit': 'fail' });
    expect(oom.checks.find((c) => c.name === 'run')!.message).toMatch(/Memory crash/);
  });

  it('applies the accuracy rules: RMSE ceiling and tolerance, F2 floor and tolerance, accuracy dropped', () => {
    const acc = (rmse: Record<string, number>, f2: number) => ({ ac: { rmse }, sc: { f2: { cloudOrShadow: f2 } } });
    const cfg = parseGateConfig({ accuracy: { rmseMax: { B09: 0.03 }, f2Min: 0.9 } }, 'gate.json');
    const r = runGate(
      [rec({ times: base, accuracy: acc({ B02: 0.0135, B09: 0.0333 }, 0.92) })],
      [rec({ times: base, accuracy: acc({ B02: 0.016, B09: 0.0334 }, 0.89) })],
      cfg,
    );
    const by = Object.fromEntries(r.checks.map((c) => [c.name, c]));
    expect(by['accuracy.rmse.B02'].status).toBe('fail');
    expect(by['accuracy.rmse.B02'].message).toBe("RMSE 0.0160 (baseline 0.0135): worse than the baseline's 0.0135 by more than 0.001");
    expect(by['accuracy.rmse.B09'].message).toMatch(/above the ceiling 0\.03$/);
    expect(by['accuracy.f2.cloudOrShadow'].message).toBe("F2 cloud or shadow 0.890 (baseline 0.920): below the floor 0.9, lower than the baseline's 0.920 by more than 0.01");
    const dropped = runGate([rec({ times: base, accuracy: acc({ B02: 0.01 }, 0.9) })], [rec({ times: base })], DEFAULT_GATE_CONFIG);
    expect(statusOf(dropped.checks)).toMatchObject({ 'accuracy.rmse': 'fail', 'accuracy.f2': 'fail' });
  });

  it('refuses different environments with exit 3 unless allowed, naming the difference', () => {
    const other = rec({ times: base, env: { cpuModel: 'Intel Atom E3950', cores: 4 } });
    const err = hilErrorOf(() => runGate([rec({ times: base })], [other], DEFAULT_GATE_CONFIG));
    expect(err.exitCode).toBe(ExitCode.notComparable);
    expect(err.oneLine()).toMatch(/different environments \(cpuModel AMD EPYC vs Intel Atom E3950; cores 2 vs 4\) — .*--allow-env-mismatch/);
    const allowed = runGate([rec({ times: base })], [other], DEFAULT_GATE_CONFIG, { allowEnvMismatch: true });
    expect(allowed.warnings).toHaveLength(1);
    expect(gateMarkdown(allowed)).toContain('Compared across environments');
  });

  it('refuses a mix of targets, published rows, and a baseline that never completed (exit 2)', () => {
    const mix = hilErrorOf(() => runGate([rec({ times: base })], [rec({ times: base, target: 'flatsat-emu' })], DEFAULT_GATE_CONFIG));
    expect(mix.exitCode).toBe(ExitCode.badInput);
    expect(mix.message).toMatch(/candidate flatsat-emu ac 60 m CPU, baseline local ac 60 m CPU has no counterpart/);
    expect(hilErrorOf(() => runGate(literatureRecords().slice(0, 1), [rec({})], DEFAULT_GATE_CONFIG)).message).toMatch(/published row/);
    expect(hilErrorOf(() => runGate([rec({ status: 'error' })], [rec({ times: base })], DEFAULT_GATE_CONFIG)).message).toMatch(/baseline .* has no completed repeats/);
  });
});

describe('gate config', () => {
  it('fills defaults and refuses unknown keys, naming the accepted ones', () => {
    expect(DEFAULT_GATE_CONFIG).toEqual({
      speed: { alpha: 0.01, minEffect: 0.05, metric: 'totalMs', failOnInconclusive: false },
      memory: { maxGrowth: 0.1 },
      accuracy: { rmseTolerance: 0.001, f2Tolerance: 0.01 },
    });
    expect(hilErrorOf(() => parseGateConfig({ speed: { alfa: 0.05 } }, 'gate.json')).oneLine()).toBe(
      'gate config gate.json has unknown key speed.alfa — use only speed.alpha, speed.minEffect, speed.metric, speed.failOnInconclusive',
    );
    expect(hilErrorOf(() => parseGateConfig({ sped: {} }, 'g.json')).oneLine()).toBe('gate config g.json has unknown key sped — use only speed, memory, accuracy');
    expect(hilErrorOf(() => parseGateConfig({ speed: { alpha: 2 } }, 'g.json')).message).toMatch(/invalid at speed\.alpha/);
  });
});

describe('JUnit output', () => {
  it('has a test case per check, failures and skips counted', () => {
    const r = runGate([rec({ times: base })], [rec({ times: slow.slice(0, 2) })], DEFAULT_GATE_CONFIG);
    const xml = gateJunit(r);
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="hil gate" tests="4" failures="0" skipped="1" errors="0">/);
    expect(xml).toContain('<testcase classname="hil.gate.local ac 60 m CPU" name="speed"><skipped message="inconclusive: ');
  });
});

describe('hil gate (CLI)', () => {
  const dir = tempDir('hil-gate-cli-');
  const write = (name: string, records: ResultRecord[]) => {
    const d = path.join(dir, name);
    mkdirSync(d, { recursive: true });
    for (const r of records) writeFileSync(path.join(d, `${r.id}.json`), JSON.stringify(r));
    return d;
  };
  const baseline = write('baseline', [rec({ times: base })]);
  const same = write('same', [rec({ times: base.map((t) => t + 1) })]);
  const slower = write('slower', [rec({ times: slow })]);
  const elsewhere = write('elsewhere', [rec({ times: base, env: { onnxruntime: '1.17.0' } })]);
  const empty = write('empty', []);

  it('exits 0 on a pass and 1 on a regression, with the Markdown summary, JSON and JUnit', () => {
    const ok = hil(['gate', '--baseline', baseline, '--candidate', same]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^## hil gate: pass/);
    const junit = path.join(dir, 'junit.xml');
    const bad = hil(['gate', '--baseline', baseline, '--candidate', slower, '--json', '--junit', junit]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ schema: 'hil.gate/1', verdict: 'regression' });
    expect(readFileSync(junit, 'utf8')).toContain('failures="1"');
  });

  it('exits 3 across environments unless --allow-env-mismatch', () => {
    const r = hil(['gate', '--baseline', baseline, '--candidate', elsewhere]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^hil: .*onnxruntime 1\.30\.0 vs 1\.17\.0/);
    expect(hil(['gate', '--baseline', baseline, '--candidate', elsewhere, '--allow-env-mismatch']).code).toBe(0);
  });

  it('exits 2 on bad input: empty folder, unknown gate config key, unreadable record', () => {
    expect(hil(['gate', '--baseline', baseline, '--candidate', empty])).toMatchObject({ code: 2, stderr: expect.stringMatching(/^hil: no candidate result records in/) });
    const cfg = path.join(dir, 'gate.json');
    writeFileSync(cfg, JSON.stringify({ memory: { maxGrowht: 0.2 } }));
    for (const flag of ['--config', '--gate-config']) {
      const r = hil(['gate', '--baseline', baseline, '--candidate', same, flag, cfg]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/unknown key memory\.maxGrowht — use only memory\.budgetBytes, memory\.maxGrowth/);
    }
    writeFileSync(path.join(empty, 'old.json'), JSON.stringify({ ...rec({}), schema: 'hil.result/0' }));
    expect(hil(['gate', '--baseline', baseline, '--candidate', empty]).stderr).toMatch(/candidate .*old\.json: written with schema hil\.result\/0/);
    expect(hil(['gate', '--baseline', baseline, '--candidate', same]).stderr).not.toMatch(/\n\s+at /);
  });
});
