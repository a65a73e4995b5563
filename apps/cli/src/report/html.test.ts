import { describe, expect, it } from 'vitest';
import { renderHtml } from './html.js';
import { renderMarkdown, renderText } from './render.js';
import { svgHeatmap } from './svg-heatmap.js';
import type { Interval, Report, ReportComparison, ReportTableIntervals, Score } from './types.js';

const TASKS = ['alpha', 'beta', 'gamma'];
const METHODS = ['average', 'fisher-nodes', 'ties'];

const sc = (score: number, ci: Interval): Score => ({
  metrics: { accuracy: score },
  score,
  examples: 100,
  ci95: ci,
});

/** A report of three tasks merged in pairs with three methods; scores chosen by hand. */
function report(comparisons: ReportComparison[]): Report {
  const base = { average: 0.6, 'fisher-nodes': 0.62, ties: 0.55 } as Record<string, number>;
  const pairs = [
    ['alpha', 'beta'],
    ['alpha', 'gamma'],
    ['beta', 'gamma'],
  ];
  const merges = pairs.flatMap((tasks) =>
    METHODS.map((method) => ({
      method,
      tasks,
      scores: Object.fromEntries(
        tasks.map((t) => [t, sc(base[method]!, [base[method]! - 0.05, base[method]! + 0.05])]),
      ),
      seconds: 0.1,
    })),
  );
  const tableIntervals: ReportTableIntervals[] = ['fine-tuned', ...METHODS].map((row) => {
    const v = row === 'fine-tuned' ? 0.8 : base[row]!;
    return {
      k: 2,
      row,
      tasks: Object.fromEntries(TASKS.map((t) => [t, [v - 0.04, v + 0.04]])),
      average: [v - 0.02, v + 0.02],
    };
  });
  return {
    format: 'fmn-report',
    version: 1,
    title: 'a constructed report',
    created: '2026-01-01T00:00:00.000Z',
    architecture: 'bert',
    backend: 'test',
    methods: METHODS,
    tasks: TASKS.map((name) => ({
      name,
      model: `/some/long/path/to/the/models/${name}`,
      evalData: `${name}.tsv`,
      fisherData: `${name}.tsv`,
      metricNames: ['accuracy'],
      finetuned: sc(0.8, [0.76, 0.84]),
    })),
    merges,
    bootstrap: {
      method: "paired percentile bootstrap over each task's evaluation examples",
      resamples: 1000,
      seed: 0,
      level: 0.95,
    },
    comparisons,
    tableIntervals,
    fisher: [],
    maskFisher: TASKS.map((task, i) => ({
      task,
      layers: 2,
      heads: 2,
      intermediate: 8,
      // model i's head Fisher peaks at 10^i: per-model scales hide that, a shared one shows it
      head: [1, 2, 3, 4].map((v) => v * 10 ** i),
      neuron: [0, 1].map(() => ({ mean: 1, quantiles: Array.from({ length: 11 }, (_, q) => q + 1) })),
    })),
    stages: [{ stage: 'merge', seconds: 1 }],
    notes: [],
  };
}

const cmp = (method: string, delta: number, lo: number, hi: number): ReportComparison => ({
  method,
  baseline: 'average',
  k: 2,
  delta,
  ci95: [lo, hi],
  significant: lo > 0 || hi < 0,
  pairs: 6,
});

describe('report.html', () => {
  const comparisons = [cmp('fisher-nodes', 0.02, 0.005, 0.035), cmp('ties', -0.05, -0.07, -0.03)];
  const html = renderHtml(report(comparisons));

  it('has one scores plot per k, with a whisker for every task x method and the fine-tuned mark per task', () => {
    const plots = html.match(/<svg [^>]*class="fmn-scores-plot"[^>]*>/g) ?? [];
    expect(plots).toHaveLength(1);
    expect(plots[0]).toContain('data-k="2"');
    for (const t of TASKS) {
      for (const m of METHODS) {
        const w = html.match(
          new RegExp(
            `class="whisker" data-task="${t}" data-method="${m}" x1="[\\d.]+" x2="[\\d.]+" y1="([\\d.]+)" y2="([\\d.]+)"`,
            'g',
          ),
        );
        expect(w, `${t} / ${m}`).toHaveLength(1);
      }
      expect(html.match(new RegExp(`class="finetuned" data-task="${t}"`, 'g'))).toHaveLength(1);
    }
    // and the average over tasks
    expect(html.match(/class="whisker" data-task="average"/g)).toHaveLength(METHODS.length);
  });

  it('draws whiskers to scale: a wider interval is a longer whisker; higher scores sit higher', () => {
    const len = (t: string, m: string) => {
      const [, y1, y2] = new RegExp(
        `class="whisker" data-task="${t}" data-method="${m}" x1="[\\d.]+" x2="[\\d.]+" y1="([\\d.]+)" y2="([\\d.]+)"`,
      ).exec(html)!;
      return { lo: Number(y1), hi: Number(y2) };
    };
    // task cells: +/- 0.04; the average column: +/- 0.02
    const a = len('alpha', 'average');
    const avg = len('average', 'average');
    expect(a.lo - a.hi).toBeCloseTo(2 * (avg.lo - avg.hi), 0);
    // fisher-nodes (0.62) above average (0.60) above ties (0.55): smaller y
    expect(len('alpha', 'fisher-nodes').hi).toBeLessThan(a.hi);
    expect(len('alpha', 'ties').hi).toBeGreaterThan(a.hi);
  });

  it('opens with a verdict computed from the comparisons', () => {
    expect(html).toContain(
      '<p class="verdict"><strong>Verdict.</strong> Beyond noise (95% paired bootstrap over the evaluation examples), fisher-nodes beats average (+2.00 points with 2 tasks merged); ties loses to average (-5.00 points with 2 tasks merged).</p>',
    );
    const none = renderHtml(report([cmp('fisher-nodes', 0.01, -0.01, 0.03), cmp('ties', 0.0, -0.02, 0.02)]));
    expect(none).toMatch(/Verdict\.<\/strong> No method differs from average beyond noise/);
    expect(none).toContain(
      '<p class="noise">No method differs from average beyond noise (every 95% interval',
    );
  });

  it('scores with ± half-widths; the comparison table and the beyond-noise line per k', () => {
    // the alpha cell of fisher-nodes: 62.00 with [58, 66] -> ±4.00
    expect(html).toContain('<td class="n" data-best>62.00 <span class="pm">±4.00</span></td>');
    expect(html).toContain(
      '<p class="noise">Beyond noise: fisher-nodes beats average; ties loses to average.</p>',
    );
    expect(html).toContain('<td class="n">+2.00</td><td class="n">[+0.50, +3.50]</td><td>beats</td>');
  });

  it('keeps tables inside a 700 px window: scroll boxes, paths that wrap', () => {
    expect((html.match(/<div class="tw"><table>/g) ?? []).length).toBe((html.match(/<table>/g) ?? []).length);
    expect(html).toContain('<td class="wrap">/some/long/path/to/the/models/alpha</td>');
    expect(html).toMatch(/@media \(max-width:760px\)/);
    expect(html).not.toMatch(/<script/i);
  });

  it('heatmaps on their own scales and, behind a checkbox, on one scale shared by every model', () => {
    expect(html).toContain('<input type="checkbox" id="fmn-shared-scale" class="toggle">');
    const own = html.match(/<figure class="own">/g) ?? [];
    const shared = html.match(/<figure class="shared">/g) ?? [];
    expect(own).toHaveLength(3);
    expect(shared).toHaveLength(3);
    // the legend's top label of each head heatmap: its own maximum (4, 40, 400) or the shared one (400)
    const tops = [
      ...html.matchAll(
        /<figure class="(own|shared)">.*?head Fisher.*?<text x="[\d.]+" y="38" class="l">([^<]+)<\/text>/g,
      ),
    ].map((m) => `${m[1]} ${m[2]}`);
    expect(tops).toEqual(['own 4', 'own 40', 'own 400', 'shared 400', 'shared 400', 'shared 400']);
  });

  it('a heatmap is wide enough for its title', () => {
    const title = 'a-task-with-a-long-name: neuron Fisher quantiles per layer (3072 neurons)';
    const svg = svgHeatmap([1, 2, 3, 4], 2, 2, {
      title,
      rowLabel: (r) => `L${r}`,
      colLabel: (c) => `h${c}`,
      xTitle: 'x',
    });
    const width = Number(/width="(\d+)"/.exec(svg)![1]);
    // 12px bold sans-serif is at most ~7.2 px a character
    expect(width).toBeGreaterThanOrEqual(4 + title.length * 7.2);
  });
});

describe('report.md and the terminal', () => {
  const r = report([cmp('fisher-nodes', 0.02, 0.005, 0.035), cmp('ties', 0.001, -0.02, 0.02)]);
  it('Markdown: verdict first, ± cells, the comparison table and the beyond-noise line', () => {
    const md = renderMarkdown(r);
    expect(md.indexOf('**Verdict.** Beyond noise')).toBeGreaterThan(0);
    expect(md.indexOf('**Verdict.**')).toBeLessThan(md.indexOf('## Tasks'));
    expect(md).toContain('| fisher-nodes | 62.00 ±4.00 | 62.00 ±4.00 | 62.00 ±4.00 | 62.00 ±2.00 |');
    expect(md).toContain('| fisher-nodes | +2.00 | [+0.50, +3.50] | beats |');
    expect(md).toContain('**Beyond noise: fisher-nodes beats average. Within noise: ties.**');
  });
  it('text: the same table and line', () => {
    const text = renderText(r);
    expect(text).toMatch(/^fine-tuned\s+80\.00 ±4\.00\s+80\.00 ±4\.00\s+80\.00 ±4\.00\s+80\.00 ±2\.00$/m);
    expect(text).toMatch(/^ties\s+\+0\.10\s+\[-2\.00, \+2\.00\]\s+within noise$/m);
    expect(text).toContain('Beyond noise: fisher-nodes beats average. Within noise: ties.');
  });
});
