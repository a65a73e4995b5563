/** The self-contained HTML report: inline CSS and SVG, no scripts or external assets. */
import { fmt, scaler } from '../heatmap.js';
import { comparisonsOfK, noiseLine, verdict } from './comparisons.js';
import {
  COMPARISON_HEAD,
  PM_NOTE,
  comparisonCells,
  comparisonNote,
  fisherTimeCells,
  fisherTimeHead,
  SEARCH_HEAD,
  SEARCH_NOTE,
  searchCells,
  interval,
  score,
  scorePm,
  secs,
  tableCells,
} from './cells.js';
import { summaryTables } from './summary.js';
import { svgScoresPlot } from './plot.js';
import { esc, svgHeatmap, type Scale } from './svg-heatmap.js';
import { QUANTILES, type Report, type ReportMaskFisher } from './types.js';

/** A model's head and neuron heatmaps; with `shared`, on colour scales shared by every model. */
function fisherFigures(m: ReportMaskFisher, shared?: { head: Scale; neuron: Scale }): string {
  const head = svgHeatmap(m.head, m.layers, m.heads, {
    title: `${m.task}: head Fisher`,
    rowLabel: (r) => `L${r}`,
    colLabel: (c) => `h${c}`,
    xTitle: 'attention head',
    scale: shared?.head,
  });
  const q = m.neuron.flatMap((n) => n.quantiles);
  const neuron = svgHeatmap(q, m.layers, QUANTILES.length, {
    title: `${m.task}: neuron Fisher quantiles per layer (${m.intermediate} neurons)`,
    rowLabel: (r) => `L${r}`,
    colLabel: (c) => `${Math.round(QUANTILES[c] * 100)}%`,
    xTitle: 'quantile within the layer',
    cell: 32,
    scale: shared?.neuron,
  });
  const means = m.neuron.map((n, l) => `L${l} ${fmt(n.mean)}`).join(', ');
  return `<figure class="${shared ? 'shared' : 'own'}"><div class="figs">${head}${neuron}</div><figcaption>${esc(m.task)}: mean neuron Fisher per layer: ${esc(means)}</figcaption></figure>`;
}

/**
 * Every model's heatmaps twice, on its own colour scales and on scales shared across the models;
 * a checkbox (CSS only, no script) shows one set or the other.
 */
function heatmapsSection(ms: readonly ReportMaskFisher[]): string {
  const shared = {
    head: scaler(ms.flatMap((m) => m.head)),
    neuron: scaler(ms.flatMap((m) => m.neuron.flatMap((n) => n.quantiles))),
  };
  return [
    '<input type="checkbox" id="fmn-shared-scale" class="toggle">',
    '<label for="fmn-shared-scale" class="toggle">one colour scale across all models (to compare tasks)</label>',
    `<div class="heatmaps">${ms.map((m) => fisherFigures(m)).join('')}${ms.map((m) => fisherFigures(m, shared)).join('')}</div>`,
  ].join('\n');
}

/** A cell's HTML: text, with a score's "±h" in a span that may wrap below the score. */
function cellHtml(c: string): string {
  return esc(c).replace(/^(-?[\d.]+) ±([\d.]+)$/, '$1 <span class="pm">±$2</span>');
}

/**
 * A table in a box that scrolls sideways should it still not fit. `text` columns are left
 * aligned (the others are numbers); `wrap` columns may break anywhere (paths).
 */
function htmlTable(
  head: string[],
  rows: string[][],
  o: {
    isBest?: (row: number, col: number) => boolean;
    text?: number[];
    wrap?: number[];
    nowrap?: number[];
  } = {},
): string {
  const cls = (i: number, td = true) => {
    const c = [
      !i || o.text?.includes(i) ? '' : 'n',
      td && o.wrap?.includes(i) ? 'wrap' : '',
      td && o.nowrap?.includes(i) ? 'nw' : '',
    ].filter(Boolean);
    return c.length ? ` class="${c.join(' ')}"` : '';
  };
  const th = head.map((h, i) => `<th${cls(i, false)}>${esc(h)}</th>`).join('');
  const tr = rows
    .map(
      (r, ri) =>
        `<tr>${r.map((c, i) => `<td${cls(i)}${o.isBest?.(ri, i) ? ' data-best' : ''}>${cellHtml(c)}</td>`).join('')}</tr>`,
    )
    .join('');
  return `<div class="tw"><table><thead><tr>${th}</tr></thead><tbody>${tr}</tbody></table></div>`;
}

const CSS = `body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
.tw{max-width:100%;overflow-x:auto}table{border-collapse:collapse;margin:.6em 0}th,td{padding:3px 10px;border-bottom:1px solid #eee;vertical-align:top}th{text-align:left;background:#f6f6f6}
.n{text-align:right;font-variant-numeric:tabular-nums}td[data-best]{font-weight:700}.wrap{overflow-wrap:anywhere;font-size:.9em}.nw{white-space:nowrap}
.pm{color:#666;font-size:.85em;font-weight:400;white-space:nowrap}
.verdict{background:#f3f7fb;border-left:4px solid #0072B2;padding:.6em .9em}.noise{font-weight:600}
.figs{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}figure{margin:1em 0}figcaption{color:#555;font-size:.9em}
svg{max-width:100%;height:auto}svg .t{font:600 12px system-ui,sans-serif}svg .l{font:10px system-ui,sans-serif;fill:#333}.muted{color:#666}
svg.fmn-scores-plot{width:100%;max-width:900px}svg.fmn-scores-plot .l{font-size:11px}
input.toggle{margin:0 .4em 0 0}label.toggle{cursor:pointer}
.heatmaps .shared,#fmn-shared-scale:checked~.heatmaps .own{display:none}#fmn-shared-scale:checked~.heatmaps .shared{display:block}
@media (max-width:760px){body{margin:1em auto;padding:0 .5em;font-size:13px}th,td{padding:3px 5px}}`;

export function renderHtml(r: Report): string {
  const tasks = r.tasks.map((t) => t.name);
  const body: string[] = [
    `<h1>${esc(r.title)}</h1>`,
    `<p class="muted">${esc(`${r.architecture} models, backend ${r.backend}, ${r.created}`)}</p>`,
  ];
  if (r.merges.length)
    body.push(`<p class="verdict"><strong>Verdict.</strong> ${esc(verdict(r.comparisons ?? []))}</p>`);
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
      { text: [1, 2], wrap: [1], nowrap: [4] },
    ),
  );
  for (const t of summaryTables(r)) {
    body.push(`<h2>Results: ${t.k} tasks merged at once</h2>`);
    body.push(
      `<p>Scores &times; 100, averaged over the ${t.combinations} combination${t.combinations === 1 ? '' : 's'} of ${t.k} tasks that contain the task; each task is evaluated with its own head. Bold: the best merge in the column. ${esc(PM_NOTE)}.</p>`,
    );
    body.push(`<figure>${svgScoresPlot(t, tasks)}</figure>`);
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
    body.push(htmlTable(['method', ...tasks, 'average'], cells, { isBest }));
    const cmp = comparisonCells(r, t.k);
    if (cmp.length) {
      body.push(`<p>${esc(comparisonNote(t, r))}</p>`);
      body.push(htmlTable(COMPARISON_HEAD, cmp, { text: [3] }));
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
        { text: [1] },
      ),
    );
  }
  const sc = searchCells(r);
  if (sc.length) {
    body.push('<h2>Coefficient search</h2>', `<p>${esc(SEARCH_NOTE)}</p>`);
    body.push(htmlTable(SEARCH_HEAD, sc, { text: [1, 2, 3] }));
  }
  const ft = fisherTimeCells(r);
  if (ft.length) {
    body.push('<h2>Fisher time</h2>');
    body.push(htmlTable(fisherTimeHead(r), ft));
  }
  if (r.maskFisher.length) {
    body.push('<h2>Mask Fisher per model</h2>');
    body.push(
      '<p>Head Fisher (layers &times; heads) and, per layer, the distribution of the FFN neuron Fisher (quantiles). Hover a cell for its value. Each heatmap has its own colour scale unless the box below is ticked.</p>',
    );
    body.push(heatmapsSection(r.maskFisher));
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
