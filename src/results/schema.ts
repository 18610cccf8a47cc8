import { z } from 'zod';
import { SchedulingSchema } from '../runner/events.js';

/**
 * `hil.result/1`: one record per `hil run` (all its repeats), and one per literature row. The same
 * definition validates what is written and what is read back, so reports never see a shape they don't know.
 */
export const RESULT_SCHEMA = 'hil.result/1';

const StageTimesSchema = z.record(z.string(), z.number());

export const SampleSchema = z.object({
  totalMs: z.number(),
  stages: StageTimesSchema,
  modelLoadMs: z.number(),
  firstInferenceMs: z.number(),
  peakRssBytes: z.number().int().nullable(),
  cgroupPeakBytes: z.number().int().nullable().optional(),
  /** How the runner scheduled reading and writing beside inference in this repeat. */
  scheduling: SchedulingSchema.optional(),
});
export type Sample = z.infer<typeof SampleSchema>;

const ModelRefSchema = z.object({
  id: z.string(),
  sha256: z.string().nullable(),
  weights: z.enum(['real', 'synthetic']),
  format: z.string(),
  precision: z.string(),
  device: z.string(),
  backend: z.string(),
  /** Threads the runtime was given for its CPU work; absent where it takes no count, and in records before session 13. */
  threads: z.number().int().optional(),
});

export const EnvironmentSchema = z.object({
  cpuModel: z.string(),
  cores: z.number().int(),
  memTotalBytes: z.number(),
  os: z.string(),
  kernel: z.string().optional(),
  arch: z.string().optional(),
  node: z.string(),
  onnxruntime: z.string().nullable(),
  hil: z.string(),
  gitSha: z.string().nullable(),
});
export type Environment = z.infer<typeof EnvironmentSchema>;

/** Per-call latency of one model on one device (`hil bench`); cold start is kept apart from the steady state. */
export const BenchResultSchema = z.object({
  patch: z.number().int(),
  batch: z.number().int(),
  /** Session creation and the first call; for an external tool, its model load and first call where it reports them. */
  cold: z.object({ sessionMs: z.number().nullable(), firstInferenceMs: z.number().nullable() }),
  steady: z.object({
    /** tinybench in the runner, or the external tool's own report (exec backends). */
    source: z.enum(['tinybench', 'tool']),
    iterations: z.number().int(),
    meanMs: z.number(),
    p50Ms: z.number(),
    p99Ms: z.number().nullable(),
    minMs: z.number().nullable(),
    maxMs: z.number().nullable(),
    /** Relative margin of error of the mean, percent (95 %); null where the tool reports no samples. */
    rmePct: z.number().nullable(),
    /** Input pixels per second at the mean latency, in millions. */
    mpxPerS: z.number(),
  }),
});
export type BenchResult = z.infer<typeof BenchResultSchema>;

export const ResultRecordSchema = z.object({
  schema: z.literal(RESULT_SCHEMA),
  id: z.string(),
  createdAt: z.string(),
  /** measured: by hil on real hardware; literature: a published figure, never to be mixed with measurements. */
  source: z.enum(['measured', 'literature']),
  /** ok: every repeat completed; partial: some did; error/oom: none did (oom prints as "Memory crash"). */
  status: z.enum(['ok', 'partial', 'error', 'oom']),
  error: z.object({ kind: z.string(), message: z.string() }).optional(),
  citation: z.string().optional(),
  /** Literature only: how the source table printed the figure (Table 1 bolds by its own rule, so it is copied). */
  published: z.object({ bold: z.boolean().optional() }).optional(),
  target: z.object({
    name: z.string(),
    computer: z.string(),
    transport: z.string(),
    cpus: z.number().nullable(),
    memoryBytes: z.number().nullable(),
    limits: z
      .object({
        memoryBytes: z.number().optional(),
        cpus: z.number().optional(),
        cpuset: z.string().optional(),
        note: z.string().optional(),
      })
      .optional(),
  }),
  scenario: z.object({
    name: z.enum(['sc', 'ac', 'both']),
    res: z.number(),
    /** Device per stage, e.g. { sc: 'MYRIAD', ac: 'CPU' }. */
    devices: z.record(z.string(), z.string()),
    /** Set on rows built from separate per-stage runs (Table 1's MYRIAD/CPU). */
    composite: z.boolean().optional(),
  }),
  input: z
    .object({
      path: z.string(),
      width: z.number().int(),
      height: z.number().int(),
      bands: z.array(z.string()),
      sha256: z.string().nullable(),
      synthetic: z.boolean(),
    })
    .optional(),
  models: z.object({ sc: ModelRefSchema.optional(), ac: ModelRefSchema.optional() }),
  /** Medians over the completed repeats; seconds-level literature figures carry totalMs only. */
  timings: z.object({
    totalMs: z.number().nullable(),
    stages: StageTimesSchema,
    modelLoadMs: z.number().nullable(),
    firstInferenceMs: z.number().nullable(),
  }),
  memory: z.object({ peakRssBytes: z.number().nullable(), cgroupPeakBytes: z.number().nullable() }),
  repeats: z.object({ requested: z.number().int(), completed: z.number().int() }),
  samples: z.array(SampleSchema),
  outputs: z.record(z.string(), z.string()).default({}),
  grid: z.object({ tile: z.number(), margin: z.number(), patch: z.number(), batch: z.number(), blocks: z.number() }).optional(),
  environment: EnvironmentSchema.optional(),
  /** For remote targets: what the deploy sent and what the board's cache already had. */
  deploy: z.object({ sentFiles: z.number(), sentBytes: z.number(), reusedFiles: z.number(), bundleId: z.string() }).optional(),
  accuracy: z.record(z.string(), z.unknown()).optional(),
  /** Set on `hil bench` records, which time calls on one patch, not a tile (timings.totalMs is null). */
  bench: BenchResultSchema.optional(),
});
export type ResultRecord = z.infer<typeof ResultRecordSchema>;

/** The target block of a measured record: the profile, with what it leaves open read off the machine. */
export function recordTarget(
  target: { name: string; computer: string; transport: { kind: string }; cpus: number | null; memoryBytes: number | null },
  environment: Environment,
  limits: ResultRecord['target']['limits'],
): ResultRecord['target'] {
  return {
    name: target.name,
    computer: target.computer,
    transport: target.transport.kind,
    cpus: target.cpus ?? environment.cores,
    memoryBytes: target.memoryBytes ?? environment.memTotalBytes,
    limits,
  };
}
