import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { configError } from '../errors.js';
import { L1C_BANDS, L2A_BANDS } from '../raster/bands.js';
import { ensureWritableDir, writeFileAtomic } from '../util/atomic.js';
import { ModelManifestSchema, type ModelManifest } from './manifest.js';
import { readPtStateDict } from './pt-import.js';
import { buildUnetMobilenetV2, UNET_INPUT, UNET_OUTPUT } from './unet-mobilenetv2.js';

/**
 * `hil models build`: writes a MobileNetV2-UNet scene-classification build (`<id>.onnx`) and its
 * manifest (`<id>.json`) side by side.
 */

export interface UnetPreset {
  bands: readonly string[];
  classes: number;
  /** Licence of the released weights of this model. */
  licence: string;
  description: string;
}

/**
 * Known band layouts of the smp Unet(mobilenet_v2) cloud detectors (spaceml-org/DTACSNet and
 * IPL-UV/cloudsen12_models `MODELS_CLOUDSEN12`). The CloudSEN12 weights come from the same authors as
 * DTACSNet's; their licence is taken to be the same CC-BY-NC-4.0.
 */
export const UNET_PRESETS: Record<string, UnetPreset> = {
  dtacsnet: { bands: L1C_BANDS, classes: 4, licence: 'CC-BY-NC-4.0', description: 'DTACSNet cloud detection (13 L1C bands)' },
  cloudsen12: { bands: L1C_BANDS, classes: 4, licence: 'CC-BY-NC-4.0', description: 'CloudSEN12 UNetMobV2 (13 L1C bands)' },
  cloudsen12l2a: { bands: L2A_BANDS, classes: 4, licence: 'CC-BY-NC-4.0', description: 'CloudSEN12 L2A model (12 L2A bands)' },
  dtacs4bands: { bands: ['B08', 'B04', 'B03', 'B02'], classes: 4, licence: 'CC-BY-NC-4.0', description: 'DTACS 4-band model (B08 B04 B03 B02)' },
  landsat30: {
    bands: ['B01', 'B02', 'B03', 'B04', 'B08', 'B10', 'B11', 'B12'],
    classes: 4,
    licence: 'CC-BY-NC-4.0',
    description: 'CloudSEN12 landsat30 model (8 bands shared by Sentinel-2 and Landsat 8/9, S2 names)',
  },
};

/** CloudSEN12 label order, the meaning of the 4 output channels. */
const CLOUDSEN12_CLASSES = ['clear', 'thick', 'thin', 'shadow'];

export interface BuildUnetFileOptions {
  preset?: string;
  /** Overrides the preset's bands (in model input order). */
  inBands?: string[];
  /** Overrides the preset's class count. */
  classes?: number;
  weights: { kind: 'synthetic'; seed: number } | { kind: 'pt'; file: string };
  outDir: string;
  id: string;
  opset?: number;
}

export interface BuildUnetFileResult {
  onnxPath: string;
  manifestPath: string;
  manifest: ModelManifest;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function resolveSpec(options: BuildUnetFileOptions): { bands: string[]; classes: number; preset?: UnetPreset; presetName?: string } {
  const presetName = options.preset ?? (options.inBands ? undefined : 'dtacsnet');
  const preset = presetName === undefined ? undefined : UNET_PRESETS[presetName];
  if (presetName !== undefined && !preset) {
    throw configError(`unknown model preset "${presetName}"`, `use one of ${Object.keys(UNET_PRESETS).join(', ')}, or give the bands and classes`);
  }
  const bands = options.inBands ?? [...preset!.bands];
  const classes = options.classes ?? preset?.classes ?? CLOUDSEN12_CLASSES.length;
  if (bands.length === 0 || new Set(bands).size !== bands.length) {
    throw configError(`model bands must be a non-empty list without repeats (got ${bands.join(' ') || 'none'})`, 'list each input band once, in model order');
  }
  if (!Number.isInteger(classes) || classes < 1) throw configError(`class count ${classes} is not a positive integer`, 'give --classes as a whole number');
  return { bands, classes, preset, presetName };
}

export async function buildUnetModelFile(options: BuildUnetFileOptions): Promise<BuildUnetFileResult> {
  const idCheck = ModelManifestSchema.shape.id.safeParse(options.id);
  if (!idCheck.success) throw configError(`model id "${options.id}" is not valid`, 'ids use letters, digits, _ . - only');
  const { bands, classes, preset, presetName } = resolveSpec(options);
  const w = options.weights;

  let bytes: Uint8Array;
  let provenance: string;
  if (w.kind === 'synthetic') {
    bytes = buildUnetMobilenetV2({ inBands: bands, classes, weights: { kind: 'synthetic', seed: w.seed }, opset: options.opset });
    provenance = `built by hil: smp Unet(mobilenet_v2) as in DTACSNet CDmodel_512, seeded synthetic weights (seed ${w.seed}); timing only`;
  } else {
    const tensors = await readPtStateDict(w.file);
    bytes = buildUnetMobilenetV2({ inBands: bands, classes, weights: { kind: 'state-dict', tensors }, opset: options.opset });
    const ptHash = sha256(await fs.readFile(w.file));
    provenance = `built by hil from ${path.basename(w.file)} (sha256 ${ptHash}), batch norm folded into the convolutions`;
  }

  const manifest = ModelManifestSchema.parse({
    schema: 'hil.model/1',
    id: options.id,
    task: 'sc',
    format: 'onnx',
    file: `${options.id}.onnx`,
    sha256: sha256(bytes),
    precision: 'fp32',
    inputName: UNET_INPUT,
    outputName: UNET_OUTPUT,
    inputBands: bands,
    classes: classes === CLOUDSEN12_CLASSES.length ? CLOUDSEN12_CLASSES : Array.from({ length: classes }, (_v, i) => `class${i}`),
    scale: 10000,
    spatial: { kind: 'dynamic', multipleOf: 32 },
    patchSize: 512,
    overlap: 32,
    padding: 'reflect',
    weights: w.kind === 'synthetic' ? 'synthetic' : 'real',
    licence:
      w.kind === 'synthetic'
        ? 'Apache-2.0 (synthetic weights generated by hil)'
        : (preset?.licence ?? 'unknown: the weights come from the given .pt file; check its source'),
    provenance,
    description: `${preset?.description ?? `MobileNetV2-UNet, ${bands.length} bands`}${presetName ? ` [preset ${presetName}]` : ''}; ${classes} classes`,
  });

  await ensureWritableDir(options.outDir);
  const onnxPath = path.join(options.outDir, `${options.id}.onnx`);
  const manifestPath = path.join(options.outDir, `${options.id}.json`);
  // The model goes first: a manifest never points at a file that is not there yet.
  await writeFileAtomic(onnxPath, bytes);
  await writeFileAtomic(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return { onnxPath, manifestPath, manifest };
}
