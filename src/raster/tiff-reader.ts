import { promises as fs, readSync } from 'node:fs';
import { promisify } from 'node:util';
import { inflate, inflateSync } from 'node:zlib';
import { GeoTIFF, getDecoder, type BaseDecoder, type GeoTIFFImage } from 'geotiff';
import { inputError } from '../errors.js';
import { predictorKernels } from '../kernels/predictor-kernels.js';
import { deriveGeo, type GeoInfo } from './geo.js';
import { parseBandDescriptions } from './gdal-metadata.js';

export type DType = 'uint8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';
export type TypedArray = Uint8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;
export type { GeoInfo } from './geo.js';

export interface RasterInfo {
  path: string;
  width: number;
  height: number;
  bands: number;
  dtype: DType;
  /** From GDAL band descriptions (GDAL_METADATA items with role="description"). */
  bandNames?: string[];
  /** GDAL_NODATA. */
  nodata?: number;
  geo: GeoInfo;
  /** Block size; for striped files the full width and the rows per strip. */
  tileWidth: number;
  tileHeight: number;
  planar: 'band' | 'pixel';
}

export interface RasterReader {
  info: RasterInfo;
  /**
   * Band-sequential (CHW) samples of the window; x/y/w/h in pixels, must lie inside the image. `into`,
   * an array of the file's sample type and the window's length, is filled instead of a new one.
   */
  readWindow(x: number, y: number, w: number, h: number, bands?: number[], into?: TypedArray): Promise<TypedArray>;
  /**
   * For a window already read: false when none of its blocks, in the bands read, holds the integer nodata
   * value (`info.nodata`; each block is looked at once, as it is decoded), or the raster has none; true
   * where one may (and always for float rasters). Lets a caller skip looking for nodata pixels at all.
   */
  mayHoldNodata(x: number, y: number, w: number, h: number, bands?: number[]): boolean;
  /** Blocks decoded so far, repeats included: with a cache that fits, each block of the file once. */
  readonly decodedBlocks: number;
  close(): Promise<void>;
}

export interface OpenRasterOptions {
  /**
   * Bytes of decoded blocks kept for later windows. Overlapping patches re-read the blocks on their
   * borders; caching them saves decoding each block several times. Windows are read in scan order (left
   * to right, top to bottom), so a full cache drops the block that comes first in that order: the
   * blocks behind the scan are the ones no later window needs. A cache of two block rows across the
   * image, plus the blocks of the windows in flight, then decodes every block once for patches that
   * overlap by less than a block.
   */
  cacheBytes?: number;
  /**
   * Read and inflate blocks on the calling thread, blocking it, instead of on libuv's thread pool. For a
   * thread that does nothing else (the engine's reading thread) blocking costs nothing, and the pool's
   * round trips do: every block of a 20 m tile, read and inflated, took 1.9 CPU-seconds this way against
   * 2.7 to 2.9 through the pool, whose extra was mostly waking threads. Other compressions still decode
   * asynchronously (geotiff.js's decoders are async).
   */
  sync?: boolean;
}

const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;

export const BYTES_PER_SAMPLE: Record<DType, number> = { uint8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float32: 4, float64: 8 };
const inflateAsync = promisify(inflate);

const ARRAYS: Record<DType, { new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray; new (length: number): TypedArray; BYTES_PER_ELEMENT: number }> = {
  uint8: Uint8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  uint32: Uint32Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
};

/** Opens a GeoTIFF for window reads. Checks the structure up front so damage is reported here, not as odd pixels later. */
export async function openRaster(path: string, opts: OpenRasterOptions = {}): Promise<RasterReader> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw inputError(
      `cannot open raster ${path} (${code ?? String(err)})`,
      code === 'ENOENT' ? 'check the path, or generate a test tile with `hil data synth`' : 'check the file permissions',
    );
  }
  try {
    const fileSize = (await handle.stat()).size;
    const image = await parseImage(path, handle);
    const layout = await readLayout(path, image, fileSize);
    return new GeoTiffReader(handle, layout, opts.cacheBytes ?? DEFAULT_CACHE_BYTES, opts.sync ?? false);
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/**
 * geotiff.js parses the header and IFD through this source. Unlike the library's file source it never
 * pads a read past the end of the file with zeros, so a cut-off IFD fails to parse instead of reading
 * as an image full of zeros.
 */
function fileSource(handle: fs.FileHandle) {
  return {
    async fetch(slices: { offset: number; length: number }[]): Promise<ArrayBuffer[]> {
      return Promise.all(
        slices.map(async ({ offset, length }) => {
          const buf = new Uint8Array(length);
          const { bytesRead } = await handle.read(buf, 0, length, offset);
          return buf.buffer.slice(0, bytesRead);
        }),
      );
    },
    get fileSize() {
      return null;
    },
    async close() {},
  };
}

/**
 * Where the first image directory starts, read from the TIFF header, or undefined when the file does
 * not start like a TIFF. Writers that stream (hil's, GDAL's COG) put the directory at the end, so a cut
 * file loses it: saying so beats a parser's "offset out of bounds".
 */
async function firstIfdOffset(handle: fs.FileHandle): Promise<number | undefined> {
  const head = Buffer.alloc(16);
  const { bytesRead } = await handle.read(head, 0, 16, 0);
  if (bytesRead < 8) return undefined;
  const order = head.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return undefined;
  const le = order === 'II';
  const magic = le ? head.readUInt16LE(2) : head.readUInt16BE(2);
  if (magic === 42) return le ? head.readUInt32LE(4) : head.readUInt32BE(4);
  if (magic === 43 && bytesRead >= 16) return Number(le ? head.readBigUInt64LE(8) : head.readBigUInt64BE(8));
  return undefined;
}

async function parseImage(path: string, handle: fs.FileHandle): Promise<GeoTIFFImage> {
  const ifd = await firstIfdOffset(handle);
  const size = (await handle.stat()).size;
  if (ifd !== undefined && ifd >= size) {
    throw inputError(
      `${path} is truncated: its image directory starts at byte ${ifd} but the file has ${size} bytes`,
      'the file was cut off (an interrupted copy or download?): copy or regenerate it',
    );
  }
  try {
    const tiff = await GeoTIFF.fromSource(fileSource(handle) as unknown as Parameters<typeof GeoTIFF.fromSource>[0]);
    return await tiff.getImage(0);
  } catch (err) {
    throw inputError(
      `${path} is not a readable TIFF/GeoTIFF (${err instanceof Error ? err.message : String(err)})`,
      'pass a GeoTIFF, or convert the file with `gdal_translate -of GTiff IN OUT.tif`',
    );
  }
}

interface Layout {
  info: RasterInfo;
  offsets: number[];
  byteCounts: number[];
  littleEndian: boolean;
  compression: number;
  predictor: number;
  tiled: boolean;
  bytesPerSample: number;
  samplesPerPixel: number;
  blocksAcross: number;
  blocksDown: number;
  /** Decompresses (geotiff.js) what node:zlib cannot; the predictor is left to predictorDecoder. */
  decoder: BaseDecoder;
  /** Undoes the floating-point predictor (3); horizontal differencing (2) is done here, in place. */
  predictorDecoder: BaseDecoder;
}

async function readLayout(path: string, image: GeoTIFFImage, fileSize: number): Promise<Layout> {
  const fd = image.getFileDirectory();
  const bands = image.getSamplesPerPixel();
  const bits = Array.from((await fd.loadValue(258)) as ArrayLike<number> | undefined ?? [1]);
  const formats = Array.from((await fd.loadValue(339)) as ArrayLike<number> | undefined ?? [1]);
  const dtype = dtypeOf(formats[0] ?? 1, bits[0]);
  const mixed = bits.some((b) => b !== bits[0]) || formats.some((f) => f !== formats[0]);
  if (!dtype || mixed) {
    throw inputError(
      `${path} has an unsupported sample format (SampleFormat ${formats.join(',')}, BitsPerSample ${bits.join(',')})`,
      'convert it to one of uint8/uint16/int16/uint32/int32/float32/float64 with `gdal_translate -ot UInt16 IN OUT.tif`',
    );
  }
  const compression = ((await fd.loadValue(259)) as number | undefined) ?? 1;
  const predictor = ((await fd.loadValue(317)) as number | undefined) ?? 1;
  const tiled = fd.hasTag(324);
  const offsets = toNumbers(await fd.loadValue(tiled ? 324 : 273));
  const byteCounts = toNumbers(await fd.loadValue(tiled ? 325 : 279));
  const width = image.getWidth();
  const height = image.getHeight();
  const tileWidth = image.getTileWidth();
  const tileHeight = image.getTileHeight();
  const planar = image.planarConfiguration === 2 ? 'band' : 'pixel';
  const blocksAcross = Math.ceil(width / tileWidth);
  const blocksDown = Math.ceil(height / tileHeight);
  const expected = blocksAcross * blocksDown * (planar === 'band' ? bands : 1);
  if (offsets.length < expected || byteCounts.length < expected) {
    throw corrupt(path, `it lists ${offsets.length} of ${expected} blocks`);
  }
  for (let i = 0; i < expected; i++) {
    if (offsets[i] + byteCounts[i] > fileSize) {
      throw corrupt(path, `block ${i} ends at byte ${offsets[i] + byteCounts[i]} but the file has ${fileSize} bytes`);
    }
  }
  let decoder: BaseDecoder;
  let predictorDecoder: BaseDecoder;
  try {
    const params = { tileWidth, tileHeight, predictor, bitsPerSample: bits, planarConfiguration: image.planarConfiguration, samplesPerPixel: bands };
    decoder = await getDecoder(compression, { ...params, predictor: 1 });
    predictorDecoder = await getDecoder(1, params);
  } catch (err) {
    throw inputError(
      `${path} uses TIFF compression ${compression}, which cannot be decoded (${err instanceof Error ? err.message : String(err)})`,
      'recompress it with `gdal_translate -co COMPRESS=DEFLATE -co TILED=YES IN OUT.tif`',
    );
  }
  const nodataText = (await fd.loadValue(42113)) as string | undefined;
  const nodata = nodataText !== undefined ? Number(nodataText.replace(/\0/g, '').trim()) : undefined;
  const metadata = (await fd.loadValue(42112)) as string | undefined;
  const bandNames = metadata ? parseBandDescriptions(metadata, bands) : undefined;
  const geo = deriveGeo({
    modelPixelScale: optionalNumbers(await fd.loadValue(33550)),
    modelTiepoint: optionalNumbers(await fd.loadValue(33922)),
    modelTransformation: optionalNumbers(await fd.loadValue(34264)),
    geoKeyDirectory: optionalNumbers(await fd.loadValue(34735)),
    geoDoubleParams: optionalNumbers(await fd.loadValue(34736)),
    geoAsciiParams: ((await fd.loadValue(34737)) as string | undefined) ?? undefined,
  });
  for (const key of Object.keys(geo) as (keyof GeoInfo)[]) if (geo[key] === undefined) delete geo[key];
  const info: RasterInfo = { path, width, height, bands, dtype, geo, tileWidth, tileHeight, planar };
  if (bandNames) info.bandNames = bandNames;
  if (nodata !== undefined && Number.isFinite(nodata)) info.nodata = nodata;
  return {
    info,
    offsets,
    byteCounts,
    littleEndian: image.littleEndian,
    compression,
    predictor,
    tiled,
    bytesPerSample: bits[0] / 8,
    samplesPerPixel: bands,
    blocksAcross,
    blocksDown,
    decoder,
    predictorDecoder,
  };
}

function dtypeOf(format: number, bits: number): DType | undefined {
  if (format === 1) return ({ 8: 'uint8', 16: 'uint16', 32: 'uint32' } as const)[bits as 8 | 16 | 32];
  if (format === 2) return ({ 16: 'int16', 32: 'int32' } as const)[bits as 16 | 32];
  if (format === 3) return ({ 32: 'float32', 64: 'float64' } as const)[bits as 32 | 64];
  return undefined;
}

function toNumbers(value: unknown): number[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'number' || typeof value === 'bigint') return [Number(value)];
  return Array.from(value as ArrayLike<number | bigint>, Number);
}

function optionalNumbers(value: unknown): number[] | undefined {
  return value === undefined || value === null ? undefined : toNumbers(value);
}

function corrupt(path: string, detail: string) {
  return inputError(`${path} is truncated or corrupt: ${detail}`, 'copy or download the file again, or regenerate it');
}

/** A decoded block of one band (planar) or all bands (pixel-interleaved), in the file's sample type. */
type Block = TypedArray;

class GeoTiffReader implements RasterReader {
  readonly info: RasterInfo;
  private readonly cache = new Map<number, { block: Promise<Block>; size: number; order: number }>();
  private cachedBytes = 0;
  decodedBlocks = 0;
  /** Per block: whether it holds the integer nodata value (2) or not (1), found when decoded; 0 unknown. */
  private readonly nodataFound: Uint8Array;
  /** Sync mode's read buffer, reused: a block's compressed bytes are done with once it is inflated or copied. */
  private scratch = Buffer.alloc(0);

  constructor(
    private readonly handle: fs.FileHandle,
    private readonly layout: Layout,
    private readonly cacheBytes: number,
    private readonly sync: boolean,
  ) {
    this.info = layout.info;
    this.nodataFound = new Uint8Array(layout.offsets.length);
  }

  async readWindow(x: number, y: number, w: number, h: number, bands?: number[], into?: TypedArray): Promise<TypedArray> {
    const { width, height, tileWidth, tileHeight, planar, dtype } = this.info;
    const valid = [x, y, w, h].every(Number.isInteger) && x >= 0 && y >= 0 && w > 0 && h > 0;
    if (!valid || x + w > width || y + h > height) {
      throw new RangeError(`window (${x}, ${y}, ${w}×${h}) is not inside the ${width}×${height} image ${this.info.path}`);
    }
    const selected = bands ?? Array.from({ length: this.info.bands }, (_, i) => i);
    for (const b of selected) {
      if (!Number.isInteger(b) || b < 0 || b >= this.info.bands) {
        throw new RangeError(`band index ${b} is outside 0..${this.info.bands - 1} of ${this.info.path}`);
      }
    }
    const length = selected.length * w * h;
    if (into && (!(into instanceof ARRAYS[dtype]) || into.length !== length)) {
      throw new RangeError(`readWindow into a ${into.constructor.name} of ${into.length} samples; the window needs ${dtype} × ${length}`);
    }
    const out = into ?? new ARRAYS[dtype](length);
    const plane = w * h;
    const jobs: Promise<void>[] = [];
    for (let ty = Math.floor(y / tileHeight); ty * tileHeight < y + h; ty++) {
      for (let tx = Math.floor(x / tileWidth); tx * tileWidth < x + w; tx++) {
        const x0 = Math.max(x, tx * tileWidth);
        const x1 = Math.min(x + w, (tx + 1) * tileWidth);
        const y0 = Math.max(y, ty * tileHeight);
        const y1 = Math.min(y + h, (ty + 1) * tileHeight);
        selected.forEach((band, slot) => {
          const blockIndex = this.blockIndex(tx, ty, planar === 'band' ? band : 0);
          jobs.push(
            this.block(blockIndex, ty).then((block) => {
              const stride = planar === 'band' ? 1 : this.info.bands;
              const sampleOffset = planar === 'band' ? 0 : band;
              for (let row = y0; row < y1; row++) {
                const src = ((row - ty * tileHeight) * tileWidth + (x0 - tx * tileWidth)) * stride + sampleOffset;
                const dst = slot * plane + (row - y) * w + (x0 - x);
                if (stride === 1) {
                  out.set(block.subarray(src, src + (x1 - x0)), dst);
                } else {
                  for (let i = 0; i < x1 - x0; i++) out[dst + i] = block[src + i * stride];
                }
              }
            }),
          );
        });
      }
    }
    await Promise.all(jobs);
    return out;
  }

  mayHoldNodata(x: number, y: number, w: number, h: number, bands?: number[]): boolean {
    const { tileWidth, tileHeight, planar, dtype, nodata } = this.info;
    if (dtype.startsWith('float')) return true;
    if (nodata === undefined) return false;
    const selected = planar === 'band' ? (bands ?? Array.from({ length: this.info.bands }, (_, i) => i)) : [0];
    for (let ty = Math.floor(y / tileHeight); ty * tileHeight < y + h; ty++) {
      for (let tx = Math.floor(x / tileWidth); tx * tileWidth < x + w; tx++) {
        for (const band of selected) if (this.nodataFound[this.blockIndex(tx, ty, band)] !== 1) return true;
      }
    }
    return false;
  }

  async close(): Promise<void> {
    this.cache.clear();
    await this.handle.close();
  }

  private blockIndex(tx: number, ty: number, band: number): number {
    const { blocksAcross, blocksDown } = this.layout;
    return band * blocksAcross * blocksDown + ty * blocksAcross + tx;
  }

  private block(index: number, ty: number): Promise<Block> {
    const hit = this.cache.get(index);
    if (hit) return hit.block;
    this.decodedBlocks++;
    const { blocksAcross, blocksDown } = this.layout;
    const entry = { block: this.decodeBlock(index, ty), size: this.blockBytes(ty), order: index % (blocksAcross * blocksDown) };
    if (entry.size <= this.cacheBytes) {
      this.cache.set(index, entry);
      this.cachedBytes += entry.size;
      entry.block.catch(() => {
        if (this.cache.get(index) === entry) this.evict(index, entry.size);
      });
      this.shrinkCache();
    }
    return entry.block;
  }

  /** Drops the blocks first in scan order (all bands of a position together) until the cache fits. */
  private shrinkCache(): void {
    while (this.cachedBytes > this.cacheBytes) {
      let first = Infinity;
      for (const e of this.cache.values()) first = Math.min(first, e.order);
      for (const [key, e] of this.cache) if (e.order === first) this.evict(key, e.size);
    }
  }

  private evict(index: number, size: number): void {
    this.cache.delete(index);
    this.cachedBytes -= size;
  }

  private async readAsync(index: number): Promise<Buffer> {
    const raw = Buffer.allocUnsafe(this.layout.byteCounts[index]);
    const { bytesRead } = await this.handle.read(raw, 0, raw.length, this.layout.offsets[index]);
    if (bytesRead !== raw.length) throw corrupt(this.info.path, `block ${index} is cut short`);
    return raw;
  }

  private readSync(index: number): Buffer {
    const length = this.layout.byteCounts[index];
    if (this.scratch.length < length) this.scratch = Buffer.allocUnsafe(length);
    const raw = this.scratch.subarray(0, length);
    if (readSync(this.handle.fd, raw, 0, length, this.layout.offsets[index]) !== length) throw corrupt(this.info.path, `block ${index} is cut short`);
    return raw;
  }

  /** Rows in block row `ty`: strips at the bottom of a striped file are short; tiles are always full. */
  private blockRows(ty: number): number {
    const { tileHeight, height } = this.info;
    return this.layout.tiled ? tileHeight : Math.min(tileHeight, height - ty * tileHeight);
  }

  private blockBytes(ty: number): number {
    const samples = this.info.planar === 'band' ? 1 : this.layout.samplesPerPixel;
    return this.info.tileWidth * this.blockRows(ty) * samples * this.layout.bytesPerSample;
  }

  private async decodeBlock(index: number, ty: number): Promise<Block> {
    const { byteCounts, compression, predictor, littleEndian, bytesPerSample } = this.layout;
    const expected = this.blockBytes(ty);
    const { path, dtype } = this.info;
    if (byteCounts[index] === 0) {
      // GDAL leaves never-written (sparse) blocks out; they read as nodata.
      return this.noted(index, new ARRAYS[dtype](expected / bytesPerSample).fill(this.info.nodata ?? 0));
    }
    const raw = this.sync ? this.readSync(index) : await this.readAsync(index);
    let bytes: Uint8Array;
    try {
      // One output chunk a little larger than the block: zlib's default 16 KiB chunks cost a callback
      // each, and a chunk the block fills exactly makes node:zlib allocate another and call inflate once
      // more to find the end (4 % of inflate's CPU on a 20 m tile).
      const inflateOpts = { chunkSize: Math.max(expected + 1, 64 * 1024) };
      if (compression === 1) bytes = raw;
      else if (compression === 8 || compression === 32946) bytes = this.sync ? inflateSync(raw, inflateOpts) : await inflateAsync(raw, inflateOpts);
      else bytes = new Uint8Array(await this.layout.decoder.decode(toArrayBuffer(raw)));
    } catch (err) {
      throw corrupt(path, `block ${index} does not decode (${err instanceof Error ? err.message : String(err)})`);
    }
    if (bytes.byteLength < expected) throw corrupt(path, `block ${index} decodes to ${bytes.byteLength} of ${expected} bytes`);
    // Own, aligned memory: the predictor works in place and typed views need sample alignment.
    bytes = bytes === raw || bytes.byteOffset % bytesPerSample !== 0 ? new Uint8Array(bytes) : bytes;
    // Horizontal differencing adds samples, so they must be in host order first; the floating-point
    // predictor reassembles bytes from their planes and yields host order itself (as libtiff's fpAcc).
    if (!littleEndian && bytesPerSample > 1 && predictor !== 3) swapBytes(bytes.subarray(0, expected), bytesPerSample);
    let found: boolean | undefined;
    if (predictor === 2) {
      const stride = this.info.planar === 'band' ? 1 : this.layout.samplesPerPixel;
      const nodata = this.integerNodata();
      // A nodata value that is not an integer is in no block: nothing to look for.
      found = undoDifferencing(bytes.subarray(0, expected), bytesPerSample, this.info.tileWidth * stride, stride, Number.isInteger(nodata) ? nodata : undefined);
    } else if (predictor !== 1) {
      bytes = new Uint8Array(await this.layout.predictorDecoder.decode(toArrayBuffer(bytes)));
    }
    return this.noted(index, new ARRAYS[dtype](bytes.buffer, bytes.byteOffset, expected / bytesPerSample), found);
  }

  /** The nodata value where samples compare to it exactly (integer rasters). */
  private integerNodata(): number | undefined {
    return this.info.dtype.startsWith('float') ? undefined : this.info.nodata;
  }

  /** Records whether `block` holds the integer nodata value (`found`, where decoding already looked). */
  private noted(index: number, block: Block, found?: boolean): Block {
    const nodata = this.integerNodata();
    if (nodata !== undefined) this.nodataFound[index] = (found ?? block.indexOf(nodata) >= 0) ? 2 : 1;
    return block;
  }
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/**
 * Undoes TIFF horizontal differencing (predictor 2) in place; integer overflow wraps as the encoder's did.
 * Where it looks for the integer `find` on the way (8- and 16-bit band-separate samples), returns whether
 * a sample holds it, compared by its low bits (so -1 also finds 65535: a false "found" only costs the
 * caller a search); false without one.
 */
function undoDifferencing(bytes: Uint8Array, bytesPerSample: number, rowSamples: number, stride: number, find?: number): boolean | undefined {
  const len = bytes.byteLength / bytesPerSample;
  const v = bytesPerSample === 1 ? bytes : bytesPerSample === 2 ? new Uint16Array(bytes.buffer, bytes.byteOffset, len) : new Uint32Array(bytes.buffer, bytes.byteOffset, len);
  // Band-separate 8- and 16-bit samples, the common case: WebAssembly SIMD, eight or sixteen at a time.
  if (stride === 1 && !(v instanceof Uint32Array)) return predictorKernels().accumulate(v, rowSamples, find);
  for (let row = 0; row < len; row += rowSamples) {
    const end = Math.min(row + rowSamples, len);
    for (let i = row + stride; i < end; i++) v[i] += v[i - stride];
  }
  return undefined;
}

function swapBytes(bytes: Uint8Array, size: number): void {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (size === 2) buf.swap16();
  else if (size === 4) buf.swap32();
  else buf.swap64();
}
