import { describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initRuntime } from './index.js';

// Its own file, so its own process: the banner shows at the cpu backend's first tensor only.
describe('cpu runtime', () => {
  it('does not print tfjs\'s "install tfjs-node" banner (fmn reports the runtime itself)', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const runtime = await initRuntime('cpu');
      expect(runtime.kind).toBe('cpu');
      tf.tidy(() => tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).dataSync());
      const printed = warn.mock.calls.map((args) => args.join(' ')).join('\n');
      expect(printed).not.toMatch(/looks like you are running TensorFlow\.js in Node\.js/);
    } finally {
      warn.mockRestore();
    }
  });
});
