import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FmnError } from '@fmn/core';
import { configMerge, parseMergeConfig } from './merge-config.js';

const file = resolve('/tmp/cfg/merge.yml');
const here = (p: string): string => join('/tmp/cfg', p);
const parse = (text: string) => parseMergeConfig(text, file);
const ties = `
merge_method: ties
base_model: ./base
models:
  - model: ./base
  - model: ./a
    parameters: { weight: 0.7, density: 0.5 }
  - model: ./b
    parameters: { weight: 0.3 }
parameters: { density: 0.2 }
dtype: float16
`;

describe('mergekit merge configuration', () => {
  it('reads a TIES config: base listed among models is the base, top-level parameters are defaults', () => {
    const p = parse(ties);
    expect(p.method).toBe('ties');
    expect(p.base).toBe(here('base'));
    expect(p.models).toEqual([
      { dir: here('a'), weight: 0.7, density: 0.5 },
      { dir: here('b'), weight: 0.3, density: 0.2 },
    ]);
    // mergekit's defaults for ties: normalize true, rescale false, lambda 1
    expect(p).toMatchObject({ normalize: true, rescale: false, lambda: 1, dtype: 'F16', seed: 0 });
    expect(p.warnings).toEqual([]);
  });

  it("each method's defaults are mergekit's (normalize, rescale)", () => {
    const cfg = (m: string): string =>
      `merge_method: ${m}\nbase_model: ./base\nmodels:\n  - {model: ./a, parameters: {weight: 1}}\n  - {model: ./b, parameters: {weight: 1}}\n`;
    expect(parse(cfg('dare_ties'))).toMatchObject({ normalize: false, rescale: true });
    expect(parse(cfg('dare_linear'))).toMatchObject({ normalize: false, rescale: true });
    expect(parse(cfg('task_arithmetic'))).toMatchObject({ normalize: false, rescale: false });
    const lin = parseMergeConfig(
      'merge_method: linear\nmodels:\n  - {model: ./a, parameters: {weight: 2}}\n  - {model: ./b, parameters: {weight: 1}}\nparameters: {normalize: false}\ndtype: bfloat16\nout_dtype: float32\nout: merged\n',
      file,
    );
    expect(lin).toMatchObject({ method: 'linear', normalize: false, dtype: 'F32', out: here('merged') });
    expect(lin.base).toBeUndefined();
  });

  it("fmn's own methods: per-model fisher/gram files, mapping, alpha", () => {
    const p = parse(
      'merge_method: fisher_nodes\nmodels:\n  - {model: ./a, fisher: a.fisher.safetensors}\n  - {model: ./b, fisher: /abs/b.fisher.safetensors, parameters: {weight: 2}}\nparameters: {mapping: block}\n',
    );
    expect(p.models).toEqual([
      { dir: here('a'), weight: 1, density: 1, fisher: here('a.fisher.safetensors') },
      { dir: here('b'), weight: 2, density: 1, fisher: '/abs/b.fisher.safetensors' },
    ]);
    expect(p.mapping).toBe('block');
    const r = parse(
      'merge_method: regmean\nmodels:\n  - {model: ./a, gram: ga}\n  - {model: ./b, gram: gb}\nparameters: {alpha: 0.5}\n',
    );
    expect(r.alpha).toBe(0.5);
    expect(r.models[1].gram).toBe(here('gb'));
    expect(() =>
      parse('merge_method: fisher\nmodels:\n  - {model: ./a, fisher: fa}\n  - {model: ./b}\n'),
    ).toThrow(/models\[1\]: "fisher".*required/);
  });

  it('keys fmn ignores are warnings', () => {
    const p = parse(ties + 'tokenizer_source: base\nchat_template: chatml\n' + '');
    expect(p.warnings.join('\n')).toMatch(/tokenizer_source/);
    expect(p.warnings.join('\n')).toMatch(/chat_template/);
    const q = parse(ties.replace('{ density: 0.2 }', '{ density: 0.2, int8_mask: true }'));
    expect(q.warnings).toEqual(['"parameters.int8_mask" is ignored by fmn']);
  });

  it('unknown keys are FmnErrors naming the key and the file', () => {
    const bad = [
      [ties + 'merge_mehtod: ties\n', /unknown key "merge_mehtod"/],
      [
        ties.replace('weight: 0.3', 'weight: 0.3, gamma: 0.1'),
        /unknown key "models\[2\]\.parameters\.gamma"/,
      ],
      [ties.replace('density: 0.2', 'densty: 0.2'), /unknown key "parameters\.densty"/],
      [ties.replace('density: 0.2', 'constructor: 0.2'), /unknown key "parameters\.constructor"/],
      [ties + 'toString: 1\n', /unknown key "toString"/],
      [
        ties.replace('  - model: ./base\n', '  - model: ./base\n    lora: x\n'),
        /unknown key "models\[0\]\.lora"/,
      ],
    ] as const;
    for (const [text, re] of bad) {
      let e: unknown;
      try {
        parse(text);
      } catch (x) {
        e = x;
      }
      expect(e).toBeInstanceOf(FmnError);
      expect((e as FmnError).message).toMatch(re);
      expect((e as FmnError).message + String((e as FmnError).file)).toContain(file);
    }
  });

  it('refuses what it cannot honour, with clear messages', () => {
    expect(() => parse(ties.replace('merge_method: ties', 'merge_method: slerp'))).toThrow(
      /unsupported method "slerp"/,
    );
    expect(() => parse('merge_method: ties\nslices: []\n')).toThrow(/slices.*not supported/);
    expect(() => parse(ties.replace('density: 0.5', 'density: [0.1, 0.5]'))).toThrow(
      /gradients, filter lists.*not supported/,
    );
    expect(() =>
      parse(ties.replace('{ density: 0.2 }', '{ density: [{filter: self_attn, value: 0.5}, {value: 0.2}] }')),
    ).toThrow(/not supported/);
    expect(() => parse(ties.replace('base_model: ./base\n', ''))).toThrow(/ties needs "base_model"/);
    expect(() => parse(ties.replace('weight: 0.3', 'density: 0.3'))).toThrow(/"weight" is required/);
    expect(() => parse(ties.replace('dtype: float16', 'dtype: float8'))).toThrow(/unknown dtype "float8"/);
    expect(() => parse(ties.replace('weight: 0.7', 'weight: "high"'))).toThrow(/weight must be a number/);
    expect(() => parse(ties.replace('./a', './a+./lora'))).toThrow(/LoRA/);
    expect(() =>
      parse(
        'merge_method: linear\nbase_model: ./base\nmodels:\n  - {model: ./a, parameters: {weight: 1}}\n  - {model: ./b, parameters: {weight: 1}}\n',
      ),
    ).toThrow(/base_model" must be one of "models"/);
    expect(() =>
      parse('merge_method: ties\nbase_model: ./base\nmodels:\n  - {model: ./a, parameters: {weight: 1}}\n'),
    ).toThrow(/at least two models/);
    expect(() => parse('merge_method: [ties\n')).toThrow(/cannot parse/);
  });
});

describe('the merge a configuration runs', () => {
  it('mergekit methods run as the mergekit-* specs with per-model densities and weights', () => {
    const c = configMerge(parse(ties));
    expect(c).toEqual({
      method: 'mergekit-ties',
      models: [{ dir: here('a') }, { dir: here('b') }],
      base: here('base'),
      lambda: [0.7, 0.3],
      options: { densities: '0.5,0.2', normalize: true, rescale: false, lambda: 1 },
      dtype: 'F16',
    });
    const d = configMerge(
      parse(ties.replace('merge_method: ties', 'merge_method: dare_ties') + 'random_seed: 4\n'),
    );
    expect(d.method).toBe('mergekit-dare-ties');
    expect(d.options).toEqual({ densities: '0.5,0.2', normalize: false, rescale: true, lambda: 1, seed: 4 });
  });

  it("fmn's methods run as themselves, with their files", () => {
    const c = configMerge(
      parse(
        'merge_method: fisher_nodes\nmodels:\n  - {model: ./a, fisher: fa}\n  - {model: ./b, fisher: fb}\n',
      ),
    );
    expect(c).toMatchObject({
      method: 'fisher-nodes',
      models: [
        { dir: here('a'), fisher: here('fa') },
        { dir: here('b'), fisher: here('fb') },
      ],
      lambda: [1, 1],
      options: { mapping: 'paper' },
    });
  });
});

describe('model references', () => {
  it('a hub id that is no path beside the file comes from the local hub cache', async () => {
    const { mkdtemp, mkdir, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const root = await mkdtemp(join(tmpdir(), 'fmn-mkcfg-'));
    const saved = process.env.HF_HUB_CACHE;
    try {
      const repo = join(root, 'hub', 'models--org--sst2');
      await mkdir(join(repo, 'refs'), { recursive: true });
      await writeFile(join(repo, 'refs', 'main'), 'c'.repeat(40));
      await mkdir(join(repo, 'snapshots', 'c'.repeat(40)), { recursive: true });
      process.env.HF_HUB_CACHE = join(root, 'hub');
      const p = parseMergeConfig(
        'merge_method: linear\nmodels:\n  - {model: org/sst2, parameters: {weight: 1}}\n  - {model: ./b, parameters: {weight: 1}}\n',
        join(root, 'cfg', 'merge.yml'),
      );
      expect(p.models[0].dir).toBe(join(repo, 'snapshots', 'c'.repeat(40)));
      expect(p.models[1].dir).toBe(join(root, 'cfg', 'b'));
    } finally {
      if (saved === undefined) delete process.env.HF_HUB_CACHE;
      else process.env.HF_HUB_CACHE = saved;
      await rm(root, { recursive: true, force: true });
    }
  });
});
