import {execFile} from 'node:child_process'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {CancelledError, UserError} from '../../../src/errors/index.js'
import {InferenceEngine} from '../../../src/gpu/engine.js'
import type {GenerateResult} from '../../../src/gpu/engine-types.js'
import {acquireLlama, type LlamaLease} from '../../../src/gpu/llama.js'
import {ensureModel} from '../../fixtures/gguf-writer.js'
import {PROMPTS} from './helpers.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const run = promisify(execFile)

describe('InferenceEngine', () => {
  const modelPath = ensureModel('tiny')
  let lease: LlamaLease
  let engine: InferenceEngine
  let sequential: GenerateResult[]

  beforeAll(async () => {
    lease = await acquireLlama('cpu') // keeps the binding loaded across the engines of this file
    engine = await InferenceEngine.load({modelPath, gpu: 'cpu', contextSize: 256, sequences: 4, threads: 1})
    sequential = []
    for (const prompt of PROMPTS) sequential.push(await engine.generate({prompt, maxTokens: 32}))
  })
  afterAll(async () => {
    await engine?.dispose()
    await lease?.release()
  })

  it('generates non-degenerate greedy output: many distinct tokens, ending on EOS or at maxTokens', () => {
    const all = sequential.flatMap((r) => r.tokens)
    expect(new Set(all).size).toBeGreaterThan(30)
    for (const r of sequential.filter((r) => r.tokens.length >= 8)) expect(new Set(r.tokens).size).toBeGreaterThanOrEqual(4)
    expect(sequential.some((r) => r.finishReason === 'eos')).toBe(true)
    expect(sequential.some((r) => r.finishReason === 'length')).toBe(true)
    for (const r of sequential) {
      expect(r.promptTokens[0]).toBe(1) // BOS
      expect(r.tokens.length).toBeLessThanOrEqual(32)
      if (r.finishReason === 'eos') expect(engine.isEndOfGeneration(r.tokens.at(-1)!)).toBe(true)
      else expect(r.tokens).toHaveLength(32)
      expect(r.sampling).toEqual({greedy: true, temperature: 0})
    }
  })

  it('gives the same tokens in another process, with 1 or 2 threads', async () => {
    const child = await run(process.execPath, ['--import', 'tsx', join(root, 'test/fixtures/engine-child.ts'), modelPath, '1,2', JSON.stringify(PROMPTS), '32'], {cwd: root})
    const expected = sequential.map((r) => r.tokens)
    expect(JSON.parse(child.stdout)).toEqual({1: expected, 2: expected})
  }, 60_000)

  it('serves N concurrent requests (more than its sequences, so some queue) with the same tokens as N sequential ones', async () => {
    let sawQueue = false
    const results = await Promise.all(
      PROMPTS.map((prompt) =>
        engine.generate({
          prompt,
          maxTokens: 32,
          onToken: () => {
            if (engine.stats.queued > 0) sawQueue = true
          },
        }),
      ),
    )
    expect(sawQueue).toBe(true)
    expect(results.map((r) => r.tokens)).toEqual(sequential.map((r) => r.tokens))
    expect(engine.stats).toMatchObject({busy: 0, queued: 0})
  })

  it('accepts token-id prompts and gives the same output as the text prompt', async () => {
    const byIds = await engine.generate({prompt: sequential[0]!.promptTokens, maxTokens: 32})
    expect(byIds.tokens).toEqual(sequential[0]!.tokens)
    expect(byIds.text).toBe(sequential[0]!.text)
  })

  it('rejects maxTokens ≤ 0 (or not an integer) with a UserError', async () => {
    for (const maxTokens of [0, -1, 1.5]) {
      const err = await engine.generate({prompt: 'hello', maxTokens}).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(UserError)
      expect(err).toMatchObject({code: 'BAD_MAX_TOKENS'})
    }
  })

  it('rejects a prompt over the context length, or prompt + maxTokens over it, with a UserError', async () => {
    const long = 'the model is a token and there was one gpu for all of them '.repeat(40)
    expect(engine.tokenize(long).length).toBeGreaterThan(256)
    await expect(engine.generate({prompt: long, maxTokens: 1})).rejects.toMatchObject({code: 'CONTEXT_LENGTH_EXCEEDED', kind: 'user'})
    await expect(engine.generate({prompt: 'hello', maxTokens: 256})).rejects.toMatchObject({code: 'CONTEXT_LENGTH_EXCEEDED'})
    await expect(engine.generate({prompt: [1, 100_000], maxTokens: 4})).rejects.toMatchObject({code: 'BAD_TOKEN_ID'})
    await expect(engine.generate({prompt: [], maxTokens: 4})).rejects.toMatchObject({code: 'BAD_PROMPT'})
    expect(engine.stats).toMatchObject({busy: 0, queued: 0})
  })

  it('streams tokens through onToken and the async iterator; the text deltas add up to the text', async () => {
    const events: number[] = []
    let text = ''
    const result = await engine.generate({prompt: PROMPTS[2]!, maxTokens: 32, onToken: (e) => {
      events.push(e.token)
      text += e.text
    }})
    expect(events).toEqual(result.tokens)
    expect(text).toBe(result.text)

    const stream = engine.stream({prompt: PROMPTS[2]!, maxTokens: 32})
    const streamed: number[] = []
    for await (const e of stream) streamed.push(e.token)
    expect(streamed).toEqual(result.tokens)
    expect((await stream.result).tokens).toEqual(result.tokens)
  })

  it('samples reproducibly with a seed', async () => {
    const a = await engine.generate({prompt: 'Hello', maxTokens: 24, temperature: 0.9, seed: 42})
    const b = await engine.generate({prompt: 'Hello', maxTokens: 24, temperature: 0.9, seed: 42})
    const c = await engine.generate({prompt: 'Hello', maxTokens: 24, temperature: 0.9, seed: 43})
    expect(a.tokens).toEqual(b.tokens)
    expect(a.sampling).toEqual({greedy: false, temperature: 0.9, topK: 40, topP: 0.95, seed: 42})
    expect(c.tokens).not.toEqual(a.tokens)
    await expect(engine.generate({prompt: 'Hello', temperature: -1})).rejects.toBeInstanceOf(UserError)
    await expect(engine.generate({prompt: 'Hello', temperature: 1, topP: 0})).rejects.toBeInstanceOf(UserError)
  })

  it('applies a chat template (the generic fallback for a model without one)', async () => {
    const tokens = engine.renderChat([
      {role: 'system', content: 'Be brief.'},
      {role: 'user', content: 'Hello there'},
    ])
    expect(tokens[0]).toBe(1)
    expect(engine.detokenize(tokens)).toContain('Hello there')
    const result = await engine.chat({messages: [{role: 'user', content: 'Hello there'}], maxTokens: 8})
    expect(result.tokens.length).toBeGreaterThan(0)
  })

  it('cancellation frees the sequence: mid-generation and while queued, the next request still runs', async () => {
    const single = await InferenceEngine.load({modelPath, gpu: 'cpu', contextSize: 256, sequences: 1, threads: 1})
    try {
      // mid-generation
      const controller = new AbortController()
      let seen = 0
      const cancelled = single.generate({
        prompt: PROMPTS[2]!,
        maxTokens: 32,
        signal: controller.signal,
        onToken: () => {
          if (++seen === 3) controller.abort()
        },
      })
      await expect(cancelled).rejects.toBeInstanceOf(CancelledError)
      expect(seen).toBe(3)
      expect(single.stats).toMatchObject({busy: 0, queued: 0})
      expect((await single.generate({prompt: PROMPTS[2]!, maxTokens: 32})).tokens).toEqual(sequential[2]!.tokens)

      // while queued behind another request
      const first = single.generate({prompt: PROMPTS[4]!, maxTokens: 32})
      const queuedController = new AbortController()
      const queued = single.generate({prompt: PROMPTS[0]!, maxTokens: 32, signal: queuedController.signal})
      await new Promise((r) => setImmediate(r))
      expect(single.stats.queued).toBe(1)
      queuedController.abort()
      await expect(queued).rejects.toBeInstanceOf(CancelledError)
      expect((await first).tokens).toEqual(sequential[4]!.tokens)

      // breaking out of a stream cancels it
      const stream = single.stream({prompt: PROMPTS[4]!, maxTokens: 32})
      for await (const e of stream) if (e.index === 1) break
      await expect(stream.result).rejects.toBeInstanceOf(CancelledError)
      expect((await single.generate({prompt: PROMPTS[0]!, maxTokens: 32})).tokens).toEqual(sequential[0]!.tokens)
      expect(single.stats).toMatchObject({busy: 0, queued: 0})
    } finally {
      await single.dispose()
    }
  })

  it('dispose is idempotent, cancels running and queued requests, and leaves no handles', async () => {
    const count = () => {
      const counts = new Map<string, number>()
      for (const r of process.getActiveResourcesInfo()) counts.set(r, (counts.get(r) ?? 0) + 1)
      return counts
    }
    const before = count()
    const own = await InferenceEngine.load({modelPath, gpu: 'cpu', contextSize: 128, sequences: 1, threads: 1})
    const running = own.generate({prompt: PROMPTS[4]!, maxTokens: 32, onToken: (e) => {
      if (e.index === 2) void own.dispose()
    }})
    const queued = own.generate({prompt: PROMPTS[0]!, maxTokens: 32})
    await expect(running).rejects.toBeInstanceOf(CancelledError)
    await expect(queued).rejects.toBeInstanceOf(CancelledError)
    await own.dispose()
    await own.dispose()
    expect(own.disposed).toBe(true)
    await expect(own.generate({prompt: 'x'})).rejects.toMatchObject({code: 'ENGINE_DISPOSED'})
    await new Promise((r) => setTimeout(r, 0))
    const after = count()
    for (const [type, n] of after) expect(n, `${type} handles`).toBeLessThanOrEqual(before.get(type) ?? 0)
  })

  it('loading a missing or non-GGUF file fails cleanly', async () => {
    await expect(InferenceEngine.load({modelPath: '/nonexistent/model.gguf', gpu: 'cpu'})).rejects.toMatchObject({kind: 'external', code: 'MODEL_LOAD_FAILED'})
    await expect(InferenceEngine.load({modelPath, gpu: 'cuda'})).rejects.toMatchObject({kind: 'user', code: 'GPU_NOT_AVAILABLE'})
    await expect(InferenceEngine.load({modelPath, gpu: 'cpu', sequences: 0})).rejects.toBeInstanceOf(UserError)
  })
})
