/**
 * The scores plot of the HTML report: for one results table (one k), a group per task and one
 * for the average over tasks; in each, every method's score as a dot with its 95% interval as a
 * whisker, and the fine-tuned score as a dashed reference line over its interval's band.
 */
import type { SummaryTable } from './summary.js';
import { esc } from './svg-heatmap.js';
import type { Interval } from './types.js';

/** Okabe-Ito colours (safe for colour-blind readers), without yellow; `average` gets dark grey. */
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#882255', '#44AA99'];
const BASELINE_COLOUR = '#555555';

const W = 720;
const LEFT = 48;
const RIGHT = 12;
const PLOT_H = 230;
/** rough width of a character of the 11px sans-serif labels (an overestimate, so nothing overlaps) */
const CHAR_W = 6.2;
/** legend text is measured tighter: its items have gaps of their own */
const LEGEND_CHAR_W = 5.7;

export function methodColours(methods: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  for (const m of methods) out.set(m, m === 'average' ? BASELINE_COLOUR : PALETTE[i++ % PALETTE.length]);
  return out;
}

/** About five round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number): number[] {
  const span = hi - lo || Math.abs(hi) || 1;
  const raw = span / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toFixed(10)));
  return out;
}

const fin = (v: number | null | undefined): v is number =>
  v !== null && v !== undefined && Number.isFinite(v);
const n1 = (v: number) => Number(v.toFixed(1));
const pts = (v: number) => (100 * v).toFixed(2);

function truncate(s: string, width: number): string {
  const max = Math.max(3, Math.floor(width / CHAR_W));
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/**
 * An inline SVG (class "fmn-scores-plot") of one results table: `tasks` in column order, the
 * table's rows after the first (fine-tuned) as methods. Scales to its container's width.
 */
export function svgScoresPlot(t: SummaryTable, tasks: readonly string[]): string {
  const fineTuned = t.rows.find((r) => r.label === 'fine-tuned');
  const methods = t.rows.filter((r) => r.label !== 'fine-tuned');
  const colours = methodColours(methods.map((m) => m.label));
  const groups = [...tasks, 'average'];
  const cell = (row: (typeof t.rows)[number], g: string): { v: number | null; ci: Interval | null } =>
    g === 'average' && !tasks.includes('average')
      ? { v: row.average, ci: row.averageCi95 }
      : { v: row.scores[g] ?? null, ci: row.ci95[g] ?? null };

  // y range over every score, interval end and the fine-tuned band
  const ys: number[] = [];
  for (const row of t.rows)
    for (const g of groups) {
      const { v, ci } = cell(row, g);
      for (const x of [v, ci?.[0], ci?.[1]]) if (fin(x)) ys.push(100 * x);
    }
  let lo = ys.length ? Math.min(...ys) : 0;
  let hi = ys.length ? Math.max(...ys) : 100;
  const pad = (hi - lo || 1) * 0.06;
  lo -= pad;
  hi += pad;
  const ticks = niceTicks(lo, hi);
  lo = Math.min(lo, ticks[0] ?? lo);
  hi = Math.max(hi, ticks[ticks.length - 1] ?? hi);

  // legend, wrapped into rows over the plot
  const legendItems = [
    ...(fineTuned ? [{ label: 'fine-tuned', colour: '#000', dashed: true }] : []),
    ...methods.map((m) => ({ label: m.label, colour: colours.get(m.label)!, dashed: false })),
  ];
  const legend: string[] = [];
  let lx = LEFT;
  let ly = 14;
  for (const it of legendItems) {
    const w = 18 + it.label.length * LEGEND_CHAR_W + 14;
    if (lx + w > W - RIGHT && lx > LEFT) {
      lx = LEFT;
      ly += 16;
    }
    legend.push(
      it.dashed
        ? `<line x1="${lx}" x2="${lx + 14}" y1="${ly - 4}" y2="${ly - 4}" stroke="#000" stroke-width="1.5" stroke-dasharray="4 2"/>`
        : `<circle cx="${lx + 7}" cy="${ly - 4}" r="4" fill="${it.colour}"/>`,
      `<text x="${lx + 18}" y="${ly}" class="l">${esc(it.label)}</text>`,
    );
    lx += w;
  }
  const top = ly + 14;
  const bottom = top + PLOT_H;
  const h = bottom + 40;
  const y = (v: number) => n1(bottom - ((100 * v - lo) / (hi - lo)) * PLOT_H);
  const gw = (W - LEFT - RIGHT) / groups.length;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="fmn-scores-plot" data-k="${t.k}" viewBox="0 0 ${W} ${h}" width="${W}" height="${h}" role="img" aria-label="${esc(`scores with 95% intervals, ${t.k} tasks merged at once`)}">`,
    ...legend,
  ];
  // axis, grid
  for (const v of ticks) {
    const yy = n1(bottom - ((v - lo) / (hi - lo)) * PLOT_H);
    parts.push(
      `<line x1="${LEFT}" x2="${W - RIGHT}" y1="${yy}" y2="${yy}" stroke="#e4e4e4"/>`,
      `<text x="${LEFT - 6}" y="${yy + 4}" class="l" text-anchor="end">${v}</text>`,
    );
  }
  parts.push(
    `<text transform="translate(12 ${(top + bottom) / 2}) rotate(-90)" class="l" text-anchor="middle">score × 100</text>`,
    `<line x1="${LEFT}" x2="${LEFT}" y1="${top}" y2="${bottom}" stroke="#999"/>`,
    `<line x1="${LEFT}" x2="${W - RIGHT}" y1="${bottom}" y2="${bottom}" stroke="#999"/>`,
  );
  groups.forEach((g, gi) => {
    const x0 = LEFT + gi * gw;
    if (gi > 0)
      parts.push(`<line x1="${n1(x0)}" x2="${n1(x0)}" y1="${top}" y2="${bottom}" stroke="#f0f0f0"/>`);
    parts.push(
      `<text x="${n1(x0 + gw / 2)}" y="${bottom + 16}" class="l g" text-anchor="middle">${esc(truncate(g, gw - 4))}<title>${esc(g)}</title></text>`,
    );
    // the fine-tuned reference: its interval as a band, its score as a dashed line
    if (fineTuned) {
      const { v, ci } = cell(fineTuned, g);
      const xa = n1(x0 + gw * 0.04);
      const xb = n1(x0 + gw * 0.96);
      if (ci && fin(ci[0]) && fin(ci[1]))
        parts.push(
          `<rect x="${xa}" y="${y(ci[1])}" width="${n1(xb - xa)}" height="${n1(y(ci[0]) - y(ci[1]))}" fill="#000" fill-opacity="0.06"/>`,
        );
      if (fin(v))
        parts.push(
          `<line class="finetuned" data-task="${esc(g)}" x1="${xa}" x2="${xb}" y1="${y(v)}" y2="${y(v)}" stroke="#000" stroke-width="1.5" stroke-dasharray="4 2"><title>${esc(`fine-tuned on ${g}: ${pts(v)}${ci && fin(ci[0]) ? ` [${pts(ci[0])}, ${pts(ci[1])}]` : ''}`)}</title></line>`,
        );
    }
    const step = (gw * 0.8) / Math.max(1, methods.length);
    methods.forEach((m, mi) => {
      const { v, ci } = cell(m, g);
      if (!fin(v)) return;
      const x = n1(x0 + gw * 0.1 + (mi + 0.5) * step);
      const c = colours.get(m.label)!;
      const tip = `${m.label} on ${g}: ${pts(v)}${ci && fin(ci[0]) ? ` [${pts(ci[0])}, ${pts(ci[1])}]` : ''}`;
      const mark: string[] = [
        `<g data-task="${esc(g)}" data-method="${esc(m.label)}"><title>${esc(tip)}</title>`,
      ];
      if (ci && fin(ci[0]) && fin(ci[1])) {
        const cap = Math.min(4, step / 3);
        mark.push(
          `<line class="whisker" data-task="${esc(g)}" data-method="${esc(m.label)}" x1="${x}" x2="${x}" y1="${y(ci[0])}" y2="${y(ci[1])}" stroke="${c}" stroke-width="1.5"/>`,
          `<line x1="${n1(x - cap)}" x2="${n1(x + cap)}" y1="${y(ci[0])}" y2="${y(ci[0])}" stroke="${c}" stroke-width="1.5"/>`,
          `<line x1="${n1(x - cap)}" x2="${n1(x + cap)}" y1="${y(ci[1])}" y2="${y(ci[1])}" stroke="${c}" stroke-width="1.5"/>`,
        );
      }
      mark.push(
        `<circle cx="${x}" cy="${y(v)}" r="${Math.min(3.5, step / 2.5).toFixed(1)}" fill="${c}"/></g>`,
      );
      parts.push(mark.join(''));
    });
  });
  parts.push(
    `<text x="${LEFT}" y="${h - 6}" class="l" fill="#666">dots: score; whiskers: 95% paired-bootstrap interval; dashed line and band: the fine-tuned model and its interval</text>`,
    '</svg>',
  );
  return parts.join('');
}
