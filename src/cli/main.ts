#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ExitCode, HilError } from '../errors.js';
import { hilVersion } from '../results/environment.js';
import { registerCompare } from './compare.js';
import { registerBench } from './bench.js';
import { registerData } from './data.js';
import { registerGate } from './gate.js';
import { registerEval } from './eval.js';
import { registerModelVariant } from './model-variant.js';
import { registerModels } from './models.js';
import { addGlobalOptions } from './options.js';
import { registerReport } from './report.js';
import { registerRun } from './run.js';
import { registerSen2Cor } from './sen2cor.js';
import { registerTargets } from './targets.js';

// `hil … | head` closes the pipe early; that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const program = new Command();
program
  .name('hil')
  .description('Hardware-in-the-loop benchmarking and emulation harness for onboard Earth-observation models')
  .version(hilVersion())
  .exitOverride()
  .configureOutput({ outputError: (str, write) => write(str) });

addGlobalOptions(program);
registerRun(program);
registerSen2Cor(program);
registerReport(program);
registerTargets(program);
registerModels(program);
registerModelVariant(program);
registerBench(program);
registerData(program);
registerGate(program);
registerCompare(program);
registerEval(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = reportError(err);
}

function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // commander has already printed its message; help and version are not errors.
    return err.exitCode === 0 ? ExitCode.ok : ExitCode.badInput;
  }
  if (err instanceof HilError) {
    process.stderr.write(`hil: ${err.oneLine()}\n`);
    return err.exitCode;
  }
  process.stderr.write(`hil: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return ExitCode.internal;
}
