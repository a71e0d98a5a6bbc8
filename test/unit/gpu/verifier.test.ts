import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {UserError} from '../../../src/errors/index.js'
import {InferenceEngine} from '../../../src/gpu/engine.js'
import type {GenerateResult} from '../../../src/gpu/engine-types.js'
import {acquireLlama, type LlamaLease} from '../../../src/gpu/llama.js'
import {GREEDY_EPSILON, verifyCompletion} from '../../../src/gpu/verifier.js'
import {ensureModel} from '../../fixtures/gguf-writer.js'
import {PROMPTS} from './helpers.js'

const MAX = 32

describe('verifyCompletion (verification by prefill)', () => {
  const modelPath = ensureModel('tiny')
  let lease: LlamaLease
  let one: InferenceEngine // 1 thread
  let two: InferenceEngine // 2 threads
  /** Honest outputs: sequential on 2 threads, and concurrent (batches of 4, with queueing) on 1 thread. */
  let honest: GenerateResult[]

  beforeAll(async () => {
    lease = await acquireLlama('cpu')
    one = await InferenceEngine.load({modelPath, gpu: 'cpu', contextSize: 256, sequences: 4, threads: 1})
    two = await InferenceEngine.load({modelPath, gpu: 'cpu', contextSize: 256, sequences: 4, threads: 2})
    // (2 threads on a 2-core machine slows down badly when other processes compete for the cores, so the
    // 2-thread work is kept small.)
    const sequential: GenerateResult[] = []
    for (const prompt of PROMPTS) sequential.push(await two.generate({prompt, maxTokens: MAX}))
    const concurrent = await Promise.all(PROMPTS.map((prompt) => one.generate({prompt, maxTokens: MAX})))
    const extra = await Promise.all(PROMPTS.map((prompt) => one.generate({prompt: `${prompt} and more`, maxTokens: 12})))
    honest = [...sequential, ...concurrent, ...extra]
  }, 120_000)
  afterAll(async () => {
    await one?.dispose()
    await two?.dispose()
    await lease?.release()
  })

  const verify = (engine: InferenceEngine, r: GenerateResult, completion: readonly number[] = r.tokens, extra: Partial<Parameters<typeof verifyCompletion>[1]> = {}) =>
    verifyCompletion(engine, {prompt: r.promptTokens, completion, maxTokens: r.maxTokens, ...extra})

  it('checks meaningful outputs: several distinct tokens, EOS-terminated and length-terminated ones', () => {
    expect(new Set(honest.flatMap((r) => r.tokens)).size).toBeGreaterThan(40)
    expect(honest.filter((r) => r.finishReason === 'eos').length).toBeGreaterThan(2)
    expect(honest.filter((r) => r.finishReason === 'length').length).toBeGreaterThan(2)
  })

  it('accepts every honest greedy output, across 1/2 threads and sequential/concurrent verification', async () => {
    for (const [i, r] of honest.entries()) {
      // verified on the other thread count than it was generated with
      const a = await verify(i < PROMPTS.length ? one : two, r, r.tokens, {perToken: true})
      expect(a, `prompt ${JSON.stringify(r.promptTokens)}`).toMatchObject({ok: true, checked: r.tokens.length, mode: 'greedy'})
      expect(a.perToken).toHaveLength(r.tokens.length)
      for (const v of a.perToken!) expect(v.margin!).toBeLessThanOrEqual(GREEDY_EPSILON) // prefill-consistent output
    }
    // concurrent verifications: prefill passes batched together with other sequences
    const results = await Promise.all(honest.map((r) => verify(one, r)))
    expect(results.map((v) => v.ok)).toEqual(honest.map(() => true))
    // text prompts are tokenized like the generator did
    expect((await verifyCompletion(one, {prompt: PROMPTS[0]!, completion: honest[0]!.tokens, maxTokens: MAX})).ok).toBe(true)
  })

  it('rejects any single substituted token, at its position, by whole logits', async () => {
    let checked = 0
    for (const r of honest.slice(0, 8)) {
      for (let position = 0; position < r.tokens.length; position++) {
        const claimed = r.tokens[position]!
        let substitute = 3 + ((claimed * 7 + 101) % 500) // some other normal or byte token
        if (substitute === claimed) substitute = 3 + ((substitute + 1) % 500)
        const forged = r.tokens.with(position, substitute)
        const v = await verify(one, r, forged)
        expect(v.ok, `position ${position} of ${r.tokens.length}`).toBe(false)
        expect(v.firstFailure).toMatchObject({position, claimed: substitute, expected: claimed, reason: 'token', ok: false})
        expect(v.firstFailure!.margin!).toBeGreaterThan(0.1)
        expect(v.firstFailure!.rank!).toBeGreaterThan(2)
        checked++
      }
    }
    expect(checked).toBeGreaterThan(50)
  })

  it('within ε, judges by rank: the runner-up passes with maxRank 2, fails with maxRank 1; a far token fails on rank', async () => {
    const r = honest.find((x) => x.tokens.length >= 6)!
    const position = 3
    // the full next-token logits at this position, straight from node-llama-cpp
    const context = [...r.promptTokens, ...r.tokens.slice(0, position)]
    const logits = await one.withSequence(async (sequence) => {
      const out = await sequence.controlledEvaluate(context.map((t, i) => (i === context.length - 1 ? [t, {generateNext: {logits: true}}] : t)) as never)
      return [...out[context.length - 1]!.next.logits!.entries()] as Array<[number, number]>
    })
    const [[best, top], [second, runnerUp]] = logits as [[number, number], [number, number]]
    expect(best).toBe(r.tokens[position])
    const margin = top - runnerUp
    const forged = r.tokens.with(position, second)
    const options = {allowPrefix: true, epsilon: margin + 0.01}
    const passes = await verify(one, r, forged.slice(0, position + 1), {...options, perToken: true})
    expect(passes.ok).toBe(true)
    expect(passes.perToken![position]).toMatchObject({claimed: second, expected: best, rank: 2, ok: true})
    expect(await verify(one, r, forged.slice(0, position + 1), {...options, maxRank: 1})).toMatchObject({ok: false, firstFailure: {position, rank: 2, reason: 'token'}})
    // a token ranked 10th, with ε wide enough to let its margin through: the rank decides
    const [tenth, tenthLogit] = logits[9]!
    expect(await verify(one, r, r.tokens.with(position, tenth), {epsilon: top - tenthLogit + 0.01})).toMatchObject({ok: false, firstFailure: {position, rank: 10}})
    expect((await verify(one, r, r.tokens.with(position, tenth).slice(0, position + 1), {epsilon: top - tenthLogit + 0.01, maxRank: 10, allowPrefix: true})).ok).toBe(true)
  })

  it('rejects a truncated output (unless allowPrefix), naming the token that should come next', async () => {
    const eos = honest.find((r) => r.finishReason === 'eos' && r.tokens.length >= 3)!
    const cut = eos.tokens.slice(0, -1)
    const v = await verify(one, eos, cut)
    expect(v).toMatchObject({ok: false, firstFailure: {reason: 'truncated', position: cut.length, claimed: null, expected: eos.tokens.at(-1)}})
    expect((await verify(one, eos, cut, {allowPrefix: true})).ok).toBe(true)

    const full = honest.find((r) => r.finishReason === 'length')!
    const short = full.tokens.slice(0, 20)
    expect(await verify(one, full, short)).toMatchObject({ok: false, firstFailure: {reason: 'truncated', position: 20, expected: full.tokens[20]}})
    expect((await verify(one, full, short, {allowPrefix: true})).ok).toBe(true)
    expect(await verify(one, full, [])).toMatchObject({ok: false, firstFailure: {reason: 'truncated', position: 0}})
  })

  it('rejects appended tokens: after EOS, beyond maxTokens, or a wrong continuation', async () => {
    const eos = honest.find((r) => r.finishReason === 'eos')!
    expect(await verify(one, eos, [...eos.tokens, 300], {maxTokens: MAX + 5})).toMatchObject({ok: false, firstFailure: {reason: 'after-end', position: eos.tokens.length}})

    const full = honest.find((r) => r.finishReason === 'length')!
    expect(await verify(one, full, [...full.tokens, 300])).toMatchObject({ok: false, firstFailure: {reason: 'too-long', position: MAX}})
    // with a larger maxTokens, an appended token must be what the model would produce
    const next = (await verify(one, full, full.tokens, {maxTokens: MAX + 1})).firstFailure!.expected!
    const garbage = next === 300 ? 301 : 300
    expect(await verify(one, full, [...full.tokens, garbage], {maxTokens: MAX + 1, allowPrefix: true})).toMatchObject({
      ok: false,
      firstFailure: {reason: 'token', position: MAX, expected: next},
    })
    expect((await verify(one, full, [...full.tokens, next], {maxTokens: MAX + 1, allowPrefix: true})).ok).toBe(true)
  })

  it('rejects an honest output presented for another prompt', async () => {
    const r = honest.find((x) => x.tokens.length >= 8)!
    const other = honest.find((x) => x.promptTokens.join() !== r.promptTokens.join())!
    const v = await verifyCompletion(one, {prompt: other.promptTokens, completion: r.tokens, maxTokens: MAX})
    expect(v.ok).toBe(false)
  })

  it('sampled mode: accepts honest sampled outputs, rejects tokens outside the top-k support', async () => {
    const sampling = {temperature: 0.8, topK: 20, topP: 0.95}
    const outputs = await Promise.all(PROMPTS.map((prompt, i) => one.generate({prompt, maxTokens: MAX, ...sampling, seed: 1000 + i})))
    for (const r of outputs) {
      const v = await verify(one, r, r.tokens, {sampling: {...sampling, seed: r.sampling.greedy ? 0 : r.sampling.seed}})
      expect(v).toMatchObject({ok: true, mode: 'sampled'})
    }
    // a substituted token ranked far below the top 20 at its position is outside the sampled support
    let rejected = 0
    for (const r of outputs.filter((x) => x.tokens.length >= 4)) {
      for (let position = 0; position < Math.min(r.tokens.length, 6); position++) {
        const substitute = 3 + ((r.tokens[position]! * 13 + 57) % 500)
        if (substitute === r.tokens[position]) continue
        // the substitute's rank at this position: a one-token greedy check with the earlier tokens in the prompt
        const context = [...r.promptTokens, ...r.tokens.slice(0, position)]
        const probe = await verifyCompletion(one, {prompt: context, completion: [substitute], maxTokens: MAX, allowPrefix: true})
        if (probe.ok || probe.firstFailure!.rank! <= 20) continue
        const sampled = await verify(one, r, r.tokens.with(position, substitute), {sampling})
        expect(sampled.ok).toBe(false)
        expect(sampled.firstFailure).toMatchObject({position, reason: 'token'})
        rejected++
      }
    }
    expect(rejected).toBeGreaterThan(3)
  })

  it('validates its input', async () => {
    const r = honest[0]!
    await expect(verify(one, r, r.tokens, {maxTokens: 0})).rejects.toBeInstanceOf(UserError)
    await expect(verify(one, r, [1, 99_999])).rejects.toMatchObject({code: 'BAD_TOKEN_ID'})
    await expect(verify(one, r, r.tokens, {epsilon: -1})).rejects.toBeInstanceOf(UserError)
    const long = Array.from({length: 300}, () => 300)
    await expect(verifyCompletion(one, {prompt: [1], completion: long, maxTokens: 300})).rejects.toMatchObject({code: 'CONTEXT_LENGTH_EXCEEDED'})
  })
})
