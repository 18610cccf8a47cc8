/**
 * Table 1 of the D-TACS report (docs/REFERENCE.md): wall-to-wall times for a full Sentinel-2 tile,
 * reading the image and writing the output included. Plain data; the coordinator turns each row into a
 * result record marked `source: literature`.
 */

export const LITERATURE_CITATION = {
  authors: 'Aybar, C., Mateo-García, G., Acciarini, G., et al.',
  title: 'Onboard cloud detection and atmospheric correction with efficient deep learning models',
  journal: 'IEEE Journal of Selected Topics in Applied Earth Observations and Remote Sensing',
  volume: 17,
  year: 2024,
  doi: '10.1109/JSTARS.2024.3480520',
} as const;

export type LiteratureComputer = 'Google VM' | 'SpaceCloud';

export const LITERATURE_COMPUTERS: Record<LiteratureComputer, { description: string; cpus: number; ramBytes: number; accelerator: string }> = {
  'Google VM': { description: 'Google Cloud VM', cpus: 8, ramBytes: 32 * 2 ** 30, accelerator: 'NVIDIA T4' },
  SpaceCloud: {
    description: 'SpaceCloud flatsat (Unibap iX5-100 as flown on D-Orbit ION)',
    cpus: 4,
    ramBytes: 1.7 * 2 ** 30,
    accelerator: 'Intel Movidius Myriad-X VPU',
  },
};

export interface LiteratureRow {
  model: 'DTACSNet' | 'Sen2Cor v2.10';
  computer: LiteratureComputer;
  device: 'CPU' | 'GPU' | 'MYRIAD' | 'MYRIAD/CPU';
  res: 10 | 20;
  stage: 'sc' | 'ac' | 'both';
  /** 'oom': the run crashed for lack of memory ("Memory crash"). */
  seconds: number | 'oom';
  /** MYRIAD/CPU rows combine SC on the VPU with AC on the CPU rather than being one measured run. */
  composite?: true;
  /** Bold in the published table (it bolds both Google VM rows, so this is copied, not derived). */
  bold?: true;
}

const m = (min: number, s: number) => min * 60 + s;

type Times = [sc: number, ac: number, both: number];
const dtacs = (computer: LiteratureComputer, device: LiteratureRow['device'], res: 10 | 20, [sc, ac, both]: Times, extra: Pick<LiteratureRow, 'composite' | 'bold'> = {}): LiteratureRow[] => [
  { model: 'DTACSNet', computer, device, res, stage: 'sc', seconds: sc, ...(extra.composite ? { composite: true } : {}) },
  { model: 'DTACSNet', computer, device, res, stage: 'ac', seconds: ac, ...(extra.composite ? { composite: true } : {}) },
  { model: 'DTACSNet', computer, device, res, stage: 'both', seconds: both, ...extra },
];

export const LITERATURE_ROWS: readonly LiteratureRow[] = [
  ...dtacs('Google VM', 'CPU', 10, [m(2, 26), m(1, 49), m(4, 15)], { bold: true }),
  ...dtacs('Google VM', 'GPU', 10, [40, m(1, 37), m(2, 17)], { bold: true }),
  ...dtacs('SpaceCloud', 'CPU', 10, [m(21, 25), m(9, 5), m(30, 30)]),
  ...dtacs('SpaceCloud', 'MYRIAD', 10, [m(16, 56), m(15, 47), m(32, 43)]),
  ...dtacs('SpaceCloud', 'MYRIAD/CPU', 10, [m(16, 56), m(9, 5), m(26, 1)], { composite: true, bold: true }),
  ...dtacs('SpaceCloud', 'CPU', 20, [m(5, 21), m(2, 23), m(7, 25)]),
  ...dtacs('SpaceCloud', 'MYRIAD', 20, [m(4, 23), m(4, 1), m(8, 24)]),
  ...dtacs('SpaceCloud', 'MYRIAD/CPU', 20, [m(4, 23), m(2, 23), m(6, 46)], { composite: true, bold: true }),
  { model: 'Sen2Cor v2.10', computer: 'Google VM', device: 'CPU', res: 10, stage: 'both', seconds: m(19, 21) },
  { model: 'Sen2Cor v2.10', computer: 'SpaceCloud', device: 'CPU', res: 10, stage: 'both', seconds: 'oom' },
  { model: 'Sen2Cor v2.10', computer: 'SpaceCloud', device: 'CPU', res: 20, stage: 'both', seconds: 3600 + m(1, 27) },
];
