import { Command } from 'commander';
import { usageError } from '../errors.js';
import { BAND_SETS, RESOLUTIONS, TILE_SIZE_PX, parseResolution } from '../raster/bands.js';
import { writeSyntheticTile } from '../raster/synth.js';
import { intOption } from '../util/int-option.js';
import { createProgress } from './progress.js';

interface SynthFlags {
  res: string;
  size?: string;
  bands: string;
  seed: string;
  out: string;
  json?: boolean;
}

export function registerData(program: Command): void {
  const data = program.command('data').description('Prepare input data');
  data
    .command('synth')
    .description('Write a deterministic synthetic Sentinel-2 L1C GeoTIFF (uint16, tiled, deflate, UTM)')
    .requiredOption('--res <m>', `resolution in metres: ${RESOLUTIONS.join(', ')}`)
    .option('--size <px>', 'side in pixels (default: a full tile at --res, e.g. 10980 at 10 m)')
    .option('--bands <set>', `band set (${Object.keys(BAND_SETS).join(', ')}) or comma-separated names`, 'l1c13')
    .option('--seed <n>', 'seed; the same seed and flags give a byte-identical file', '1')
    .requiredOption('--out <file>', 'output GeoTIFF')
    .option('--json', 'print progress and the result as JSON lines')
    .action(async (flags: SynthFlags) => {
      const res = parseResolution(flags.res);
      const size = flags.size === undefined ? TILE_SIZE_PX[res] : intOption('--size', flags.size, 1, 1024);
      const seed = parseSeed(flags.seed);
      const bands = BAND_SETS[flags.bands] ?? flags.bands.split(',').map((b) => b.trim());
      const progress = createProgress({ json: flags.json === true });
      const started = performance.now();
      let result;
      try {
        result = await writeSyntheticTile({ out: flags.out, res, size, bands, seed, onProgress: (d, t) => progress.update('synth', d, t) });
      } finally {
        progress.stop();
      }
      const seconds = Math.round((performance.now() - started) / 100) / 10;
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ ev: 'done', result: { ...result, res, seed, seconds } })}\n`);
      } else {
        process.stdout.write(`${result.path}: ${result.width}×${result.height} px at ${res} m, ${result.bands.length} bands (${result.bands.join(' ')}), seed ${seed}, ${seconds} s\n`);
      }
    });
}

function parseSeed(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 0xffffffff) throw usageError(`--seed ${text} is not an integer in 0..4294967295`, 'pass e.g. --seed 42');
  return Number(text);
}
