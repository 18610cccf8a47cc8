import { RESULT_SCHEMA, ResultRecordSchema, type Environment, type ResultRecord } from '../../src/results/schema.js';

export const ENV: Environment = {
  cpuModel: 'AMD EPYC',
  cores: 2,
  memTotalBytes: 25e9,
  os: 'Debian GNU/Linux 12',
  kernel: '6.1.0',
  arch: 'x64',
  node: 'v20.20.2',
  onnxruntime: '1.30.0',
  hil: '0.1.0',
  gitSha: 'aaaaaaaa',
};

export interface RecordSpec {
  id?: string;
  createdAt?: string;
  target?: string;
  computer?: string;
  scenario?: 'sc' | 'ac' | 'both';
  res?: number;
  devices?: Record<string, string>;
  sc?: string;
  ac?: string;
  status?: ResultRecord['status'];
  /** Total times of the repeats, in ms. */
  times?: number[];
  peaks?: number[];
  env?: Partial<Environment>;
  limits?: ResultRecord['target']['limits'];
  memoryBytes?: number | null;
  accuracy?: Record<string, unknown>;
  input?: { width: number; height: number };
  weights?: 'real' | 'synthetic';
}

let serial = 0;

/** A measured record as `hil run` writes it, validated by the schema. */
export function record(spec: RecordSpec = {}): ResultRecord {
  const scenario = spec.scenario ?? 'ac';
  const status = spec.status ?? 'ok';
  const times = status === 'ok' || status === 'partial' ? (spec.times ?? [1000]) : [];
  const peaks = spec.peaks ?? times.map(() => 300e6);
  const devices = spec.devices ?? (scenario === 'both' ? { sc: 'CPU', ac: 'CPU' } : { [scenario]: 'CPU' });
  const model = (id: string | undefined, stage: 'sc' | 'ac') =>
    id === undefined ? undefined : { id, sha256: null, weights: spec.weights ?? 'real', format: 'onnx', precision: 'fp32', device: devices[stage] ?? 'CPU', backend: 'onnxruntime' };
  const sorted = [...times].sort((a, b) => a - b);
  const med = sorted.length ? (sorted.length % 2 ? sorted[sorted.length >> 1] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2) : null;
  serial += 1;
  return ResultRecordSchema.parse({
    schema: RESULT_SCHEMA,
    id: spec.id ?? `rec-${serial}`,
    createdAt: spec.createdAt ?? new Date(Date.UTC(2026, 0, 1, 0, 0, serial)).toISOString(),
    source: 'measured',
    status,
    ...(status === 'oom' ? { error: { kind: 'oom', message: 'killed' } } : {}),
    target: {
      name: spec.target ?? 'local',
      computer: spec.computer ?? spec.target ?? 'local',
      transport: 'local',
      cpus: 2,
      memoryBytes: spec.memoryBytes === undefined ? 25e9 : spec.memoryBytes,
      ...(spec.limits ? { limits: spec.limits } : {}),
    },
    scenario: { name: scenario, res: spec.res ?? 60, devices },
    ...(spec.input ? { input: { path: '/x.tif', ...spec.input, bands: [], sha256: null, synthetic: true } } : {}),
    models: {
      sc: scenario === 'ac' ? undefined : model(spec.sc ?? 'unet', 'sc'),
      ac: scenario === 'sc' ? undefined : model(spec.ac ?? 'CNN_corrector', 'ac'),
    },
    timings: { totalMs: med, stages: med === null ? {} : { read: med * 0.3, ac: med * 0.2, write: med * 0.5 }, modelLoadMs: 10, firstInferenceMs: 5 },
    memory: { peakRssBytes: peaks.length ? Math.max(...peaks) : null, cgroupPeakBytes: null },
    repeats: { requested: Math.max(times.length, 1), completed: times.length },
    samples: times.map((t, i) => ({ totalMs: t, stages: { read: t * 0.3, ac: t * 0.2, write: t * 0.5 }, modelLoadMs: 10, firstInferenceMs: 5, peakRssBytes: peaks[i] ?? null })),
    outputs: {},
    environment: { ...ENV, ...spec.env },
    ...(spec.accuracy ? { accuracy: spec.accuracy } : {}),
  });
}
