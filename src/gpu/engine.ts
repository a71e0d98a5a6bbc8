/**
 * The inference engine: one model loaded once, serving many requests concurrently.
 *
 * A llama.cpp context with N sequences is created at load; each request leases one sequence, and node-llama-cpp
 * batches the decode steps of all busy sequences into shared llama_decode calls (continuous batching: a request
 * joins or leaves the batch at any token). Requests beyond N wait in a FIFO queue. The primitive is raw completion
 * of a prompt (text or token ids); chat templating sits on top of it.
 *
 * Decoding is greedy unless a temperature is given (then top-k/top-p sampling with a seed, reproducible for the
 * same seed). The returned completion token ids are what the verifier (./verifier.ts) checks: they include the
 * final end-of-generation token when generation stopped on it.
 */
import {randomInt} from 'node:crypto'
import {performance} from 'node:perf_hooks'

import {resolveChatWrapper, type ChatHistoryItem, type LlamaContext, type LlamaContextSequence, type LlamaModel, type ControlledEvaluateInputItem, type Token, type BatchItem, type CustomBatchingPrioritizationStrategy, type PrioritizedBatchItem} from 'node-llama-cpp'

import {CancelledError, ExternalError, UserError} from '../errors/index.js'
import {acquireLlama, llamaError, type GpuBackend, type GpuChoice, type LlamaLease} from './llama.js'

export interface EngineLoadOptions {
  /** Path of the GGUF file. */
  modelPath: string
  /** Compute backend. Defaults to `auto` (the best available). A forced backend that is missing is a UserError. */
  gpu?: GpuChoice
  /** Threads for evaluation. Defaults to all the cores llama.cpp counts as useful for math. */
  threads?: number
  /** Context size of each sequence, in tokens (prompt + completion). Defaults to the model's trained context, at most 4096. */
  contextSize?: number
  /** Number of sequences, i.e. requests served at once (more wait in a queue). Defaults to 4. */
  sequences?: number
  /** Maximum tokens per llama_decode batch. Defaults to 512. */
  batchSize?: number
  /**
   * Use flash attention. Defaults to false: on CPU it changes the numerics of the attention (F16), which widens the
   * gap between a generation and its verification by prefill.
   */
  flashAttention?: boolean
  /** Layers to offload to the GPU. Defaults to `auto` (as many as fit). */
  gpuLayers?: number | 'auto' | 'max'
  /** Aborts loading. Defaults to none. */
  signal?: AbortSignal
}

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

export interface TokenEvent {
  /** Position in the completion (0-based). */
  index: number
  token: number
  /** Text that became decodable with this token (may be empty while a multi-byte character is incomplete). */
  text: string
  /** Whether this is the end-of-generation token. */
  isEnd: boolean
}

export interface GenerateRequest extends SamplingOptions {
  /** The prompt: text (tokenized with the model's tokenizer) or token ids (used as they are). */
  prompt: string | readonly number[]
  /** Maximum completion tokens, including the end-of-generation token. Defaults to 256. */
  maxTokens?: number
  /** For text prompts: prepend the BOS token. Defaults to the model's `add_bos_token`. */
  addBos?: boolean
  /** Called for every generated token, in order. Defaults to none. */
  onToken?: (event: TokenEvent) => void
  /**
   * Cancels the request: it leaves the queue, or stops after the current decode step and frees its sequence (a
   * prompt being processed finishes its llama_decode batches first). The promise rejects with a CancelledError.
   * Defaults to none.
   */
  signal?: AbortSignal
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant'
  content: string
}

export interface ChatRequest extends Omit<GenerateRequest, 'prompt' | 'addBos'> {
  messages: readonly ChatMessage[]
}

export interface GenerateResult {
  /** The prompt as evaluated (with BOS when one was added). */
  promptTokens: number[]
  /** The completion token ids, including the final end-of-generation token when `finishReason` is `eos`. */
  tokens: number[]
  /** The completion as text (the end-of-generation token is not rendered). */
  text: string
  /** `eos`: the model ended the generation; `length`: maxTokens was reached. */
  finishReason: 'eos' | 'length'
  /** The maxTokens the request ran with (what a verifier needs to judge the end). */
  maxTokens: number
  sampling: ResolvedSampling
  timings: {
    /** Waiting for a free sequence. */
    queuedMs: number
    /** Prompt processing, until the first completion token. */
    promptMs: number
    /** From the first to the last completion token. */
    generateMs: number
    totalMs: number
  }
}

/** A streaming generation: iterate the tokens; `result` settles when generation ends. Breaking out of the loop cancels it. */
export interface GenerationStream extends AsyncIterable<TokenEvent> {
  readonly result: Promise<GenerateResult>
  /** Stops the generation (the iterator ends and `result` rejects with a CancelledError). */
  cancel(): void
}

export interface EngineStats {
  backend: GpuBackend
  threads: number
  contextSize: number
  sequences: number
  /** Sequences serving a request right now. */
  busy: number
  /** Requests waiting for a sequence. */
  queued: number
}

export const DEFAULT_MAX_TOKENS = 256
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

interface Waiter {
  resolve(sequence: LlamaContextSequence): void
  reject(err: Error): void
}

export class InferenceEngine {
  /** Path of the loaded GGUF file. */
  readonly modelPath: string
  /** Context size of each sequence, in tokens. */
  readonly contextSize: number
  /** Number of tokens in the vocabulary. */
  readonly vocabSize: number
  readonly backend: GpuBackend
  readonly threads: number
  readonly sequenceCount: number

  /** All sequences, by sequence id (index). */
  private readonly sequences: LlamaContextSequence[]
  /** Free sequence ids, ascending: the lowest id is leased first (see `orderBatchBySequence`). */
  private readonly free: number[]
  private readonly waiters: Waiter[] = []
  /** Requests waiting for the next decode step (see `nextStep`). */
  private readonly ready: Array<{sequenceId: number; kind: 'prompt' | 'decode'; resolve: () => void}> = []
  /** Requests released for a decode step that have not come back for the next one yet. */
  private decoding = 0
  private releaseTimer: NodeJS.Timeout | undefined
  private readonly controllers = new Set<AbortController>()
  private readonly inflight = new Set<Promise<unknown>>()
  private disposePromise?: Promise<void>

  private constructor(
    private readonly lease: LlamaLease,
    /** The node-llama-cpp model (for advanced use: the verifier, benchmarks). */
    readonly model: LlamaModel,
    private readonly context: LlamaContext,
    options: {modelPath: string; threads: number},
  ) {
    this.modelPath = options.modelPath
    this.contextSize = context.contextSize
    this.backend = lease.backend
    this.threads = options.threads
    this.sequenceCount = context.totalSequences
    this.sequences = Array.from({length: context.totalSequences}, () => context.getSequence())
    this.free = this.sequences.map((_, i) => i)
    const tokens = (model.fileInfo.metadata as unknown as {tokenizer?: {ggml?: {tokens?: unknown}}}).tokenizer?.ggml?.tokens
    this.vocabSize = Array.isArray(tokens) ? tokens.length : Number((model.fileInfo.architectureMetadata as {vocab_size?: number}).vocab_size ?? 0)
  }

  /** Loads a model and creates its context. Dispose the engine when done. */
  static async load(options: EngineLoadOptions): Promise<InferenceEngine> {
    const sequences = options.sequences ?? 4
    if (!Number.isInteger(sequences) || sequences < 1 || sequences > 256)
      throw new UserError(`sequences must be an integer from 1 to 256 (got ${options.sequences}).`, {code: 'BAD_ENGINE_OPTIONS'})
    if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1))
      throw new UserError(`threads must be a positive integer (got ${options.threads}).`, {code: 'BAD_ENGINE_OPTIONS'})
    if (options.contextSize !== undefined && (!Number.isInteger(options.contextSize) || options.contextSize < 16))
      throw new UserError(`contextSize must be an integer ≥ 16 (got ${options.contextSize}).`, {code: 'BAD_ENGINE_OPTIONS'})
    const lease = await acquireLlama(options.gpu ?? 'auto')
    let model: LlamaModel | undefined
    try {
      try {
        model = await lease.llama.loadModel({modelPath: options.modelPath, gpuLayers: options.gpuLayers ?? 'auto', loadSignal: options.signal})
      } catch (err) {
        if (options.signal?.aborted) throw new CancelledError()
        throw new ExternalError(`llama.cpp could not load ${options.modelPath}: ${(err as Error).message}`, {
          code: 'MODEL_LOAD_FAILED',
          hint: 'Check that the file is a complete GGUF model (`ogpu model inspect PATH`) and that there is enough memory.',
          cause: err,
        })
      }
      const trained = model.trainContextSize || 4096
      const contextSize = options.contextSize ?? Math.min(trained, 4096)
      const threads = options.threads ?? lease.llama.cpuMathCores
      let context: LlamaContext
      let contextRef: LlamaContext | undefined
      try {
        context = await model.createContext({
          contextSize,
          sequences,
          threads,
          batchSize: options.batchSize ?? 512,
          flashAttention: options.flashAttention ?? false,
          createSignal: options.signal,
          failedCreationRemedy: false,
          batching: {itemPrioritizationStrategy: orderBatchBySequence(() => contextRef)},
        })
        contextRef = context
      } catch (err) {
        if (options.signal?.aborted) throw new CancelledError()
        throw new ExternalError(`llama.cpp could not create a context of ${contextSize} tokens × ${sequences} sequences: ${(err as Error).message}`, {
          code: 'CONTEXT_CREATE_FAILED',
          hint: 'Lower the context size or the number of sequences.',
          cause: err,
        })
      }
      return new InferenceEngine(lease, model, context, {modelPath: options.modelPath, threads})
    } catch (err) {
      await model?.dispose().catch(() => {})
      await lease.release()
      throw err
    }
  }

  get disposed(): boolean {
    return this.disposePromise !== undefined
  }

  get stats(): EngineStats {
    return {
      backend: this.backend,
      threads: this.threads,
      contextSize: this.contextSize,
      sequences: this.sequenceCount,
      busy: this.sequenceCount - this.free.length,
      queued: this.waiters.length,
    }
  }

  /** Tokenizes text as a prompt: with BOS when the model wants one (or as `addBos` says), special tokens as plain text. */
  tokenize(text: string, options: {addBos?: boolean} = {}): number[] {
    this.assertOpen()
    const bos = this.model.tokens.bos
    const addBos = options.addBos ?? this.model.tokens.shouldPrependBosToken
    const tokens = this.model.tokenize(text, false)
    return (addBos && bos !== null ? [bos, ...tokens] : [...tokens]) as number[]
  }

  /** Decodes completion tokens to text (end-of-generation tokens are not rendered). `context`: tokens before them, for spacing. */
  detokenize(tokens: readonly number[], context: readonly number[] = []): string {
    this.assertOpen()
    const visible = (tokens as Token[]).filter((t) => !this.model.isEogToken(t))
    return this.model.detokenize(visible, false, context.slice(-8) as Token[])
  }

  /** Whether a token ends generation (EOS, EOT, ...). */
  isEndOfGeneration(token: number): boolean {
    return this.model.isEogToken(token as Token)
  }

  /** Checks and normalizes a prompt into token ids (a UserError for an empty prompt or an out-of-vocabulary id). */
  preparePrompt(prompt: string | readonly number[], addBos?: boolean): number[] {
    this.assertOpen()
    let tokens: number[]
    if (typeof prompt === 'string') tokens = this.tokenize(prompt, {addBos})
    else {
      if (!Array.isArray(prompt)) throw new UserError('prompt must be a string or an array of token ids.', {code: 'BAD_PROMPT'})
      tokens = [...prompt]
      this.assertTokenIds(tokens, 'prompt')
    }
    if (tokens.length === 0) throw new UserError('The prompt is empty.', {code: 'BAD_PROMPT', hint: 'Give at least one token of prompt.'})
    return tokens
  }

  /** Throws a UserError unless every id is an integer token of this model's vocabulary. */
  assertTokenIds(tokens: readonly number[], what: string): void {
    const bad = tokens.findIndex((t) => !Number.isInteger(t) || t < 0 || t >= this.vocabSize)
    if (bad >= 0)
      throw new UserError(`${what} token #${bad} (${tokens[bad]}) is not a token id of this model (vocabulary of ${this.vocabSize}).`, {code: 'BAD_TOKEN_ID', hint: 'Token ids must come from this model\'s tokenizer.'})
  }

  /** The model's chat template applied to messages (a generic fallback template when the model has none), as prompt tokens. */
  renderChat(messages: readonly ChatMessage[]): number[] {
    this.assertOpen()
    if (messages.length === 0) throw new UserError('messages is empty.', {code: 'BAD_PROMPT', hint: 'Give at least one message.'})
    const history: ChatHistoryItem[] = messages.map((m) =>
      m.role === 'system' ? {type: 'system', text: m.content} : m.role === 'user' ? {type: 'user', text: m.content} : {type: 'model', response: [m.content]},
    )
    history.push({type: 'model', response: []})
    const wrapper = resolveChatWrapper(this.model)
    const {contextText} = wrapper.generateContextState({chatHistory: history})
    return contextText.tokenize(this.model.tokenizer) as number[]
  }

  /** Generates a completion for a chat (see `renderChat`). Stops at end-of-generation or maxTokens. */
  chat(request: ChatRequest): Promise<GenerateResult> {
    const {messages, ...rest} = request
    return this.generate({...rest, prompt: this.renderChat(messages)})
  }

  /** Generates a completion. Rejects with a CancelledError when cancelled, a UserError for bad input. */
  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const started = performance.now()
    this.assertOpen()
    const maxTokens = request.maxTokens ?? DEFAULT_MAX_TOKENS
    if (!Number.isInteger(maxTokens) || maxTokens <= 0)
      throw new UserError(`maxTokens must be a positive integer (got ${request.maxTokens}).`, {code: 'BAD_MAX_TOKENS', hint: 'Ask for at least 1 token.'})
    const sampling = resolveSampling(request)
    const promptTokens = this.preparePrompt(request.prompt, request.addBos)
    this.assertFits(promptTokens.length, maxTokens)

    return this.withSequence(async (sequence, signal) => {
      const queuedMs = performance.now() - started
      const sequenceId = this.sequences.indexOf(sequence)
      const tokens: number[] = []
      let firstAt = 0
      let lastAt = 0
      let finishReason: GenerateResult['finishReason'] = 'length'
      const decodedContext = promptTokens.slice(-8)
      let pending: number[] = []
      let input = promptTokens
      let decodingNow = false
      try {
      for (let step = 0; ; step++) {
        await this.nextStep(sequenceId, decodingNow, step === 0 ? 'prompt' : 'decode')
        decodingNow = step > 0
        if (signal.aborted) throw cancelledError(tokens.length)
        const generateNext = sampling.greedy
          ? {token: true}
          : {token: true, options: {temperature: sampling.temperature, topK: sampling.topK, topP: sampling.topP, seed: stepSeed(sampling.seed, step)}}
        const items: ControlledEvaluateInputItem[] = input.map((t) => t as Token)
        items[items.length - 1] = [input[input.length - 1]! as Token, {generateNext}]
        let token: number
        try {
          const output = await sequence.controlledEvaluate(items)
          const next = output[items.length - 1]?.next.token
          if (next === undefined || next === null) throw new Error('llama.cpp sampled no token')
          token = next as number
        } catch (err) {
          if (signal.aborted) throw cancelledError(tokens.length)
          throw llamaError(err, 'Generation failed')
        }
        lastAt = performance.now()
        firstAt ||= lastAt
        tokens.push(token)
        const isEnd = this.model.isEogToken(token as Token)
        if (request.onToken) {
          let text = ''
          if (!isEnd) {
            pending.push(token)
            text = this.model.detokenize(pending as Token[], false, decodedContext.slice(-8) as Token[])
            if (text.endsWith('\uFFFD') && pending.length < 4) text = ''
            else {
              decodedContext.push(...pending)
              pending = []
            }
          }
          request.onToken({index: tokens.length - 1, token, text, isEnd})
        }
        if (isEnd) {
          finishReason = 'eos'
          break
        }
        if (tokens.length >= maxTokens) break
        input = [token]
      }
      } finally {
        this.leaveStep(decodingNow)
      }
      const end = performance.now()
      return {
        promptTokens,
        tokens,
        text: this.detokenize(tokens, promptTokens),
        finishReason,
        maxTokens,
        sampling,
        timings: {queuedMs, promptMs: (firstAt || end) - started - queuedMs, generateMs: lastAt - firstAt, totalMs: end - started},
      }
    }, request.signal)
  }

  /**
   * Waits for the next decode step. Requests that are decoding advance in lockstep: the ready ones are released
   * together, in sequence-id order, once no decode step of another request is still running, so all their next
   * tokens go into ONE llama_decode batch. (Each request's sampling finishes at a slightly different time; when each
   * queued its next token on its own, the stragglers ran as extra one-token batches and concurrency gained nothing.)
   * A prompt being processed is never waited for: a new request joins the batch when its prompt is done.
   */
  private nextStep(sequenceId: number, wasDecoding: boolean, kind: 'prompt' | 'decode'): Promise<void> {
    if (wasDecoding) this.decoding--
    return new Promise((resolve) => {
      this.ready.push({sequenceId, kind, resolve})
      this.maybeRelease()
    })
  }

  /** A request that was decoding stopped (finished, failed or cancelled). */
  private leaveStep(wasDecoding: boolean): void {
    if (wasDecoding) this.decoding--
    this.maybeRelease()
  }

  private maybeRelease(force = false): void {
    if (this.ready.length === 0) return
    if (this.decoding > 0 && !force) {
      // a guard: never wait on a stuck step for long
      this.releaseTimer ??= setTimeout(() => {
        this.releaseTimer = undefined
        this.maybeRelease(true)
      }, 250)
      return
    }
    if (this.releaseTimer) clearTimeout(this.releaseTimer)
    this.releaseTimer = undefined
    const ready = this.ready.splice(0).sort((a, b) => a.sequenceId - b.sequenceId)
    for (const r of ready) {
      if (r.kind === 'decode') this.decoding++
      r.resolve()
    }
  }

  /** Like `generate`, as an async iterator of tokens. */
  stream(request: Omit<GenerateRequest, 'onToken'>): GenerationStream {
    const controller = new AbortController()
    const signal = request.signal ? AbortSignal.any([request.signal, controller.signal]) : controller.signal
    const buffer: TokenEvent[] = []
    let wake: (() => void) | undefined
    let done = false
    const result = this.generate({
      ...request,
      signal,
      onToken: (event) => {
        buffer.push(event)
        wake?.()
      },
    }).finally(() => {
      done = true
      wake?.()
    })
    result.catch(() => {}) // surfaced through the iterator or `result`
    return {
      result,
      cancel: () => controller.abort(),
      async *[Symbol.asyncIterator]() {
        try {
          for (;;) {
            if (buffer.length > 0) {
              yield buffer.shift()!
              continue
            }
            if (done) {
              await result // throws when the generation failed or was cancelled
              return
            }
            await new Promise<void>((resolve) => {
              wake = resolve
            })
            wake = undefined
          }
        } finally {
          if (!done) controller.abort()
        }
      },
    }
  }

  /** Throws a UserError unless prompt + completion fit one sequence's context. */
  assertFits(promptLength: number, completionLength: number): void {
    if (promptLength >= this.contextSize)
      throw new UserError(`The prompt is ${promptLength} tokens, but the context holds ${this.contextSize}.`, {
        code: 'CONTEXT_LENGTH_EXCEEDED',
        hint: 'Shorten the prompt, or load the model with a larger context size.',
        details: {promptTokens: promptLength, contextSize: this.contextSize},
      })
    if (promptLength + completionLength > this.contextSize)
      throw new UserError(`The prompt (${promptLength} tokens) plus ${completionLength} completion tokens exceed the context of ${this.contextSize} tokens.`, {
        code: 'CONTEXT_LENGTH_EXCEEDED',
        hint: `Ask for at most ${this.contextSize - promptLength} tokens, or shorten the prompt.`,
        details: {promptTokens: promptLength, maxTokens: completionLength, contextSize: this.contextSize},
      })
  }

  /**
   * Runs `fn` with a leased sequence (its history empty), queueing while all are busy. The sequence is cleared and
   * returned to the pool afterwards, whatever happens. The signal passed to `fn` fires on the caller's cancel or on
   * dispose. Used by `generate` and by the verifier.
   */
  async withSequence<T>(fn: (sequence: LlamaContextSequence, signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    this.assertOpen()
    const controller = new AbortController()
    const onAbort = () => controller.abort()
    if (signal?.aborted) throw new CancelledError()
    signal?.addEventListener('abort', onAbort, {once: true})
    this.controllers.add(controller)
    const run = (async () => {
      const sequence = await this.acquire(controller.signal)
      try {
        return await fn(sequence, controller.signal)
      } finally {
        await this.release(sequence)
      }
    })()
    this.inflight.add(run)
    try {
      return await run
    } finally {
      this.inflight.delete(run)
      this.controllers.delete(controller)
      signal?.removeEventListener('abort', onAbort)
    }
  }

  private acquire(signal: AbortSignal): Promise<LlamaContextSequence> {
    if (signal.aborted) return Promise.reject(new CancelledError())
    const id = this.free.shift()
    if (id !== undefined) return Promise.resolve(this.sequences[id]!)
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter)
        if (i >= 0) this.waiters.splice(i, 1)
        reject(new CancelledError('Request cancelled while queued.'))
      }
      const waiter: Waiter = {
        resolve: (s) => {
          signal.removeEventListener('abort', onAbort)
          resolve(s)
        },
        reject: (e) => {
          signal.removeEventListener('abort', onAbort)
          reject(e)
        },
      }
      signal.addEventListener('abort', onAbort, {once: true})
      this.waiters.push(waiter)
    })
  }

  private async release(sequence: LlamaContextSequence): Promise<void> {
    if (this.disposed || sequence.disposed) return
    try {
      await sequence.clearHistory()
    } catch {
      // a disposed context: nothing to give back
      return
    }
    const next = this.waiters.shift()
    if (next) next.resolve(sequence)
    else {
      const id = this.sequences.indexOf(sequence)
      this.free.splice(sortedIndex(this.free, id), 0, id)
    }
  }

  private assertOpen(): void {
    if (this.disposed) throw new UserError('The inference engine has been disposed.', {code: 'ENGINE_DISPOSED', hint: 'Load the model again.'})
  }

  /** Cancels queued and running requests, then frees the context, the model and the llama.cpp binding. Idempotent. */
  dispose(): Promise<void> {
    this.disposePromise ??= (async () => {
      for (const waiter of this.waiters.splice(0)) waiter.reject(new CancelledError('The inference engine was disposed.'))
      for (const controller of this.controllers) controller.abort()
      this.maybeRelease(true)
      await Promise.allSettled([...this.inflight])
      await this.context.dispose().catch(() => {})
      await this.model.dispose().catch(() => {})
      await this.lease.release()
    })()
    return this.disposePromise
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose()
  }
}

/** A different, reproducible sampler seed for each step of a seeded generation (node-llama-cpp re-seeds per call). */
const stepSeed = (seed: number, step: number): number => (Math.imul(step + 1, 0x9e3779b9) ^ seed) >>> 0

const sortedIndex = (sorted: readonly number[], value: number): number => {
  let i = 0
  while (i < sorted.length && sorted[i]! < value) i++
  return i
}

/**
 * Batch prioritization that makes continuous batching actually batch. node-llama-cpp creates contexts with a
 * non-unified KV cache (one stream per sequence); llama.cpp then splits a batch into micro-batches that only group
 * tokens of CONSECUTIVE, INCREASING sequence ids (`split_equal(..., sequential = true)`). Queued decodes arrive in
 * whatever order their sampling finished, so without this every decode step of N streams ran as N micro-batches of
 * one token: no gain over running them one by one. Here the queued items are ordered by sequence id (read from the
 * context's queue, which lists them in the same order as `items`), and the engine leases the lowest free ids, so
 * busy sequences are mostly consecutive. Then tokens are shared out as node-llama-cpp's "maximumParallelism" does.
 */
function orderBatchBySequence(context: () => LlamaContext | undefined): CustomBatchingPrioritizationStrategy {
  return ({items, size}) => {
    const queued = (context() as unknown as {_queuedDecodes?: Array<{sequenceId?: number}>} | undefined)?._queuedDecodes
    let ordered: readonly BatchItem[] = items
    if (queued && queued.length === items.length && queued.every((q) => typeof q.sequenceId === 'number'))
      ordered = items.map((item, i) => ({item, id: queued[i]!.sequenceId!})).sort((a, b) => a.id - b.id).map((x) => x.item)
    return shareBatch(ordered, size)
  }
}

/** Gives every item an equal share of the batch, then the leftover to the items that still have tokens, in order. */
function shareBatch(items: readonly BatchItem[], size: number): PrioritizedBatchItem[] {
  if (items.length === 0) return []
  let left = size
  const share = Math.max(1, Math.floor(size / items.length))
  const result: PrioritizedBatchItem[] = []
  for (const item of items) {
    if (left === 0) break
    const processAmount = Math.min(item.tokens.length, share, left)
    result.push({item, processAmount})
    left -= processAmount
  }
  for (const entry of result) {
    if (left === 0) break
    const more = Math.min(entry.item.tokens.length - entry.processAmount, left)
    entry.processAmount += more
    left -= more
  }
  return result
}

function cancelledError(generated: number): CancelledError {
  return new CancelledError('Generation cancelled.', {details: {generatedTokens: generated}})
}
