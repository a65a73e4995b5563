/** Task 4: similarity (STS-B analogue), noun pairs scored by Wu-Palmer similarity. */
import { entry } from './dictionary-entry.js';
import { Rand } from './rng.js';
import type { BuildOptions, Example } from './task-spec.js';
import { words } from './word-count.js';
import type { WnSynset } from './wordnet.js';
import { makeWuPalmer } from './wu-palmer.js';

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
