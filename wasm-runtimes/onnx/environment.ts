// The one place that knows where the ONNX runtime runs (a browser worker, or Node for tests and benches): how
// onnxruntime-web is loaded, which execution providers this environment offers, and where models are cached.
import type * as OrtModule from 'onnxruntime-web';
import type { ExecutionProvider } from '../../protocol/index.js';

export type Ort = typeof OrtModule;

export const IN_NODE = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/** Where onnxruntime-web's files are served in the browser (the coordinator serves node_modules/onnxruntime-web/dist). */
export const BROWSER_ORT_URL = '/onnxruntime/';

/**
 * The ORT builds loaded in browsers, one per provider, each only when first needed. The WebGPU build (WebGPU EP with
 * CPU fallback) lacks some CPU kernels (float64 MatMul, for one), so WASM chunks run on the plain WASM build: the
 * same binary onnxruntime-web uses in Node, where the tests hold it to onnxruntime-node.
 */
export const BROWSER_ORT_FILES: Record<ExecutionProvider, string> = { webgpu: 'ort.webgpu.min.mjs', wasm: 'ort.wasm.min.mjs' };

/**
 * Loads the onnxruntime-web build for `provider`. Node: the package (its WASM build; there is no WebGPU). Browser:
 * the build's module from `ortURL`, imported at run time so the bundler leaves the runtime alone and nothing
 * comes from a CDN.
 */
export async function loadOrt(provider: ExecutionProvider, ortURL?: string): Promise<Ort> {
  if (IN_NODE) {
    const specifier = 'onnxruntime-web'; // a variable, so Vite does not try to bundle it for the browser
    return (await import(/* @vite-ignore */ specifier)) as Ort;
  }
  const base = new URL(ortURL ?? BROWSER_ORT_URL, (globalThis as { location?: { href: string } }).location?.href).href;
  const ort = (await import(/* @vite-ignore */ base + BROWSER_ORT_FILES[provider])) as Ort;
  ort.env.wasm.wasmPaths = base;
  return ort;
}

/**
 * onnxruntime-node (native code; the headless runner's ONNX), typed as onnxruntime-web: both implement the same
 * onnxruntime-common API (InferenceSession, Tensor, env) the runtime uses. Node only; a clear error when the package
 * is not installed (it is optional: a runner without it does not offer ONNX).
 */
export async function loadNodeOrt(): Promise<Ort> {
  if (!IN_NODE) throw new Error('onnxruntime-node runs in Node only');
  const specifier = 'node:module'; // a variable, so Vite leaves it alone; typed here, as the page has no Node types
  const { createRequire } = (await import(/* @vite-ignore */ specifier)) as { createRequire(url: string): (id: string) => unknown };
  try {
    return createRequire(import.meta.url)('onnxruntime-node') as Ort;
  } catch (err) {
    throw new Error(`onnxruntime-node is not installed (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
  }
}

/** WASM threads: what the host asks for, else up to 4 cores when cross-origin isolated (threads need SharedArrayBuffer), else 1. */
export function wasmThreadCount(requested?: number): number {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  if (IN_NODE) return Math.max(1, requested ?? 1);
  if (!isolated) return 1;
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
  return Math.max(1, requested ?? Math.min(4, cores));
}

interface GpuAdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
}
interface GpuLike {
  requestAdapter(options?: object): Promise<{ info?: GpuAdapterInfoLike; features?: Iterable<string> } | null>;
}

/** "vendor architecture device description" without empty parts, e.g. "google swiftshader". */
export function describeAdapter(info: GpuAdapterInfoLike | undefined): string {
  if (!info) return 'unknown GPU';
  const parts = [info.vendor, info.architecture, info.device, info.description].filter((part): part is string => !!part);
  return [...new Set(parts)].join(' ') || 'unknown GPU';
}

/**
 * The GPU adapter WebGPU would give this worker, described, with its optional features (e.g. `shader-f16`), or
 * undefined where there is none (no `navigator.gpu`, WebGPU disabled, no usable adapter).
 */
export async function detectGpuAdapter(): Promise<{ adapter: string; features: string[] } | undefined> {
  const gpu = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
  if (!gpu) return undefined;
  try {
    const adapter = await gpu.requestAdapter();
    return adapter ? { adapter: describeAdapter(adapter.info), features: [...(adapter.features ?? [])].sort() } : undefined;
  } catch {
    return undefined;
  }
}

/** The providers this environment can offer, WebGPU first when there is one (WASM always). */
export async function availableProviders(allowGpu: boolean): Promise<{ providers: ExecutionProvider[]; adapter?: string; gpuFeatures?: string[] }> {
  const gpu = allowGpu && !IN_NODE ? await detectGpuAdapter() : undefined;
  return gpu ? { providers: ['webgpu', 'wasm'], adapter: gpu.adapter, gpuFeatures: gpu.features } : { providers: ['wasm'] };
}
