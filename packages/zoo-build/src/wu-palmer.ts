import type { WnSynset } from './wordnet.js';

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
