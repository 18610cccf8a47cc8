import type { ModelEntry } from '../models/registry.js';
import { RESULT_SCHEMA, type Environment, type ResultRecord } from '../results/schema.js';
import type { TargetProfile } from '../targets/profile.js';
import type { BenchOutcome } from './measure.js';

/**
 * A `hil bench` result record. It times calls on one patch, not a tile: the tile timings and samples stay
 * empty, `res` (required by the schema, meaningless for a patch) is 0, and `bench` holds the measurement.
 */
export function benchRecord(args: { id: string; target: TargetProfile; entry: ModelEntry; device: string; outcome: BenchOutcome; environment: Environment; limitsNote?: string }): ResultRecord {
  const { target, entry, device, outcome, environment } = args;
  const m = entry.manifest;
  const r = outcome.result;
  return {
    schema: RESULT_SCHEMA,
    id: args.id,
    createdAt: new Date().toISOString(),
    source: 'measured',
    status: 'ok',
    target: {
      name: target.name,
      computer: target.computer,
      transport: target.transport.kind,
      cpus: target.cpus ?? environment.cores,
      memoryBytes: target.memoryBytes ?? environment.memTotalBytes,
      limits: target.limits ? { ...target.limits, note: args.limitsNote } : undefined,
    },
    scenario: { name: m.task, res: 0, devices: { [m.task]: device } },
    models: {
      [m.task]: { id: m.id, sha256: m.sha256 ?? null, weights: m.weights, format: m.format, precision: m.precision, device, backend: outcome.backend.backend, threads: outcome.backend.threads },
    },
    timings: { totalMs: null, stages: {}, modelLoadMs: r.cold.sessionMs, firstInferenceMs: r.cold.firstInferenceMs },
    memory: { peakRssBytes: null, cgroupPeakBytes: null },
    repeats: { requested: 1, completed: 1 },
    samples: [],
    outputs: {},
    environment,
    bench: r,
  };
}
