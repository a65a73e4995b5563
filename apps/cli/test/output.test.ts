/** What fmn prints besides results: status lines and progress bars on stderr. */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BIN, fmn, tempDir } from './helpers.js';

const fx = inject('fx');
const two = join(fx, 'bert', 'two-labels');
let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

const hasScript = spawnSync('script', ['--version']).status === 0;

describe('stderr of a whole run', () => {
  it('not a terminal: no bars, one status line per evaluated model and per merge, none with the error prefix', async () => {
    const config = join(dir, 'run.yaml');
    await writeFile(
      config,
      `output: out
cache: cache
backend: onnxruntime
base: ${join(fx, 'bert', 'base')}
fisher: { samples: 4, batch_size: 4 }
k: [2]
methods: [average, fisher-nodes]
tasks:
  - { name: two, model: ${two}, data: ${join(fx, 'data', 'two.tsv')} }
  - { name: three, model: ${join(fx, 'bert', 'three-labels')}, data: ${join(fx, 'data', 'three.tsv')} }
`,
    );
    const r = await fmn(['run', config], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.trimEnd().split('\n');
    // 2 fine-tuned models evaluated, then 1 pair x 2 methods
    expect(lines).toHaveLength(4);
    expect(lines.filter((l) => /^two fine-tuned: accuracy \d\.\d{4}, f1 \d\.\d{4}$/.test(l))).toHaveLength(1);
    expect(lines.filter((l) => /^three fine-tuned: accuracy \d\.\d{4}$/.test(l))).toHaveLength(1);
    expect(
      lines.filter((l) => /^(average|fisher-nodes) two\+three: two \d+\.\d\d, three \d+\.\d\d$/.test(l)),
    ).toHaveLength(2);
    for (const l of lines) {
      expect(l).not.toMatch(/^fmn: /);
      expect(l).not.toMatch(/\x1b|\r|%/);
    }
  });

  it.skipIf(!hasScript)(
    `a terminal: each bar is erased when its stage ends${hasScript ? '' : ' (skipped: util-linux `script` is not installed, no pseudo-terminal)'}`,
    () => {
      const tty = execFileSync(
        'script',
        [
          '-qec',
          `"${process.execPath}" "${BIN}" predict --model "${two}" --text a --text b --batch-size 1`,
          '/dev/null',
        ],
        { encoding: 'utf8' },
      );
      // the last frame is followed by an erase-line, not by a newline that would leave it on screen
      expect(tty).toMatch(/100% \| 2\/2 examples[^\n]*\x1b\[2K/);
      expect(tty).not.toMatch(/100% \| 2\/2 examples[^\x1b\n]*\r?\n/);
    },
  );
});
