/** Shared by the weighted-average methods (fisher-nodes, fisher, average): how their shares are defined. */
import type { ShareRule } from './spec.js';

export const WEIGHTED_SHARES: ShareRule = {
  kind: 'mean',
  definition:
    "mean over the entries of the group's merged tensors of model j's normalised weight lambda_j W_j / sum_k lambda_k W_k (W = 1 for average); the shares of a group sum to 1",
};
