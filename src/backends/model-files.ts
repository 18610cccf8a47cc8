import { existsSync } from 'node:fs';
import { modelError } from '../errors.js';
import type { ModelManifest } from '../models/manifest.js';
import type { IrModel } from '../models/openvino-ir.js';

/** Which files a model build is, and whether an IR holds what its manifest says: shared by openvino and exec. */

export interface ModelFiles {
  model: string;
  /** The IR weights; absent for ONNX, which OpenVINO reads as one file. */
  weights?: string;
}

/** An IR build is two files: the manifest names the .xml, and its .bin must sit beside it. */
export function modelFiles(manifest: ModelManifest, modelPath: string): ModelFiles {
  if (manifest.format !== 'openvino-ir') return { model: modelPath };
  if (!modelPath.endsWith('.xml')) {
    throw modelError(`OpenVINO IR model ${manifest.id} points at ${modelPath}, not an .xml file`, 'set "file" in the manifest to the IR .xml (its .bin beside it)');
  }
  const weights = `${modelPath.slice(0, -'.xml'.length)}.bin`;
  if (!existsSync(weights)) {
    throw modelError(`OpenVINO IR model ${manifest.id} has no weights file ${weights}`, 'copy the .bin that came with the .xml next to it (same name)');
  }
  return { model: modelPath, weights };
}

const IR_PRECISION: Record<string, ModelManifest['precision']> = { f16: 'fp16', f32: 'fp32' };

/**
 * The precision of an IR's weights: the element type of its floating-point constants. Model Optimizer's
 * FP16 IRs keep f16 constants behind Convert layers and f32 inputs, so the input type says nothing.
 */
export function irWeightPrecision(ir: IrModel): ModelManifest['precision'] | undefined {
  const types = new Set(ir.layers.filter((l) => l.type === 'Const').map((l) => IR_PRECISION[l.data.element_type ?? '']).filter(Boolean));
  if (types.has('fp16')) return 'fp16';
  return types.has('fp32') ? 'fp32' : undefined;
}

/** The manifest must say what the IR holds: FP16 results are reported as FP16 and compared as such. */
export function checkIrPrecision(manifest: ModelManifest, ir: IrModel, source: string): void {
  const found = irWeightPrecision(ir);
  if (found && found !== manifest.precision) {
    throw modelError(
      `model ${manifest.id} says precision ${manifest.precision}, but the IR ${source} holds ${found} weights`,
      `set "precision": "${found}" in its manifest`,
    );
  }
}
