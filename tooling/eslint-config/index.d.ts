declare const config: import('eslint').Linter.Config[];
export default config;
