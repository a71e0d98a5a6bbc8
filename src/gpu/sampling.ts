/**
 * Sampling parameters of a generation: their defaults and validation, shared by the engine and the verifier so that
 * both apply the same defaults, and the per-step seed of a seeded generation.
 */
import {randomInt} from 'node:crypto'

import {UserError} from '../errors/index.js'

export interface SamplingOptions {
  /** Sampling temperature; 0 is greedy decoding (deterministic, verifiable exactly by prefill). Defaults to 0. */
  temperature?: number
  /** Keep only the k most likely tokens (0 disables). Used only when temperature > 0. Defaults to 40. */
  topK?: number
  /** Keep the smallest set of tokens whose probability reaches p (1 disables). Used only when temperature > 0. Defaults to 0.95. */
  topP?: number
  /** Seed of the sampler: the same seed gives the same output. Used only when temperature > 0. Defaults to a random seed (reported in the result). */
  seed?: number
}

/** Sampling parameters as applied (defaults filled in). */
export type ResolvedSampling = {greedy: true; temperature: 0} | {greedy: false; temperature: number; topK: number; topP: number; seed: number}

export const DEFAULT_TOP_K = 40
export const DEFAULT_TOP_P = 0.95

/** Fills in and validates sampling parameters (shared with the verifier so both apply the same defaults). */
export function resolveSampling(options: SamplingOptions): ResolvedSampling {
  const temperature = options.temperature ?? 0
  if (!Number.isFinite(temperature) || temperature < 0)
    throw new UserError(`temperature must be a number ≥ 0 (got ${options.temperature}).`, {code: 'BAD_SAMPLING', hint: 'Use 0 for greedy decoding.'})
  if (temperature === 0) return {greedy: true, temperature: 0}
  const topK = options.topK ?? DEFAULT_TOP_K
  const topP = options.topP ?? DEFAULT_TOP_P
  const seed = options.seed ?? randomInt(0, 2 ** 31)
  if (!Number.isInteger(topK) || topK < 0) throw new UserError(`topK must be an integer ≥ 0 (got ${options.topK}).`, {code: 'BAD_SAMPLING', hint: '0 disables top-k.'})
  if (!(topP > 0 && topP <= 1)) throw new UserError(`topP must be in (0, 1] (got ${options.topP}).`, {code: 'BAD_SAMPLING', hint: '1 disables top-p.'})
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) throw new UserError(`seed must be an integer in [0, 2^32) (got ${options.seed}).`, {code: 'BAD_SAMPLING'})
  return {greedy: false, temperature, topK, topP, seed}
}

/** A different, reproducible sampler seed for each step of a seeded generation (node-llama-cpp re-seeds per call). */
export const stepSeed = (seed: number, step: number): number => (Math.imul(step + 1, 0x9e3779b9) ^ seed) >>> 0
