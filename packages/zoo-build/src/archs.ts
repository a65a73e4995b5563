/**
 * Which architectures the build makes models of: every registered adapter (the @fmn/arch-*
 * packages register theirs when imported) that the zoo has a model recipe for (models.ts: fresh
 * parameters under HuggingFace's names, config.json, classification and masked-LM heads).
 */
import { listAdapters, type ArchitectureAdapter } from '@fmn/core';
import { isZooArch, type ZooArch } from '@fmn/zoo';

/** The registered architectures the zoo can build, in registration order. */
export function buildableArchs(adapters: readonly ArchitectureAdapter[] = listAdapters()): ZooArch[] {
  return adapters.map((a) => a.modelType).filter(isZooArch);
}

/** Registered architectures the zoo has no model recipe for (the build leaves them out). */
export function archsWithoutRecipe(adapters: readonly ArchitectureAdapter[] = listAdapters()): string[] {
  return adapters.map((a) => a.modelType).filter((t) => !isZooArch(t));
}
