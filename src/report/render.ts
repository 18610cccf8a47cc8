import { readFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { PACKAGE_ROOT } from '../util/package-root.js';
import type { ReportModel } from './model.js';
import { markdownTable, type TableView } from './view.js';

export type ReportFormat = 'md' | 'html' | 'json';
export const REPORT_FORMATS: readonly ReportFormat[] = ['md', 'html', 'json'];

/** Templates live beside the sources (not in dist/), so the compiled CLI and the tests read the same files. */
const TEMPLATE_DIR = path.join(PACKAGE_ROOT, 'src', 'report', 'templates');

function engine(): typeof Handlebars {
  const hb = Handlebars.create();
  hb.registerHelper('md', (view: TableView) => markdownTable(view));
  hb.registerPartial('table', readFileSync(path.join(TEMPLATE_DIR, 'table.html.hbs'), 'utf8'));
  return hb;
}

function template(name: string): Handlebars.TemplateDelegate {
  // Markdown must not be HTML-escaped ("Sen2Cor → L2A" stays as typed); HTML escapes everything but the SVG.
  return engine().compile(readFileSync(path.join(TEMPLATE_DIR, name), 'utf8'), { noEscape: name.endsWith('.md.hbs'), strict: false });
}

/** The JSON report: the model without the drawn SVG, which is presentation. */
export function reportJson(model: ReportModel): string {
  return `${JSON.stringify({ ...model, charts: model.charts.map(({ svg, ...rest }) => ({ ...rest, drawn: svg !== null })) }, null, 2)}\n`;
}

/**
 * Renders the report. For Markdown, `chartFiles` maps a chart id to the file the SVG was written to, so the
 * document links it; HTML embeds the SVG itself and stays one self-contained file.
 */
export function renderReport(model: ReportModel, format: ReportFormat, chartFiles: Record<string, string> = {}): string {
  if (format === 'json') return reportJson(model);
  if (format === 'html') return template('report.html.hbs')(model);
  const charts = model.charts.map((c) => ({ ...c, file: chartFiles[c.id] }));
  return template('report.md.hbs')({ ...model, charts }).replace(/\n{3,}/g, '\n\n');
}
