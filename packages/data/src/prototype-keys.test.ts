import { describe, expect, it } from 'vitest';
import { findTaskPreset } from './presets.js';
import { wordPieceTokenizerJson } from './tokenizer.js';

// Strings from users (task names, vocabulary entries) must never find Object.prototype's members.
describe('user strings never hit Object.prototype', () => {
  it.each(['constructor', 'toString', '__proto__', 'valueOf'])('no task preset is named %s', (name) => {
    expect(findTaskPreset(name)).toBeUndefined();
  });

  it('a vocab.txt whose tokens are prototype names keeps them as tokens with their line ids', () => {
    const s = { pad: '[PAD]', unk: '[UNK]', cls: '[CLS]', sep: '[SEP]', mask: 'constructor' };
    const json = wordPieceTokenizerJson('[PAD]\n[UNK]\n__proto__\nconstructor\n', {}, s) as {
      model: { vocab: Record<string, number> };
      added_tokens: { id: number; content: string }[];
    };
    expect(Object.keys(json.model.vocab)).toEqual(['[PAD]', '[UNK]', '__proto__', 'constructor']);
    expect(json.model.vocab['__proto__']).toBe(2);
    // [CLS]/[SEP] are not in this vocabulary: they must not be listed as added tokens
    expect(json.added_tokens.map((t) => [t.content, t.id])).toEqual([
      ['[PAD]', 0],
      ['[UNK]', 1],
      ['constructor', 3],
    ]);
  });
});
