import path from 'node:path';
import type { Command } from 'commander';
import { usageError } from '../errors.js';
import { MANIFEST_DIRS, resolveModel, verifyModel } from '../models/registry.js';
import { buildVariant, FIXED_SIZES } from '../models/variants.js';
import { configFor } from './options.js';

interface VariantFlags {
  fp16?: boolean;
  size?: string;
  id?: string;
  out: string;
}

/** `hil models variant`: attached to the `models` verb, which must be registered first. */
export function registerModelVariant(program: Command): void {
  const models = program.commands.find((c) => c.name() === 'models');
  if (!models) throw new Error('registerModelVariant needs registerModels to run first');
  models
    .command('variant')
    .description('Build an FP16 and/or fixed-size variant of an ONNX model, with its manifest, into models/build/')
    .argument('<model>', 'model id or manifest file (hil models list)')
    .option('--fp16', 'store the weights as FP16 (what a Myriad-X runs), cast to float32 at use')
    .option('--size <px>', `fix the input side, as the authors' exports (${FIXED_SIZES.join(', ')})`)
    .option('--id <id>', 'id of the new build (default: <model>[-<size>][-fp16])')
    .option('--out <dir>', 'output folder', MANIFEST_DIRS[1])
    .action(async (ref: string, flags: VariantFlags, cmd: Command) => {
      const config = configFor(cmd);
      const size = flags.size === undefined ? undefined : Number(flags.size);
      if (size !== undefined && (!Number.isInteger(size) || size <= 0)) throw usageError(`--size ${flags.size} is not a positive integer`, `e.g. --size ${FIXED_SIZES[0]}`);
      const entry = resolveModel(ref, config.modelsDir);
      await verifyModel(entry, config.modelsDir);
      const r = await buildVariant(entry, { precision: flags.fp16 ? 'fp16' : undefined, size, id: flags.id, outDir: path.resolve(flags.out) });
      process.stdout.write(`built ${r.manifest.id} (${r.manifest.precision}${size ? `, ${size}×${size}` : ''}): ${r.modelPath}\nmanifest: ${r.manifestPath}\n`);
    });
}
