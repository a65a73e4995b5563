// Shared vitest preset. Tests resolve workspace packages to their TypeScript sources through
// the "@fmn/source" export condition, so a change in @fmn/core is seen without a rebuild.
// Each run also writes .vitest-results.json, which tooling/scripts/test-summary.mjs adds up.
const conditions = ['@fmn/source', 'module', 'node', 'import', 'default'];

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
