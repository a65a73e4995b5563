import { defineConfig } from 'vitest/config';
import { fmnVitestConfig } from '@fmn/vitest-config';

export default defineConfig(fmnVitestConfig());
