import type { Command } from 'commander';
import { listModels, modelStatus } from '../models/registry.js';
import { configFor } from './options.js';
import { textTable } from './table.js';

export function registerModels(program: Command): void {
  const models = program.command('models').description('Model builds: manifests, files and checksums');
  models
    .command('list')
    .description('List known model builds and whether each file is present with the right sha256')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }, cmd: Command) => {
      const config = configFor(cmd);
      const entries = listModels(config.modelsDir);
      const statuses = await Promise.all(entries.map((e) => modelStatus(e)));
      if (flags.json) {
        const out = entries.map((e, i) => ({ ...e.manifest, manifestPath: e.manifestPath, filePath: e.filePath ?? null, ...statuses[i] }));
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        return;
      }
      const rows = entries.map((e, i) => {
        const m = e.manifest;
        const s = statuses[i];
        const file =
          m.format === 'builtin' ? 'builtin' : !s.present ? (e.filePath ? 'missing' : 'no models dir') : s.sha256Ok ? 'ok' : 'SHA256 MISMATCH';
        const bands = `${m.inputBands.length} in → ${m.task === 'ac' ? `${m.outputBands?.length} out` : `${m.classes?.length} classes`}`;
        return [m.id, m.task, m.format, bands, m.weights, file];
      });
      process.stdout.write(`${textTable(['ID', 'TASK', 'FORMAT', 'BANDS', 'WEIGHTS', 'FILE'], rows)}\n`);
      if (!config.modelsDir) process.stdout.write('\n(no models directory: pass --models-dir or set HIL_MODELS_DIR to check downloaded weights)\n');
    });
}
