/**
 * Prefill-consistent greedy generation (generateConsistent in src/gpu/engine.ts) on a quantized model, where
 * token-by-token decoding and a batched prefill round differently: the repaired output verifies at the tight greedy
 * ε (and even exactly) with 1 and 2 threads and several batch shapes, the plain decoded output does not always, a
 * cheater's near-tie swap is rejected, and the repair loop is bounded.
 */
import type {ControlledEvaluateInputItem, Token} from 'node-llama-cpp'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {InferenceEngine, PREFILL_CHECK_WINDOW} from '../../../src/gpu/engine.js'
import type {GenerateResult} from '../../../src/gpu/engine-types.js'
import {acquireLlama, type LlamaLease} from '../../../src/gpu/llama.js'
import {GREEDY_EPSILON, verifyCompletion} from '../../../src/gpu/verifier.js'
import {ensureModel} from '../../fixtures/gguf-writer.js'

const MAX = 64
const SEEDS = ['The provider network runs', 'A council checks the results', 'Once upon a time', 'The market pays', 'Every token is', 'In the beginning']
const PROMPTS = Array.from({length: 16}, (_, i) => `${SEEDS[i % SEEDS.length]} ${i}`)

describe('prefill-consistent greedy generation (Q8_0 model)', () => {
  const modelPath = ensureModel('small')
  let lease: LlamaLease
  let generator: InferenceEngine
  let consistent: GenerateResult[]
  let plain: GenerateResult[]

  beforeAll(async () => {
    lease = await acquireLlama('cpu')
    generator = await InferenceEngine.load({modelPath, gpu: 'cpu', contextSize: 256, sequences: 4, threads: 1})
    // concurrently, 4 at a time: checks share llama_decode batches with the other sequences' decode steps
    consistent = await Promise.all(PROMPTS.map((prompt) => generator.generate({prompt, maxTokens: MAX})))
    plain = await Promise.all(PROMPTS.map((prompt) => generator.generate({prompt, maxTokens: MAX, prefillConsistent: false})))
  }, 120_000)
  afterAll(async () => {
    await generator?.dispose()
    await lease?.release()
  })

  const rejections = async (engine: InferenceEngine, results: GenerateResult[], epsilon: number) => {
    let rejected = 0
    for (const r of results) if (!(await verifyCompletion(engine, {prompt: r.promptTokens, completion: r.tokens, maxTokens: MAX, epsilon})).ok) rejected++
    return rejected
  }

  it('verifies every repaired output exactly (ε 0 and the greedy ε) across threads and batch shapes; plain decoding would be rejected', async () => {
    expect(consistent.filter((r) => r.finishReason === 'length').length).toBeGreaterThan(3)
    for (const [threads, batchSize] of [[1, 512], [1, 7], [2, 16]] as const) {
      const verifier = await InferenceEngine.load({modelPath, gpu: 'cpu', contextSize: 256, sequences: 1, threads, batchSize})
      try {
        const judged = threads === 2 ? consistent.slice(0, 6) : consistent // 2 threads on 2 shared cores: less work
        expect(await rejections(verifier, judged, 0), `${threads} threads, batch ${batchSize}`).toBe(0)
        expect(await rejections(verifier, judged, GREEDY_EPSILON), `${threads} threads, batch ${batchSize}`).toBe(0)
        if (threads === 1) expect(await rejections(verifier, plain, GREEDY_EPSILON), `plain output, batch ${batchSize}`).toBeGreaterThan(0)
      } finally {
        await verifier.dispose()
      }
    }
    // the repair changed outputs: those that differ from plain decoding
    expect(consistent.some((r, i) => r.tokens.join() !== plain[i]!.tokens.join())).toBe(true)
  })

  it('is bounded: fewer checks than tokens, at least one per window after the first token; streams only confirmed tokens', async () => {
    for (const r of consistent) {
      const stats = r.consistency!
      expect(stats.checks).toBeGreaterThanOrEqual(Math.ceil((r.tokens.length - 1) / (PREFILL_CHECK_WINDOW + 1))) // the first token needs none, a full window confirms one more
      expect(stats.checks).toBeLessThan(r.tokens.length)
      expect(stats.repairs).toBeLessThanOrEqual(stats.checks)
      expect(stats.discarded).toBeLessThanOrEqual(stats.repairs * (PREFILL_CHECK_WINDOW - 1))
    }
    expect(plain.every((r) => r.consistency === undefined)).toBe(true)
    const streamed: number[] = []
    const again = await generator.generate({prompt: PROMPTS[0]!, maxTokens: MAX, onToken: (e) => streamed.push(e.token)})
    expect(streamed).toEqual(again.tokens)
    expect(again.tokens).toEqual(consistent[0]!.tokens) // deterministic, alone or batched with others
    // sampled output is not repaired
    expect((await generator.generate({prompt: PROMPTS[0]!, maxTokens: 8, temperature: 0.8, seed: 1})).consistency).toBeUndefined()
  })

  it('rejects a cheater who swaps in a near-tie runner-up that the old ε of 0.5 let through', async () => {
    let swaps = 0
    for (const r of consistent.slice(0, 8)) {
      const P = r.promptTokens.length
      // runner-ups from the batched prefill: [position, runner-up, gap]
      const nearTies = await generator.withSequence(async (sequence) => {
        const all = [...r.promptTokens, ...r.tokens]
        const input: ControlledEvaluateInputItem[] = all.slice(0, -1).map((t, i) => (i >= P - 1 ? [t as Token, {generateNext: {logits: {filter: {tokens: [], includeTop: 2}}}}] : (t as Token)))
        const out = await sequence.controlledEvaluate(input)
        const ties: Array<[number, number, number]> = []
        for (let j = 0; j < r.tokens.length; j++) {
          const [[top, a], [second, b]] = [...out[P - 1 + j]!.next.logits!.entries()].sort((x, y) => y[1] - x[1]) as Array<[number, number]>
          expect(top === r.tokens[j] || a === out[P - 1 + j]!.next.logits!.get(r.tokens[j]! as Token)).toBe(true)
          if (a - b > GREEDY_EPSILON && a - b <= 0.5) ties.push([j, second, a - b])
        }
        return ties
      })
      for (const [j, runnerUp] of nearTies.slice(0, 3)) {
        const cheat = [...r.tokens.slice(0, j), runnerUp]
        const request = {prompt: r.promptTokens, completion: cheat, maxTokens: MAX, allowPrefix: true}
        expect((await verifyCompletion(generator, {...request, epsilon: 0.5})).ok).toBe(true) // what the old floor allowed
        const verdict = await verifyCompletion(generator, {...request, epsilon: GREEDY_EPSILON})
        expect(verdict).toMatchObject({ok: false, firstFailure: {position: j, reason: 'token', claimed: runnerUp}})
        swaps++
      }
    }
    expect(swaps).toBeGreaterThan(5)
  })
})
