import { ExitCode, HilError, inputError } from '../errors.js';
import { describeDifferences, environmentDifferences } from '../results/fingerprint.js';
import { comparisonKey } from '../results/query.js';
import type { ResultRecord } from '../results/schema.js';
import { accuracyChecks, memoryChecks, runCheck, speedCheck, type Check } from './checks.js';
import type { GateConfig } from './config.js';

export type GateVerdict = 'pass' | 'regression';

export interface GateResult {
  verdict: GateVerdict;
  exitCode: ExitCode;
  checks: Check[];
  /** Environment differences that were allowed through with --allow-env-mismatch. */
  warnings: string[];
  config: GateConfig;
}

function groups(records: readonly ResultRecord[]): Map<string, ResultRecord[]> {
  const m = new Map<string, ResultRecord[]>();
  for (const r of records) m.set(comparisonKey(r), [...(m.get(comparisonKey(r)) ?? []), r]);
  return m;
}

const hasSamples = (rs: readonly ResultRecord[]) => rs.some((r) => (r.status === 'ok' || r.status === 'partial') && r.samples.length > 0);

/**
 * Pairs baseline and candidate results by configuration and checks each pair for speed, memory and
 * accuracy. Throws HilError for what cannot be gated: published rows, configurations on one side only, a
 * baseline without samples (exit 2), or different environments (exit 3, unless allowed).
 */
export function runGate(baseline: readonly ResultRecord[], candidate: readonly ResultRecord[], config: GateConfig, opts: { allowEnvMismatch?: boolean } = {}): GateResult {
  for (const [side, rs] of [['baseline', baseline], ['candidate', candidate]] as const) {
    if (rs.length === 0) throw inputError(`the ${side} has no result records`, `point --${side} at a result file or a folder of them`);
    const lit = rs.find((r) => r.source === 'literature');
    if (lit) throw inputError(`the ${side} includes a published row (${lit.id})`, 'gate measured results only; published figures are for reports');
  }
  const b = groups(baseline);
  const c = groups(candidate);
  const onlyIn = (x: Map<string, unknown>, y: Map<string, unknown>) => [...x.keys()].filter((k) => !y.has(k));
  const unmatched = [...onlyIn(c, b).map((k) => `candidate ${k}`), ...onlyIn(b, c).map((k) => `baseline ${k}`)];
  if (unmatched.length) {
    throw inputError(
      `baseline and candidate measure different things: ${unmatched.join(', ')} has no counterpart (a gate compares the same target, scenario, resolution and devices)`,
      'select one configuration with --target, --scenario and --res, or measure the missing side',
    );
  }
  const warnings: string[] = [];
  const checks: Check[] = [];
  for (const [key, base] of b) {
    const cand = c.get(key)!;
    const ref = base[0];
    for (const r of [...base.slice(1), ...cand]) {
      const diffs = environmentDifferences(ref, r);
      if (diffs.length === 0) continue;
      const text = `${key}: ${ref.id} and ${r.id} ran in different environments (${describeDifferences(diffs)})`;
      if (!opts.allowEnvMismatch) {
        throw new HilError('not-comparable', text, 'measure both on the same machine and runtime, or pass --allow-env-mismatch to compare anyway', ExitCode.notComparable);
      }
      warnings.push(text);
    }
    if (!hasSamples(base)) throw inputError(`the baseline for ${key} has no completed repeats`, 'measure a baseline that completes (hil run --repeat N)');
    const run = runCheck(key, cand);
    checks.push(run);
    if (hasSamples(cand)) checks.push(speedCheck(key, base, cand, config.speed));
    checks.push(...memoryChecks(key, base, cand, config.memory), ...accuracyChecks(key, base, cand, config.accuracy));
  }
  const failed = checks.some((ch) => ch.status === 'fail');
  return { verdict: failed ? 'regression' : 'pass', exitCode: failed ? ExitCode.failed : ExitCode.ok, checks, warnings, config };
}
