/** A table as the templates print it: already formatted, so Markdown and HTML say the same thing. */
export interface CellView {
  text: string;
  bold?: boolean;
  /** Markdown italics, e.g. an RMSE above the 0.02 line. */
  italic?: boolean;
  /** A CSS class for HTML ("over", "crash"). */
  cls?: string;
  /** Exact value for an HTML tooltip. */
  title?: string;
}

export interface TableView {
  id: string;
  caption: string;
  header: string[];
  rows: CellView[][];
  notes: string[];
}

/** A Markdown table; empty cells print as "| |", as in REFERENCE.md. */
export function markdownTable(view: Pick<TableView, 'header' | 'rows'>): string {
  const line = (cells: readonly string[]) => `|${cells.map((c) => (c ? ` ${c} ` : ' ')).join('|')}|`;
  const cell = (c: CellView) => (c.text === '' ? '' : c.bold ? `**${c.text}**` : c.italic ? `_${c.text}_` : c.text);
  return [line(view.header), `|${view.header.map(() => '---').join('|')}|`, ...view.rows.map((r) => line(r.map(cell)))].join('\n');
}
