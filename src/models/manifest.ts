import { z } from 'zod';

/**
 * A model build: a file plus what the harness must know to run it fairly. The manifest is the single
 * source of truth for pre/post-processing, so the runner never guesses scaling or band order.
 */
export const ModelManifestSchema = z
  .object({
    schema: z.literal('hil.model/1'),
    id: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'ids use letters, digits, _ . -'),
    task: z.enum(['sc', 'ac']),
    /** `builtin` models have no file: the runner implements them (e.g. the no-correction baseline). */
    format: z.enum(['onnx', 'openvino-ir', 'builtin']),
    /** The model file; absent for builtin models. */
    file: z.string().optional(),
    /**
     * What `file` is relative to: the manifest's own folder (generated builds, user manifests), or the
     * models directory (--models-dir / HIL_MODELS_DIR) for downloaded weights that hil may not redistribute.
     */
    fileRoot: z.enum(['manifest', 'modelsDir']).default('manifest'),
    sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
    precision: z.enum(['fp32', 'fp16']).default('fp32'),
    inputName: z.string().optional(),
    outputName: z.string().optional(),
    inputBands: z.array(z.string()).min(1),
    /** AC: output band names. SC: absent (outputs are class logits). */
    outputBands: z.array(z.string()).optional(),
    /** SC: class names by output channel, e.g. clear, thick, thin, shadow. */
    classes: z.array(z.string()).optional(),
    /** Input DN are divided by this to get reflectance; AC outputs are multiplied by it. */
    scale: z.number().positive().default(10000),
    /** AC output is clamped to this reflectance range before quantisation. */
    clamp: z.tuple([z.number(), z.number()]).optional(),
    spatial: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('dynamic'), multipleOf: z.number().int().positive().default(1) }),
      z.object({ kind: z.literal('fixed'), height: z.number().int().positive(), width: z.number().int().positive() }),
    ]),
    /** Default patch side in pixels, and overlap between neighbouring patches (per side). */
    patchSize: z.number().int().positive(),
    overlap: z.number().int().nonnegative().default(0),
    /** How patches at the image border are padded. */
    padding: z.enum(['reflect', 'zero']).default('reflect'),
    weights: z.enum(['real', 'synthetic']),
    licence: z.string(),
    provenance: z.string(),
    description: z.string().optional(),
  })
  .superRefine((m, ctx) => {
    if (m.format !== 'builtin' && (!m.file || !m.sha256)) {
      ctx.addIssue({ code: 'custom', message: `an ${m.format} model needs "file" and "sha256"` });
    }
    if (m.task === 'ac' && !m.outputBands) ctx.addIssue({ code: 'custom', message: 'an ac model needs "outputBands"' });
    if (m.task === 'sc' && !m.classes) ctx.addIssue({ code: 'custom', message: 'an sc model needs "classes"' });
    if (m.overlap * 2 >= m.patchSize) {
      ctx.addIssue({ code: 'custom', message: `overlap ${m.overlap} must be less than half the patch size ${m.patchSize}` });
    }
  });

export type ModelManifest = z.infer<typeof ModelManifestSchema>;
export type ModelManifestInput = z.input<typeof ModelManifestSchema>;
