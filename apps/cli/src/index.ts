export { main, buildProgram } from './main.js';
export {
  writeReport,
  renderHtml,
  renderMarkdown,
  renderText,
  summaryTables,
  fisherTimes,
  runIntervals,
  comparisonsOfK,
  verdict,
  type Report,
  type ReportTask,
  type ReportMerge,
  type ReportFisher,
  type ReportMaskFisher,
  type ReportStage,
  type ReportComparison,
  type ReportTableIntervals,
  type ReportBootstrap,
  type Score,
  type Interval,
  type SummaryRow,
  type SummaryTable,
} from './report/index.js';
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
