/** Task 3: nli (MNLI analogue), pairs of dictionary entries linked by WordNet pointers. */
import { Components } from './components.js';
import { entry } from './dictionary-entry.js';
import { Rand } from './rng.js';
import type { BuildOptions, Example } from './task-spec.js';
import { words } from './word-count.js';
import type { WnSynset } from './wordnet.js';

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
