/** Task 2: same-sense (MRPC analogue), a lemma's definition against an example sentence. */
import { Rand } from './rng.js';
import type { BuildOptions, Example } from './task-spec.js';
import { words } from './word-count.js';
import type { WnSynset } from './wordnet.js';

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
