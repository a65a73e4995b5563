/**
 * The pair-merge loop shared by the WordPiece and byte-level BPE trainers: repeatedly merge the
 * most frequent adjacent symbol pair over a weighted word list. Ties go to the pair whose
 * `left + ' ' + right` sorts first (code-unit order), so training is deterministic and does not
 * depend on the order of the words.
 */

export interface WordCount {
  symbols: string[];
  count: number;
}

const SHIFT = 2 ** 21; // pair key = left id * SHIFT + right id

/**
 * Learn merges until `accept` has said yes `maxMerges` times or no pair occurs twice. `join`
 * builds the merged symbol; `accept` may refuse to count a merge toward the budget (the merge is
 * still applied and listed), e.g. when its result is already in the vocabulary.
 */
export function learnMerges(
  words: WordCount[],
  maxMerges: number,
  join: (a: string, b: string) => string,
  accept: (merged: string) => boolean = () => true,
): [string, string][] {
  const symId = new Map<string, number>();
  const syms: string[] = [];
  const intern = (s: string): number => {
    let i = symId.get(s);
    if (i === undefined) {
      i = syms.length;
      syms.push(s);
      symId.set(s, i);
    }
    return i;
  };
  const seqs = words.map((w) => w.symbols.map(intern));
  const freq = words.map((w) => w.count);
  const counts = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  const add = (key: number, n: number, w: number): void => {
    counts.set(key, (counts.get(key) ?? 0) + n);
    let s = where.get(key);
    if (!s) where.set(key, (s = new Set()));
    s.add(w);
  };
  seqs.forEach((s, w) => {
    for (let i = 0; i + 1 < s.length; i++) add(s[i] * SHIFT + s[i + 1], freq[w], w);
  });

  // max-heap of [count, key] with lazy invalidation; ties by the pair's text
  // Symbols never contain a character <= ' ', so comparing (left, right) tuple-wise orders pairs
  // exactly as comparing their `left right` texts would.
  const heap: [number, number][] = [];
  const better = (x: [number, number], y: [number, number]): boolean => {
    if (x[0] !== y[0]) return x[0] > y[0];
    const xa = syms[Math.floor(x[1] / SHIFT)];
    const ya = syms[Math.floor(y[1] / SHIFT)];
    if (xa !== ya) return xa < ya;
    return syms[x[1] % SHIFT] < syms[y[1] % SHIFT];
  };
  const push = (x: [number, number]): void => {
    heap.push(x);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!better(heap[i], heap[p])) break;
      [heap[i], heap[p]] = [heap[p], heap[i]];
      i = p;
    }
  };
  const pop = (): [number, number] | undefined => {
    if (heap.length === 0) return undefined;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && better(heap[l], heap[m])) m = l;
        if (r < heap.length && better(heap[r], heap[m])) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    }
    return top;
  };
  for (const [k, c] of counts) push([c, k]);

  const merges: [string, string][] = [];
  let accepted = 0;
  while (accepted < maxMerges) {
    const top = pop();
    if (!top) break;
    const [c, key] = top;
    if (counts.get(key) !== c) continue; // stale entry
    if (c < 2) break;
    const a = Math.floor(key / SHIFT);
    const b = key % SHIFT;
    const mergedText = join(syms[a], syms[b]);
    const merged = intern(mergedText);
    merges.push([syms[a], syms[b]]);
    if (accept(mergedText)) accepted++;
    const touched = new Set<number>();
    for (const w of where.get(key)!) {
      const s = seqs[w];
      const n = freq[w];
      for (let i = 0; i + 1 < s.length; i++) {
        const k = s[i] * SHIFT + s[i + 1];
        counts.set(k, counts.get(k)! - n);
        touched.add(k);
      }
      const out: number[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          out.push(merged);
          i++;
        } else out.push(s[i]);
      }
      seqs[w] = out;
      for (let i = 0; i + 1 < out.length; i++) {
        const k = out[i] * SHIFT + out[i + 1];
        add(k, n, w);
        touched.add(k);
      }
    }
    counts.delete(key);
    where.delete(key);
    touched.delete(key);
    for (const k of touched) {
      const n = counts.get(k)!;
      if (n > 0) push([n, k]);
    }
  }
  words.forEach((w, i) => (w.symbols = seqs[i].map((x) => syms[x])));
  return merges;
}
