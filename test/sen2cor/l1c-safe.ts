import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sharedDataDir } from '../helpers/shared.js';
import { tempDir } from '../helpers/temp.js';

export const FAKE_L2A_PROCESS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/fake-sen2cor/L2A_Process');
export const L1C_JP2_DIR = path.join(sharedDataDir, 's2cloudless-optimized');
export const L1C_NAME = 'S2A_MSIL1C_20150726T105026_N0204_R051_T31TDH_20150726T105026.SAFE';

/** The L1C metadata fields hil reads, in the layout of a real MTD_MSIL1C.xml. */
export function mtdL1C(radioAddOffset?: number): string {
  const offsets =
    radioAddOffset === undefined
      ? ''
      : `      <Radiometric_Offset_List>\n${Array.from({ length: 13 }, (_, i) => `        <RADIO_ADD_OFFSET band_id="${i}">${radioAddOffset}</RADIO_ADD_OFFSET>`).join('\n')}\n      </Radiometric_Offset_List>\n`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<n1:Level-1C_User_Product xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/User_Product_Level-1C.xsd">
  <n1:General_Info>
    <Product_Info><PRODUCT_TYPE>S2MSI1C</PRODUCT_TYPE><PROCESSING_BASELINE>02.04</PROCESSING_BASELINE></Product_Info>
    <Product_Image_Characteristics>
      <QUANTIFICATION_VALUE unit="none">10000</QUANTIFICATION_VALUE>
${offsets}    </Product_Image_Characteristics>
  </n1:General_Info>
</n1:Level-1C_User_Product>
`;
}

/**
 * An L1C SAFE tree in a fresh temp folder whose IMG_DATA links to the real JPEG2000 bands in shared/data
 * (links, so nothing from shared/ is copied). Returns the SAFE path.
 */
export function makeL1CSafe(opts: { radioAddOffset?: number; omitBands?: string[] } = {}): string {
  const root = tempDir('hil-safe-');
  const safe = path.join(root, L1C_NAME);
  const img = path.join(safe, 'GRANULE', 'L1C_T31TDH_A000734_20150726T105026', 'IMG_DATA');
  mkdirSync(img, { recursive: true });
  for (const f of readdirSync(L1C_JP2_DIR)) {
    if (opts.omitBands?.some((b) => f.endsWith(`_${b}.jp2`))) continue;
    symlinkSync(path.join(L1C_JP2_DIR, f), path.join(img, f));
  }
  writeFileSync(path.join(safe, 'MTD_MSIL1C.xml'), mtdL1C(opts.radioAddOffset));
  return safe;
}
