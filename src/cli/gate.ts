import type { Command } from 'commander';
import { inputError } from '../errors.js';
import { DEFAULT_GATE_CONFIG, loadGateConfig } from '../gate/config.js';
import { runGate } from '../gate/gate.js';
import { gateJson, gateJunit, gateMarkdown } from '../gate/output.js';
import { queryResults } from '../results/query.js';
import { loadResults } from '../results/store.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { GlobalOptions } from './options.js';
import { queryFromFlags, registerQueryOptions, type QueryFlags } from './query-flags.js';

interface GateFlags extends QueryFlags {
  baseline: string[];
  candidate: string[];
  gateConfig?: string;
  allowEnvMismatch?: boolean;
  junit?: string;
  json?: boolean;
}

/** Loads one side; a file that cannot be read is an error here, since a gate must not quietly ignore runs. */
function side(name: 'baseline' | 'candidate', paths: string[], flags: GateFlags) {
  const { records, skipped } = loadResults(paths);
  if (skipped.length) {
    const s = skipped[0];
    throw inputError(`${name} ${s.file}: ${s.reason}${skipped.length > 1 ? ` (and ${skipped.length - 1} more)` : ''}`, `give --${name} only hil.result/1 records`);
  }
  const selected = queryResults(records, queryFromFlags(flags));
  if (selected.length === 0) {
    throw inputError(
      records.length ? `no ${name} record in ${paths.join(', ')} matches the filters` : `no ${name} result records in ${paths.join(', ')}`,
      records.length ? 'loosen --target/--scenario/--res/--model' : `run \`hil run --out DIR\` and pass --${name} DIR`,
    );
  }
  return selected;
}

export function registerGate(program: Command): void {
  const cmd = program
    .command('gate')
    .description('Fail on a regression of a candidate against a baseline: speed (Mann–Whitney U), memory, accuracy')
    .requiredOption('--baseline <paths...>', 'baseline result files or folders')
    .requiredOption('--candidate <paths...>', 'candidate result files or folders')
    .option('--gate-config <file>', 'gate.json with speed/memory/accuracy thresholds (unknown keys are refused); the gate reads no hil.config.json, so --config <file> means this too')
    .option('--allow-env-mismatch', 'compare results from different environments instead of refusing (exit 3)')
    .option('--junit <file>', 'also write the checks as JUnit XML')
    .option('--json', 'print the result as JSON instead of the Markdown summary');
  // Baseline and candidate differ in build and often in model, so only the configuration is selectable.
  registerQueryOptions(cmd, ['target', 'scenario', 'res']);
  cmd.addHelpText('after', '\nExit codes: 0 pass, 1 regression, 2 bad input, 3 results from different environments.');
  cmd.action(async (flags: GateFlags, c: Command) => {
    // --config is declared on the root program, so commander hands it to the globals, not to this verb.
    const file = flags.gateConfig ?? c.optsWithGlobals<GlobalOptions>().config;
    const config = file ? loadGateConfig(file) : DEFAULT_GATE_CONFIG;
    const result = runGate(side('baseline', flags.baseline, flags), side('candidate', flags.candidate, flags), config, { allowEnvMismatch: flags.allowEnvMismatch });
    if (flags.junit) await writeFileAtomic(flags.junit, gateJunit(result));
    process.stdout.write(flags.json ? gateJson(result) : gateMarkdown(result));
    process.exitCode = result.exitCode;
  });
}
