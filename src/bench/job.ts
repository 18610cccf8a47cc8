import { z } from 'zod';
import { JobModelSchema } from '../runner/job.js';

/** What `hil bench` asks the bench worker to time: one model on one device, on patches of one shape. */
export const BenchJobSchema = z.object({
  schema: z.literal('hil.bench-job/1'),
  model: JobModelSchema,
  patch: z.number().int().positive(),
  batch: z.number().int().positive().default(1),
  threads: z.number().int().nonnegative().default(0),
  /** tinybench's time budget for the steady state, and its minimum number of calls. */
  timeMs: z.number().int().positive().default(2000),
  minIterations: z.number().int().positive().default(20),
  /** Calls an external tool is asked for (its -niter): it times them itself. */
  toolIterations: z.number().int().positive().default(50),
});
export type BenchJob = z.infer<typeof BenchJobSchema>;
export type BenchJobInput = z.input<typeof BenchJobSchema>;
