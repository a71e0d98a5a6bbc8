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
import {performance} from 'node:perf_hooks'

import {resolveChatWrapper, type ChatHistoryItem, type LlamaContext, type LlamaContextSequence, type LlamaModel, type ControlledEvaluateIndexOutput, type ControlledEvaluateInputItem, type Token} from 'node-llama-cpp'

import {CancelledError, ExternalError, UserError} from '../errors/index.js'
import {DecodeLockstep, orderBatchBySequence} from './batching.js'
import {DEFAULT_MAX_TOKENS, type ChatMessage, type ConsistencyStats, type ChatRequest, type EngineLoadOptions, type EngineStats, type GenerateRequest, type GenerateResult, type GenerationStream} from './engine-types.js'
import {streamGeneration} from './generation-stream.js'
import {acquireLlama, llamaError, type GpuBackend, type LlamaLease} from './llama.js'
import {resolveSampling, stepSeed} from './sampling.js'
import {SequencePool} from './sequence-pool.js'

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

  private readonly pool: SequencePool
  private readonly lockstep = new DecodeLockstep()
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
    this.pool = new SequencePool(context)
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
      busy: this.pool.busy,
      queued: this.pool.queued,
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
    const consistent = sampling.greedy && request.prefillConsistent !== false

    return this.withSequence(async (sequence, signal) => {
      const queuedMs = performance.now() - started
      const sequenceId = this.pool.idOf(sequence)
      const tokens: number[] = [] // the output so far (confirmed tokens only, when consistent)
      let firstAt = 0
      let lastAt = 0
      const decodedContext = promptTokens.slice(-8)
      let pending: number[] = []
      /** Appends a token to the output and reports it; true when generation is over (end-of-generation or maxTokens). */
      const emit = (token: number): boolean => {
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
        return isEnd || tokens.length >= maxTokens
      }
      let decodingNow = false
      /** One evaluation, in lockstep with the other sequences' decode steps. */
      const evaluate = async (items: ControlledEvaluateInputItem[], kind: 'prompt' | 'decode') => {
        await this.lockstep.nextStep(sequenceId, decodingNow, kind)
        decodingNow = kind === 'decode'
        if (signal.aborted) throw cancelledError(tokens.length)
        try {
          return await sequence.controlledEvaluate(items)
        } catch (err) {
          if (signal.aborted) throw cancelledError(tokens.length)
          throw llamaError(err, 'Generation failed')
        }
      }
      const sampledToken = (output: Awaited<ReturnType<typeof evaluate>>, at: number): number => {
        const next = output[at]?.next.token
        if (next === undefined || next === null) throw llamaError(new Error('llama.cpp sampled no token'), 'Generation failed')
        return next as number
      }
      let consistency: ConsistencyStats | undefined
      try {
        if (consistent) consistency = await generateConsistent(promptTokens, maxTokens, {evaluate, sampledToken, emit, sequence, signal, isEnd: (t) => this.model.isEogToken(t as Token)})
        else {
          let input = promptTokens
          for (let step = 0; ; step++) {
            const generateNext = sampling.greedy
              ? {token: true}
              : {token: true, options: {temperature: sampling.temperature, topK: sampling.topK, topP: sampling.topP, seed: stepSeed(sampling.seed, step)}}
            const items: ControlledEvaluateInputItem[] = input.map((t) => t as Token)
            items[items.length - 1] = [input[input.length - 1]! as Token, {generateNext}]
            const token = sampledToken(await evaluate(items, step === 0 ? 'prompt' : 'decode'), items.length - 1)
            if (emit(token)) break
            input = [token]
          }
        }
      } finally {
        this.lockstep.leaveStep(decodingNow)
      }
      const end = performance.now()
      const last = tokens[tokens.length - 1]
      return {
        promptTokens,
        tokens,
        text: this.detokenize(tokens, promptTokens),
        finishReason: last !== undefined && this.model.isEogToken(last as Token) ? 'eos' : 'length',
        maxTokens,
        sampling,
        ...(consistency ? {consistency} : {}),
        timings: {queuedMs, promptMs: (firstAt || end) - started - queuedMs, generateMs: lastAt - firstAt, totalMs: end - started},
      }
    }, request.signal)
  }

  /** Like `generate`, as an async iterator of tokens (see ./generation-stream.ts). */
  stream(request: Omit<GenerateRequest, 'onToken'>): GenerationStream {
    return streamGeneration((r) => this.generate(r), request)
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
      const sequence = await this.pool.acquire(controller.signal)
      try {
        return await fn(sequence, controller.signal)
      } finally {
        await this.pool.release(sequence)
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

  private assertOpen(): void {
    if (this.disposed) throw new UserError('The inference engine has been disposed.', {code: 'ENGINE_DISPOSED', hint: 'Load the model again.'})
  }

  /** Cancels queued and running requests, then frees the context, the model and the llama.cpp binding. Idempotent. */
  dispose(): Promise<void> {
    this.disposePromise ??= (async () => {
      this.pool.close(new CancelledError('The inference engine was disposed.'))
      for (const controller of this.controllers) controller.abort()
      this.lockstep.maybeRelease(true)
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

/**
 * Greedy output that a verifier's batched prefill reproduces. Token-by-token decoding and one batched prefill round
 * differently (on Q8_0 the top logit moves by up to ~0.16 here), so at a near-tie the decoded token need not be the
 * prefill's argmax, and a verifier had to tolerate a wide ε, which let a cheater pick near-ties. Measured on CPU,
 * batched evaluation itself gives bit-identical logits for any split into llama_decode batches (2 to 512 tokens,
 * a 1-token remainder included) and for 1 or 2 threads, while only token-by-token decoding differs.
 *
 * So: decode a window of tokens (4, doubling up to `PREFILL_CHECK_WINDOW`), then erase them from the KV cache and evaluate them again as one
 * batch (with the confirmed token before them, so the batch is never a single token), reading the logits at every
 * position. Tokens are confirmed, in order, while each is the batch's argmax (an exact tie counts); at the first
 * that is not, the argmax replaces it, the cache is cut after it, and decoding resumes from it. The KV cache of
 * confirmed positions always holds the batched values, so the output is a fixed point: every token is the argmax
 * of the batched prefill over prompt + the tokens before it. The first token comes from the prompt's batched
 * evaluation and stands as it is, and so does the token after a check that confirmed its whole window (the check's
 * batch evaluates the window's last cell too). Each check confirms at least one token, so there are at most maxTokens checks;
 * only confirmed tokens are emitted (a stream lags by at most one window).
 */
export const PREFILL_CHECK_WINDOW = 16
/** The first window; each check doubles it up to PREFILL_CHECK_WINDOW, so a stream starts flowing early. */
export const PREFILL_FIRST_WINDOW = 4

interface ConsistentSteps {
  evaluate: (items: ControlledEvaluateInputItem[], kind: 'prompt' | 'decode') => Promise<Array<ControlledEvaluateIndexOutput | undefined>>
  sampledToken: (output: Array<ControlledEvaluateIndexOutput | undefined>, at: number) => number
  emit: (token: number) => boolean
  sequence: LlamaContextSequence
  isEnd: (token: number) => boolean
  signal: AbortSignal
}

async function generateConsistent(prompt: readonly number[], maxTokens: number, steps: ConsistentSteps): Promise<ConsistencyStats> {
  const {evaluate, sampledToken, emit, sequence, isEnd, signal} = steps
  const P = prompt.length
  const stats: ConsistencyStats = {checks: 0, repairs: 0, discarded: 0}
  const confirmed: number[] = []
  const at = (i: number) => (i < P ? prompt[i]! : confirmed[i - P]!) // token of KV cell i (prompt, then confirmed output)
  if (P >= 2) {
    // The prompt's own batched evaluation is the verifier's prefill up to there: its argmax stands as it is (and a
    // stream starts without waiting for a window).
    const items: ControlledEvaluateInputItem[] = prompt.map((t) => t as Token)
    items[P - 1] = [prompt[P - 1]! as Token, {generateNext: {token: true}}]
    const token = sampledToken(await evaluate(items, 'prompt'), P - 1)
    confirmed.push(token)
    if (emit(token)) return stats
  }
  let window = PREFILL_FIRST_WINDOW
  let done = false
  while (!done) {
    // The cache holds batched cells [0, B); the token of cell B (the last prompt or confirmed token) is not in it.
    const B = P + confirmed.length - 1
    const decoded: number[] = []
    let items: ControlledEvaluateInputItem[] = confirmed.length === 0 ? prompt.map((t) => t as Token) : [at(B) as Token]
    for (let first = true; ; first = false) {
      items[items.length - 1] = [items[items.length - 1] as Token, {generateNext: {token: true}}]
      const token = sampledToken(await evaluate(items, first && confirmed.length === 0 ? 'prompt' : 'decode'), items.length - 1)
      decoded.push(token)
      if (isEnd(token) || confirmed.length + decoded.length >= maxTokens || decoded.length >= window) break
      items = [token as Token]
    }
    // Check: cells [start, B + decoded.length) again as one batch, logits where they predict the decoded tokens;
    // unless generation ends there, also the last decoded token's cell, whose batched argmax is the next token.
    const start = Math.max(0, B - 1)
    const last = decoded[decoded.length - 1]!
    const more = !isEnd(last) && confirmed.length + decoded.length < maxTokens
    await sequence.eraseContextTokenRanges([{start, end: sequence.nextTokenIndex}])
    const check: ControlledEvaluateInputItem[] = []
    for (let i = start; i < B + decoded.length; i++) {
      const token = (i <= B ? at(i) : decoded[i - B - 1]!) as Token
      check.push(i < B ? token : [token, {generateNext: {logits: {filter: {tokens: [decoded[i - B]! as Token], includeTop: 1}}}}])
    }
    if (more) check.push([last as Token, {generateNext: {token: true}}])
    stats.checks++
    window = Math.min(PREFILL_CHECK_WINDOW, 2 * window)
    const output = await evaluate(check, 'prompt')
    let accepted = decoded.length
    for (let k = 0; k < decoded.length; k++) {
      const logits = output[B - start + k]?.next.logits
      if (!logits || logits.size === 0) throw llamaError(new Error(`no logits at completion position ${confirmed.length + k}`), 'Generation failed')
      let argmax = -1
      let best = Number.NEGATIVE_INFINITY
      for (const [token, logit] of logits) if (logit > best) [argmax, best] = [token, logit]
      if (logits.get(decoded[k]! as Token) === best) continue // the argmax (or tied with it)
      decoded[k] = argmax // the batched prefill's choice
      stats.repairs++
      stats.discarded += decoded.length - k - 1
      accepted = k + 1
      break
    }
    // All confirmed: the batched argmax after the last one stands as it is (the prefill computed it), and all the
    // checked cells stay. Otherwise keep the batched cells of the accepted tokens but the last (the next decode step
    // evaluates its cell).
    const accepting = decoded.slice(0, accepted)
    if (accepted === decoded.length && more) accepting.push(sampledToken(output, check.length - 1))
    else await sequence.eraseContextTokenRanges([{start: B + accepted, end: sequence.nextTokenIndex}])
    for (const token of accepting) {
      if (signal.aborted) throw cancelledError(confirmed.length) // a caller that cancels on a token gets no more
      confirmed.push(token)
      if (emit(token)) {
        done = true
        break
      }
    }
  }
  return stats
}

function cancelledError(generated: number): CancelledError {
  return new CancelledError('Generation cancelled.', {details: {generatedTokens: generated}})
}
