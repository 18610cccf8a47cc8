import { constants, deflateSync, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DeflatePool } from '../../src/raster/deflate-pool.js';

const OPTIONS = { level: 1, memLevel: 9, strategy: constants.Z_RLE };

/** Differenced-looking uint16 samples with runs, as the writer's tiles are: every tile different. */
function tile(seed: number, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let s = seed;
  for (let i = 0; i < bytes; i += 2) {
    s = (s * 1103515245 + 12345) >>> 0;
    const v = i % 512 < 64 ? 0 : (s >>> 20) % 97;
    out[i] = v;
    out[i + 1] = v > 90 ? 1 : 0;
  }
  return out;
}

describe('DeflatePool', () => {
  it('gives each tile the bytes zlib.deflate gives it, with more tiles in flight than streams and outputs spanning buffers', async () => {
    // A 16 KiB output buffer for 40 KB tiles: most results are joined from two or three pieces.
    const pool = new DeflatePool(OPTIONS, 2, 16 * 1024);
    const tiles = Array.from({ length: 9 }, (_, i) => tile(i + 1, 40_000));
    const out = await Promise.all(tiles.map((t) => pool.compress(t)));
    pool.close();
    out.forEach((o, i) => {
      expect(Buffer.compare(o, deflateSync(tiles[i], OPTIONS))).toBe(0);
      expect(Buffer.compare(inflateSync(o), tiles[i])).toBe(0);
    });
  });

  it('reuses its streams: the same tile twice in a row compresses the same', async () => {
    const pool = new DeflatePool(OPTIONS, 1, 1 << 20);
    const t = tile(7, 100_000);
    const first = Buffer.from(await pool.compress(t));
    const second = await pool.compress(t);
    pool.close();
    expect(Buffer.compare(first, second)).toBe(0);
  });

  it('replaces a stream that failed, so later tiles still compress', async () => {
    const pool = new DeflatePool(OPTIONS, 1, 64 * 1024);
    await expect(pool.compress(42 as unknown as Uint8Array)).rejects.toThrow();
    const t = tile(3, 10_000);
    expect(Buffer.compare(inflateSync(await pool.compress(t)), t)).toBe(0);
    pool.close();
  });

  it('refuses work after close()', async () => {
    const pool = new DeflatePool(OPTIONS, 1, 64 * 1024);
    pool.close();
    await expect(pool.compress(tile(1, 100))).rejects.toThrow(/after close/);
  });
});
