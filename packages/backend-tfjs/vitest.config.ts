import { defineConfig } from 'vitest/config';
import { fmnVitestConfig } from '@fmn/vitest-config';

// Vitest passes the resolve conditions on to the worker's Node (--conditions). With "import"
// among them, tfjs's CommonJS bundle require()s the ESM build of `long` 5 and breaks
// (Long.fromString is not a function), so this package resolves with fewer conditions.
const conditions = ['@fmn/source', 'node'];
const base = fmnVitestConfig();
export default defineConfig({
  ...base,
  resolve: { ...base.resolve, conditions },
  ssr: { ...base.ssr, resolve: { ...base.ssr?.resolve, conditions } },
});
