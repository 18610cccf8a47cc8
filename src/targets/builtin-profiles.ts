import type { TargetProfile } from './profile.js';

/** 1.7 GB, the flatsat's RAM (REFERENCE.md), in bytes. */
export const FLATSAT_MEMORY_BYTES = 1_700_000_000;

/** Built-in targets, with the hardware facts of REFERENCE.md. Users override or add in hil.config.json. */
export const BUILTIN_PROFILES: readonly TargetProfile[] = [
  {
    name: 'local',
    description: 'This machine, no limits',
    computer: 'local',
    cpus: null,
    memoryBytes: null,
    devices: [{ name: 'CPU', backend: 'onnxruntime' }],
    transport: { kind: 'local' },
  },
  {
    name: 'flatsat-emu',
    description: 'This machine capped like the SpaceCloud flatsat: 1.7 GB RAM (no swap) and 4 CPUs of quota, kernel-enforced by a cgroup',
    computer: 'SpaceCloud (emulated)',
    cpus: 4,
    memoryBytes: FLATSAT_MEMORY_BYTES,
    devices: [{ name: 'CPU', backend: 'onnxruntime' }],
    transport: { kind: 'local' },
    limits: { memoryBytes: FLATSAT_MEMORY_BYTES, cpus: 4 },
  },
  {
    name: 'flatsat',
    description: 'SpaceCloud flatsat (Unibap iX5-100 as flown on D-Orbit ION): 4 CPUs, 1.7 GB RAM, Intel Movidius Myriad-X VPU, over SSH',
    computer: 'SpaceCloud',
    cpus: 4,
    memoryBytes: FLATSAT_MEMORY_BYTES,
    devices: [
      { name: 'CPU', backend: 'onnxruntime' },
      { name: 'MYRIAD', backend: 'exec', description: 'Myriad-X VPU through OpenVINO 2022.3 (the last release with the MYRIAD plugin)' },
    ],
    transport: { kind: 'ssh', host: 'flatsat' },
  },
  {
    name: 'gcp-vm-cpu',
    description: 'Google Cloud VM: 8 vCPU, 32 GB RAM, CPU inference, over SSH',
    computer: 'Google VM',
    cpus: 8,
    memoryBytes: 32_000_000_000,
    devices: [{ name: 'CPU', backend: 'onnxruntime' }],
    transport: { kind: 'ssh', host: 'gcp-vm' },
  },
  {
    name: 'gcp-vm-t4',
    description: 'Google Cloud VM: 8 vCPU, 32 GB RAM, NVIDIA T4 GPU (CUDA through onnxruntime), over SSH',
    computer: 'Google VM',
    cpus: 8,
    memoryBytes: 32_000_000_000,
    devices: [
      { name: 'CPU', backend: 'onnxruntime' },
      { name: 'GPU', backend: 'onnxruntime', description: 'NVIDIA T4 (16 GB) through the CUDA execution provider' },
    ],
    transport: { kind: 'ssh', host: 'gcp-vm-t4' },
  },
];
