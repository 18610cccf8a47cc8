import { promises as fs } from 'node:fs';
import { modelError } from '../errors.js';

/**
 * Reads the XML half of an OpenVINO IR (v10/v11): layers with their type, attributes and port shapes,
 * and the edges between ports. Weights (.bin) are not read; Const layers give their element type and
 * shape, which is enough to compare topologies and parameter counts.
 */

export interface IrPort {
  id: number;
  precision?: string;
  names?: string;
  /** -1 for a dynamic dimension. */
  dims: number[];
}

export interface IrLayer {
  id: number;
  name: string;
  type: string;
  version?: string;
  /** Attributes of the `<data>` element (strides, pads, shape, element_type, ...). */
  data: Record<string, string>;
  inputs: IrPort[];
  outputs: IrPort[];
}

export interface IrEdge {
  fromLayer: number;
  fromPort: number;
  toLayer: number;
  toPort: number;
}

export interface IrModel {
  name: string;
  version: number;
  layers: IrLayer[];
  edges: IrEdge[];
}

interface XmlElement {
  tag: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_m, e: string) =>
    e.startsWith('#x') ? String.fromCodePoint(parseInt(e.slice(2), 16)) : e.startsWith('#') ? String.fromCodePoint(parseInt(e.slice(1), 10)) : ENTITIES[e],
  );
}

/** A minimal XML reader for machine-written files: elements, attributes, text; no DTDs or namespaces. */
function parseXml(xml: string, source: string): XmlElement {
  const root: XmlElement = { tag: '#root', attrs: {}, children: [], text: '' };
  const open: XmlElement[] = [root];
  const tagRe = /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!\[CDATA\[([\s\S]*?)\]\]>|<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/g;
  const attrRe = /([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
  let last = 0;
  for (let m = tagRe.exec(xml); m; m = tagRe.exec(xml)) {
    const current = open[open.length - 1];
    current.text += unescapeXml(xml.slice(last, m.index));
    last = tagRe.lastIndex;
    if (m[1] !== undefined) {
      current.text += m[1];
      continue;
    }
    const [, , closing, tag, attrText, selfClosing] = m;
    if (tag === undefined) continue;
    if (closing) {
      if (current.tag !== tag) throw modelError(`${source}: </${tag}> closes <${current.tag}> (malformed XML)`, 'check the IR .xml file is complete');
      open.pop();
      continue;
    }
    const attrs: Record<string, string> = {};
    for (let a = attrRe.exec(attrText); a; a = attrRe.exec(attrText)) attrs[a[1]] = unescapeXml(a[2] ?? a[3]);
    const el: XmlElement = { tag, attrs, children: [], text: '' };
    current.children.push(el);
    if (!selfClosing) open.push(el);
  }
  if (open.length !== 1) throw modelError(`${source}: <${open[open.length - 1].tag}> is never closed (truncated XML?)`, 'check the IR .xml file is complete');
  return root;
}

const child = (el: XmlElement, tag: string) => el.children.find((c) => c.tag === tag);
const children = (el: XmlElement | undefined, tag: string) => (el ? el.children.filter((c) => c.tag === tag) : []);

function port(el: XmlElement): IrPort {
  return {
    id: Number(el.attrs.id),
    precision: el.attrs.precision,
    names: el.attrs.names,
    dims: children(el, 'dim').map((d) => Number(d.text.trim())),
  };
}

export function parseOpenVinoIr(xml: string, source = 'OpenVINO IR'): IrModel {
  const net = child(parseXml(xml, source), 'net');
  const layersEl = net && child(net, 'layers');
  if (!net || !layersEl) throw modelError(`${source} is not an OpenVINO IR (no <net><layers>)`, 'give the .xml file of an OpenVINO IR model');
  const layers = children(layersEl, 'layer').map((l) => ({
    id: Number(l.attrs.id),
    name: l.attrs.name ?? '',
    type: l.attrs.type ?? '',
    version: l.attrs.version,
    data: { ...(child(l, 'data')?.attrs ?? {}) },
    inputs: children(child(l, 'input'), 'port').map(port),
    outputs: children(child(l, 'output'), 'port').map(port),
  }));
  const edges = children(child(net, 'edges'), 'edge').map((e) => ({
    fromLayer: Number(e.attrs['from-layer']),
    fromPort: Number(e.attrs['from-port']),
    toLayer: Number(e.attrs['to-layer']),
    toPort: Number(e.attrs['to-port']),
  }));
  return { name: net.attrs.name ?? '', version: Number(net.attrs.version), layers, edges };
}

export async function readOpenVinoIr(file: string): Promise<IrModel> {
  let xml: string;
  try {
    xml = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw modelError(`cannot read OpenVINO IR ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, 'check the path to the .xml file');
  }
  return parseOpenVinoIr(xml, file);
}

/** Number of layers of each type. */
export function irLayerCounts(ir: IrModel): Map<string, number> {
  const counts = new Map<string, number>();
  for (const l of ir.layers) counts.set(l.type, (counts.get(l.type) ?? 0) + 1);
  return counts;
}

/** The layer that feeds input `toPort` of layer `layerId`. */
export function irProducer(ir: IrModel, layerId: number, toPort: number): IrLayer | undefined {
  const edge = ir.edges.find((e) => e.toLayer === layerId && e.toPort === toPort);
  return edge && ir.layers.find((l) => l.id === edge.fromLayer);
}

/**
 * Shape of the constant feeding input `toPort` of a layer, looking through the Convert that decompresses
 * FP16 weights; undefined when that input is not a constant.
 */
export function irConstShape(ir: IrModel, layerId: number, toPort: number): number[] | undefined {
  let src = irProducer(ir, layerId, toPort);
  if (src?.type === 'Convert') src = irProducer(ir, src.id, src.inputs[0]?.id ?? 0);
  if (src?.type !== 'Const') return undefined;
  const shape = src.data.shape ?? '';
  return shape.trim() === '' ? [] : shape.split(',').map((d) => Number(d.trim()));
}
