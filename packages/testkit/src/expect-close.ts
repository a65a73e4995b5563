import { expect } from 'vitest';

/** max |a - b| / (atol + rtol * |b|) <= 1 elementwise, with a readable failure. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol: number,
  rtol = 0,
  what = 'values',
): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) / (atol + rtol * Math.abs(expected[i]));
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  }
  if (!(worst <= 1)) {
    expect.fail(
      `${what}: index ${at}: got ${actual[at]}, expected ${expected[at]} (atol ${atol}, rtol ${rtol})`,
    );
  }
}
