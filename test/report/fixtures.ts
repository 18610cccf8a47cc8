import { record } from '../results/records.js';

export const accuracy = {
  ac: { rmse: { B02: 0.0135, B03: 0.0111, B09: 0.0333 }, baselineRmse: { B02: 0.0556, B03: 0.0262, B09: 0.218 }, bias: { B02: 0.001 }, pixels: { B02: 123456, B03: 123456, B09: 123456 } },
  sc: { f2: { cloud: 0.93, shadow: 0.61, cloudOrShadow: 0.92 }, precision: { cloud: 0.9, shadow: 0.5, cloudOrShadow: 0.88 }, recall: { cloud: 0.94, shadow: 0.65, cloudOrShadow: 0.93 }, confusion: [[1]] },
};

/** Records that exercise every part of the report. */
export function sampleRecords() {
  return [
    record({ target: 'local', scenario: 'both', res: 60, sc: 'unet', ac: 'CNN_corrector', times: [5200, 5400, 5300], accuracy }),
    record({ target: 'flatsat-emu', computer: 'SpaceCloud (emulated)', scenario: 'both', res: 60, sc: 'unet', ac: 'CNN_corrector', times: [21_000], accuracy: { sc: { f2: { cloudOrShadow: 0.9 } } } }),
    record({ target: 'flatsat-emu', computer: 'SpaceCloud (emulated)', scenario: 'both', res: 10, sc: 'unet', ac: 'CNN_corrector', status: 'oom' }),
  ];
}
