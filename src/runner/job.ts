import { z } from 'zod';
import { PERFORMANCE_HINTS } from '../backends/backend.js';
import { ExecToolSchema } from '../backends/exec-tool.js';
import { ModelManifestSchema } from '../models/manifest.js';

/**
 * What the coordinator asks the runner to do. It is self-contained (absolute paths, full manifests) so the
 * same file works on a remote board after deployment, where the coordinator's config does not exist.
 */
export const ScenarioNameSchema = z.enum(['sc', 'ac', 'both']);
export type ScenarioName = z.infer<typeof ScenarioNameSchema>;

export const JobModelSchema = z.object({
  manifest: ModelManifestSchema,
  /** Absolute path of the model file on the machine that runs the job; absent for builtin models. */
  path: z.string().optional(),
  backend: z.enum(['onnxruntime', 'openvino', 'exec', 'builtin']).default('onnxruntime'),
  device: z.string().default('CPU'),
  /** The tool and its command template, for a device the profile serves with the exec backend. */
  exec: ExecToolSchema.optional(),
  /** OpenVINO's PERFORMANCE_HINT; the default is LATENCY, as a per-tile pipeline runs one request at a time. */
  performanceHint: z.enum(PERFORMANCE_HINTS).optional(),
});
export type JobModel = z.infer<typeof JobModelSchema>;

export const JobSchema = z.object({
  schema: z.literal('hil.job/1'),
  scenario: ScenarioNameSchema,
  input: z.object({
    path: z.string(),
    /** Band names in file order, where the file does not carry band descriptions. */
    bands: z.array(z.string()).optional(),
    /**
     * reflectance = (DN + offset) × scale, the order of the Sentinel-2 metadata and of the dataset
     * manifests (src/metrics/scaling.ts): L1C before baseline 04.00 is { scale: 1e-4, offset: 0 }.
     */
    scale: z.number().positive().default(1e-4),
    offset: z.number().default(0),
    nodata: z.number().optional(),
  }),
  models: z.object({ sc: JobModelSchema.optional(), ac: JobModelSchema.optional() }),
  output: z.object({
    /** Final paths of the outputs; the runner writes temporaries beside them and renames at the end. */
    sc: z.string().optional(),
    ac: z.string().optional(),
    /** Skip writing outputs (the inference-floor benchmark); timings then cover read + infer only. */
    discard: z.boolean().default(false),
  }),
  engine: z
    .object({
      /** Model input side in pixels; defaults to the models' manifests. */
      patchSize: z.number().int().positive().optional(),
      overlap: z.number().int().nonnegative().optional(),
      batch: z.number().int().positive().default(1),
      intraOpThreads: z.number().int().nonnegative().default(0),
      interOpThreads: z.number().int().nonnegative().default(0),
      /** Output deflate: level 1 and run-length-only matching keep encoding cheap next to inference (README). */
      compressionLevel: z.number().int().min(0).max(9).default(1),
      deflateStrategy: z.enum(['default', 'huffman', 'rle']).default('rle'),
      predictor: z.union([z.literal(1), z.literal(2)]).default(2),
      /** Batches the input threads may prepare ahead of inference (windows read, model inputs filled); bounds memory. */
      prefetch: z.number().int().positive().default(2),
      /** Batches in inference at once, beyond the one being prepared; bounds memory. */
      inflight: z.number().int().positive().default(1),
      /** Output tiles whose compression and write may be in flight at once; bounds memory. */
      writeQueue: z.number().int().positive().default(4),
      memSampleMs: z.number().int().positive().default(250),
      /** 'idle': the input threads, post-processing and writing run only where inference leaves a core free (src/runner/thread-priority.ts). */
      ioPriority: z.enum(['idle', 'normal']).default('idle'),
      /**
       * The inference floor (`runner --floor`) over part `index` of `of` equal parts of the batches only:
       * bench:tile runs one half before the end-to-end run and the other after, so that a machine
       * speeding up or slowing down between them weighs on both sides of the ratio alike.
       */
      floorPart: z
        .object({ index: z.number().int().nonnegative(), of: z.number().int().positive() })
        .refine((p) => p.index < p.of, { message: 'floorPart.index must be below floorPart.of' })
        .optional(),
    })
    .default({
      batch: 1,
      intraOpThreads: 0,
      interOpThreads: 0,
      compressionLevel: 1,
      deflateStrategy: 'rle',
      predictor: 2,
      prefetch: 2,
      inflight: 1,
      writeQueue: 4,
      memSampleMs: 250,
      ioPriority: 'idle',
    }),
});
export type Job = z.infer<typeof JobSchema>;
export type JobInput = z.input<typeof JobSchema>;
