import { LITERATURE_CITATION, LITERATURE_COMPUTERS, LITERATURE_ROWS, type LiteratureRow } from '../sen2cor-adapter/literature.js';
import { RESULT_SCHEMA, ResultRecordSchema, type ResultRecord } from './schema.js';

const c = LITERATURE_CITATION;
export const LITERATURE_CITATION_TEXT = `${c.authors} (${c.year}). ${c.title}. ${c.journal} ${c.volume}. doi:${c.doi}`;

/** Records carry a timestamp; a published figure's is its year of publication. */
const PUBLISHED_AT = `${c.year}-01-01T00:00:00.000Z`;

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

function devicesOf(row: LiteratureRow): Record<string, string> {
  // A composite row's stages ran on different devices; every record of that row says so, so that all three
  // of its cells land in the MYRIAD/CPU row rather than in the single-device rows.
  const [sc, ac] = row.device.includes('/') ? row.device.split('/') : [row.device, row.device];
  if (row.stage === 'sc' && !row.composite) return { sc };
  if (row.stage === 'ac' && !row.composite) return { ac };
  return { sc, ac };
}

function modelRef(id: string, device: string) {
  return { id, sha256: null, weights: 'real' as const, format: 'as published', precision: 'not stated', device, backend: 'not stated' };
}

export function literatureRecord(row: LiteratureRow): ResultRecord {
  const devices = devicesOf(row);
  const computer = LITERATURE_COMPUTERS[row.computer];
  const oom = row.seconds === 'oom';
  return ResultRecordSchema.parse({
    schema: RESULT_SCHEMA,
    id: `literature-${slug(row.model)}-${slug(row.computer)}-${slug(row.device)}-${row.res}m-${row.stage}`,
    createdAt: PUBLISHED_AT,
    source: 'literature',
    status: oom ? 'oom' : 'ok',
    citation: `${LITERATURE_CITATION_TEXT}, Table 1`,
    ...(row.bold ? { published: { bold: true } } : {}),
    target: { name: `paper: ${row.computer}`, computer: row.computer, transport: 'none', cpus: computer.cpus, memoryBytes: computer.ramBytes },
    scenario: { name: row.stage, res: row.res, devices, ...(row.composite ? { composite: true } : {}) },
    models: {
      sc: devices.sc && row.stage !== 'ac' ? modelRef(row.model, devices.sc) : undefined,
      ac: devices.ac && row.stage !== 'sc' ? modelRef(row.model, devices.ac) : undefined,
    },
    timings: { totalMs: oom ? null : (row.seconds as number) * 1000, stages: {}, modelLoadMs: null, firstInferenceMs: null },
    memory: { peakRssBytes: null, cgroupPeakBytes: null },
    repeats: { requested: 1, completed: oom ? 0 : 1 },
    samples: [],
  });
}

/** The paper's Table 1 as result records, marked `source: literature` with the citation. */
export function literatureRecords(): ResultRecord[] {
  return LITERATURE_ROWS.map(literatureRecord);
}

const x1e4 = (bands: readonly string[], values: readonly number[]) => Object.fromEntries(bands.map((b, i) => [b, values[i] / 10_000]));
const L2A_BANDS = ['B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B8A', 'B09', 'B11', 'B12'];

/**
 * Published accuracy (REFERENCE.md), beside which measured accuracy is read: AC RMSE per band against
 * Sen2Cor in reflectance (the tables print × 10⁴), and SC F2 for cloud and shadow masking.
 */
export const PUBLISHED_ACCURACY = {
  rmse: {
    source: 'DTACSNet repository result tables: mean over 3,505 CloudSEN12 test images',
    models: {
      CNN_corrector: x1e4(L2A_BANDS, [183, 135, 111, 100, 115, 159, 177, 184, 183, 333, 133, 105]),
      'no correction': x1e4(L2A_BANDS, [893, 556, 262, 188, 199, 269, 229, 350, 202, 2180, 284, 340]),
      CNN_corrector_phisat2: x1e4(['B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08'], [154, 126, 113, 139, 173, 182, 190]),
    } as Record<string, Record<string, number>>,
  },
  f2: {
    source: 'DTACSNet project: median F2 (cloud and cloud shadow) over CloudSEN12 test points',
    models: { DTACSNet: 0.92, Fmask: 0.7, Sen2Cor: 0.65 } as Record<string, number>,
  },
} as const;
