/**
 * A bag-of-words sanity baseline for the zoo tasks: sparse binary features of the basic-tokenized
 * words (pairs: words of each side, words on both sides, a Jaccard-overlap bucket), a linear model
 * trained by seeded SGD with AdaGrad steps (softmax cross-entropy, or squared error for
 * regression). It shows that a task is learnable from text and is not trivial.
 */
import { basicTokenize } from './basic.js';
import { Rand } from './rng.js';

export interface BowExample {
  texts: string[];
  label: number;
}

export interface BowResult {
  /** Classification: dev accuracy. Regression: dev Pearson correlation. */
  score: number;
  /** Regression only: dev Spearman correlation. */
  spearman?: number;
}

function features(texts: string[]): string[] {
  const sets = texts.map((t) => new Set(basicTokenize(t)));
  if (sets.length === 1) return [...sets[0]].map((w) => `w:${w}`);
  const [a, b] = sets;
  const f: string[] = ['bias'];
  for (const w of a) f.push(`a:${w}`);
  for (const w of b) f.push(`b:${w}`);
  let both = 0;
  for (const w of a) {
    if (b.has(w)) {
      f.push(`both:${w}`);
      both++;
    }
  }
  const jac = both / Math.max(1, a.size + b.size - both);
  f.push(`jac:${Math.min(9, Math.floor(jac * 10))}`);
  return f;
}

export function pearson(x: number[], y: number[]): number {
  const n = x.length;
  const mx = x.reduce((s, v) => s + v, 0) / n;
  const my = y.reduce((s, v) => s + v, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

function ranks(x: number[]): number[] {
  const idx = x.map((v, i) => [v, i] as const).sort((p, q) => p[0] - q[0]);
  const r = new Array<number>(x.length);
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && idx[j + 1][0] === idx[i][0]) j++;
    for (let k = i; k <= j; k++) r[idx[k][1]] = (i + j) / 2;
    i = j + 1;
  }
  return r;
}

export function spearman(x: number[], y: number[]): number {
  return pearson(ranks(x), ranks(y));
}

/** Train on `train`, score on `dev`. numLabels = 1 means regression. */
export function bowBaseline(
  train: BowExample[],
  dev: BowExample[],
  numLabels: number,
  epochs = 3,
): BowResult {
  const index = new Map<string, number>();
  const enc = (e: BowExample, grow: boolean): number[] => {
    const out: number[] = [];
    for (const f of features(e.texts)) {
      let i = index.get(f);
      if (i === undefined && grow) {
        i = index.size;
        index.set(f, i);
      }
      if (i !== undefined) out.push(i);
    }
    return out;
  };
  const xs = train.map((e) => enc(e, true));
  const dx = dev.map((e) => enc(e, false));
  const k = numLabels === 1 ? 1 : numLabels;
  const w = new Float64Array(index.size * k);
  const g2 = new Float64Array(index.size * k).fill(1e-8);
  const lr = 0.3;
  const l2 = 1e-4;
  const mean = numLabels === 1 ? train.reduce((s, e) => s + e.label, 0) / train.length : 0;
  const predict = (x: number[]): number[] => {
    const z = new Array<number>(k).fill(0);
    for (const i of x) for (let c = 0; c < k; c++) z[c] += w[i * k + c];
    return z;
  };
  const rand = new Rand('bow-baseline');
  const order = train.map((_, i) => i);
  for (let ep = 0; ep < epochs; ep++) {
    rand.shuffle(order);
    for (const n of order) {
      const x = xs[n];
      const z = predict(x);
      const grad = new Array<number>(k);
      if (numLabels === 1) {
        grad[0] = z[0] + mean - train[n].label;
      } else {
        const m = Math.max(...z);
        const e = z.map((v) => Math.exp(v - m));
        const s = e.reduce((a, b) => a + b, 0);
        for (let c = 0; c < k; c++) grad[c] = e[c] / s - (c === train[n].label ? 1 : 0);
      }
      for (const i of x) {
        for (let c = 0; c < k; c++) {
          const j = i * k + c;
          const g = grad[c] + l2 * w[j];
          g2[j] += g * g;
          w[j] -= (lr * g) / Math.sqrt(g2[j]);
        }
      }
    }
  }
  if (numLabels === 1) {
    const pred = dx.map((x) => predict(x)[0] + mean);
    const gold = dev.map((e) => e.label);
    return { score: pearson(pred, gold), spearman: spearman(pred, gold) };
  }
  let correct = 0;
  dx.forEach((x, n) => {
    const z = predict(x);
    const arg = z.indexOf(Math.max(...z));
    if (arg === dev[n].label) correct++;
  });
  return { score: correct / dev.length };
}
