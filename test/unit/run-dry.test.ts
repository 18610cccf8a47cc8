import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hil } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

describe('hil run --dry-run', () => {
  it('prints the plan, with the threads left to the target unless given, and runs nothing', () => {
    const out = tempDir('hil-dry-');
    const plan = (extra: string[]) => {
      const r = hil(['run', '--res', '60', '--dry-run', '--json', '--out', out, ...extra]);
      expect(r.code, r.stderr).toBe(0);
      const ev = JSON.parse(r.stdout.trim());
      expect(ev.ev).toBe('plan');
      return ev.plan;
    };
    expect(plan([]).engine).toEqual({ batch: 1, threads: 'one per usable CPU on the target' });
    expect(plan(['--threads', '3']).engine).toEqual({ batch: 1, threads: 3 });
    expect(readdirSync(out)).toEqual([]);
  });
});
