import { fromFile } from 'geotiff';
import { describe, expect, it } from 'vitest';
import { ConfusionAccumulator } from '../../src/metrics/confusion.js';
import { upsampleFactor, upsampleNearest, type RasterGrid } from '../../src/metrics/grid.js';
import { applyLabelMap, IGNORE } from '../../src/metrics/labels.js';
import { RmseAccumulator } from '../../src/metrics/rmse.js';
import { L2A_BANDS } from '../../src/raster/bands.js';
import { loadDataset } from '../../src/sen2cor-adapter/dataset.js';
import { haveShared, sharedDataDir } from '../helpers/shared.js';

/** Reads a whole (small) GeoTIFF as CHW with its grid, via geotiff.js. */
async function readChw(file: string) {
  const image = await (await fromFile(file)).getImage();
  const width = image.getWidth();
  const height = image.getHeight();
  const bands = (await image.readRasters({ interleave: false })) as unknown as Uint16Array[];
  const data = new (bands[0].constructor as new (n: number) => Uint16Array)(bands.length * width * height);
  bands.forEach((b, i) => data.set(b, i * width * height));
  const [ox, oy] = image.getOrigin();
  const [rx, ry] = image.getResolution();
  const grid: RasterGrid = { path: file, width, height, geoTransform: [ox, rx, 0, oy, 0, ry], crs: `EPSG:${image.getGeoKeys()?.ProjectedCSTypeGeoKey}` };
  return { data, grid, pixels: width * height };
}

describe.skipIf(!haveShared('data/sen2r'))('TOA vs Sen2Cor BOA on the real sen2r pairs', () => {
  it('computes per-band RMSE over clear pixels with the 20 m SCL upsampled onto the 10 m grid', async () => {
    const ds = await loadDataset('sen2r', { dataDir: sharedDataDir });
    const bands = L2A_BANDS.filter((b) => b !== 'B8A');
    const total = new RmseAccumulator(bands, { bands: ds.samples[0].l1c.bands, scaling: ds.samples[0].l1c }, { bands: ds.samples[0].l2a!.bands, scaling: ds.samples[0].l2a! });
    for (const s of ds.samples) {
      const toa = await readChw(s.l1c.path);
      const boa = await readChw(s.l2a!.path);
      const scl = await readChw(s.scl!.path);
      const factor = upsampleFactor(scl.grid, boa.grid);
      expect(factor).toBe(2);
      const codes = upsampleNearest(scl.data, scl.grid.width, factor, boa.grid.width, boa.grid.height);
      const classes = applyLabelMap(codes, s.scl!.map, s.scl!.path, s.scl!.nodata);
      const clear = classes.map((c) => (c === 0 ? 1 : 0));

      const acc = new RmseAccumulator(bands, { bands: s.l1c.bands, scaling: s.l1c }, { bands: s.l2a!.bands, scaling: s.l2a! });
      acc.add(toa.data, boa.data, boa.pixels, clear);
      const expectedCount = clear.reduce((n, v, i) => n + (v && toa.data[i] !== 65535 && boa.data[i] !== 65535 ? 1 : 0), 0);
      const res = acc.result();
      expect(res[0].count).toBe(expectedCount);
      for (const r of res) {
        if (r.count === 0) continue;
        expect(r.rmse!).toBeGreaterThan(0);
        expect(r.rmse!).toBeLessThan(0.5);
        expect(Math.abs(r.bias!)).toBeLessThanOrEqual(r.rmse! + 1e-12);
      }
      // The physics of "no correction" (REFERENCE.md: B1 893, B9 2180 ×10⁻⁴): path radiance makes TOA brighter
      // in the blue, and B09's water-vapour absorption is what Sen2Cor corrects most.
      expect(res.find((r) => r.band === 'B01')!.bias!).toBeGreaterThan(0);
      expect(Math.max(...res.map((r) => r.rmse ?? 0))).toBe(res.find((r) => r.band === 'B09')!.rmse);
      total.merge(acc);

      // SCL against itself scores perfectly: a sanity check of the label path on real codes.
      const cm = new ConfusionAccumulator();
      cm.add(classes, classes);
      expect(cm.accuracy()).toBe(classes.some((c) => c !== IGNORE) ? 1 : null);
    }
    expect(total.result()[0].count).toBeGreaterThan(0);
  });
});
