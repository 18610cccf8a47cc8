import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { modelError } from '../errors.js';
import { ensureWritableDir, writeFileAtomic } from '../util/atomic.js';
import { convertWeightsToFp16 } from './fp16.js';
import { ModelManifestSchema, type ModelManifest } from './manifest.js';
import type { OnnxModel, OnnxValueInfo } from './onnx-proto.js';
import { decodeModel, encodeModel } from './onnx-writer.js';
import type { ModelEntry } from './registry.js';

/** The sides the authors exported their fixed-size IRs at (CNN_corrector_{512,1024,2048}). */
export const FIXED_SIZES = [512, 1024, 2048] as const;

export interface VariantOptions {
  precision?: 'fp16';
  /** Fixed spatial side; the batch dimension stays dynamic. */
  size?: number;
  id?: string;
  outDir: string;
}

export interface VariantResult {
  manifest: ModelManifest;
  modelPath: string;
  manifestPath: string;
}

function fixSpatial(values: OnnxValueInfo[] | undefined, size: number, what: string): OnnxValueInfo[] {
  return (values ?? []).map((v) => {
    const dims = v.type?.tensorType?.shape?.dim;
    if (!dims || dims.length !== 4) throw modelError(`${what}: ${v.name} is not a 4-D NCHW tensor`, 'fixed-size builds need NCHW inputs and outputs');
    const fixed = dims.map((d, i) => {
      if (i < 2) return d;
      if (d.dimValue !== undefined && d.dimValue !== 0 && d.dimValue !== size) {
        throw modelError(`${what}: ${v.name} is already fixed to ${d.dimValue} px`, 'build fixed-size variants from the dynamic-size model');
      }
      return { dimValue: size };
    });
    return { ...v, type: { tensorType: { ...v.type!.tensorType, shape: { dim: fixed } } } };
  });
}

/** Fixes the input and output height and width, as the authors' 512/1024/2048 exports do. */
export function fixSpatialSize(model: OnnxModel, size: number, what: string): OnnxModel {
  if (!Number.isInteger(size) || size <= 0) throw modelError(`size ${size} is not a positive whole number of pixels`, `e.g. ${FIXED_SIZES.join(', ')}`);
  const graph = model.graph!;
  return { ...model, graph: { ...graph, input: fixSpatial(graph.input, size, what), output: fixSpatial(graph.output, size, what) } };
}

const CANNOT_HOLD: Record<string, string> = {
  builtin: 'builtin models have no weights file to convert',
  'openvino-ir': 'convert OpenVINO IR with OpenVINO itself (ovc --compress_to_fp16, or Model Optimizer --data_type FP16 in 2022.3), or build the FP16 variant from the ONNX model',
};

/** Writes an FP16 and/or fixed-size build of an ONNX model, with a manifest that says what it is. */
export async function buildVariant(source: ModelEntry, opts: VariantOptions): Promise<VariantResult> {
  const m = source.manifest;
  if (m.format !== 'onnx') throw modelError(`cannot make a variant of ${m.format} model ${m.id}`, CANNOT_HOLD[m.format]);
  if (!opts.precision && opts.size === undefined) throw modelError('a variant needs --fp16, --size or both', `e.g. --fp16 --size ${FIXED_SIZES[0]}`);
  if (opts.precision === 'fp16' && m.precision === 'fp16') throw modelError(`model ${m.id} is already FP16`, 'build the variant from the FP32 model');
  if (opts.size !== undefined && m.task === 'sc' && m.spatial.kind === 'dynamic' && opts.size % m.spatial.multipleOf !== 0) {
    throw modelError(`model ${m.id} needs sides divisible by ${m.spatial.multipleOf}, not ${opts.size}`, `use a multiple of ${m.spatial.multipleOf}`);
  }
  if (!source.filePath) throw modelError(`model ${m.id} has no file here`, 'pass --models-dir DIR or set HIL_MODELS_DIR');
  const bytes = await fs.readFile(source.filePath).catch(() => {
    throw modelError(`cannot read ${source.filePath}`, 'check the model file is present (hil models list)');
  });
  const sourceSha = createHash('sha256').update(bytes).digest('hex');
  let model = decodeModel(bytes, source.filePath);
  const notes: string[] = [];
  if (opts.size !== undefined) {
    model = fixSpatialSize(model, opts.size, m.id);
    notes.push(`input fixed to ${opts.size}×${opts.size} px (batch dynamic)`);
  }
  if (opts.precision === 'fp16') {
    const r = convertWeightsToFp16(model, m.id);
    model = r.model;
    notes.push(`${r.values} float32 weights in ${r.tensors} tensors rounded to FP16 (nearest even), cast to float32 at use; inputs, outputs and arithmetic float32`);
  }
  const id = opts.id ?? [m.id, opts.size, opts.precision].filter((p) => p !== undefined).join('-');
  const out = encodeModel(model);
  const manifest = ModelManifestSchema.parse({
    ...m,
    id,
    file: `${id}.onnx`,
    fileRoot: 'manifest',
    sha256: createHash('sha256').update(out).digest('hex'),
    precision: opts.precision ?? m.precision,
    ...(opts.size !== undefined ? { spatial: { kind: 'fixed', width: opts.size, height: opts.size }, patchSize: opts.size } : {}),
    provenance: `variant built by hil from ${m.id} (${path.basename(source.filePath)}, sha256 ${sourceSha}): ${notes.join('; ')}. Source: ${m.provenance}`,
  });
  await ensureWritableDir(opts.outDir);
  const modelPath = path.join(opts.outDir, `${id}.onnx`);
  const manifestPath = path.join(opts.outDir, `${id}.json`);
  // The model goes first: a manifest never points at a file that is not there yet.
  await writeFileAtomic(modelPath, out);
  await writeFileAtomic(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return { manifest, modelPath, manifestPath };
}
