/**
 * Whether this provider can run a task, and what running it costs, from its own benchmark.
 *
 * Feasible: the exact model file is held (by sha256), every item's prompt plus maxTokens fits the context, the
 * spec's context size and VRAM floor are met, and the largest checkpoint segment is estimated to finish well inside
 * the checkpoint window (and the whole task before a hard deadline).
 *
 * Time estimate: prompt tokens / prompt-processing tokens/s + output budget (items × maxTokens, an upper bound) /
 * aggregate generation tokens/s with concurrent streams (single-stream speed when the benchmark has none).
 * Cost: estimated seconds × the provider's price of a GPU-second.
 */
import type {BenchmarkResult} from '../gpu/index.js'
import {segmentOf} from '../protocol/results.js'
import type {TaskSpec} from '../protocol/task-spec.js'

/** Safety factor on the estimated time of a segment against its window. */
export const DEADLINE_SAFETY = 1.5
/** Seconds reserved in every checkpoint window for the commit transaction. */
export const COMMIT_RESERVE_SECONDS = 2

export interface TaskEstimate {
  promptTokens: number
  outputTokens: number
  /** Estimated seconds for the whole task. */
  seconds: number
  /** Estimated seconds for the largest checkpoint segment. */
  segmentSeconds: number
  cost: bigint
}

export interface Feasibility {
  feasible: boolean
  reason?: string
  estimate: TaskEstimate
}

export function generationSpeed(benchmark: BenchmarkResult): {prompt: number; generate: number} {
  const concurrent = Math.max(0, ...benchmark.concurrent.map((c) => c.tokensPerSecond))
  return {
    prompt: Math.max(1e-6, benchmark.promptProcessing.tokensPerSecond),
    generate: Math.max(1e-6, concurrent || benchmark.generation.tokensPerSecond),
  }
}

/** Cost of `seconds` at `pricePerSecond` (base units), rounded up to the micro-second. */
export function costOf(seconds: number, pricePerSecond: bigint): bigint {
  const micros = BigInt(Math.ceil(seconds * 1e6))
  return (micros * pricePerSecond + 999_999n) / 1_000_000n
}

export function estimateTask(options: {
  spec: TaskSpec
  promptLengths: readonly number[]
  checkpoints: number
  benchmark: BenchmarkResult
  gpuSecondPrice: bigint
}): TaskEstimate {
  const speed = generationSpeed(options.benchmark)
  const maxTokens = options.spec.instructions.maxTokens
  const secondsOf = (from: number, to: number) => {
    let prompt = 0
    for (let i = from; i < to; i++) prompt += options.promptLengths[i] ?? 0
    return prompt / speed.prompt + ((to - from) * maxTokens) / speed.generate
  }
  const n = options.promptLengths.length
  let segmentSeconds = 0
  for (let k = 0; k < options.checkpoints; k++) {
    const {first, end} = segmentOf(n, options.checkpoints, k)
    segmentSeconds = Math.max(segmentSeconds, secondsOf(first, end))
  }
  const seconds = secondsOf(0, n)
  return {
    promptTokens: options.promptLengths.reduce((a, b) => a + b, 0),
    outputTokens: n * maxTokens,
    seconds: Math.round(seconds * 1000) / 1000,
    segmentSeconds: Math.round(segmentSeconds * 1000) / 1000,
    cost: costOf(seconds, options.gpuSecondPrice),
  }
}

export function assessTask(options: {
  spec: TaskSpec
  promptLengths: readonly number[]
  checkpoints: number
  checkpointWindow: number
  hardDeadline: number
  benchmark: BenchmarkResult
  gpuSecondPrice: bigint
  contextSize: number
  /** VRAM of this machine in GiB (0 on CPU). */
  vramGiB: number
}): Feasibility {
  const estimate = estimateTask(options)
  const {spec} = options
  const maxTokens = spec.instructions.maxTokens
  const no = (reason: string): Feasibility => ({feasible: false, reason, estimate})
  if (spec.instructions.contextSize !== undefined && spec.instructions.contextSize > options.contextSize)
    return no(`the spec asks for a context of ${spec.instructions.contextSize} tokens; this provider loads ${options.contextSize}`)
  const longest = Math.max(0, ...options.promptLengths)
  if (longest + maxTokens > options.contextSize)
    return no(`the longest prompt (${longest} tokens) plus maxTokens ${maxTokens} exceeds the context of ${options.contextSize}`)
  if (spec.instructions.minVramGiB > options.vramGiB) return no(`the spec needs ${spec.instructions.minVramGiB} GiB of VRAM; this provider has ${options.vramGiB}`)
  const segmentBudget = options.checkpointWindow - COMMIT_RESERVE_SECONDS
  if (estimate.segmentSeconds * DEADLINE_SAFETY > segmentBudget)
    return no(`a checkpoint is estimated at ${estimate.segmentSeconds.toFixed(1)} s; the window of ${options.checkpointWindow} s is too short`)
  if (options.hardDeadline > 0 && estimate.seconds * DEADLINE_SAFETY + options.checkpoints * COMMIT_RESERVE_SECONDS > options.hardDeadline)
    return no(`the task is estimated at ${estimate.seconds.toFixed(1)} s; the hard deadline is ${options.hardDeadline} s`)
  return {feasible: true, estimate}
}
