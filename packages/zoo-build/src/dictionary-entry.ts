import type { WnSynset } from './wordnet.js';

/** `word: definition`, the dictionary form used for pair tasks. */
export function entry(word: string, s: WnSynset): string {
  return `${word}: ${s.definition}`;
}
