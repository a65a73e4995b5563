/**
 * Renders a run report as a plain-text table for the terminal and as Markdown; the HTML page is
 * in html.ts.
 */
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
import type { Report } from './types.js';

export { renderHtml } from './html.js';
export { color, svgHeatmap } from './svg-heatmap.js';

// ------------------------------------------------------------------------------------------ text

/** Columns padded to a common width: the first (and any in `left`) left-aligned, the rest right-aligned. */
function textTable(head: string[], rows: string[][], left: number[] = []): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 || left.includes(i) ? c.padEnd(w[i]) : c.padStart(w[i])))
      .join('  ')
      .trimEnd();
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
      parts.push(textTable(COMPARISON_HEAD, cmp, [3]));
      parts.push(noiseLine(comparisonsOfK(r.comparisons, t.k)));
      parts.push('');
    }
  }
  if (summaryTables(r).length) parts.push(`(${PM_NOTE}.)`, '');
  const sc = searchCells(r);
  if (sc.length) {
    parts.push('Coefficient search (held-out train examples, docs/method.md section 5.6):');
    parts.push(textTable(SEARCH_HEAD, sc, [1, 2, 3]));
    parts.push('');
  }
  const ft = fisherTimeCells(r);
  if (ft.length) {
    parts.push('Fisher time per model (seconds, same examples):');
    parts.push(textTable(fisherTimeHead(r, ''), ft));
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
  if (r.merges.length) out.push(`**Verdict.** ${verdict(r.comparisons ?? [])}`, '');
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
  const sc = searchCells(r);
  if (sc.length) {
    out.push('## Coefficient search', '', SEARCH_NOTE, '');
    out.push(mdTable(SEARCH_HEAD, sc), '');
  }
  const ft = fisherTimeCells(r);
  if (ft.length) {
    out.push('## Fisher time', '');
    out.push(mdTable(fisherTimeHead(r), ft), '');
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
