export { main, buildProgram } from './main.js';
export * from './report/index.js';
export {
  parseRunConfig,
  readRunConfig,
  combinations,
  type RunPlan,
  type PlanTask,
  type PlanMethod,
} from './runconfig.js';
export { executePlan } from './commands/run.js';
export { demoPlan, DEMO_METHODS } from './commands/demo.js';
export { combineFisher, computeFisherFile, SETTING_KEYS } from './commands/fisher.js';
export { parseShard, shardRange } from './shard.js';
