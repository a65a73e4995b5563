import type { UserConfig } from 'vitest/config';
export declare function fmnVitestConfig(overrides?: UserConfig): UserConfig;
