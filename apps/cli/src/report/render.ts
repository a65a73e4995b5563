/**
 * Renders a run report as Markdown, as a self-contained HTML page (inline CSS and SVG, no
 * scripts or external assets) and as a plain-text table for the terminal.
 */
import { fmt, scaler } from '../heatmap.js';
import { comparisonsOfK, noiseLine, signedInterval, signedPoints, standing } from './comparisons.js';
import { fisherTimes, summaryTables, type SummaryTable } from './summary.js';
import { QUANTILES, type Interval, type Report, type ReportMaskFisher } from './types.js';

const score = (v: number | null | undefined) =>
  v === null || v === undefined || Number.isNaN(v) ? '-' : (100 * v).toFixed(2);
const secs = (v: number | undefined) => (v === undefined ? '-' : v < 10 ? v.toFixed(2) : v.toFixed(1));
const interval = (ci: Interval | null | undefined) =>
  ci ? `[${score(ci[0])}, ${score(ci[1])}]` : '-';

/** Half the width of a 95% interval, x 100; undefined when the interval is not known. */
function halfWidth(ci: Interval | null | undefined): string | undefined {
  if (!ci || !Number.isFinite(ci[0]) || !Number.isFinite(ci[1])) return undefined;
  return ((100 * (ci[1] - ci[0])) / 2).toFixed(2);
}

/** A score x 100 with +/- half its interval's width: "83.12 ±2.10". */
function scorePm(v: number | null | undefined, ci: Interval | null | undefined): string {
  const s = score(v);
  const h = halfWidth(ci);
  return h === undefined || s === '-' ? s : `${s} ±${h}`;
}

function tableCells(t: SummaryTable, tasks: readonly string[]): string[][] {
  return t.rows.map((r) => [
    r.label,
    ...tasks.map((n) => scorePm(r.scores[n], r.ci95[n])),
    scorePm(r.average, r.averageCi95),
  ]);
}

/** One row per method compared with average at k: method, delta, 95% interval, standing. */
function comparisonCells(r: Report, k: number): string[][] {
  return comparisonsOfK(r.comparisons ?? [], k).map((c) => [
    c.method,
    signedPoints(c.delta),
    signedInterval(c.ci95),
    standing(c),
  ]);
}

const COMPARISON_HEAD = ['method', 'minus average', '95% interval', 'verdict'];

const PM_NOTE =
  "± is half the width of the score's 95% paired-bootstrap interval over the task's evaluation examples (1000 resamples, seed 0)";

function comparisonNote(t: SummaryTable, r: Report): string {
  const cs = comparisonsOfK(r.comparisons ?? [], t.k);
  const pairs = cs[0]?.pairs;
  return `Each method minus average (x 100): the mean of its ${pairs ?? ''} task-score differences over the ${t.combinations} combination${t.combinations === 1 ? '' : 's'}, with a 95% paired-bootstrap interval (the same resampled examples for both methods):`;
}

/** One row per model with a measured Fisher time: task, examples, mask, full, full / mask. */
function fisherTimeCells(r: Report): string[][] {
  return fisherTimes(r)
    .filter((f) => f.mask !== undefined || f.full !== undefined)
    .map((f) => [
      f.task,
      String(f.examples ?? '-'),
      secs(f.mask),
      secs(f.full),
      f.ratio === undefined ? '-' : `${f.ratio.toFixed(1)}x`,
    ]);
}

// ------------------------------------------------------------------------------------------ text

function textTable(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

/** The results tables and Fisher timings as plain text (what `fmn run` / `fmn demo` print). */
export function renderText(r: Report): string {
  const tasks = r.tasks.map((t) => t.name);
  const parts: string[] = [];
  for (const t of summaryTables(r)) {
    parts.push(
      `Scores x 100, ${t.k} tasks merged at once (${t.combinations} combination${t.combinations === 1 ? '' : 's'}; each task with its own head):`,
    );
    parts.push(textTable(['method', ...tasks, 'average'], tableCells(t, tasks)));
    parts.push('');
    const cmp = comparisonCells(r, t.k);
    if (cmp.length) {
      parts.push(comparisonNote(t, r));
      parts.push(textTable(COMPARISON_HEAD, cmp));
      parts.push(noiseLine(comparisonsOfK(r.comparisons, t.k)));
      parts.push('');
    }
  }
  if (summaryTables(r).length) parts.push(`(${PM_NOTE}.)`, '');
  const ft = fisherTimeCells(r);
  if (ft.length) {
    parts.push('Fisher time per model (seconds, same examples):');
    parts.push(textTable(['task', 'examples', 'mask nodes', 'full Fisher', 'full / mask'], ft));
    parts.push('');
  }
  parts.push(`Time per stage: ${r.stages.map((s) => `${s.stage} ${secs(s.seconds)} s`).join(', ')}`);
  return parts.join('\n');
}

// -------------------------------------------------------------------------------------- markdown

function mdTable(head: string[], rows: string[][]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    `| ${head.map(esc).join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

export function renderMarkdown(r: Report): string {
  const tasks = r.tasks.map((t) => t.name);
  const out: string[] = [
    `# ${r.title}`,
    '',
    `${r.architecture} models, backend ${r.backend}, ${r.created}.`,
    '',
  ];
  out.push('## Tasks', '');
  out.push(
    mdTable(
      ['task', 'model', 'metrics', 'fine-tuned score', '95% interval', 'eval examples'],
      r.tasks.map((t) => [
        t.name,
        t.model,
        t.metricNames.join(', '),
        score(t.finetuned.score),
        interval(t.finetuned.ci95),
        String(t.finetuned.examples),
      ]),
    ),
    '',
  );
  for (const t of summaryTables(r)) {
    out.push(`## Results: ${t.k} tasks merged at once`, '');
    out.push(
      `Scores x 100 (a task's score is the mean of its metrics), averaged over the ${t.combinations} combination${t.combinations === 1 ? '' : 's'} of ${t.k} tasks that contain the task; each task is evaluated with its own head. ${PM_NOTE}.`,
      '',
    );
    out.push(mdTable(['method', ...tasks, 'average'], tableCells(t, tasks)), '');
    const cmp = comparisonCells(r, t.k);
    if (cmp.length) {
      out.push(comparisonNote(t, r), '');
      out.push(mdTable(COMPARISON_HEAD, cmp), '');
      out.push(`**${noiseLine(comparisonsOfK(r.comparisons, t.k))}**`, '');
    }
  }
  if (r.merges.length) {
    out.push('## Every merge', '');
    out.push(
      mdTable(
        ['method', 'tasks', ...tasks, 'seconds'],
        r.merges.map((m) => [
          m.method,
          m.tasks.join(' + '),
          ...tasks.map((t) => scorePm(m.scores[t]?.score, m.scores[t]?.ci95)),
          secs(m.seconds),
        ]),
      ),
      '',
    );
  }
  const ft = fisherTimeCells(r);
  if (ft.length) {
    out.push('## Fisher time', '');
    out.push(mdTable(['task', 'examples', 'mask nodes (s)', 'full Fisher (s)', 'full / mask'], ft), '');
    const cached = r.fisher.filter((f) => f.cached);
    if (cached.length)
      out.push(
        `${cached.length} Fisher file(s) came from the cache; their times are those measured when they were computed.`,
        '',
      );
  }
  out.push('## Time per stage', '');
  out.push(
    mdTable(
      ['stage', 'seconds'],
      r.stages.map((s) => [s.stage, secs(s.seconds)]),
    ),
    '',
  );
  if (r.notes.length) out.push('## Notes', '', ...r.notes.map((n) => `- ${n}`), '');
  out.push('The head and neuron Fisher heatmaps are in report.html.', '');
  return out.join('\n');
}

// ------------------------------------------------------------------------------------------ html

function esc(s: string): string {
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

/** An SVG heatmap: rows x cols, labelled, with a colour legend. */
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
  },
): string {
  const cell = o.cell ?? Math.max(8, Math.min(28, Math.floor(420 / Math.max(cols, 1))));
  const ch = Math.max(10, Math.min(22, cell));
  const left = 44;
  const top = 30;
  const w = left + cols * cell + 90;
  const h = top + rows * ch + 42;
  const { scale, log, min, max } = scaler(values);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(o.title)}">`,
    `<text x="${left}" y="16" class="t">${esc(o.title)}</text>`,
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
  const lh = Math.max(40, rows * ch);
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

function fisherFigures(m: ReportMaskFisher): string {
  const head = svgHeatmap(m.head, m.layers, m.heads, {
    title: `${m.task}: head Fisher`,
    rowLabel: (r) => `L${r}`,
    colLabel: (c) => `h${c}`,
    xTitle: 'attention head',
  });
  const q = m.neuron.flatMap((n) => n.quantiles);
  const neuron = svgHeatmap(q, m.layers, QUANTILES.length, {
    title: `${m.task}: neuron Fisher quantiles per layer (${m.intermediate} neurons)`,
    rowLabel: (r) => `L${r}`,
    colLabel: (c) => `${Math.round(QUANTILES[c] * 100)}%`,
    xTitle: 'quantile within the layer',
    cell: 26,
  });
  const means = m.neuron.map((n, l) => `L${l} ${fmt(n.mean)}`).join(', ');
  return `<figure><div class="figs">${head}${neuron}</div><figcaption>${esc(m.task)}: mean neuron Fisher per layer: ${esc(means)}</figcaption></figure>`;
}

function htmlTable(head: string[], rows: string[][], isBest?: (row: number, col: number) => boolean): string {
  const th = head.map((h, i) => `<th${i ? ' class="n"' : ''}>${esc(h)}</th>`).join('');
  const tr = rows
    .map(
      (r, ri) =>
        `<tr>${r.map((c, i) => `<td${i ? ' class="n"' : ''}${isBest?.(ri, i) ? ' data-best' : ''}>${esc(c)}</td>`).join('')}</tr>`,
    )
    .join('');
  return `<table><thead><tr>${th}</tr></thead><tbody>${tr}</tbody></table>`;
}

const CSS = `body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0}th,td{padding:3px 10px;border-bottom:1px solid #eee}th{text-align:left;background:#f6f6f6}
.n{text-align:right;font-variant-numeric:tabular-nums}td[data-best]{font-weight:700}
.figs{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}figure{margin:1em 0}figcaption{color:#555;font-size:.9em}
svg .t{font:600 12px system-ui,sans-serif}svg .l{font:10px system-ui,sans-serif;fill:#333}.muted{color:#666}`;

export function renderHtml(r: Report): string {
  const tasks = r.tasks.map((t) => t.name);
  const body: string[] = [
    `<h1>${esc(r.title)}</h1>`,
    `<p class="muted">${esc(`${r.architecture} models, backend ${r.backend}, ${r.created}`)}</p>`,
  ];
  body.push('<h2>Tasks</h2>');
  body.push(
    htmlTable(
      ['task', 'model', 'metrics', 'fine-tuned score', '95% interval', 'eval examples'],
      r.tasks.map((t) => [
        t.name,
        t.model,
        t.metricNames.join(', '),
        score(t.finetuned.score),
        interval(t.finetuned.ci95),
        String(t.finetuned.examples),
      ]),
    ),
  );
  for (const t of summaryTables(r)) {
    body.push(`<h2>Results: ${t.k} tasks merged at once</h2>`);
    body.push(
      `<p>Scores &times; 100, averaged over the ${t.combinations} combination${t.combinations === 1 ? '' : 's'} of ${t.k} tasks that contain the task; each task is evaluated with its own head. Bold: the best merge in the column. ${esc(PM_NOTE)}.</p>`,
    );
    const cells = tableCells(t, tasks);
    // per column: the merge rows (row 0 is fine-tuned) with the highest score, ties included
    const value = (row: number, col: number) => {
      const x = t.rows[row];
      return col <= tasks.length ? x.scores[tasks[col - 1]] : x.average;
    };
    const isBest = (row: number, col: number) => {
      if (row === 0 || col === 0) return false;
      const v = value(row, col);
      if (v === null || !Number.isFinite(v)) return false;
      for (let k = 1; k < t.rows.length; k++) if ((value(k, col) ?? -Infinity) > v) return false;
      return true;
    };
    body.push(htmlTable(['method', ...tasks, 'average'], cells, isBest));
    const cmp = comparisonCells(r, t.k);
    if (cmp.length) {
      body.push(`<p>${esc(comparisonNote(t, r))}</p>`);
      body.push(htmlTable(COMPARISON_HEAD, cmp));
      body.push(`<p class="noise">${esc(noiseLine(comparisonsOfK(r.comparisons, t.k)))}</p>`);
    }
  }
  if (r.merges.length) {
    body.push('<h2>Every merge</h2>');
    body.push(
      htmlTable(
        ['method', 'tasks', ...tasks, 'seconds'],
        r.merges.map((m) => [
          m.method,
          m.tasks.join(' + '),
          ...tasks.map((t) => scorePm(m.scores[t]?.score, m.scores[t]?.ci95)),
          secs(m.seconds),
        ]),
      ),
    );
  }
  const ft = fisherTimeCells(r);
  if (ft.length) {
    body.push('<h2>Fisher time</h2>');
    body.push(htmlTable(['task', 'examples', 'mask nodes (s)', 'full Fisher (s)', 'full / mask'], ft));
  }
  if (r.maskFisher.length) {
    body.push('<h2>Mask Fisher per model</h2>');
    body.push(
      '<p>Head Fisher (layers &times; heads) and, per layer, the distribution of the FFN neuron Fisher (quantiles). Hover a cell for its value.</p>',
    );
    for (const m of r.maskFisher) body.push(fisherFigures(m));
  }
  body.push('<h2>Time per stage</h2>');
  body.push(
    htmlTable(
      ['stage', 'seconds'],
      r.stages.map((s) => [s.stage, secs(s.seconds)]),
    ),
  );
  if (r.notes.length)
    body.push('<h2>Notes</h2>', `<ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(r.title)}</title><style>${CSS}</style></head>
<body>
${body.join('\n')}
</body></html>
`;
}
