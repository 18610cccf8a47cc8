import { describe, expect, it } from 'vitest';
import { jobModelFor } from '../../src/backends/job-model.js';
import { ModelManifestSchema } from '../../src/models/manifest.js';
import { parseDevices } from '../../src/scenarios/plan.js';
import { BUILTIN_PROFILES } from '../../src/targets/builtin-profiles.js';
import type { TargetProfile } from '../../src/targets/profile.js';
import { hilErrorOf } from '../helpers/errors.js';

const profile = (name: string) => BUILTIN_PROFILES.find((p) => p.name === name)!;
const exec = { command: ['benchmark_app', '-m', '{model}', '-d', 'MYRIAD', '-niter', '{niter}'] };
/** The flatsat as a user configures it: the MYRIAD device with its tool. */
const flatsat = { ...profile('flatsat'), devices: [{ name: 'CPU', backend: 'onnxruntime' }, { name: 'MYRIAD', backend: 'exec', exec }] } as TargetProfile;


describe('device plans', () => {
  it('gives every stage one device, or each stage its own', () => {
    expect(parseDevices('CPU', flatsat, ['sc', 'ac'])).toEqual({ sc: 'CPU', ac: 'CPU' });
    expect(parseDevices('myriad', flatsat, ['sc'])).toEqual({ sc: 'MYRIAD' });
    expect(parseDevices('sc=MYRIAD,ac=CPU', flatsat, ['sc', 'ac'])).toEqual({ sc: 'MYRIAD', ac: 'CPU' });
    expect(parseDevices('sc=MYRIAD', flatsat, ['sc', 'ac'])).toEqual({ sc: 'MYRIAD', ac: 'CPU' });
    expect(parseDevices('GPU', profile('gcp-vm-t4'), ['ac'])).toEqual({ ac: 'GPU' });
  });
  it('refuses a device the target lacks, naming the ones it has', () => {
    const err = hilErrorOf(() => parseDevices('sc=MYRIAD,ac=CPU', profile('gcp-vm-t4'), ['sc', 'ac']));
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe('target gcp-vm-t4 has no device MYRIAD');
    expect(err.fix).toBe('its devices are CPU, GPU');
    expect(() => parseDevices('GPU', profile('local'), ['ac'])).toThrow(/has no device GPU/);
  });
  it('refuses garbled and repeated specs', () => {
    expect(() => parseDevices('sc=MYRIAD=CPU', flatsat, ['sc'])).toThrow(/cannot read/);
    expect(() => parseDevices('sc=CPU,sc=MYRIAD', flatsat, ['sc'])).toThrow(/twice/);
    expect(() => parseDevices('xx=CPU', flatsat, ['sc'])).toThrow(/unknown stage xx/);
  });
  it('refuses an exec device whose profile gives no command, before anything is deployed', () => {
    const err = hilErrorOf(() => parseDevices('MYRIAD', profile('flatsat'), ['sc']));
    expect(err.message).toContain('gives no command');
    expect(err.fix).toContain('"exec"');
  });
  it('refuses a profile that serves a device with a backend that cannot drive it', () => {
    const bad = { ...flatsat, devices: [{ name: 'MYRIAD', backend: 'openvino' }] } as TargetProfile;
    const err = hilErrorOf(() => parseDevices('MYRIAD', bad, ['sc']));
    expect(err.message).toContain('cannot drive it');
    expect(err.fix).toContain('(exec)');
  });
});

describe('job models from a device plan', () => {
  const manifest = ModelManifestSchema.parse({
    schema: 'hil.model/1', id: 'm', task: 'ac', format: 'onnx', file: 'm.onnx', sha256: '0'.repeat(64), inputBands: ['B02'], outputBands: ['B02'],
    spatial: { kind: 'dynamic' }, patchSize: 512, weights: 'real', licence: 'x', provenance: 'x',
  });
  it('carries the backend and, for exec, the tool with its defaults', () => {
    expect(jobModelFor(manifest, '/m.onnx', { name: 'GPU', backend: 'onnxruntime' })).toEqual({ manifest, path: '/m.onnx', backend: 'onnxruntime', device: 'GPU', exec: undefined });
    const jm = jobModelFor(manifest, '/m.onnx', { name: 'MYRIAD', backend: 'exec', exec });
    expect(jm.backend).toBe('exec');
    expect(jm.exec).toEqual({ ...exec, report: 'benchmark_app', timeoutMs: 300_000 });
  });
});
