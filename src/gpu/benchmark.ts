/**
 * Provider benchmarks: how fast this machine processes prompts, generates and verifies with a model. Results are
 * stored as JSON under `<dataDir>/benchmarks/<sha256>-<backend>.json`, for the bidding strategy (a bid's cost is
 * the benchmark times the provider's cost of a second).
 */
import {readdir} from 'node:fs/promises'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'

import {CancelledError, UserError} from '../errors/index.js'
import {InferenceEngine} from './engine.js'
import type {GenerateResult} from './engine-types.js'
import {readJson, writeJsonAtomic} from './files.js'
import {readGgufSummary} from './gguf.js'
import type {GpuBackend, GpuChoice} from './llama.js'
import {verifyCompletion} from './verifier.js'

export interface BenchmarkOptions {
  /** Path of the GGUF file. */
  modelPath: string
  /** sha256 of the file (the model's identity, the key the result is stored under). */
  sha256: string
  /** Compute backend. Defaults to `auto`. */
  gpu?: GpuChoice
  /** Threads. Defaults to all math cores. */
  threads?: number
  /** Prompt length for the prompt-processing measurement, in tokens. Defaults to 256. */
  promptTokens?: number
  /** Tokens to generate (and then verify) per stream. Defaults to 128. */
  generateTokens?: number
  /** Numbers of concurrent streams to measure aggregate generation throughput at. Defaults to [4]. */
  streams?: readonly number[]
  /** Called when a phase starts. Defaults to none. */
  onPhase?: (phase: 'load' | 'prompt' | 'generate' | 'concurrent' | 'verify') => void
  /** Cancels the benchmark. Defaults to none. */
  signal?: AbortSignal
}

export interface Throughput {
  tokens: number
  ms: number
  tokensPerSecond: number
}

export interface BenchmarkResult {
  version: 1
  sha256: string
  modelPath: string
  model: {architecture: string; parameters: number; fileType: string; sizeBytes: number}
  backend: GpuBackend
  threads: number
  /** Prompt processing (prefill) of one prompt. */
  promptProcessing: Throughput
  /** Generation on a single stream (decode steps only, prompt excluded). */
  generation: Throughput
  /** Aggregate generation throughput with several concurrent streams (wall time, prompts included). */
  concurrent: Array<Throughput & {streams: number}>
  /** Verification by prefill of the single-stream generation. */
  verification: Throughput & {
    /** Whether the verifier accepted the honest output (it should). */
    accepted: boolean
    /** Largest logit margin among the accepted tokens (how close to ε honest outputs come). */
    maxMargin: number
    /** Verification time divided by the time it took to generate the same tokens. */
    relativeToGeneration: number
  }
  /** Peak resident memory of the process during the benchmark. */
  peakRssBytes: number
  llamaCppRelease: string
  createdAt: string
}

const SAMPLE_TEXT =
  'The provider network runs language models on many machines. Each task names a model by the hash of its file, a batch of prompts, and the price the client pays. ' +
  'Providers bid, the cheapest one executes, and a council checks the results by prefill before the payment is released. '

const throughput = (tokens: number, ms: number): Throughput => ({tokens, ms: round(ms), tokensPerSecond: round(ms > 0 ? (tokens * 1000) / ms : 0)})
const round = (x: number) => Math.round(x * 100) / 100

/** Runs the benchmark (loads the model, measures, disposes). Does not store the result: see `saveBenchmark`. */
export async function runBenchmark(options: BenchmarkOptions): Promise<BenchmarkResult> {
  const promptLength = options.promptTokens ?? 256
  const generateTokens = options.generateTokens ?? 128
  const streams = [...(options.streams ?? [4])].filter((s) => s > 1)
  if (!Number.isInteger(promptLength) || promptLength < 8) throw new UserError('promptTokens must be an integer ≥ 8.', {code: 'BAD_BENCHMARK_OPTIONS'})
  if (!Number.isInteger(generateTokens) || generateTokens < 2) throw new UserError('generateTokens must be an integer ≥ 2.', {code: 'BAD_BENCHMARK_OPTIONS'})
  if (streams.some((s) => !Number.isInteger(s) || s > 64)) throw new UserError('streams must be integers from 2 to 64.', {code: 'BAD_BENCHMARK_OPTIONS'})
  const gguf = await readGgufSummary(options.modelPath)
  const check = () => {
    if (options.signal?.aborted) throw new CancelledError()
  }
  const shortPrompt = 24
  const contextSize = Math.min(gguf.contextLength ?? 4096, Math.max(promptLength, shortPrompt + generateTokens) + 16)
  options.onPhase?.('load')
  const engine = await InferenceEngine.load({
    modelPath: options.modelPath,
    gpu: options.gpu,
    threads: options.threads,
    contextSize,
    sequences: Math.max(1, ...streams),
    signal: options.signal,
  })
  try {
    const corpus: number[] = []
    while (corpus.length < promptLength * 2 + 64) corpus.push(...engine.tokenize(SAMPLE_TEXT, {addBos: false}))
    const bos = engine.tokenize('', {addBos: true})
    const promptAt = (offset: number, length: number) => [...bos, ...corpus.slice(offset, offset + length - bos.length)]

    // Prompt processing: one prompt of promptLength tokens, no generation.
    check()
    options.onPhase?.('prompt')
    const prompt = promptAt(0, Math.min(promptLength, engine.contextSize - 1))
    const ppMs = await engine.withSequence(async (sequence) => {
      const t0 = performance.now()
      await sequence.evaluateWithoutGeneratingNewTokens(prompt as never)
      return performance.now() - t0
    }, options.signal)

    // Generation, one stream: until generateTokens tokens were generated (the model may end early on a prompt).
    check()
    options.onPhase?.('generate')
    let genTokens = 0
    let genMs = 0
    let longest: GenerateResult | undefined
    for (let attempt = 0; attempt < 8 && genTokens < generateTokens; attempt++) {
      const result = await engine.generate({prompt: promptAt(attempt * 7, shortPrompt), maxTokens: generateTokens, signal: options.signal})
      genTokens += Math.max(0, result.tokens.length - 1)
      genMs += result.timings.generateMs
      if (!longest || result.tokens.length > longest.tokens.length) longest = result
    }

    // Concurrent streams: aggregate tokens per wall-clock second.
    const concurrent: BenchmarkResult['concurrent'] = []
    for (const count of streams) {
      check()
      options.onPhase?.('concurrent')
      const t0 = performance.now()
      const results = await Promise.all(
        Array.from({length: count}, (_, k) => engine.generate({prompt: promptAt(3 + k * 11, shortPrompt), maxTokens: generateTokens, signal: options.signal})),
      )
      const ms = performance.now() - t0
      concurrent.push({streams: count, ...throughput(results.reduce((s, r) => s + r.tokens.length, 0), ms)})
    }

    // Verification of the longest single-stream output.
    check()
    options.onPhase?.('verify')
    const sample = longest!
    const verdict = await verifyCompletion(engine, {prompt: sample.promptTokens, completion: sample.tokens, maxTokens: sample.maxTokens, perToken: true, signal: options.signal})
    const maxMargin = Math.max(0, ...(verdict.perToken ?? []).filter((v) => v.ok && v.margin !== null).map((v) => v.margin!))
    const sampleGenMs = sample.timings.promptMs + sample.timings.generateMs

    return {
      version: 1,
      sha256: options.sha256,
      modelPath: options.modelPath,
      model: {architecture: gguf.architecture, parameters: gguf.parameters, fileType: gguf.fileType, sizeBytes: gguf.sizeBytes},
      backend: engine.backend,
      threads: engine.threads,
      promptProcessing: throughput(prompt.length, ppMs),
      generation: throughput(genTokens, genMs),
      concurrent,
      verification: {
        ...throughput(sample.tokens.length, verdict.timings.totalMs - verdict.timings.queuedMs),
        accepted: verdict.ok,
        maxMargin: round(maxMargin * 1000) / 1000,
        relativeToGeneration: round(((verdict.timings.totalMs - verdict.timings.queuedMs) / Math.max(1e-9, sampleGenMs)) * 100) / 100,
      },
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      llamaCppRelease: engine.model.llama.llamaCppRelease.release,
      createdAt: new Date().toISOString(),
    }
  } finally {
    await engine.dispose()
  }
}

export const benchmarksDir = (dataDir: string): string => join(dataDir, 'benchmarks')
const benchmarkFile = (dataDir: string, sha256: string, backend: GpuBackend) => join(benchmarksDir(dataDir), `${sha256}-${backend}.json`)

/** Stores a result (atomically), replacing the previous one for the same model and backend. Returns the file path. */
export async function saveBenchmark(dataDir: string, result: BenchmarkResult): Promise<string> {
  const path = benchmarkFile(dataDir, result.sha256, result.backend)
  await writeJsonAtomic(path, result)
  return path
}

/** The stored benchmark of a model (by sha256) on a backend, if there is one. */
export async function loadBenchmark(dataDir: string, key: {sha256: string; backend: GpuBackend}): Promise<BenchmarkResult | undefined> {
  const result = await readJson<BenchmarkResult | undefined>(benchmarkFile(dataDir, key.sha256.toLowerCase(), key.backend), undefined)
  return result?.version === 1 ? result : undefined
}

/** Every stored benchmark. */
export async function listBenchmarks(dataDir: string): Promise<BenchmarkResult[]> {
  const files = await readdir(benchmarksDir(dataDir)).catch(() => [] as string[])
  const results = await Promise.all(files.filter((f) => f.endsWith('.json')).map((f) => readJson<BenchmarkResult | undefined>(join(benchmarksDir(dataDir), f), undefined)))
  return results.filter((r): r is BenchmarkResult => r?.version === 1)
}
