/**
 * @fmn/arch-bert/testing: test-only fixture specs and the helpers to write them. Production code
 * never imports this subpath; the adapter loads `bertFixture` lazily (`bertAdapter.fixture()`).
 */
export { bertFixture } from './bert.js';
export { bertLayoutFixture, type BertLayoutFixtureSpec } from './bert-layout.js';
export {
  bertConfigAttributes,
  bertLayer,
  layerPart,
  linear,
  norm,
  tensor,
  type PartOf,
} from './fixture-kit.js';
