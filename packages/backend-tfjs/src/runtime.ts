/**
 * TensorFlow.js runtimes: tfjs-node (native, optional), wasm (SIMD, single-threaded under Node),
 * cpu. tfjs keeps one global "current backend"; every session call re-selects its own runtime
 * before computing, so sessions on different runtimes (or user code calling tf.setBackend) do not
 * disturb each other.
 */
// the full package: tfjs-core alone registers no gradients
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

export { tf };

export type RuntimeKind = 'node' | 'wasm' | 'cpu';

export interface Runtime {
  readonly kind: RuntimeKind;
  /** tfjs backend name: "tensorflow", "wasm" or "cpu" */
  readonly tfBackend: string;
  /** human-readable description, e.g. "tfjs 4.22.0 wasm (SIMD, single-threaded)" */
  readonly description: string;
  /** makes this runtime tfjs's current backend (cheap when it already is) */
  activate(): Promise<void>;
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.trim().split('\n')[0].trim();
}

async function select(name: string): Promise<void> {
  if (tf.findBackend(name) !== null && currentBackend() === name) return;
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tfjs backend "${name}" failed to initialise`);
}

function currentBackend(): string | undefined {
  // tf.getBackend() would initialise a default backend when none is set yet
  try {
    return tf.engine().backendName;
  } catch {
    return undefined;
  }
}

function makeRuntime(kind: RuntimeKind, tfBackend: string, description: string): Runtime {
  return { kind, tfBackend, description, activate: () => select(tfBackend) };
}

/** How tfjs-node is imported (replaceable in tests). */
export type ModuleImporter = (specifier: string) => Promise<unknown>;

const defaultImporter: ModuleImporter = (specifier) => import(specifier);

/** Starts a runtime, or throws an Error saying why it cannot run here. */
export async function initRuntime(
  kind: RuntimeKind,
  importer: ModuleImporter = defaultImporter,
): Promise<Runtime> {
  const version = tf.version_core;
  switch (kind) {
    case 'node': {
      try {
        // a variable specifier: the package is an optional dependency
        const spec = '@tensorflow/tfjs-node';
        await importer(spec);
      } catch (e) {
        throw new Error(`@tensorflow/tfjs-node does not load: ${firstLine(e)}`, { cause: e });
      }
      if (tf.findBackendFactory('tensorflow') === null) {
        throw new Error(
          '@tensorflow/tfjs-node loaded but registered no "tensorflow" backend with this copy of @tensorflow/tfjs',
        );
      }
      await select('tensorflow');
      return makeRuntime('node', 'tensorflow', `tfjs ${version} node (libtensorflow)`);
    }
    case 'wasm': {
      try {
        await select('wasm');
      } catch (e) {
        throw new Error(`the tfjs wasm backend does not start: ${firstLine(e)}`, { cause: e });
      }
      const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
      const threads = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
      return makeRuntime(
        'wasm',
        'wasm',
        `tfjs ${version} wasm (${simd ? 'SIMD' : 'no SIMD'}, ${threads ? 'multi-threaded' : 'single-threaded'})`,
      );
    }
    case 'cpu':
      await select('cpu');
      return makeRuntime('cpu', 'cpu', `tfjs ${version} cpu (plain JavaScript)`);
  }
}
