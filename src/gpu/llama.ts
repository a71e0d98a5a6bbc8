/**
 * The one place that loads llama.cpp through node-llama-cpp. Always with `build: "never"`: ogpu uses the prebuilt
 * binaries that ship with node-llama-cpp and never tries to compile llama.cpp on a user's machine.
 *
 * Loading a binding is slow (node-llama-cpp tests the binary in a child process first, ~1.5 s), so instances are
 * shared within a process and reference-counted: `acquireLlama()` returns a lease, and the binding is disposed when
 * the last lease is released.
 */
import {getLlama, getLlamaGpuTypes, type Llama, LlamaLogLevel} from 'node-llama-cpp'

import {ExternalError, UserError} from '../errors/index.js'

/** A compute backend ogpu can run llama.cpp on. */
export type GpuBackend = 'cuda' | 'vulkan' | 'metal' | 'cpu'
/** A backend, or `auto` for the best one available. */
export type GpuChoice = 'auto' | GpuBackend

export const GPU_BACKENDS: readonly GpuBackend[] = ['cuda', 'vulkan', 'metal', 'cpu']
export const GPU_CHOICES: readonly GpuChoice[] = ['auto', ...GPU_BACKENDS]

type NodeLlamaGpu = 'cuda' | 'vulkan' | 'metal' | false

export const toNodeLlamaGpu = (backend: GpuBackend): NodeLlamaGpu => (backend === 'cpu' ? false : backend)
export const fromNodeLlamaGpu = (gpu: NodeLlamaGpu): GpuBackend => (gpu === false ? 'cpu' : gpu)

export function parseGpuChoice(value: string): GpuChoice {
  if ((GPU_CHOICES as readonly string[]).includes(value)) return value as GpuChoice
  throw new UserError(`Unknown compute backend "${value}".`, {
    code: 'INVALID_GPU',
    hint: `Use one of: ${GPU_CHOICES.join(', ')}.`,
  })
}

/** llama.cpp's own log lines go to stderr at error level only (stdout stays clean for --json). */
function logger(level: LlamaLogLevel, message: string): void {
  if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal) process.stderr.write(`[llama.cpp] ${message.trimEnd()}\n`)
}

let availableCache: Promise<GpuBackend[]> | undefined

/**
 * Backends whose prebuilt binary loads on this machine, best first (what `auto` picks from). Quick checks first
 * (drivers and runtime libraries present), then a dry-run load of each candidate binary. Computed once per process.
 */
export function availableBackends(): Promise<GpuBackend[]> {
  availableCache ??= probeBackends()
  return availableCache
}

async function probeBackends(): Promise<GpuBackend[]> {
  const supported = (await getLlamaGpuTypes('supported')) as NodeLlamaGpu[]
  const result: GpuBackend[] = []
  for (const gpu of supported) {
    if (gpu === false) continue
    try {
      const llama = await getLlama({build: 'never', gpu, dryRun: true, progressLogs: false, logLevel: LlamaLogLevel.error, logger})
      if (llama.gpu === gpu) result.push(fromNodeLlamaGpu(gpu))
    } catch {
      // not usable here: no binary for this platform, or the driver/runtime is missing
    }
  }
  result.push('cpu')
  return result
}

/** A shared llama.cpp binding. Call `release()` exactly once when done (idempotent). */
export interface LlamaLease {
  readonly llama: Llama
  readonly backend: GpuBackend
  release(): Promise<void>
}

interface Shared {
  promise: Promise<Llama>
  refs: number
}
const shared = new Map<GpuBackend, Shared>()

async function loadLlama(backend: GpuBackend): Promise<Llama> {
  let llama: Llama
  try {
    llama = await getLlama({build: 'never', gpu: toNodeLlamaGpu(backend), progressLogs: false, logLevel: LlamaLogLevel.error, logger})
  } catch (err) {
    if (backend !== 'cpu')
      throw new UserError(`The ${backend.toUpperCase()} backend is not available on this machine.`, {
        code: 'GPU_NOT_AVAILABLE',
        hint: 'Run `ogpu provider gpu` to see the available backends, or use --gpu cpu.',
        details: {backend},
        cause: err,
      })
    throw new ExternalError(`llama.cpp could not be loaded: ${(err as Error).message}`, {code: 'LLAMA_LOAD_FAILED', cause: err})
  }
  if (fromNodeLlamaGpu(llama.gpu as NodeLlamaGpu) !== backend) {
    // node-llama-cpp silently falls back (e.g. Metal requested on Linux): a forced backend must be exact.
    await llama.dispose()
    throw new UserError(`The ${backend.toUpperCase()} backend is not available on this machine.`, {
      code: 'GPU_NOT_AVAILABLE',
      hint: 'Run `ogpu provider gpu` to see the available backends, or use --gpu cpu.',
      details: {backend},
    })
  }
  return llama
}

/** Resolves `auto` to the best available backend; checks that a forced one is available. */
export async function resolveBackend(choice: GpuChoice = 'auto'): Promise<GpuBackend> {
  if (choice === 'cpu') return 'cpu'
  const available = await availableBackends()
  if (choice === 'auto') return available[0] ?? 'cpu'
  if (!available.includes(choice))
    throw new UserError(`The ${choice.toUpperCase()} backend is not available on this machine.`, {
      code: 'GPU_NOT_AVAILABLE',
      hint: `Available here: ${available.join(', ')}. Run \`ogpu provider gpu\` for details, or use --gpu ${available[0] ?? 'cpu'}.`,
      details: {backend: choice, available},
    })
  return choice
}

/**
 * Loads (or shares) the llama.cpp binding for a backend. `auto` picks the best available backend; a forced backend
 * that is not available is a UserError.
 */
export async function acquireLlama(choice: GpuChoice = 'auto'): Promise<LlamaLease> {
  const backend = await resolveBackend(choice)
  let entry = shared.get(backend)
  if (!entry || entry.refs === 0) {
    entry = {promise: loadLlama(backend), refs: 0}
    shared.set(backend, entry)
  }
  entry.refs++
  const current = entry
  let llama: Llama
  try {
    llama = await current.promise
  } catch (err) {
    current.refs--
    if (shared.get(backend) === current) shared.delete(backend)
    throw err
  }
  let released = false
  return {
    llama,
    backend,
    async release() {
      if (released) return
      released = true
      current.refs--
      if (current.refs === 0) {
        if (shared.get(backend) === current) shared.delete(backend)
        await llama.dispose()
      }
    },
  }
}

/** Converts an error thrown by node-llama-cpp into the hierarchy (ExternalError), keeping ogpu errors as they are. */
export function llamaError(err: unknown, what: string): Error {
  if (err instanceof Error && 'kind' in err) return err
  const message = err instanceof Error ? err.message : String(err)
  return new ExternalError(`${what}: ${message}`, {code: 'LLAMA_ERROR', cause: err})
}
