/** SVG heatmaps of Fisher values (viridis, with a colour legend), for the HTML report. */
import { fmt, scaler } from '../heatmap.js';

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** viridis, sampled at 9 stops */
const VIRIDIS = [
  '#440154',
  '#472d7b',
  '#3b528b',
  '#2c728e',
  '#21918c',
  '#28ae80',
  '#5ec962',
  '#addc30',
  '#fde725',
];

export function color(x: number): string {
  const t = Math.max(0, Math.min(1, Number.isFinite(x) ? x : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(t));
  const f = t - i;
  const a = VIRIDIS[i];
  const b = VIRIDIS[i + 1];
  const ch = (s: string, k: number) => parseInt(s.slice(1 + 2 * k, 3 + 2 * k), 16);
  const mix = [0, 1, 2].map((k) => Math.round(ch(a, k) + (ch(b, k) - ch(a, k)) * f));
  return `#${mix.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

export type Scale = ReturnType<typeof scaler>;

/** Rough widths of a character in the heatmaps' 12px bold title and 10px labels. */
const TITLE_CHAR = 7.2;
const LABEL_CHAR = 5.8;

/**
 * An SVG heatmap: rows x cols, labelled, with a colour legend. Its width grows to hold the title
 * and the legend's labels. `scale` maps values to colours (default: `scaler(values)`; pass one
 * built from several heatmaps' values for a shared colour scale).
 */
export function svgHeatmap(
  values: readonly number[],
  rows: number,
  cols: number,
  o: {
    title: string;
    rowLabel: (r: number) => string;
    colLabel: (c: number) => string;
    xTitle: string;
    cell?: number;
    scale?: Scale;
  },
): string {
  const cell = o.cell ?? Math.max(8, Math.min(28, Math.floor(420 / Math.max(cols, 1))));
  const ch = Math.max(10, Math.min(22, cell));
  const left = 44;
  const top = 30;
  const { scale, log, min, max } = o.scale ?? scaler(values);
  const legendText = Math.max(fmt(max).length, (log ? fmt(min) : '0').length, 9) * LABEL_CHAR;
  const w = Math.ceil(
    Math.max(
      left + cols * cell + 14 + Math.max(16 + legendText, 9 * LABEL_CHAR) + 8,
      4 + o.title.length * TITLE_CHAR + 8,
      left + (cols * cell) / 2 + (o.xTitle.length * LABEL_CHAR) / 2 + 8,
    ),
  );
  const lh = Math.max(40, rows * ch);
  const h = top + Math.max(rows * ch + 42, lh + 20);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(o.title)}">`,
    `<text x="4" y="16" class="t">${esc(o.title)}</text>`,
  ];
  for (let r = 0; r < rows; r++) {
    parts.push(
      `<text x="${left - 6}" y="${top + r * ch + ch * 0.7}" class="l" text-anchor="end">${esc(o.rowLabel(r))}</text>`,
    );
    for (let c = 0; c < cols; c++) {
      const v = values[r * cols + c];
      parts.push(
        `<rect x="${left + c * cell}" y="${top + r * ch}" width="${cell}" height="${ch}" fill="${color(scale(v))}"><title>${esc(`${o.rowLabel(r)}, ${o.colLabel(c)}: ${fmt(v)}`)}</title></rect>`,
      );
    }
  }
  const step = Math.max(1, Math.ceil(cols / 16));
  for (let c = 0; c < cols; c += step) {
    parts.push(
      `<text x="${left + c * cell + cell / 2}" y="${top + rows * ch + 12}" class="l" text-anchor="middle">${esc(o.colLabel(c))}</text>`,
    );
  }
  parts.push(
    `<text x="${left + (cols * cell) / 2}" y="${top + rows * ch + 30}" class="l" text-anchor="middle">${esc(o.xTitle)}</text>`,
  );
  // legend
  const lx = left + cols * cell + 14;
  for (let i = 0; i < 20; i++) {
    parts.push(
      `<rect x="${lx}" y="${top + lh - ((i + 1) * lh) / 20}" width="12" height="${lh / 20 + 0.5}" fill="${color(i / 19)}"/>`,
    );
  }
  parts.push(`<text x="${lx + 16}" y="${top + 8}" class="l">${esc(fmt(max))}</text>`);
  parts.push(`<text x="${lx + 16}" y="${top + lh}" class="l">${esc(log ? fmt(min) : '0')}</text>`);
  parts.push(`<text x="${lx}" y="${top + lh + 14}" class="l">${log ? 'log scale' : 'linear'}</text>`);
  parts.push('</svg>');
  return parts.join('');
}
