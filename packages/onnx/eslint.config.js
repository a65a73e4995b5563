export { default } from '@fmn/eslint-config';
