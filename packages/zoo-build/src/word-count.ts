import { basicTokenize } from './basic.js';

const wordCache = new Map<string, number>();
/** Length of a text in basic-tokenizer words (memoized). */
export const words = (s: string): number => {
  let n = wordCache.get(s);
  if (n === undefined) {
    n = basicTokenize(s).length;
    wordCache.set(s, n);
  }
  return n;
};
