import { formatDuration } from './format.js';
import { PALETTE, circle, esc, line, niceTicks, rect, svg, text } from './svg.js';

export interface F2Point {
  label: string;
  ms: number;
  f2: number;
}

/**
 * F2 against inference time per model and target, the paper's Figure 1. Time runs on a log axis when the
 * points span more than a factor of ten, since boards and VMs differ by orders of magnitude.
 */
export function f2VsTimeChart(points: readonly F2Point[]): string {
  const W = 640;
  const H = 360;
  const L = 60;
  const R = 20;
  const T = 30;
  const B = 50;
  const lo = Math.min(...points.map((p) => p.ms));
  const hi = Math.max(...points.map((p) => p.ms));
  const log = hi / lo > 10;
  const [x0, x1] = log ? [Math.log10(lo) - 0.1, Math.log10(hi) + 0.1] : [0, hi * 1.1];
  const xOf = (ms: number) => L + (((log ? Math.log10(ms) : ms) - x0) / (x1 - x0 || 1)) * (W - L - R);
  const yOf = (f2: number) => T + (1 - f2) * (H - T - B);
  const body: string[] = [];
  for (const v of niceTicks(0, 1, 5)) {
    body.push(line(L, yOf(v), W - R, yOf(v), 'stroke="#ddd"'), text(L - 6, yOf(v) + 4, v.toFixed(1), 'text-anchor="end"'));
  }
  const xTicks = log ? niceTicks(Math.ceil(x0), Math.floor(x1), Math.max(1, Math.floor(x1) - Math.ceil(x0))).map((e) => 10 ** e) : niceTicks(0, x1, 5);
  for (const ms of xTicks.filter((t) => t > 0)) {
    body.push(line(xOf(ms), T, xOf(ms), H - B, 'stroke="#eee"'), text(xOf(ms), H - B + 16, formatDuration(ms), 'text-anchor="middle"'));
  }
  body.push(line(L, H - B, W - R, H - B), line(L, T, L, H - B));
  body.push(text((L + W - R) / 2, H - 12, `Scene-classification time per run${log ? ' (log scale)' : ''}`, 'text-anchor="middle"'));
  body.push(text(14, (T + H - B) / 2, 'F2 (cloud or shadow)', `text-anchor="middle" transform="rotate(-90 14 ${(T + H - B) / 2})"`));
  points.forEach((p, i) => {
    const colour = PALETTE[i % PALETTE.length];
    body.push(circle(xOf(p.ms), yOf(p.f2), 5, colour, `${p.label}: F2 ${p.f2.toFixed(3)}, ${formatDuration(p.ms)}`));
    // Labels point inwards so that those of the slowest points stay inside the chart.
    const right = xOf(p.ms) > (L + W - R) / 2;
    body.push(text(xOf(p.ms) + (right ? -8 : 8), yOf(p.f2) - 8, p.label, `fill="${colour}"${right ? ' text-anchor="end"' : ''}`));
  });
  return svg('chart-f2-time', 'F2 versus time per model and target', W, H, body);
}

export interface RmseSeries {
  label: string;
  values: Record<string, number>;
}

/** Per-band RMSE bars per model, with the 0.02 line (the paper's Figure 3). */
export function rmseBarsChart(series: readonly RmseSeries[], bands: readonly string[], lineAt: number): string {
  const W = Math.max(640, 60 + bands.length * (series.length * 10 + 16) + 20);
  const H = 360;
  const L = 60;
  const R = 20;
  const T = 40;
  const B = 50;
  const max = Math.max(lineAt * 1.2, ...series.flatMap((s) => Object.values(s.values)));
  const ticks = niceTicks(0, max, 5);
  const top = ticks.at(-1)! >= max ? ticks.at(-1)! : max;
  const yOf = (v: number) => T + (1 - v / top) * (H - T - B);
  const groupW = (W - L - R) / bands.length;
  const barW = Math.max(2, (groupW - 8) / series.length);
  const body: string[] = [];
  for (const v of ticks) body.push(line(L, yOf(v), W - R, yOf(v), 'stroke="#ddd"'), text(L - 6, yOf(v) + 4, v.toFixed(3), 'text-anchor="end"'));
  bands.forEach((band, b) => {
    const gx = L + b * groupW + 4;
    series.forEach((s, i) => {
      const v = s.values[band];
      if (v === undefined) return;
      body.push(rect(gx + i * barW, yOf(v), barW - 1, H - B - yOf(v), PALETTE[i % PALETTE.length], `${s.label} ${band}: ${v.toFixed(4)}`));
    });
    body.push(text(gx + (groupW - 8) / 2, H - B + 14, band, 'text-anchor="middle"'));
  });
  body.push(line(L, yOf(lineAt), W - R, yOf(lineAt), 'stroke="#D55E00" stroke-dasharray="6 4" stroke-width="1.5"'));
  body.push(text(L + 4, yOf(lineAt) - 4, `${lineAt} line`, 'fill="#D55E00"'));
  body.push(line(L, H - B, W - R, H - B), line(L, T, L, H - B));
  body.push(text(14, (T + H - B) / 2, 'RMSE (reflectance)', `text-anchor="middle" transform="rotate(-90 14 ${(T + H - B) / 2})"`));
  body.push(...legend(series.map((s) => s.label), L, 14));
  return svg('chart-rmse', 'Per-band RMSE against Sen2Cor', W, H, body);
}

export interface StageBar {
  label: string;
  stages: Record<string, number>;
}

/** Time per stage, stacked, one bar per configuration. */
export function stageStackChart(bars: readonly StageBar[], stageOrder: readonly string[]): string {
  const rowH = 26;
  const L = 260;
  const R = 30;
  const T = 40;
  const B = 40;
  const W = 760;
  const H = T + B + bars.length * rowH;
  const max = Math.max(...bars.map((b) => Object.values(b.stages).reduce((a, v) => a + v, 0)));
  const ticks = niceTicks(0, max, 5);
  const right = Math.max(max, ticks.at(-1)!);
  const xOf = (ms: number) => L + (ms / right) * (W - L - R);
  const body: string[] = [];
  for (const t of ticks) body.push(line(xOf(t), T, xOf(t), H - B, 'stroke="#eee"'), text(xOf(t), H - B + 14, formatDuration(t), 'text-anchor="middle"'));
  bars.forEach((bar, i) => {
    const y = T + i * rowH + 4;
    body.push(text(L - 8, y + 13, bar.label, 'text-anchor="end"'));
    let acc = 0;
    stageOrder.forEach((stage, s) => {
      const ms = bar.stages[stage];
      if (!ms) return;
      body.push(rect(xOf(acc), y, xOf(acc + ms) - xOf(acc), rowH - 8, PALETTE[s % PALETTE.length], `${bar.label} ${stage}: ${formatDuration(ms)}`));
      acc += ms;
    });
  });
  body.push(line(L, H - B, W - R, H - B));
  body.push(...legend([...stageOrder], L, 14));
  return svg('chart-stages', 'Time per stage per target', W, H, body);
}

function legend(labels: readonly string[], x: number, y: number): string[] {
  const out: string[] = [];
  let cx = x;
  labels.forEach((l, i) => {
    out.push(rect(cx, y - 9, 10, 10, PALETTE[i % PALETTE.length]), `<text x="${cx + 14}" y="${y}">${esc(l)}</text>`);
    cx += 24 + l.length * 6.5;
  });
  return out;
}
