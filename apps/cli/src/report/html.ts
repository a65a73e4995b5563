/** The self-contained HTML report: inline CSS and SVG, no scripts or external assets. */
import { fmt } from '../heatmap.js';
import { comparisonsOfK, noiseLine, verdict } from './comparisons.js';
import {
  COMPARISON_HEAD,
  PM_NOTE,
  comparisonCells,
  comparisonNote,
  fisherTimeCells,
  interval,
  score,
  scorePm,
  secs,
  tableCells,
} from './cells.js';
import { summaryTables } from './summary.js';
import { esc, svgHeatmap } from './svg-heatmap.js';
import { QUANTILES, type Report, type ReportMaskFisher } from './types.js';

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
  if (r.merges.length) body.push(`<p class="verdict"><strong>Verdict.</strong> ${esc(verdict(r.comparisons ?? []))}</p>`);
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
