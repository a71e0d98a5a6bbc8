/**
 * Verification by prefill: a council member checks a claimed completion without generating it. One batched forward
 * pass over prompt + completion gives, at every completion position, the model's logits for the next token; each
 * claimed token is judged against them.
 *
 * - Greedy output: the claimed token must be the argmax, or within a logit margin ε of it (default 0.01,
 *   `GREEDY_EPSILON`) AND ranked at most `maxRank` (default 2). The generator makes greedy output prefill-consistent
 *   (`generateConsistent` in ./engine.ts): every token is the argmax of this very batched prefill, which gives
 *   bit-identical logits for any batch split and thread count (measured on CPU), so the margin only absorbs what was
 *   not measured. A substituted token fails by whole logits, and a swapped near-tie fails unless its gap is ≤ ε.
 * - Sampled output (temperature > 0): each claimed token must lie in the sampler's support, top-k then top-p as
 *   llama.cpp applies them (within ε at the boundaries), with probability at the sampling temperature ≥ a floor
 *   (default 1e-4). This is weaker: it shows the output is plausible under the model, not that it was the output.
 * - The end: generation stops at an end-of-generation token or at maxTokens. So a completion shorter than maxTokens
 *   must end with an end-of-generation token (a truncated output is rejected), nothing may follow that token, and a
 *   completion may not be longer than maxTokens. `allowPrefix` lifts the first rule, to check a stream mid-way.
 *
 * Ranks are not computed in the main pass (that would sort the whole vocabulary at every position, which doubled
 * the cost on a 32k vocabulary); the rare positions that need one (a near-tie, the first failure) are evaluated
 * again one token at a time, last to first, with the full logits.
 */
import {performance} from 'node:perf_hooks'

import type {ControlledEvaluateInputItem, LlamaContextSequence, Token} from 'node-llama-cpp'

import {UserError} from '../errors/index.js'
import type {InferenceEngine} from './engine.js'
import {llamaError} from './llama.js'
import {resolveSampling, type ResolvedSampling, type SamplingOptions} from './sampling.js'

export interface VerifyRequest {
  /** The prompt, as given to the generator: text (tokenized the same way) or token ids. */
  prompt: string | readonly number[]
  /** The claimed completion token ids (including the final end-of-generation token, when there is one). */
  completion: readonly number[]
  /** The maxTokens the completion was generated with. */
  maxTokens: number
  /** The sampling the completion claims. Defaults to greedy (temperature 0). */
  sampling?: SamplingOptions
  /** Accept a completion that stops before an end-of-generation token (a prefix of an output, e.g. mid-stream). Defaults to false. */
  allowPrefix?: boolean
  /** Logit margin tolerated below the argmax (greedy), or at the support's boundaries (sampled). Defaults to 0.01 (greedy) or 0.1 (sampled). */
  epsilon?: number
  /** Greedy: the worst rank a token within ε may have. Defaults to 2. */
  maxRank?: number
  /** Sampled: the lowest probability (at the sampling temperature, within the support) a token may have. Defaults to 1e-4. */
  minProbability?: number
  /** Return a verdict for every checked token. Defaults to false. */
  perToken?: boolean
  /** For text prompts: prepend BOS. Defaults to the model's `add_bos_token` (as the engine does). */
  addBos?: boolean
  /** Cancels the verification (while queued, or between its passes). Defaults to none. */
  signal?: AbortSignal
}

export type VerifyFailureReason =
  /** The token is not what the model would produce (outside the margin/rank, or outside the sampling support). */
  | 'token'
  /** Shorter than maxTokens without an end-of-generation token: the output was cut. */
  | 'truncated'
  /** A token follows the end-of-generation token. */
  | 'after-end'
  /** More tokens than maxTokens. */
  | 'too-long'

export interface TokenVerdict {
  /** Position in the completion (0-based). */
  position: number
  /** The claimed token (null where a token is missing: a truncated output). */
  claimed: number | null
  /** The model's most likely token at this position (null when not evaluated). */
  expected: number | null
  /** Logit of `expected` minus logit of `claimed` (≥ 0; null when not evaluated). */
  margin: number | null
  /** Rank of the claimed token (1 = argmax), when it was computed. */
  rank: number | null
  /** Sampled mode: probability of the claimed token at the sampling temperature within the support. */
  probability?: number
  ok: boolean
}

export interface VerifyFailure extends TokenVerdict {
  reason: VerifyFailureReason
}

export interface VerifyResult {
  ok: boolean
  /** Completion tokens judged. */
  checked: number
  /** The earliest failing position, when not ok. */
  firstFailure?: VerifyFailure
  /** Per-token verdicts, when asked for. */
  perToken?: TokenVerdict[]
  mode: 'greedy' | 'sampled'
  promptTokens: number
  completionTokens: number
  tolerance: {epsilon: number; maxRank: number; minProbability: number}
  timings: {queuedMs: number; prefillMs: number; totalMs: number}
}

/** The default ε of sampled output (at the sampler's support boundaries). */
export const DEFAULT_EPSILON = 0.1

/**
 * The ε of greedy output, and its floor. Greedy output is prefill-consistent, and batched prefills agreed bit for bit
 * across 1/2 threads, batch sizes 2–512 and concurrent sequences (bench/verifier-slack.bench.ts), so the measured
 * noise is 0; 0.01 is the margin for what was not measured (another CPU build). A task may ask for more, never less:
 * below it, a client could pick an ε that lets its council reject an honest executor.
 */
export const GREEDY_EPSILON = 0.01

/**
 * Sampled output: the smallest logit margin that still accepts honest work on a model of this quantization. Sampled
 * tokens are decoded token by token, and one batched prefill pass and token-by-token decoding differ by rounding:
 * measured here up to 1e-4 on F32 (0.014 with flash attention) and up to 0.33 on Q8_0.
 */
export function epsilonFloor(quantization: string): number {
  return /^(F32|F16|BF16)$/i.test(quantization.trim()) ? 0.05 : 0.5
}

/** The ε a verifier applies: the task's, raised to the floor of the mode (greedy: `GREEDY_EPSILON`; sampled: the model's quantization floor). */
export function effectiveEpsilon(requested: number, quantization: string, mode: 'greedy' | 'sampled'): number {
  return Math.max(requested, mode === 'greedy' ? GREEDY_EPSILON : epsilonFloor(quantization))
}
export const DEFAULT_MAX_RANK = 2
export const DEFAULT_MIN_PROBABILITY = 1e-4
/** Sampled mode without top-k: how many top logits are read per position. */
const SAMPLED_TOP_WITHOUT_K = 256

interface Observation {
  claimedLogit: number
  maxLogit: number
  argmax: number
  /** Sampled mode: the top logits, descending. */
  top?: Array<[number, number]>
  /** Sampled mode without top-k: Σ exp(logit − max) over the whole vocabulary. */
  totalWeight?: number
}

/** Verifies a claimed completion by one batched prefill on the engine's model (it uses one of the engine's sequences). */
export async function verifyCompletion(engine: InferenceEngine, request: VerifyRequest): Promise<VerifyResult> {
  const started = performance.now()
  const sampling = resolveSampling({...request.sampling, seed: request.sampling?.seed ?? 0})
  const epsilon = request.epsilon ?? (sampling.greedy ? GREEDY_EPSILON : DEFAULT_EPSILON)
  const maxRank = request.maxRank ?? DEFAULT_MAX_RANK
  const minProbability = request.minProbability ?? DEFAULT_MIN_PROBABILITY
  if (!(epsilon >= 0)) throw new UserError(`epsilon must be ≥ 0 (got ${request.epsilon}).`, {code: 'BAD_VERIFY_REQUEST'})
  if (!Number.isInteger(maxRank) || maxRank < 1) throw new UserError(`maxRank must be an integer ≥ 1 (got ${request.maxRank}).`, {code: 'BAD_VERIFY_REQUEST'})
  if (!(minProbability >= 0 && minProbability < 1)) throw new UserError(`minProbability must be in [0, 1) (got ${request.minProbability}).`, {code: 'BAD_VERIFY_REQUEST'})
  if (!Number.isInteger(request.maxTokens) || request.maxTokens <= 0)
    throw new UserError(`maxTokens must be a positive integer (got ${request.maxTokens}).`, {code: 'BAD_MAX_TOKENS', hint: 'Pass the maxTokens the completion was generated with.'})
  if (!Array.isArray(request.completion)) throw new UserError('completion must be an array of token ids.', {code: 'BAD_VERIFY_REQUEST'})
  const prompt = engine.preparePrompt(request.prompt, request.addBos)
  const completion = [...request.completion]
  engine.assertTokenIds(completion, 'completion')
  const n = completion.length
  const base = {
    mode: sampling.greedy ? ('greedy' as const) : ('sampled' as const),
    promptTokens: prompt.length,
    completionTokens: n,
    tolerance: {epsilon, maxRank, minProbability},
  }

  if (n > request.maxTokens) {
    const firstFailure: VerifyFailure = {position: request.maxTokens, claimed: completion[request.maxTokens]!, expected: null, margin: null, rank: null, ok: false, reason: 'too-long'}
    const totalMs = performance.now() - started
    return {...base, ok: false, checked: 0, firstFailure, ...(request.perToken ? {perToken: []} : {}), timings: {queuedMs: 0, prefillMs: 0, totalMs}}
  }
  engine.assertFits(prompt.length, n)

  // Structure: nothing after an end-of-generation token; a short completion must end with one.
  const endAt = completion.findIndex((t) => engine.isEndOfGeneration(t))
  let structural: VerifyFailure | undefined
  let positions = n // completion positions to judge token by token
  if (endAt >= 0 && endAt < n - 1) {
    positions = endAt + 1
    structural = {position: endAt + 1, claimed: completion[endAt + 1]!, expected: null, margin: null, rank: null, ok: false, reason: 'after-end'}
  } else if (endAt < 0 && n < request.maxTokens && !request.allowPrefix) {
    structural = {position: n, claimed: null, expected: null, margin: null, rank: null, ok: false, reason: 'truncated'}
  }
  const predictEnd = structural?.reason === 'truncated' // also ask what the model would have produced next

  return engine.withSequence(async (sequence, signal) => {
    const queuedMs = performance.now() - started
    const P = prompt.length
    const evalLength = P + (predictEnd ? n : Math.max(0, positions - 1))
    const tokens = [...prompt, ...completion]
    const topCount = sampling.greedy ? 0 : sampling.topK > 0 ? Math.min(sampling.topK + 1, engine.vocabSize) : Math.min(SAMPLED_TOP_WITHOUT_K, engine.vocabSize)
    const wantTotalWeight = !sampling.greedy && sampling.topK === 0
    const input: ControlledEvaluateInputItem[] = []
    for (let i = 0; i < evalLength; i++) {
      const j = i - (P - 1) // the completion position this item's logits predict
      const token = tokens[i]! as Token
      if (j < 0) input.push(token)
      else if (j < positions) {
        const claimed = completion[j]! as Token
        input.push([
          token,
          {
            generateNext: sampling.greedy
              ? {logits: {filter: {tokens: [claimed], includeSelected: true}}}
              : {logits: {filter: {tokens: [claimed], includeTop: topCount}}, ...(wantTotalWeight ? {totalLogitWeight: true} : {})},
          },
        ])
      } else input.push([token, {generateNext: {logits: {filter: {tokens: [], includeSelected: true}}}}])
    }

    const prefillStarted = performance.now()
    let outputs: Awaited<ReturnType<LlamaContextSequence['controlledEvaluate']>> = []
    if (input.length > 0) {
      try {
        outputs = await sequence.controlledEvaluate(input)
      } catch (err) {
        throw llamaError(err, 'Verification prefill failed')
      }
    }
    const prefillMs = performance.now() - prefillStarted

    const observe = (j: number): Observation => {
      const logits = outputs[P - 1 + j]?.next.logits
      if (!logits || logits.size === 0) throw llamaError(new Error(`no logits at position ${j}`), 'Verification prefill failed')
      const entries = [...logits.entries()] as Array<[number, number]>
      const [argmax, maxLogit] = entries[0]!
      const claimed = j < n ? completion[j]! : -1
      const claimedLogit = logits.get(claimed as Token) ?? Number.NEGATIVE_INFINITY
      return {
        argmax,
        maxLogit,
        claimedLogit,
        ...(sampling.greedy ? {} : {top: entries}),
        ...(outputs[P - 1 + j]?.next.totalLogitWeight === undefined ? {} : {totalWeight: outputs[P - 1 + j]!.next.totalLogitWeight}),
      }
    }

    // Judge every position from the pass; ranks for the few that need one come from follow-up evaluations.
    const verdicts: TokenVerdict[] = []
    const needRank: number[] = []
    let hardFailure: number | undefined
    for (let j = 0; j < positions; j++) {
      const o = observe(j)
      const claimed = completion[j]!
      const margin = Math.max(0, o.maxLogit - o.claimedLogit)
      if (sampling.greedy) {
        if (claimed === o.argmax || margin === 0) verdicts.push({position: j, claimed, expected: o.argmax, margin, rank: 1, ok: true})
        else if (margin <= epsilon) {
          verdicts.push({position: j, claimed, expected: o.argmax, margin, rank: null, ok: true})
          if (hardFailure === undefined) needRank.push(j)
        } else {
          verdicts.push({position: j, claimed, expected: o.argmax, margin, rank: null, ok: false})
          if (hardFailure === undefined) {
            hardFailure = j
            needRank.push(j)
          }
        }
      } else {
        const judged = judgeSampled(o, claimed, sampling, {epsilon, minProbability})
        verdicts.push({position: j, claimed, expected: o.argmax, margin, rank: judged.rank, probability: judged.probability, ok: judged.ok})
        if (!judged.ok && hardFailure === undefined) hardFailure = j
      }
    }
    let endVerdict: TokenVerdict | undefined
    if (predictEnd) {
      const o = observe(n)
      endVerdict = {position: n, claimed: null, expected: o.argmax, margin: null, rank: null, ok: false}
    }

    // Follow-ups (greedy): ranks where needed. The sequence holds the pass's tokens; going from the LAST such
    // position back to the first, cut the sequence back to the position and evaluate that one token again: its
    // prefix is still in the KV cache, so each follow-up is a single-token decode. A near-tie only needs to know
    // whether the claimed token is among the top `maxRank` (a partial sort); the first failure gets its exact rank
    // from the full logits.
    const rankAt = async (j: number, exact: boolean): Promise<number | null> => {
      const i = P - 1 + j
      const claimed = completion[j]! as Token
      try {
        await sequence.eraseContextTokenRanges([{start: i, end: sequence.nextTokenIndex}])
        const generateNext = exact ? {logits: true as const} : {logits: {filter: {tokens: [claimed], includeTop: maxRank}}}
        const logits = (await sequence.controlledEvaluate([[tokens[i]! as Token, {generateNext}]]))[0]?.next.logits
        const claimedLogit = logits?.get(claimed)
        if (!logits || claimedLogit === undefined) return null
        if (!exact) {
          const index = [...logits.keys()].indexOf(claimed)
          return index >= 0 && index < maxRank ? index + 1 : Number.POSITIVE_INFINITY // beyond maxRank: not exact yet
        }
        let above = 0
        for (const v of logits.values()) if (v > claimedLogit) above++
        return above + 1
      } catch (err) {
        throw llamaError(err, 'Verification prefill failed')
      }
    }
    const ranks = new Map<number, number | null>()
    for (const j of [...needRank].reverse()) {
      if (signal.aborted) break
      ranks.set(j, await rankAt(j, !verdicts[j]!.ok))
    }
    for (const j of needRank) {
      const verdict = verdicts[j]!
      let rank = ranks.get(j) ?? null
      if (verdict.ok && rank !== null && rank > maxRank) {
        verdict.ok = false
        hardFailure = j
        if (!signal.aborted) rank = await rankAt(j, true) // the first failure: its exact rank
      }
      verdict.rank = rank
      if (!verdict.ok) break
    }

    const tokenFailure = hardFailure === undefined ? undefined : verdicts[hardFailure]!
    let firstFailure: VerifyFailure | undefined = tokenFailure ? {...tokenFailure, reason: 'token'} : undefined
    if (!firstFailure && structural) firstFailure = structural.reason === 'truncated' && endVerdict ? {...endVerdict, reason: 'truncated'} : structural
    const checked = hardFailure === undefined ? positions : hardFailure + 1
    return {
      ...base,
      ok: firstFailure === undefined,
      checked,
      ...(firstFailure ? {firstFailure} : {}),
      ...(request.perToken ? {perToken: verdicts} : {}),
      timings: {queuedMs, prefillMs, totalMs: performance.now() - started},
    }
  }, request.signal)
}

/**
 * Sampled mode, one position: is `claimed` in the support of llama.cpp's sampler chain (top-k, then top-p over the
 * softmax of what top-k kept, then temperature), within ε at the boundaries, with probability ≥ the floor?
 */
function judgeSampled(
  o: Observation,
  claimed: number,
  sampling: Extract<ResolvedSampling, {greedy: false}>,
  tol: {epsilon: number; minProbability: number},
): {ok: boolean; rank: number | null; probability?: number} {
  const top = o.top ?? []
  const index = top.findIndex(([t]) => t === claimed)
  const rank = index >= 0 ? index + 1 : null
  const clearlyAbove = top.filter(([t, l]) => t !== claimed && l > o.claimedLogit + tol.epsilon)
  // top-k (clearly-above tokens push the claimed token out)
  if (sampling.topK > 0 && clearlyAbove.length >= sampling.topK) return {ok: false, rank: rank ?? clearlyAbove.length + 1}
  // the candidates top-k keeps, for top-p's softmax (temperature 1, as llama.cpp applies top-p before temperature)
  const candidates = sampling.topK > 0 ? top.slice(0, sampling.topK) : top
  if (!candidates.some(([t]) => t === claimed)) candidates.push([claimed, o.claimedLogit])
  const weight = (l: number, temp: number) => Math.exp((l - o.maxLogit) / temp)
  const totalWeight = sampling.topK > 0 ? candidates.reduce((s, [, l]) => s + weight(l, 1), 0) : (o.totalWeight ?? candidates.reduce((s, [, l]) => s + weight(l, 1), 0))
  if (sampling.topP < 1) {
    const massAbove = clearlyAbove.reduce((s, [, l]) => s + weight(l, 1), 0) / totalWeight
    if (massAbove >= sampling.topP) return {ok: false, rank}
  }
  // the kept set: candidates until the cumulative probability reaches top-p (at least the claimed token)
  const kept: number[] = []
  let cumulative = 0
  for (const [t, l] of candidates) {
    if (sampling.topP < 1 && cumulative >= sampling.topP) break
    kept.push(l)
    cumulative += weight(l, 1) / totalWeight
    void t
  }
  if (!candidates.slice(0, kept.length).some(([t]) => t === claimed)) kept.push(o.claimedLogit)
  const denominator = kept.reduce((s, l) => s + weight(l, sampling.temperature), 0)
  const probability = weight(o.claimedLogit, sampling.temperature) / denominator
  return {ok: probability >= tol.minProbability, rank, probability}
}
