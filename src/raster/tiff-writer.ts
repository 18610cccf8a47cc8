import { promises as fs } from 'node:fs';
import { endianness } from 'node:os';
import { constants as zlibConstants } from 'node:zlib';
import { outputError } from '../errors.js';
import { predictorKernels } from '../kernels/predictor-kernels.js';
import { commitTemp, discardTemp, tempPathFor } from '../util/atomic.js';
import { DeflatePool } from './deflate-pool.js';
import { bandDescriptionsXml } from './gdal-metadata.js';
import type { GeoInfo } from './geo.js';

export type WriterDType = 'uint8' | 'uint16' | 'float32';

export interface TiffWriterOptions {
  width: number;
  height: number;
  bands: number;
  dtype: WriterDType;
  /** Tile side in pixels, a multiple of 16 (TIFF requires it). Default 256. */
  tileSize?: number;
  compression?: 'deflate' | 'none';
  /** zlib level 1..9, default 6. */
  level?: number;
  /**
   * zlib strategy. 'huffman' skips LZ77 matching: on predictor-differenced sensor data, where repeats are
   * rare, it compresses almost as well (measured: ratio 0.664 vs 0.651) at about 2.7 times the speed.
   * 'rle' (matches at distance one only) compresses the same where there is no nodata and is 7 % slower
   * there (level 1, corrected tiles: 149 vs 160 MB/s), but where a third of a tile is nodata it is 12 %
   * faster and 10 % smaller (213 vs 190 MB/s, ratio 0.39 vs 0.44). Every deflate reader decodes both.
   * Default 'default'.
   */
  strategy?: 'default' | 'huffman' | 'rle';
  /** 2 = horizontal differencing, integer types only. Default 1 (none). */
  predictor?: 1 | 2;
  /** 'auto' (default) picks BigTIFF when the uncompressed image could pass the 4 GiB limit of classic TIFF. */
  bigtiff?: boolean | 'auto';
  geo?: GeoInfo;
  nodata?: number;
  bandNames?: string[];
  /**
   * Bytes written between flushes to disk while tiles are still coming (fdatasync, not waited for), so
   * that close() has only the last stretch to wait for. Default 32 MiB. Left to the kernel, a file's last
   * 30 s of writes were still in the page cache at close(), whose fsync then took 0.4 s for the 508 MB of
   * a 20 m corrected tile, at the end of the pass where nothing overlaps it.
   */
  flushBytes?: number;
}

type Samples = Uint8Array | Uint16Array | Float32Array;

/** Tiles compressing at once: libuv's threadpool, where zlib works, has four threads unless told otherwise. */
const DEFLATE_STREAMS = Number(process.env.UV_THREADPOOL_SIZE) || 4;
const STRATEGIES = { default: zlibConstants.Z_DEFAULT_STRATEGY, huffman: zlibConstants.Z_HUFFMAN_ONLY, rle: zlibConstants.Z_RLE } as const;
const BYTES: Record<WriterDType, number> = { uint8: 1, uint16: 2, float32: 4 };
/** Classic TIFF offsets are 32-bit. */
const CLASSIC_LIMIT = 0xffffffff;
const AUTO_BIGTIFF_BYTES = 3.9e9;

// Tiles are written straight from the typed arrays' memory, which is only right on little-endian hosts
// (every platform Node ships for today); the header says 'II' accordingly.
if (endianness() !== 'LE') throw new Error('TiledTiffWriter needs a little-endian host');

/**
 * Streams a tiled, band-separate (PlanarConfiguration=2) GeoTIFF to disk. Tiles are compressed on
 * libuv's threadpool, so several may be in flight while the caller computes the next; each tile's
 * bytes are appended in the order of the writeTile calls (so the same calls give a byte-identical
 * file), and the IFD goes at the end. Only in-flight tiles are held in memory.
 *
 * Edge tiles: the caller passes full tileSize×tileSize tiles. Samples outside the image are stored but
 * never shown by readers, so the writer stores zeros there, whatever the caller passed: runs of zeros
 * take deflate almost no time. The engine's edge tiles hold model output over reflected pixels there,
 * which deflate took as long as any other: at 20 m, 448 px tiles over 5490 px, 11 % of its input (the
 * corrected tile: 508 MB before, 452 MB with zeros).
 */
export class TiledTiffWriter {
  private readonly tileSize: number;
  /** Whether the file is BigTIFF (64-bit offsets) rather than classic TIFF. */
  readonly bigtiff: boolean;
  private readonly offsets: number[];
  private readonly byteCounts: number[];
  private readonly written: boolean[];
  /** End of the file as laid out so far; every tile reserves its range here, in call order. */
  private end: number;
  /** Resolves when the previous tile has reserved its range; chains the append order. */
  private order: Promise<void> = Promise.resolve();
  private readonly pending = new Set<Promise<void>>();
  private readonly deflate: DeflatePool | undefined;
  private failure: unknown;
  private state: 'open' | 'closing' | 'done' = 'open';
  /** Bytes written since the last flush to disk was started, and that flush while it runs. */
  private unflushed = 0;
  private flushing: Promise<void> | undefined;

  private constructor(
    private readonly finalPath: string,
    private readonly tmpPath: string,
    private readonly handle: fs.FileHandle,
    private readonly opts: Required<Omit<TiffWriterOptions, 'geo' | 'nodata' | 'bandNames' | 'bigtiff'>> &
      Pick<TiffWriterOptions, 'geo' | 'nodata' | 'bandNames'>,
    bigtiff: boolean,
  ) {
    this.tileSize = opts.tileSize;
    this.bigtiff = bigtiff;
    const n = this.tilesAcross * this.tilesDown * opts.bands;
    this.offsets = new Array<number>(n).fill(0);
    this.byteCounts = new Array<number>(n).fill(0);
    this.written = new Array<boolean>(n).fill(false);
    this.end = bigtiff ? 16 : 8;
    if (opts.compression === 'deflate') {
      // memLevel 9 doubles the symbols zlib gathers per deflate block, so it builds Huffman trees half as
      // often: 12 % less CPU at level 1 with Z_RLE on 12-band 448² differenced uint16 tiles (149 → 170 MB
      // per CPU-second), the same ratio, 128 KB more per stream. Each stream's output buffer holds several
      // tiles, so most tiles come out in one piece, and a few in two that are joined.
      const tileBytes = this.tileSize * this.tileSize * BYTES[opts.dtype];
      const chunkSize = Math.max(4 * (tileBytes + (tileBytes >> 8) + 1024), 64 * 1024);
      this.deflate = new DeflatePool({ level: opts.level, memLevel: 9, strategy: STRATEGIES[opts.strategy] }, DEFLATE_STREAMS, chunkSize);
    }
  }

  /** Creates the temp file beside `finalPath`; nothing appears under `finalPath` until close(). */
  static async create(finalPath: string, options: TiffWriterOptions): Promise<TiledTiffWriter> {
    const opts = {
      tileSize: 256,
      compression: 'deflate' as const,
      level: 6,
      strategy: 'default' as const,
      predictor: 1 as const,
      flushBytes: 32 * 1024 * 1024,
      ...options,
    };
    validate(opts);
    const uncompressed = opts.width * opts.height * opts.bands * BYTES[opts.dtype];
    const bigtiff = opts.bigtiff === true || ((opts.bigtiff ?? 'auto') === 'auto' && uncompressed > AUTO_BIGTIFF_BYTES);
    const tmpPath = tempPathFor(finalPath);
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(tmpPath, 'wx');
    } catch (err) {
      throw outputError(
        `cannot create ${tmpPath} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
        'choose a writable output folder, or fix its permissions',
      );
    }
    return new TiledTiffWriter(finalPath, tmpPath, handle, opts, bigtiff);
  }

  get tilesAcross(): number {
    return Math.ceil(this.opts.width / this.tileSize);
  }

  get tilesDown(): number {
    return Math.ceil(this.opts.height / this.tileSize);
  }

  /**
   * CHW samples of one full tile: bands × tileSize × tileSize. Resolves once the tile is on disk, so
   * awaiting it bounds memory; several calls may be in flight at once. The array is read, never
   * modified, until the promise settles; change it only after that.
   */
  /**
   * `owned`: the caller hands the array over and never reads it again, so the predictor may work in
   * place instead of on a copy (a full 10 m tile is 1.4 G samples: copies are GC pressure).
   */
  async writeTile(tileX: number, tileY: number, chw: Samples, opts: { owned?: boolean } = {}): Promise<void> {
    if (this.state !== 'open') throw new Error('writeTile after close() or abort()');
    const { bands, dtype } = this.opts;
    const plane = this.tileSize * this.tileSize;
    if (!Number.isInteger(tileX) || !Number.isInteger(tileY) || tileX < 0 || tileY < 0 || tileX >= this.tilesAcross || tileY >= this.tilesDown) {
      throw new RangeError(`tile (${tileX}, ${tileY}) is outside the ${this.tilesAcross}×${this.tilesDown} tile grid`);
    }
    if (chw.length !== bands * plane || BYTES[dtype] !== chw.BYTES_PER_ELEMENT || (dtype === 'float32') !== chw instanceof Float32Array) {
      throw new TypeError(`tile (${tileX}, ${tileY}) must be a ${dtype} array of ${bands}×${this.tileSize}×${this.tileSize} samples`);
    }
    const first = this.index(tileX, tileY, 0);
    if (this.written[first]) throw new Error(`tile (${tileX}, ${tileY}) was written twice`);
    for (let b = 0; b < bands; b++) this.written[this.index(tileX, tileY, b)] = true;

    const inside = [Math.min(this.tileSize, this.opts.width - tileX * this.tileSize), Math.min(this.tileSize, this.opts.height - tileY * this.tileSize)] as const;
    const encoded = Array.from({ length: bands }, (_, b) => this.encode(chw.subarray(b * plane, (b + 1) * plane), opts.owned === true, inside));
    const previous = this.order;
    const appended = (async () => {
      const parts = await Promise.all(encoded);
      await previous;
      for (let b = 0; b < bands; b++) {
        const i = this.index(tileX, tileY, b);
        this.offsets[i] = this.end;
        this.byteCounts[i] = parts[b].byteLength;
        this.end += parts[b].byteLength;
      }
      if (!this.bigtiff && this.end > CLASSIC_LIMIT) throw this.tooBigForClassic();
      return parts.map((part, b) => ({ part, at: this.offsets[this.index(tileX, tileY, b)] }));
    })();
    // The next tile may reserve its range as soon as this one has; its write need not wait for ours.
    this.order = appended.then(
      () => undefined,
      () => undefined,
    );
    const done = appended.then(async (placed) => {
      for (const { part, at } of placed) await this.handle.write(part, 0, part.byteLength, at);
      this.flushBehind(placed.reduce((sum, { part }) => sum + part.byteLength, 0));
    });
    this.pending.add(done);
    try {
      await done;
    } catch (err) {
      this.failure ??= err;
      throw err;
    } finally {
      this.pending.delete(done);
    }
  }

  /** Writes the IFD, fsyncs and renames onto the final path. Throws, leaving nothing behind, if a tile is missing. */
  async close(): Promise<void> {
    if (this.state !== 'open') throw new Error('close() called twice, or after abort()');
    this.state = 'closing';
    try {
      await Promise.allSettled([...this.pending]);
      // The last tile's write may have started a flush; its failure is the file's.
      await this.flushing;
      this.deflate?.close();
      if (this.failure) throw this.failure;
      const missing = this.written.indexOf(false);
      if (missing >= 0) {
        const perBand = this.tilesAcross * this.tilesDown;
        const t = missing % perBand;
        throw new Error(
          `${this.finalPath}: tile (${t % this.tilesAcross}, ${Math.floor(t / this.tilesAcross)}) of band ${Math.floor(missing / perBand)} was never written`,
        );
      }
      const ifdOffset = this.end + (this.end % 2);
      const ifd = this.buildIfd(ifdOffset);
      if (!this.bigtiff && ifdOffset + ifd.byteLength > CLASSIC_LIMIT) throw this.tooBigForClassic();
      await this.handle.write(ifd, 0, ifd.byteLength, ifdOffset);
      const header = this.header(ifdOffset);
      await this.handle.write(header, 0, header.byteLength, 0);
      await this.handle.sync();
      await this.handle.close();
      await commitTemp(this.tmpPath, this.finalPath);
      this.state = 'done';
    } catch (err) {
      await this.discard();
      throw err;
    }
  }

  /** Drops the partial file. Safe to call at any time, also after a failed close(). */
  async abort(): Promise<void> {
    if (this.state === 'done') return;
    this.state = 'closing';
    await Promise.allSettled([...this.pending]);
    await this.discard();
  }

  private async discard(): Promise<void> {
    this.state = 'done';
    this.deflate?.close();
    await this.flushing;
    await this.handle.close().catch(() => undefined);
    await discardTemp(this.tmpPath);
  }

  /**
   * Every `flushBytes` written, starts writing them to disk without waiting for it, one flush at a time.
   * A failed flush fails the file.
   */
  private flushBehind(bytes: number): void {
    this.unflushed += bytes;
    if (this.unflushed < this.opts.flushBytes || this.flushing) return;
    this.unflushed = 0;
    this.flushing = this.handle
      .datasync()
      .catch((err: unknown) => {
        this.failure ??= err;
      })
      .finally(() => {
        this.flushing = undefined;
      });
  }

  private tooBigForClassic() {
    return outputError(`${this.finalPath} would pass the 4 GiB limit of classic TIFF`, 'write it as BigTIFF (bigtiff: true)');
  }

  private index(tileX: number, tileY: number, band: number): number {
    return band * this.tilesAcross * this.tilesDown + tileY * this.tilesAcross + tileX;
  }

  /** One band of a tile, of which the first `inside` columns and rows lie in the image. */
  private async encode(samples: Samples, owned: boolean, inside: readonly [number, number]): Promise<Uint8Array> {
    const { predictor } = this.opts;
    const edge = inside[0] < this.tileSize || inside[1] < this.tileSize;
    // Zeroing and differencing work on a copy unless the caller gave the array up.
    const data = (edge || predictor === 2) && !owned ? samples.slice() : samples;
    if (edge) zeroOutside(data, this.tileSize, inside);
    if (predictor === 2) predictorKernels().difference(data as Uint8Array | Uint16Array, this.tileSize);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return this.deflate ? this.deflate.compress(bytes) : bytes;
  }

  private header(ifdOffset: number): Buffer {
    if (this.bigtiff) {
      const h = Buffer.alloc(16);
      h.write('II', 0, 'latin1');
      h.writeUInt16LE(43, 2);
      h.writeUInt16LE(8, 4);
      h.writeBigUInt64LE(BigInt(ifdOffset), 8);
      return h;
    }
    const h = Buffer.alloc(8);
    h.write('II', 0, 'latin1');
    h.writeUInt16LE(42, 2);
    h.writeUInt32LE(ifdOffset, 4);
    return h;
  }

  private buildIfd(ifdOffset: number): Buffer {
    const { width, height, bands, dtype, compression, predictor, geo, nodata, bandNames } = this.opts;
    const offsetType = this.bigtiff ? LONG8 : LONG;
    const entries: Entry[] = [
      { tag: 256, type: LONG, values: [width] },
      { tag: 257, type: LONG, values: [height] },
      { tag: 258, type: SHORT, values: new Array(bands).fill(BYTES[dtype] * 8) },
      { tag: 259, type: SHORT, values: [compression === 'deflate' ? 8 : 1] },
      { tag: 262, type: SHORT, values: [1] }, // BlackIsZero
      { tag: 277, type: SHORT, values: [bands] },
      { tag: 284, type: SHORT, values: [2] }, // band-separate tiles
      { tag: 322, type: LONG, values: [this.tileSize] },
      { tag: 323, type: LONG, values: [this.tileSize] },
      { tag: 324, type: offsetType, values: this.offsets },
      { tag: 325, type: offsetType, values: this.byteCounts },
      { tag: 339, type: SHORT, values: new Array(bands).fill(dtype === 'float32' ? 3 : 1) },
    ];
    if (predictor === 2) entries.push({ tag: 317, type: SHORT, values: [2] });
    // Bands past the first are "extra samples" of a grey image; libtiff warns without this tag.
    if (bands > 1) entries.push({ tag: 338, type: SHORT, values: new Array(bands - 1).fill(0) });
    if (geo?.modelPixelScale) entries.push({ tag: 33550, type: DOUBLE, values: geo.modelPixelScale });
    if (geo?.modelTiepoint) entries.push({ tag: 33922, type: DOUBLE, values: geo.modelTiepoint });
    if (geo?.modelTransformation) entries.push({ tag: 34264, type: DOUBLE, values: geo.modelTransformation });
    if (geo?.geoKeyDirectory) entries.push({ tag: 34735, type: SHORT, values: geo.geoKeyDirectory });
    if (geo?.geoDoubleParams) entries.push({ tag: 34736, type: DOUBLE, values: geo.geoDoubleParams });
    if (geo?.geoAsciiParams) entries.push({ tag: 34737, type: ASCII, values: geo.geoAsciiParams });
    if (bandNames) entries.push({ tag: 42112, type: ASCII, values: bandDescriptionsXml(bandNames) });
    if (nodata !== undefined) entries.push({ tag: 42113, type: ASCII, values: String(nodata) });
    entries.sort((a, b) => a.tag - b.tag);
    return encodeIfd(entries, ifdOffset, this.bigtiff);
  }
}

function validate(opts: TiffWriterOptions & { tileSize: number; level: number; predictor: 1 | 2; flushBytes: number }): void {
  const bad = (what: string) => new RangeError(`TiledTiffWriter: ${what}`);
  for (const key of ['width', 'height', 'bands'] as const) {
    if (!Number.isInteger(opts[key]) || opts[key] <= 0) throw bad(`${key} must be a positive integer, got ${opts[key]}`);
  }
  if (!(opts.dtype in BYTES)) throw bad(`dtype must be uint8, uint16 or float32, got ${opts.dtype}`);
  if (!Number.isInteger(opts.tileSize) || opts.tileSize <= 0 || opts.tileSize % 16 !== 0) {
    throw bad(`tileSize must be a positive multiple of 16, got ${opts.tileSize}`);
  }
  if (!Number.isInteger(opts.level) || opts.level < 0 || opts.level > 9) throw bad(`level must be 0..9, got ${opts.level}`);
  if (opts.predictor === 2 && opts.dtype === 'float32') throw bad('predictor 2 applies to integer types only');
  if (!(opts.flushBytes > 0)) throw bad(`flushBytes must be positive, got ${opts.flushBytes}`);
  if (opts.bandNames && opts.bandNames.length !== opts.bands) {
    throw bad(`${opts.bandNames.length} band names for ${opts.bands} bands`);
  }
}

/** Sets the samples of a `side`² band that lie right of column `inside[0]` or below row `inside[1]` to zero. */
function zeroOutside(data: Samples, side: number, [columns, rows]: readonly [number, number]): void {
  if (columns < side) for (let r = 0; r < rows; r++) data.fill(0, r * side + columns, (r + 1) * side);
  data.fill(0, rows * side);
}

const ASCII = 2;
const SHORT = 3;
const LONG = 4;
const DOUBLE = 12;
const LONG8 = 16;
const TYPE_SIZE: Record<number, number> = { [ASCII]: 1, [SHORT]: 2, [LONG]: 4, [DOUBLE]: 8, [LONG8]: 8 };

interface Entry {
  tag: number;
  type: number;
  values: number[] | string;
}

function entryBytes(entry: Entry): Buffer {
  if (typeof entry.values === 'string') return Buffer.from(`${entry.values.replace(/\0+$/, '')}\0`, 'latin1');
  const size = TYPE_SIZE[entry.type];
  const buf = Buffer.alloc(entry.values.length * size);
  entry.values.forEach((v, i) => {
    if (entry.type === SHORT) buf.writeUInt16LE(v, i * 2);
    else if (entry.type === LONG) buf.writeUInt32LE(v, i * 4);
    else if (entry.type === DOUBLE) buf.writeDoubleLE(v, i * 8);
    else buf.writeBigUInt64LE(BigInt(v), i * 8);
  });
  return buf;
}

/** The IFD at `ifdOffset` followed by the values too large to sit inside their entries. */
function encodeIfd(entries: Entry[], ifdOffset: number, bigtiff: boolean): Buffer {
  const entrySize = bigtiff ? 20 : 12;
  const inline = bigtiff ? 8 : 4;
  const countSize = bigtiff ? 8 : 2;
  const ifdSize = countSize + entries.length * entrySize + (bigtiff ? 8 : 4);
  const values = entries.map(entryBytes);
  let extra = ifdSize;
  const positions = values.map((v) => {
    if (v.byteLength <= inline) return -1;
    extra += extra % 2; // TIFF wants word-aligned value offsets
    const at = extra;
    extra += v.byteLength;
    return at;
  });
  const out = Buffer.alloc(extra);
  if (bigtiff) out.writeBigUInt64LE(BigInt(entries.length), 0);
  else out.writeUInt16LE(entries.length, 0);
  entries.forEach((e, i) => {
    const at = countSize + i * entrySize;
    out.writeUInt16LE(e.tag, at);
    out.writeUInt16LE(e.type, at + 2);
    const count = typeof e.values === 'string' ? values[i].byteLength : e.values.length;
    if (bigtiff) out.writeBigUInt64LE(BigInt(count), at + 4);
    else out.writeUInt32LE(count, at + 4);
    const valueAt = at + 4 + (bigtiff ? 8 : 4);
    if (positions[i] < 0) values[i].copy(out, valueAt);
    else if (bigtiff) out.writeBigUInt64LE(BigInt(ifdOffset + positions[i]), valueAt);
    else out.writeUInt32LE(ifdOffset + positions[i], valueAt);
    if (positions[i] >= 0) values[i].copy(out, positions[i]);
  });
  // The next-IFD offset (0: this is the only image) is already zero.
  return out;
}
