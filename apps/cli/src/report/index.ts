import { join } from 'node:path';
import { writeFileAtomic } from '@fmn/core';
import { renderHtml, renderMarkdown } from './render.js';
import type { Report } from './types.js';

export * from './types.js';
export * from './summary.js';
export * from './render.js';
export * from './intervals.js';
export * from './comparisons.js';

/** Writes report.json, report.md and report.html into `dir`; returns their paths. */
export async function writeReport(
  dir: string,
  r: Report,
): Promise<{ json: string; md: string; html: string }> {
  const paths = {
    json: join(dir, 'report.json'),
    md: join(dir, 'report.md'),
    html: join(dir, 'report.html'),
  };
  await writeFileAtomic(paths.json, `${JSON.stringify(r, null, 2)}\n`);
  await writeFileAtomic(paths.md, renderMarkdown(r));
  await writeFileAtomic(paths.html, renderHtml(r));
  return paths;
}
