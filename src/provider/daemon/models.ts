/** The models a daemon serves: located in the store, benchmarked once (stored for bidding), loaded into engines. */
import {UserError} from '../../errors/index.js'
import {type GpuChoice, InferenceEngine, loadBenchmark, ModelStore, runBenchmark, saveBenchmark} from '../../gpu/index.js'
import {resolveBackend} from '../../gpu/llama.js'
import {generationSpeed} from '../evaluate.js'
import type {Logger} from '../log.js'
import {streamPriceFloor} from '../strategy.js'
import {localBackend, type StreamBackend} from '../stream/backend.js'
import type {LoadedModel, ProviderDaemonOptions} from './types.js'

export interface LoadModelsOptions {
  dataDir: string
  /** Names, sha256s or .gguf paths. Defaults to every model in the store. */
  refs?: string[]
  gpu?: GpuChoice
  threads?: number
  /** Sequences per engine. Defaults to 4. */
  sequences?: number
  /** Context per sequence, tokens. Defaults to the engine's default. */
  contextSize?: number
  signal: AbortSignal
  log: Logger
}

/** Loads every model into `into` (by sha256) as it goes, so that a failure midway still leaves the loaded ones to dispose. Returns the VRAM seen, GiB. */
export async function loadModels(o: LoadModelsOptions, into: Map<string, LoadedModel>): Promise<number> {
  const store = new ModelStore({dataDir: o.dataDir})
  let refs = o.refs ?? []
  if (refs.length === 0) {
    refs = (await store.list()).filter((m) => !m.missing).map((m) => m.sha256)
    if (refs.length === 0)
      throw new UserError('There is no model to serve: the model store is empty.', {code: 'NO_MODELS', hint: 'Add one with `ogpu model add PATH|hf:USER/REPO/FILE.gguf`, or pass --models PATH.'})
  }
  const backend = await resolveBackend(o.gpu ?? 'auto')
  let vramGiB = 0
  for (const ref of refs) {
    const located = await store.locate(ref)
    if (into.has(located.sha256)) continue
    const name = located.model?.name ?? ref
    let benchmark = await loadBenchmark(o.dataDir, {sha256: located.sha256, backend})
    if (!benchmark) {
      o.log.info('benchmark', `Benchmarking ${name} on ${backend} (once; stored for bidding)`)
      benchmark = await runBenchmark({modelPath: located.path, sha256: located.sha256, gpu: backend, threads: o.threads, signal: o.signal})
      await saveBenchmark(o.dataDir, benchmark)
    }
    const engine = await InferenceEngine.load({modelPath: located.path, gpu: backend, threads: o.threads, sequences: o.sequences ?? 4, contextSize: o.contextSize})
    into.set(located.sha256, {name, sha256: located.sha256, path: located.path, engine, benchmark})
    if (engine.backend !== 'cpu') {
      const vram = await engine.model.llama.getVramState().catch(() => undefined)
      if (vram) vramGiB = Math.max(vramGiB, vram.total / 2 ** 30)
    }
    o.log.info('model', `Loaded ${name} (${located.sha256.slice(0, 12)}) on ${engine.backend}: ${engine.sequenceCount} × ${engine.contextSize} tokens`, {
      generateTps: benchmark.concurrent[0]?.tokensPerSecond ?? benchmark.generation.tokensPerSecond,
    })
  }
  return vramGiB
}

/** The stream backends: the loaded engines (local), or an endpoint with the local GGUF's tokenizer. */
export async function loadStreamBackends(spec: string, models: Iterable<LoadedModel>, options: {accessToken?: string; log: Logger}, into: StreamBackend[]): Promise<void> {
  if (spec === 'local') {
    for (const m of models) into.push(localBackend({name: m.name, sha256: m.sha256, engine: m.engine}))
    return
  }
  const match = /^endpoint:(https?:\/\/.+)$/.exec(spec)
  if (!match) throw new UserError(`--backend ${spec} is not local or endpoint:URL.`, {code: 'INVALID_ARGUMENTS', hint: 'e.g. --backend endpoint:http://127.0.0.1:8080/v1'})
  const {endpointBackend} = await import('../stream/endpoint-backend.js')
  for (const m of models)
    into.push(await endpointBackend({name: m.name, sha256: m.sha256, modelPath: m.path, url: match[1]!, accessToken: options.accessToken, contextSize: m.engine.contextSize}))
  options.log.info('model', `Stream generations go to ${match[1]} (endpoint backend: this provider cannot verify)`)
}

/** The lowest stream price worth subscribing to for `model`, wei per 1000 tokens: the option, else its benchmark's cost plus the margin. */
export function streamFloorOf(o: Pick<ProviderDaemonOptions, 'minStreamPricePer1k' | 'gpuSecondPrice' | 'margin'>, model: LoadedModel | undefined): bigint {
  if (o.minStreamPricePer1k !== undefined) return o.minStreamPricePer1k
  if (!model) return 0n
  return streamPriceFloor(generationSpeed(model.benchmark).generate, o.gpuSecondPrice ?? 10n ** 16n, o.margin ?? 0.2)
}
