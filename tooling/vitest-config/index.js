// Shared vitest preset. Tests resolve workspace packages to their TypeScript sources through
// the "@fmn/source" export condition, so a change in @fmn/core is seen without a rebuild.
// Each run also writes .vitest-results.json, which tooling/scripts/test-summary.mjs adds up.
// Vitest hands these conditions to the worker's Node as --conditions. With "import" (or
// "module") among them, a CommonJS require() picks a dependency's ESM build: tfjs's CommonJS
// bundle then gets `long` 5's ESM module and breaks (Long.fromString is not a function), in
// every package whose tests load tfjs. Vite still applies import/require/default itself.
const conditions = ['@fmn/source', 'node'];

/** @param {import('vitest/config').UserConfig} [overrides] */
export function fmnVitestConfig(overrides = {}) {
  const { test = {}, ...rest } = overrides;
  return {
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ['@fmn/source'] } },
    ...rest,
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 120_000,
      hookTimeout: 120_000,
      pool: 'forks',
      maxWorkers: 2,
      passWithNoTests: false,
      reporters: ['default', 'json'],
      outputFile: { json: '.vitest-results.json' },
      ...test,
    },
  };
}
