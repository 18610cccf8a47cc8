import { z } from 'zod';
import { modelError } from '../errors.js';

/**
 * An external tool that runs a model on a device the runner cannot drive itself — a Myriad-X through
 * OpenVINO 2022.3's benchmark_app, or a user script. The profile gives the command as an argv template;
 * the runner fills in the files it prepared. No shell is involved, so paths need no quoting.
 */
export const EXEC_PLACEHOLDERS = ['model', 'weights', 'device', 'input', 'output', 'shape', 'niter', 'reportDir'] as const;
export type ExecPlaceholder = (typeof EXEC_PLACEHOLDERS)[number];

export const ExecToolSchema = z.object({
  /**
   * argv, e.g. ["benchmark_app", "-m", "{model}", "-d", "MYRIAD", "-niter", "{niter}", "-i", "{input}",
   * "-shape", "[{shape}]", "-report_type", "no_counters", "-report_folder", "{reportDir}"].
   * {input}/{output}: raw little-endian float32 NCHW files; {shape}: N,C,H,W; {weights}: an IR's .bin.
   */
  command: z.array(z.string().min(1)).min(1),
  /** How the tool's stdout is read: benchmark_app's statistics lines (2022.x), which the project's script prints too. */
  report: z.literal('benchmark_app').default('benchmark_app'),
  /** A tool that hangs (a wedged VPU) is killed after this long, and nothing is measured. */
  timeoutMs: z.number().int().positive().default(300_000),
  env: z.record(z.string(), z.string()).optional(),
});
export type ExecTool = z.infer<typeof ExecToolSchema>;
export type ExecToolInput = z.input<typeof ExecToolSchema>;

const PLACEHOLDER = /\{([A-Za-z]+)\}/g;

/** Placeholders a template uses; unknown ones are refused so a typo never reaches the device. */
export function templatePlaceholders(command: string[]): Set<ExecPlaceholder> {
  const used = new Set<ExecPlaceholder>();
  for (const arg of command) {
    for (const m of arg.matchAll(PLACEHOLDER)) {
      if (!(EXEC_PLACEHOLDERS as readonly string[]).includes(m[1])) {
        throw modelError(`exec command has an unknown placeholder {${m[1]}} in "${arg}"`, `use ${EXEC_PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}`);
      }
      used.add(m[1] as ExecPlaceholder);
    }
  }
  return used;
}

export function expandTemplate(command: string[], values: Partial<Record<ExecPlaceholder, string>>): string[] {
  templatePlaceholders(command);
  return command.map((arg) =>
    arg.replace(PLACEHOLDER, (_m, name: ExecPlaceholder) => {
      const v = values[name];
      if (v === undefined) throw modelError(`exec command uses {${name}}, which this model has no value for`, name === 'weights' ? 'use {weights} only with OpenVINO IR models' : `remove {${name}} from the command`);
      return v;
    }),
  );
}
