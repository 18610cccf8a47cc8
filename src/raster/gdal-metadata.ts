/**
 * GDAL keeps band descriptions in the GDAL_METADATA TIFF tag (42112) as a small XML document; this is
 * how `gdalinfo` shows "Description = B02" and how band names survive a round trip through GDAL.
 */

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

function unescapeXml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos);/g, (m) => Object.entries(ENTITIES).find(([, e]) => e === m)?.[0] ?? m);
}

/** The GDAL_METADATA document for per-band descriptions. */
export function bandDescriptionsXml(names: readonly string[]): string {
  const items = names.map((name, i) => `  <Item name="DESCRIPTION" sample="${i}" role="description">${escapeXml(name)}</Item>`);
  return `<GDALMetadata>\n${items.join('\n')}\n</GDALMetadata>\n`;
}

/** Band descriptions from a GDAL_METADATA document; undefined unless every one of `bands` has one. */
export function parseBandDescriptions(xml: string, bands: number): string[] | undefined {
  const names: (string | undefined)[] = new Array(bands).fill(undefined);
  for (const item of xml.matchAll(/<Item\b([^>]*)>([^<]*)<\/Item>/g)) {
    const attrs = item[1];
    if (!/\brole="description"/.test(attrs)) continue;
    const sample = /\bsample="(\d+)"/.exec(attrs);
    if (!sample) continue;
    const index = Number(sample[1]);
    if (index < bands) names[index] = unescapeXml(item[2]);
  }
  return names.every((n): n is string => n !== undefined) ? names : undefined;
}
