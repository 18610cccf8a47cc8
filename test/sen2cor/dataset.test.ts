import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HilError } from '../../src/errors.js';
import { CLOUDSEN12_MAP, SCL_MAP, UKIS_CSMASK_MAP } from '../../src/metrics/labels.js';
import { builtinDatasetNames, loadDataset } from '../../src/sen2cor-adapter/dataset.js';
import { haveShared, haveTool, sharedDataDir } from '../helpers/shared.js';
import { tempDir } from '../helpers/temp.js';

interface Info {
  size: [number, number];
  bands: { description?: string; noDataValue?: number; type: string }[];
}
const gdalinfo = (file: string): Info => JSON.parse(execFileSync('gdalinfo', ['-json', file], { encoding: 'utf8' }));

const sameNodata = (declared: number | null, info: Info) => {
  const found = info.bands[0].noDataValue;
  if (declared === null) expect(found).toBeUndefined();
  else expect(Math.fround(found!)).toBe(Math.fround(declared));
};

describe.skipIf(!(haveShared('data') && haveTool('gdalinfo')))('built-in dataset manifests', () => {
  it('lists the three built-ins', async () => {
    expect(await builtinDatasetNames()).toEqual(['cloudsen12-roi1746', 'sen2r', 'ukis-csmask']);
  });

  it('load against the shared data, and every file matches gdalinfo', async () => {
    const expected = { sen2r: 2, 'cloudsen12-roi1746': 5, 'ukis-csmask': 1 } as const;
    for (const [name, count] of Object.entries(expected)) {
      const ds = await loadDataset(name, { dataDir: sharedDataDir });
      expect(ds.samples).toHaveLength(count);
      for (const s of ds.samples) {
        const l1c = gdalinfo(s.l1c.path);
        expect(l1c.bands).toHaveLength(s.l1c.bands.length);
        sameNodata(s.l1c.nodata ?? null, l1c);
        l1c.bands.forEach((b, i) => b.description && expect(b.description).toBe(s.l1c.bands[i]));
        if (s.l2a) {
          const l2a = gdalinfo(s.l2a.path);
          expect(l2a.bands).toHaveLength(s.l2a.bands.length);
          expect(l2a.size).toEqual(l1c.size);
          sameNodata(s.l2a.nodata ?? null, l2a);
        }
        if (s.scl) {
          const scl = gdalinfo(s.scl.path);
          expect(scl.size).toEqual([l1c.size[0] / 2, l1c.size[1] / 2]); // the 20 m grid
          expect(scl.bands[0].type).toBe('Byte');
          sameNodata(s.scl.nodata, scl);
          expect(s.scl.map).toBe(SCL_MAP);
        }
        if (s.label) {
          const label = gdalinfo(s.label.path);
          expect(label.size).toEqual(l1c.size);
          sameNodata(s.label.nodata, label);
        }
      }
    }
    const sen2r = await loadDataset('sen2r', { dataDir: sharedDataDir });
    expect(sen2r.samples[0].l1c.bands).not.toContain('B8A');
    expect(sen2r.samples[0].l2a!.bands).not.toContain('B10');
    expect((await loadDataset('cloudsen12-roi1746', { dataDir: sharedDataDir })).samples[0].label!.map).toBe(CLOUDSEN12_MAP);
    const ukis = await loadDataset('ukis-csmask', { dataDir: sharedDataDir });
    expect(ukis.samples[0].l1c.scale).toBe(1);
    expect(ukis.samples[0].label!.map).toBe(UKIS_CSMASK_MAP);
  });

  it('needs a data dir, and names the files it cannot find', async () => {
    const saved = process.env.HIL_DATA_DIR;
    delete process.env.HIL_DATA_DIR;
    try {
      await expect(loadDataset('sen2r')).rejects.toThrow(/data dir, which is not set/);
    } finally {
      if (saved !== undefined) process.env.HIL_DATA_DIR = saved;
    }
    const err = await loadDataset('sen2r', { dataDir: '/nowhere' }).catch((e) => e);
    expect(err).toBeInstanceOf(HilError);
    expect(err.oneLine()).toMatch(/sen2r lacks 6 files: \/nowhere\/sen2r\/S2A1C_20170703.* — point --data-dir/);
  });
});

describe('user dataset manifests', () => {
  const dir = tempDir('hil-dataset-');
  const write = (name: string, body: unknown) => {
    const file = path.join(dir, name);
    writeFileSync(file, typeof body === 'string' ? body : JSON.stringify(body));
    return file;
  };
  writeFileSync(path.join(dir, 'img.tif'), '');
  writeFileSync(path.join(dir, 'mask.tif'), '');
  const sample = {
    id: 'a',
    l1c: { path: 'img.tif', bands: ['B2', 'b8a'], scale: 1e-4, offset: -1000 },
    label: { path: 'mask.tif', map: { '0': 0, '1': 1, '9': 'ignore' }, nodata: 255 },
  };

  it('resolves paths against the manifest and accepts inline code maps', async () => {
    const ds = await loadDataset(write('mine.json', { schema: 'hil.dataset/1', name: 'mine', samples: [sample] }));
    const s = ds.samples[0];
    expect(s.l1c).toEqual({ path: path.join(dir, 'img.tif'), bands: ['B02', 'B8A'], scale: 1e-4, offset: -1000, nodata: null });
    expect(s.label!.map.classes).toEqual({ 0: 0, 1: 1, 9: 'ignore' });
    expect(s.label!.nodata).toBe(255);
  });

  it('rejects unknown names, bad JSON, bad bands and unknown mapping names with the field named', async () => {
    await expect(loadDataset('no-such-dataset')).rejects.toThrow(/neither a manifest file nor a built-in/);
    await expect(loadDataset(write('bad.json', '{'))).rejects.toThrow(/not valid JSON/);
    const badBand = { schema: 'hil.dataset/1', name: 'x', samples: [{ ...sample, l1c: { ...sample.l1c, bands: ['B13'] } }] };
    await expect(loadDataset(write('band.json', badBand))).rejects.toThrow(/samples\.0\.l1c\.bands\.0: not a Sentinel-2 band/);
    const badMap = { schema: 'hil.dataset/1', name: 'x', samples: [{ ...sample, label: { path: 'mask.tif', map: 'fmask' } }] };
    await expect(loadDataset(write('map.json', badMap))).rejects.toThrow(/unknown label mapping "fmask"/);
  });
});
