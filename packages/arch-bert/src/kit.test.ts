import { describe, expect, it } from 'vitest';
import { isFmnError } from '@fmn/core';
import { configActivation } from './kit.js';

describe('configActivation', () => {
  it('maps HuggingFace activation names', () => {
    expect(configActivation({ hidden_act: 'gelu' }, 'hidden_act', 'gelu')).toBe('gelu');
    expect(configActivation({ hidden_act: 'gelu_new' }, 'hidden_act', 'gelu')).toBe('gelu_new');
    expect(configActivation({}, 'hidden_act', 'relu')).toBe('relu');
  });

  it.each(['valueOf', 'constructor', 'toString', '__proto__', 'hasOwnProperty'])(
    'an Object.prototype member name (%s) is an unsupported activation, not a function',
    (name) => {
      let error: unknown;
      try {
        configActivation({ hidden_act: name }, 'hidden_act', 'gelu', '/m/config.json');
      } catch (e) {
        error = e;
      }
      expect(isFmnError(error)).toBe(true);
      expect((error as Error).message).toContain(`unsupported "hidden_act" "${name}"`);
      expect((error as { file?: string }).file).toBe('/m/config.json');
    },
  );
});
