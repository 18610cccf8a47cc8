import type { Command } from 'commander';
import { usageError } from '../errors.js';
import type { ResultQuery } from '../results/query.js';

/** Flags that select result records, shared by the verbs that read them. */
export interface QueryFlags {
  target?: string;
  scenario?: string;
  model?: string;
  res?: string;
  gitSha?: string;
}

const OPTIONS: Record<keyof QueryFlags, [flags: string, description: string]> = {
  target: ['--target <name>', 'only records of this target'],
  scenario: ['--scenario <name>', 'only records of this scenario: sc, ac or both'],
  model: ['--model <id>', 'only records using this model (either stage)'],
  res: ['--res <m>', 'only records at this resolution in metres'],
  gitSha: ['--git-sha <sha>', 'only records measured with this harness commit (a prefix is enough)'],
};

/** Adds the selection flags; a verb that compares builds or models leaves those out. */
export function registerQueryOptions(cmd: Command, which: readonly (keyof QueryFlags)[] = ['target', 'scenario', 'model', 'res', 'gitSha']): Command {
  for (const key of which) cmd.option(...OPTIONS[key]);
  return cmd;
}

export function queryFromFlags(flags: QueryFlags): ResultQuery {
  const q: ResultQuery = {};
  if (flags.target) q.target = flags.target;
  if (flags.scenario) {
    if (!['sc', 'ac', 'both'].includes(flags.scenario)) throw usageError(`unknown scenario "${flags.scenario}"`, 'use --scenario sc, ac or both');
    q.scenario = flags.scenario as ResultQuery['scenario'];
  }
  if (flags.model) q.model = flags.model;
  if (flags.res) {
    const res = Number(flags.res);
    if (!Number.isFinite(res) || res <= 0) throw usageError(`--res ${flags.res} is not a resolution`, 'give metres, e.g. --res 10');
    q.res = res;
  }
  if (flags.gitSha) q.gitSha = flags.gitSha;
  return q;
}
