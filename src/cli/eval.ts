import type { Command } from 'commander';
import { usageError } from '../errors.js';
import { evaluateDataset, type EvalReport } from '../eval/evaluate.js';
import type { AcMaskSource } from '../eval/summary.js';
import { resolveModel, verifyModel, type ModelEntry } from '../models/registry.js';
import { localSession } from '../targets/local.js';
import { configFor } from './options.js';
import { textTable } from './table.js';

interface EvalFlags {
  dataset: string;
  scModel?: string;
  acModel?: string;
  acMask: string;
  json?: boolean;
}

const AC_MASKS = ['auto', 'labels', 'scl', 'model', 'none'];

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('Run models on a labelled dataset through the runner and score them: AC RMSE against Sen2Cor L2A, SC F2 against labels')
    .requiredOption('--dataset <name|file>', 'dataset: a built-in name (sen2r, cloudsen12-roi1746, ukis-csmask) or a hil.dataset/1 manifest')
    .option('--sc-model <id|file>', 'scene-classification model to score')
    .option('--ac-model <id|file>', 'atmospheric-correction model to score')
    .option('--ac-mask <source>', `cloud/shadow pixels left out of AC RMSE: ${AC_MASKS.join(', ')} (auto: labels, else SCL, else the SC output)`, 'auto')
    .option('--json', 'print the report as JSON')
    .action(async (flags: EvalFlags, cmd: Command) => {
      const config = configFor(cmd);
      if (!AC_MASKS.includes(flags.acMask)) throw usageError(`--ac-mask ${flags.acMask} is not a mask source`, `use one of ${AC_MASKS.join(', ')}`);
      const entry = async (ref: string | undefined): Promise<ModelEntry | undefined> => {
        if (!ref) return undefined;
        const e = resolveModel(ref, config.modelsDir);
        // A synthetic build is never run for accuracy, so its file need not be present.
        if (e.manifest.weights !== 'synthetic') await verifyModel(e, config.modelsDir);
        return e;
      };
      const session = localSession();
      try {
        const report = await evaluateDataset({
          dataset: flags.dataset,
          dataDir: config.dataDir,
          models: { sc: await entry(flags.scModel), ac: await entry(flags.acModel) },
          acMask: flags.acMask as AcMaskSource | 'auto',
          session,
        });
        process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${renderReport(report)}\n`);
      } finally {
        await session.close();
      }
    });
}

const e4 = (v: number | null | undefined) => (typeof v === 'number' ? (v * 1e4).toFixed(1) : '-');
const f3 = (v: number | null | undefined) => (typeof v === 'number' ? v.toFixed(3) : '-');

function renderReport(r: EvalReport): string {
  const parts: string[] = [`Dataset ${r.dataset}`];
  const groups = [...r.samples.map((s) => ({ id: s.id, ac: s.ac, sc: s.sc })), { id: 'all (pixel-weighted)', ac: r.ac, sc: r.sc }];
  if (r.models.ac) {
    const acRows: string[][] = [];
    for (const { id: label, ac: b } of groups) {
      if (!b || 'notApplicable' in b) {
        acRows.push([label, '-', 'n/a', 'n/a', 'n/a', b ? b.notApplicable : '']);
        continue;
      }
      for (const band of Object.keys(b.rmse)) acRows.push([label, band, e4(b.rmse[band]), e4(b.baselineRmse[band]), e4(b.bias[band]), String(b.pixels[band])]);
    }
    const med = r.median.ac;
    if (med) for (const band of Object.keys(med.rmse)) acRows.push(['median over samples', band, e4(med.rmse[band]), e4(med.baselineRmse[band]), e4(med.bias[band]), '']);
    parts.push(`\nAtmospheric correction: ${r.models.ac} vs L2A (reflectance ×10⁴; no correction = TOA vs L2A on the same pixels)`);
    parts.push(textTable(['SAMPLE', 'BAND', 'RMSE', 'NO-CORRECTION RMSE', 'BIAS', 'PIXELS'], acRows));
  }
  if (r.models.sc) {
    const scRows: string[][] = [];
    for (const { id: label, sc: b } of groups) {
      if (!b || 'notApplicable' in b) {
        scRows.push([label, 'n/a', '-', '-', '-', '-', '-', b ? b.notApplicable : '']);
        continue;
      }
      scRows.push([label, b.reference, f3(b.f2.cloud), f3(b.f2.shadow), f3(b.f2.cloudOrShadow), f3(b.precision.cloudOrShadow), f3(b.recall.cloudOrShadow), String(b.pixels)]);
    }
    const med = r.median.sc;
    if (med) scRows.push(['median over samples', '', f3(med.f2.cloud), f3(med.f2.shadow), f3(med.f2.cloudOrShadow), f3(med.precision.cloudOrShadow), f3(med.recall.cloudOrShadow), '']);
    parts.push(`\nScene classification: ${r.models.sc} (F2, β = 2)`);
    parts.push(textTable(['SAMPLE', 'REFERENCE', 'F2 CLOUD', 'F2 SHADOW', 'F2 CLOUD|SHADOW', 'PRECISION C|S', 'RECALL C|S', 'PIXELS'], scRows));
  }
  return parts.join('\n');
}
