import type { Command } from 'commander';
import { findTarget } from '../config/config.js';
import { ExitCode } from '../errors.js';
import { checkFailed, checkTarget } from '../targets/check.js';
import { formatBytes } from '../report/format.js';
import type { TargetProfile } from '../targets/profile.js';
import { configFor } from './options.js';
import { textTable } from './table.js';

function transportText(t: TargetProfile): string {
  const tr = t.transport;
  const base = tr.kind === 'ssh' ? `ssh ${tr.user ? `${tr.user}@` : ''}${tr.host}${tr.port ? `:${tr.port}` : ''}` : 'local';
  return t.limits ? `${base} + cgroup` : base;
}

export function registerTargets(program: Command): void {
  const targets = program.command('targets').description('Target profiles: what the hardware is and how to reach it');
  targets
    .command('list')
    .description('List the target profiles (built-in, merged with hil.config.json)')
    .option('--json', 'print JSON')
    .action((flags: { json?: boolean }, cmd: Command) => {
      const config = configFor(cmd);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(config.targets, null, 2)}\n`);
        return;
      }
      const rows = config.targets.map((t) => [
        t.name,
        t.computer,
        t.cpus === null ? 'host' : String(t.cpus),
        t.memoryBytes === null ? 'host' : formatBytes(t.memoryBytes),
        t.devices.map((d) => d.name).join(','),
        transportText(t),
        t.limits?.memoryBytes ? formatBytes(t.limits.memoryBytes) : '-',
      ]);
      process.stdout.write(`${textTable(['NAME', 'COMPUTER', 'CPUS', 'RAM', 'DEVICES', 'TRANSPORT', 'MEM LIMIT'], rows)}\n`);
    });
  targets
    .command('show')
    .description('Show one target profile in full')
    .argument('<name>', 'target name')
    .action((name: string, _flags: unknown, cmd: Command) => {
      const t = findTarget(configFor(cmd), name);
      process.stdout.write(`${JSON.stringify(t, null, 2)}\n`);
    });
  targets
    .command('check')
    .description('Check that a target can run: reachability, auth and host key, runner, Node, onnxruntime, devices, limits, disk (exit 1 if any check fails)')
    .argument('<name>', 'target name')
    .option('--json', 'print JSON')
    .action(async (name: string, flags: { json?: boolean }, cmd: Command) => {
      const config = configFor(cmd);
      const rows = await checkTarget(findTarget(config, name), config.cacheDir);
      if (flags.json) process.stdout.write(`${JSON.stringify({ target: name, ok: !checkFailed(rows), checks: rows }, null, 2)}\n`);
      else process.stdout.write(`${textTable(['CHECK', 'STATUS', 'DETAIL'], rows.map((r) => [r.check, r.ok ? 'ok' : 'FAIL', r.detail]))}\n`);
      if (checkFailed(rows)) process.exitCode = ExitCode.failed;
    });
}
