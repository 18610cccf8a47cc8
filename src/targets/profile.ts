import { z } from 'zod';
import { ExecToolSchema } from '../backends/exec-tool.js';

/** How the coordinator reaches a target. */
export const TransportSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('local') }),
  z.object({
    kind: z.literal('ssh'),
    host: z.string(),
    port: z.number().int().positive().optional(),
    user: z.string().optional(),
    privateKey: z.string().optional(),
    agent: z.boolean().optional(),
    knownHosts: z.string().optional(),
    fingerprint: z.string().optional(),
    connectTimeoutMs: z.number().int().positive().optional(),
    cacheRoot: z.string().optional(),
  }),
]);
export type Transport = z.infer<typeof TransportSchema>;

export const DeviceSchema = z.object({
  /** OpenVINO-style device name: CPU, GPU, MYRIAD, NPU. */
  name: z.string(),
  backend: z.enum(['onnxruntime', 'openvino', 'exec', 'builtin']),
  description: z.string().optional(),
  /** For the exec backend: the tool on the target that runs a model on this device (e.g. benchmark_app). */
  exec: ExecToolSchema.optional(),
});

/** A target: what the hardware is, and how to reach it. */
export const TargetProfileSchema = z.object({
  name: z.string(),
  description: z.string(),
  /** The "Computer" column of Table 1. */
  computer: z.string(),
  cpus: z.number().positive().nullable(),
  memoryBytes: z.number().int().positive().nullable(),
  devices: z.array(DeviceSchema).min(1),
  transport: TransportSchema,
  /** Limits the kernel enforces on runs (a cgroup), locally or on the remote board. */
  limits: z
    .object({
      memoryBytes: z.number().int().positive().optional(),
      cpus: z.number().positive().optional(),
      cpuset: z.string().optional(),
    })
    .optional(),
  /** Optional procurement facts for `hil compare`. */
  priceUsd: z.number().nonnegative().optional(),
  powerW: z.number().positive().optional(),
});
export type TargetProfile = z.infer<typeof TargetProfileSchema>;
