import path from 'node:path';
import type { Command } from 'commander';
import { usageError } from '../errors.js';
import { buildUnetModelFile, UNET_PRESETS } from '../models/build-unet.js';
import { listModels, MANIFEST_DIRS, modelStatus } from '../models/registry.js';
import { BAND_SETS } from '../raster/bands.js';
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
  models
    .command('build')
    .description('Build a model as ONNX plus manifest into models/build/ (architectures: unet-mobilenetv2)')
    .argument('<architecture>', 'unet-mobilenetv2: the DTACSNet scene-classification network (MobileNetV2-UNet)')
    .option('--preset <name>', `bands and classes of a known model: ${Object.keys(UNET_PRESETS).join(', ')}`, 'dtacsnet')
    .option('--in-bands <list>', 'input bands in model order (comma list or a band set: l1c13, l2a12, rgbn)')
    .option('--classes <n>', 'output classes')
    .option('--weights <file.pt>', 'a segmentation_models_pytorch Unet state_dict (PyTorch zip); default: seeded synthetic weights (timing only)')
    .option('--seed <n>', 'seed of the synthetic weights', '1')
    .option('--id <id>', 'model id (default: <preset>-synthetic or <preset>-<weights file name>)')
    .option('--out <dir>', 'output folder', MANIFEST_DIRS[1])
    .action(async (architecture: string, flags: { preset: string; inBands?: string; classes?: string; weights?: string; seed: string; id?: string; out: string }) => {
      if (architecture !== 'unet-mobilenetv2') throw usageError(`unknown architecture ${architecture}`, 'use unet-mobilenetv2');
      const inBands = flags.inBands ? (BAND_SETS[flags.inBands] ? [...BAND_SETS[flags.inBands]] : flags.inBands.split(',').map((b) => b.trim())) : undefined;
      const classes = flags.classes === undefined ? undefined : Number(flags.classes);
      if (classes !== undefined && (!Number.isInteger(classes) || classes < 2)) throw usageError(`--classes ${flags.classes} is not an integer ≥ 2`, 'e.g. --classes 4');
      const seed = Number(flags.seed);
      if (!Number.isInteger(seed)) throw usageError(`--seed ${flags.seed} is not an integer`, 'e.g. --seed 1');
      const id = flags.id ?? `${flags.inBands ? 'unet' : flags.preset}-${flags.weights ? path.basename(flags.weights).replace(/\.[^.]+$/, '') : 'synthetic'}`;
      const result = await buildUnetModelFile({
        preset: flags.inBands ? undefined : flags.preset,
        inBands,
        classes,
        weights: flags.weights ? { kind: 'pt', file: flags.weights } : { kind: 'synthetic', seed },
        outDir: path.resolve(flags.out),
        id,
      });
      process.stdout.write(`built ${result.manifest.id} (${result.manifest.weights} weights): ${result.onnxPath}\nmanifest: ${result.manifestPath}\n`);
    });
}
