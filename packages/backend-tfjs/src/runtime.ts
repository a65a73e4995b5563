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

interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/**
 * tfjs-backend-wasm's Slice kernel copies the whole input out of the wasm heap (readSync) on
 * every call, so slicing one head out of a [B*H*T, d] tensor costs as much as copying all of
 * it. This drop-in replacement copies only the slice, reading the heap in place (strings go to
 * the original kernel).
 */
function installWasmSlice(): void {
  const original = tf.getKernel('Slice', 'wasm');
  if (!original || (original as { fmnHeapSlice?: boolean }).fmnHeapSlice) return;
  const kernelFunc = (args: {
    inputs: { x: tf.TensorInfo };
    attrs: { begin: number[]; size: number[] };
    backend: unknown;
  }) => {
    const { x } = args.inputs;
    if (x.dtype === 'string' || x.shape.length === 0)
      return original.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]);
    const backend = args.backend as WasmHeapBackend;
    const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, args.attrs.begin, args.attrs.size);
    const out = backend.makeOutput(size, x.dtype);
    const n = tf.util.sizeFromShape(size);
    if (n === 0) return out;
    // views taken after makeOutput: an allocation may grow (and detach) the heap
    const src = backend.typedArrayFromHeap(x);
    const dst = backend.typedArrayFromHeap(out);
    const rank = x.shape.length;
    const strides = tf.util.computeStrides(x.shape);
    const stride = (a: number) => (a < rank - 1 ? strides[a] : 1);
    // the axes after `inner` are taken whole, so every index over axes [0, inner) is one
    // contiguous run of the source
    let inner = rank - 1;
    while (inner > 0 && size[inner] === x.shape[inner]) inner--;
    let run = 1;
    for (let a = inner; a < rank; a++) run *= size[a];
    const base = begin[inner] * stride(inner);
    const idx = new Array<number>(inner).fill(0);
    for (let o = 0; o < n; o += run) {
      let off = base;
      for (let a = 0; a < inner; a++) off += (begin[a] + idx[a]) * stride(a);
      dst.set(src.subarray(off, off + run), o);
      for (let a = inner - 1; a >= 0; a--) {
        if (++idx[a] < size[a]) break;
        idx[a] = 0;
      }
    }
    return out;
  };
  tf.unregisterKernel('Slice', 'wasm');
  tf.registerKernel({
    ...original,
    kernelFunc: kernelFunc as unknown as tf.KernelFunc,
    fmnHeapSlice: true,
  } as tf.KernelConfig);
}

/**
 * tfjs-backend-wasm's Identity kernel copies its input, and tfjs clones (Identity) every tensor a
 * gradient keeps for the backward pass: on wasm each saved activation, and the word-embedding
 * table behind a gather, was stored twice. This replacement shares the buffer (reference-counted,
 * as wasm's own Reshape and the cpu backend's Identity do); tfjs kernels never write to inputs.
 */
function installWasmIdentity(): void {
  const original = tf.getKernel('Identity', 'wasm');
  if (!original || (original as { fmnShared?: boolean }).fmnShared) return;
  const kernelFunc = (args: { inputs: { x: tf.TensorInfo }; backend: unknown }) => {
    const { x } = args.inputs;
    if (x.dtype === 'string') return original.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]);
    (args.backend as { incRef(dataId: object): void }).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({
    ...original,
    kernelFunc: kernelFunc as unknown as tf.KernelFunc,
    fmnShared: true,
  } as tf.KernelConfig);
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
        installWasmSlice();
        installWasmIdentity();
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
      silenceCpuBanner();
      return makeRuntime('cpu', 'cpu', `tfjs ${version} cpu (plain JavaScript)`);
  }
}

/**
 * tfjs's cpu backend prints a "install tfjs-node" banner on stderr at its first tensor. fmn
 * reports the runtime it picked (and why tfjs-node did not load) itself, and `--quiet` must keep
 * stderr clean, so the banner is marked as already shown.
 */
function silenceCpuBanner(): void {
  const cpu = tf.findBackend('cpu') as { firstUse?: boolean } | null;
  if (cpu && typeof cpu.firstUse === 'boolean') cpu.firstUse = false;
}
