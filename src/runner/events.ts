import { z } from 'zod';

/**
 * The runner → coordinator protocol: one JSON object per line on stdout (DESIGN.md). Logs go to stderr so
 * that nothing else ever appears on stdout.
 */
export const StageNameSchema = z.enum(['load', 'read', 'prepare', 'sc', 'ac', 'write']);
export type StageName = z.infer<typeof StageNameSchema>;

/** How the engine scheduled its threads (src/runner/thread-priority.ts): the policy given to all but the inference threads. */
export const SchedulingSchema = z.object({ policy: z.string(), threads: z.number().int(), inferenceThreads: z.number().int() });
export type Scheduling = z.infer<typeof SchedulingSchema>;

export const RunnerSummarySchema = z.object({
  totalMs: z.number(),
  stages: z.record(z.string(), z.number()),
  modelLoadMs: z.record(z.string(), z.number()),
  firstInferenceMs: z.record(z.string(), z.number()),
  patches: z.number().int(),
  pixels: z.number().int(),
  peakRssBytes: z.number().int(),
  input: z.object({ path: z.string(), width: z.number(), height: z.number(), bands: z.array(z.string()), dtype: z.string() }),
  outputs: z.record(z.string(), z.string()),
  grid: z.object({ tile: z.number(), margin: z.number(), patch: z.number(), batch: z.number(), blocks: z.number() }),
  /** `threads`: what the runtime was given for its CPU work, where it takes a count (BackendDescription). */
  backends: z.record(z.string(), z.object({ backend: z.string(), device: z.string(), version: z.string(), threads: z.number().int().optional() })),
  /** Absent where the threads were left as they were (`ioPriority: 'normal'`, the floor). */
  scheduling: SchedulingSchema.optional(),
});
export type RunnerSummary = z.infer<typeof RunnerSummarySchema>;

export const RunnerEventSchema = z.discriminatedUnion('ev', [
  z.object({ ev: z.literal('start'), pid: z.number(), job: z.string(), node: z.string(), t: z.number() }),
  z.object({ ev: z.literal('progress'), stage: z.string(), done: z.number(), total: z.number() }),
  z.object({ ev: z.literal('stage'), stage: z.string(), ms: z.number() }),
  z.object({ ev: z.literal('mem'), rssBytes: z.number(), hwmBytes: z.number() }),
  SchedulingSchema.extend({ ev: z.literal('scheduling') }),
  z.object({ ev: z.literal('done'), result: RunnerSummarySchema }),
  z.object({
    ev: z.literal('error'),
    kind: z.enum(['input', 'model', 'output', 'oom', 'internal']),
    message: z.string(),
    fix: z.string().optional(),
  }),
  z.object({ ev: z.literal('probe'), host: z.record(z.string(), z.unknown()) }),
  // hil bench's per-patch timing; the coordinator validates the result against the record schema.
  z.object({ ev: z.literal('bench'), result: z.record(z.string(), z.unknown()), backend: z.record(z.string(), z.unknown()) }),
]);
export type RunnerEvent = z.infer<typeof RunnerEventSchema>;

/** Error kinds that say the job itself is bad (bad input, exit 2), not that running it failed. */
export const USER_ERROR_KINDS: ReadonlySet<string> = new Set(['input', 'model', 'output']);

export function emit(event: RunnerEvent): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

/** Parses one stdout line; lines that are not protocol events come back as undefined. */
export function parseEvent(line: string): RunnerEvent | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const parsed = RunnerEventSchema.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
