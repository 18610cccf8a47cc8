import { createHash } from 'node:crypto';
import path from 'node:path';
import { modelError } from '../errors.js';
import { canonicalBand } from '../raster/bands.js';
import { ensureWritableDir, writeFileAtomic } from '../util/atomic.js';
import { ModelManifestSchema, type ModelManifest } from './manifest.js';
import { attr, encodeModel, OnnxGraphBuilder } from './onnx-writer.js';

/**
 * A baseline cloud classifier in the spirit of s2cloudmask's spectral pixel classifier: per-pixel rules on
 * derived spectral features instead of a trained network, compiled to an ONNX graph so it runs through the
 * same backend and runner as DTACSNet. It exists to put a floor under the learned models' F2 scores.
 *
 * Features (reflectance):
 *   mean      = (B02 + B03 + B04) / 3                      visible brightness
 *   whiteness = (|B02 − mean| + |B03 − mean| + |B04 − mean|) / mean   flat spectrum (Fmask, Zhu & Woodcock 2012)
 *   hot       = B02 − 0.5·B04 − 0.08                      haze-optimised transform (Zhang et al. 2002; Fmask's HOT test)
 *   ndsi      = (B03 − B11) / (B03 + B11)                  snow is high, cloud low
 *   ndvi      = (B08 − B04) / (B08 + B04)
 *
 * The first rule whose tests all pass gives the class (thick, then thin, then shadow); otherwise clear.
 * The rules adapt to the bands: with B08, B11 and B12 the cloud rules add Fmask's basic test
 * (B12 > 0.03, ndsi < 0.8, ndvi < 0.8, which keeps snow and bright vegetation out) and shadow is a pixel
 * dark in NIR and SWIR that is still vegetated or soil (ndvi > 0.1, so water is not shadow). With the visible
 * bands only (CloudSEN12 RGB chips) shadow can only be "visibly dark", which also catches dark ground.
 * Thresholds from Fmask where it has one (whiteness 0.7, HOT > 0, B12 0.03, NDSI/NDVI 0.8); the brightness
 * and darkness thresholds (0.3 / 0.15 / 0.1, NIR 0.15, SWIR 0.12) were read off the feature histograms of
 * the CloudSEN12 ROI_1746 and ukis-csmask chips, so F2 on those chips is an in-sample, optimistic number.
 */

export type FeatureName = 'mean' | 'whiteness' | 'hot' | 'ndsi' | 'ndvi' | 'B08' | 'B11' | 'B12';

export interface RuleTest {
  feature: FeatureName;
  op: '>' | '<';
  value: number;
}

/** Tests per class; a class matches when all its tests pass. Priority: thick, thin, shadow, else clear. */
export interface CloudRuleSet {
  /** Model input bands, in this order. */
  bands: readonly string[];
  thick: readonly RuleTest[];
  thin: readonly RuleTest[];
  shadow: readonly RuleTest[];
}

const VISIBLE = ['B02', 'B03', 'B04'] as const;
const SWIR_BANDS = ['B08', 'B11', 'B12'] as const;

const CLOUD_CORE: RuleTest[] = [
  { feature: 'hot', op: '>', value: 0 },
  { feature: 'whiteness', op: '<', value: 0.7 },
];
const FMASK_BASIC: RuleTest[] = [
  { feature: 'B12', op: '>', value: 0.03 },
  { feature: 'ndsi', op: '<', value: 0.8 },
  { feature: 'ndvi', op: '<', value: 0.8 },
];

/** The rule set for the bands a model build takes: visible-only, or visible + NIR + SWIR. */
export function cloudRulesFor(bands: readonly string[]): CloudRuleSet {
  const canon = bands.map((b) => canonicalBand(b) ?? b);
  const missing = VISIBLE.filter((b) => !canon.includes(b));
  if (missing.length > 0) {
    throw modelError(`the baseline cloud classifier needs ${missing.join(', ')} (got ${canon.join(' ')})`, 'give it at least B02, B03 and B04');
  }
  if (SWIR_BANDS.every((b) => canon.includes(b))) {
    return {
      bands: canon,
      thick: [...CLOUD_CORE, ...FMASK_BASIC, { feature: 'mean', op: '>', value: 0.3 }],
      thin: [...CLOUD_CORE, ...FMASK_BASIC, { feature: 'mean', op: '>', value: 0.15 }],
      shadow: [
        { feature: 'B08', op: '<', value: 0.15 },
        { feature: 'B11', op: '<', value: 0.12 },
        { feature: 'ndvi', op: '>', value: 0.1 },
      ],
    };
  }
  return {
    bands: canon,
    thick: [...CLOUD_CORE, { feature: 'mean', op: '>', value: 0.3 }],
    thin: [...CLOUD_CORE, { feature: 'mean', op: '>', value: 0.15 }],
    shadow: [{ feature: 'mean', op: '<', value: 0.1 }],
  };
}

/** The shipped builds: one per band set of the labelled data (CloudSEN12 RGB chips, ukis-csmask). */
export const BASELINE_CLOUD_BUILDS: Readonly<Record<string, readonly string[]>> = {
  'baseline-cloud-rgb': ['B02', 'B03', 'B04'],
  'baseline-cloud-6b': ['B02', 'B03', 'B04', 'B08', 'B11', 'B12'],
};

export const BASELINE_INPUT = 'input';
export const BASELINE_OUTPUT = 'scores';
const OPSET = 13;

/**
 * ONNX graph: `input` [batch, bands, h, w] reflectance → `scores` [batch, 4, h, w], a one-hot of
 * clear / thick / thin / shadow, so the runner's argmax yields the CloudSEN12 class codes.
 */
export function buildBaselineCloudOnnx(rules: CloudRuleSet): Uint8Array {
  const g = new OnnxGraphBuilder('baseline_cloud');
  const input = g.input(BASELINE_INPUT, ['batch', rules.bands.length, 'height', 'width']);
  const scalar = (name: string, v: number) => g.initializer(g.fresh(name), { dtype: 'float32', dims: [], data: Float32Array.of(v) });
  const int1 = (name: string, v: number) => g.initializer(g.fresh(name), { dtype: 'int64', dims: [1], data: [v] });
  const axis1 = int1('axis', 1);

  const bandCache = new Map<string, string>();
  const band = (name: string): string => {
    let v = bandCache.get(name);
    if (!v) {
      const i = rules.bands.indexOf(name);
      v = g.op('Slice', [input, int1(`${name}_from`, i), int1(`${name}_to`, i + 1), axis1], undefined, name);
      bandCache.set(name, v);
    }
    return v;
  };
  const normDiff = (a: string, b: string) => g.op('Div', [g.op('Sub', [band(a), band(b)]), g.op('Add', [band(a), band(b)])]);

  const featureCache = new Map<FeatureName, string>();
  const feature = (f: FeatureName): string => {
    const cached = featureCache.get(f);
    if (cached) return cached;
    let v: string;
    switch (f) {
      case 'mean':
        v = g.op('Div', [g.op('Add', [g.op('Add', [band('B02'), band('B03')]), band('B04')]), scalar('three', 3)]);
        break;
      case 'whiteness': {
        const m = feature('mean');
        const dev = (b: string) => g.op('Abs', [g.op('Sub', [band(b), m])]);
        v = g.op('Div', [g.op('Add', [g.op('Add', [dev('B02'), dev('B03')]), dev('B04')]), m]);
        break;
      }
      case 'hot':
        v = g.op('Sub', [g.op('Sub', [band('B02'), g.op('Mul', [band('B04'), scalar('half', 0.5)])]), scalar('hot_offset', 0.08)]);
        break;
      case 'ndsi':
        v = normDiff('B03', 'B11');
        break;
      case 'ndvi':
        v = normDiff('B08', 'B04');
        break;
      default:
        v = band(f);
    }
    featureCache.set(f, v);
    return v;
  };
  const conjunction = (tests: readonly RuleTest[]) =>
    tests
      .map((t) => g.op(t.op === '>' ? 'Greater' : 'Less', [feature(t.feature), scalar(`${t.feature}_limit`, t.value)]))
      .reduce((acc, b) => g.op('And', [acc, b]));

  // One-hot by priority: a class fires only where no earlier class did.
  let taken: string | undefined;
  const channels: string[] = [];
  for (const tests of [rules.thick, rules.thin, rules.shadow]) {
    const hit = conjunction(tests);
    const own = taken ? g.op('And', [hit, g.op('Not', [taken])]) : hit;
    channels.push(g.op('Cast', [own], { to: attr.int(1) }));
    taken = taken ? g.op('Or', [taken, hit]) : hit;
  }
  const clear = g.op('Cast', [g.op('Not', [taken!])], { to: attr.int(1) });
  g.node('Concat', [clear, ...channels], { attrs: { axis: attr.int(1) }, outputs: [BASELINE_OUTPUT] });
  g.output(BASELINE_OUTPUT, ['batch', 4, 'height', 'width']);
  return encodeModel(g.toModel({ opset: OPSET, docString: 'hil baseline cloud classifier: spectral rule set (see src/models/baseline-cloud.ts)' }));
}

export function baselineCloudManifest(id: string, rules: CloudRuleSet, bytes: Uint8Array): ModelManifest {
  const describe = (tests: readonly RuleTest[]) => tests.map((t) => `${t.feature} ${t.op} ${t.value}`).join(' and ');
  return ModelManifestSchema.parse({
    schema: 'hil.model/1',
    id,
    task: 'sc',
    format: 'onnx',
    file: `${id}.onnx`,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    precision: 'fp32',
    inputName: BASELINE_INPUT,
    outputName: BASELINE_OUTPUT,
    inputBands: [...rules.bands],
    classes: ['clear', 'thick', 'thin', 'shadow'],
    scale: 10000,
    spatial: { kind: 'dynamic', multipleOf: 1 },
    patchSize: 512,
    overlap: 0,
    padding: 'reflect',
    // The schema knows only real/synthetic; a rule set has no trained weights, but its outputs are meaningful
    // classifications, so accuracy applies: "real" is the closer of the two, and provenance says what it is.
    weights: 'real',
    licence: 'Apache-2.0 (part of hil)',
    provenance: 'rule set: hand-written spectral rules compiled to ONNX by hil (src/models/baseline-cloud.ts), no trained weights',
    description: `Baseline cloud classifier (s2cloudmask-style spectral rules, one-hot scores). thick: ${describe(rules.thick)}; thin: ${describe(rules.thin)}; shadow: ${describe(rules.shadow)}`,
  });
}

/**
 * Writes the shipped builds (ONNX + manifest) into `outDir`. The committed copies in models/ come from this:
 * after `npm run build`, `node -e "import('./dist/models/baseline-cloud.js').then((m) => m.writeBaselineCloudModels('models'))"`.
 */
export async function writeBaselineCloudModels(outDir: string): Promise<{ onnxPath: string; manifestPath: string; manifest: ModelManifest }[]> {
  await ensureWritableDir(outDir);
  const written = [];
  for (const [id, bands] of Object.entries(BASELINE_CLOUD_BUILDS)) {
    const rules = cloudRulesFor(bands);
    const bytes = buildBaselineCloudOnnx(rules);
    const manifest = baselineCloudManifest(id, rules, bytes);
    const onnxPath = path.join(outDir, `${id}.onnx`);
    const manifestPath = path.join(outDir, `${id}.json`);
    // The model goes first: a manifest never points at a file that is not there yet.
    await writeFileAtomic(onnxPath, bytes);
    await writeFileAtomic(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    written.push({ onnxPath, manifestPath, manifest });
  }
  return written;
}
