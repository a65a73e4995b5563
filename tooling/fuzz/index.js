// Shared pieces of fmn's parser fuzz properties (fast-check): mutators for bytes and JSON, the
// "valid result or FmnError naming the file" check, and the seed/run settings that `pnpm fuzz`
// (tooling/scripts/fuzz.mjs) turns up. See the *.fuzz.test.ts files beside each parser.
import { basename } from 'node:path';
import fc from 'fast-check';

/** The seed of the normal test suite: fixed, so a CI failure replays exactly. */
const DEFAULT_SEED = 20261206;

export function fuzzSettings(defaultRuns) {
  const seedText = process.env.FMN_FUZZ_SEED;
  const runsText = process.env.FMN_FUZZ_RUNS;
  const seed = seedText !== undefined && seedText !== '' ? Number(seedText) | 0 : DEFAULT_SEED;
  const runs = runsText !== undefined && runsText !== '' ? Math.max(1, Number(runsText) | 0) : defaultRuns;
  return { seed, numRuns: runs, long: runsText !== undefined && runsText !== '' };
}

/** A position in [0, 1), often exactly 0 (the start: a length prefix, a magic number). */
const fraction = () =>
  fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }));
const someBytes = (max) => fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: max });

export function byteMutations(max = 4) {
  const one = fc.oneof(
    fc.record({ kind: fc.constant('flip'), at: fraction(), mask: fc.integer({ min: 1, max: 255 }) }),
    fc.record({ kind: fc.constant('set'), at: fraction(), bytes: someBytes(8) }),
    fc.record({ kind: fc.constant('truncate'), at: fraction() }),
    fc.record({ kind: fc.constant('insert'), at: fraction(), bytes: someBytes(16) }),
    fc.record({ kind: fc.constant('delete'), at: fraction(), length: fc.integer({ min: 1, max: 64 }) }),
    fc.record({ kind: fc.constant('duplicate'), at: fraction(), length: fc.integer({ min: 1, max: 64 }) }),
  );
  return fc.array(one, { minLength: 1, maxLength: max });
}

export function applyByteMutations(bytes, mutations) {
  let b = Uint8Array.from(bytes);
  for (const m of mutations) {
    const at = Math.min(b.length, Math.floor(m.at * (b.length + 1)));
    switch (m.kind) {
      case 'flip':
        if (at < b.length) b[at] ^= m.mask;
        break;
      case 'set':
        for (let i = 0; i < m.bytes.length && at + i < b.length; i++) b[at + i] = m.bytes[i];
        break;
      case 'truncate':
        b = b.slice(0, at);
        break;
      case 'insert': {
        const out = new Uint8Array(b.length + m.bytes.length);
        out.set(b.subarray(0, at), 0);
        out.set(m.bytes, at);
        out.set(b.subarray(at), at + m.bytes.length);
        b = out;
        break;
      }
      case 'delete': {
        const end = Math.min(b.length, at + m.length);
        const out = new Uint8Array(b.length - (end - at));
        out.set(b.subarray(0, at), 0);
        out.set(b.subarray(end), at);
        b = out;
        break;
      }
      case 'duplicate': {
        const piece = b.slice(at, Math.min(b.length, at + m.length));
        const out = new Uint8Array(b.length + piece.length);
        out.set(b.subarray(0, at + piece.length), 0);
        out.set(piece, at + piece.length);
        out.set(b.subarray(at + piece.length), at + 2 * piece.length);
        b = out;
        break;
      }
    }
  }
  return b;
}

/** Stand-ins for JSON numbers that overflow a double (`1e400`), written back as that text. */
const POS_HUGE = '\u0000fmn-fuzz:1e400';
const NEG_HUGE = '\u0000fmn-fuzz:-1e400';

export function nastyJsonValue() {
  return fc.oneof(
    fc.constantFrom(
      null,
      true,
      false,
      0,
      -1,
      1,
      2,
      0.5,
      -0.5,
      1e9,
      2 ** 31,
      2 ** 32,
      2 ** 53,
      1e308,
      -1e308,
      '',
      '0',
      'gelu',
      '__proto__',
      'constructor',
      'valueOf',
      'toString',
      POS_HUGE,
      NEG_HUGE,
      [],
      {},
      [[]],
      { '': 0 },
    ),
    fc.integer({ min: -1000, max: 100000 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ maxLength: 12 }),
    fc.jsonValue({ maxDepth: 2 }),
  );
}

const keyArb = () =>
  fc.oneof(
    fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', '', '0'),
    fc.string({ maxLength: 12 }),
  );

export function jsonMutations(max = 3) {
  const one = fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({ kind: fc.constant('replace'), pick: fraction(), value: nastyJsonValue() }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete'), pick: fraction() }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('add'),
        pick: fraction(),
        key: keyArb(),
        value: nastyJsonValue(),
      }),
    },
  );
  return fc.array(one, { minLength: 1, maxLength: max });
}

function isContainer(v) {
  return v !== null && typeof v === 'object';
}

/** Every path in `v` (root first), as arrays of keys/indices. */
function paths(v, at = [], out = []) {
  out.push(at);
  if (isContainer(v))
    for (const k of Object.keys(v)) paths(v[k], [...at, Array.isArray(v) ? Number(k) : k], out);
  return out;
}

function setOwn(obj, key, value) {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

export function applyJsonMutations(value, mutations) {
  let root = structuredClone(value);
  for (const m of mutations) {
    const all = paths(root);
    if (m.kind === 'add') {
      const containers = all.filter((p) => isContainer(p.reduce((o, k) => o[k], root)));
      if (containers.length === 0) continue;
      const target = containers[Math.floor(m.pick * containers.length)].reduce((o, k) => o[k], root);
      if (Array.isArray(target)) target.push(structuredClone(m.value));
      else setOwn(target, m.key, structuredClone(m.value));
      continue;
    }
    const path = all[Math.floor(m.pick * all.length)];
    if (path.length === 0) {
      if (m.kind === 'replace') root = structuredClone(m.value);
      continue;
    }
    const parent = path.slice(0, -1).reduce((o, k) => o[k], root);
    const key = path[path.length - 1];
    if (m.kind === 'replace') setOwn(parent, key, structuredClone(m.value));
    else if (Array.isArray(parent)) parent.splice(key, 1);
    else delete parent[key];
  }
  return root;
}

export function toJsonText(value) {
  return JSON.stringify(value, null, 1)
    .replaceAll(JSON.stringify(POS_HUGE), '1e400')
    .replaceAll(JSON.stringify(NEG_HUGE), '-1e400');
}

export async function expectCleanOutcome(parse, file, timeoutMs = 10_000) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no result or error within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([Promise.resolve().then(parse), timeout]);
  } catch (e) {
    if (e instanceof Error && e.name === 'FmnError') {
      const name = basename(file);
      if (!e.message.includes(name)) throw new Error(`an FmnError that does not name ${name}: ${e.message}`);
      return;
    }
    throw new Error(`not an FmnError: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`, {
      cause: e,
    });
  } finally {
    clearTimeout(timer);
  }
}

export async function runProperty(name, arb, predicate, defaultRuns) {
  const { seed, numRuns } = fuzzSettings(defaultRuns);
  try {
    await fc.assert(fc.asyncProperty(arb, predicate), { seed, numRuns });
  } catch (e) {
    const replay = `FMN_FUZZ_SEED=${seed} FMN_FUZZ_RUNS=${numRuns}`;
    process.stderr.write(`fuzz property "${name}" failed; replay with ${replay}\n`);
    throw new Error(
      `fuzz property "${name}" failed (replay: ${replay})\n${e instanceof Error ? e.message : String(e)}`,
      {
        cause: e,
      },
    );
  }
}
