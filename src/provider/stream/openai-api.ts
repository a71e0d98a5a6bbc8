/**
 * The provider's OpenAI-compatible API for stream tasks (docs/protocol.md, "Stream tasks on the wire"):
 *
 *     GET  /v1/models               the models it serves (OpenAI's list; id = name, with its sha256)
 *     POST /v1/chat/completions     signed; stream true → SSE chat.completion.chunk, one chunk per token
 *     POST /v1/completions          signed; stream true → SSE text_completion chunks
 *     POST /v1/ogpu/verify          signed; verification by prefill, answers a signed Attestation (501 on endpoint backends)
 *     POST /v1/ogpu/vouchers        the client's cumulative voucher, stored with fsync before the 200
 *     POST /v1/ogpu/evidence        signed; a dispute's evidence, kept for council duty
 *
 * Every refusal happens before any GPU time (./auth.ts) and answers OpenAI's error shape. Every response ends with
 * the provider's signed Receipt: on SSE, a last chunk with `choices: []`, `usage` and `ogpu`, then `data: [DONE]`;
 * otherwise `ogpu` in the completion JSON. The end-of-generation token travels in the chunk that carries
 * `finish_reason` (its `ogpu.tokens` holds it; its delta is empty), so the concatenated `ogpu.tokens` of all chunks
 * are exactly the receipt's completion tokens.
 *
 * With an API key (`apiKey`), requests with `Authorization: Bearer KEY` and no ogpu headers are also served, on the
 * first model, without receipt or charge: the provider's own plain OpenAI endpoint (and what an endpoint backend of
 * another provider can point at).
 */
import {existsSync, mkdirSync, readFileSync} from 'node:fs'
import type {IncomingMessage, ServerResponse} from 'node:http'
import {join} from 'node:path'

import type {TypedDataDomain, Wallet} from 'ethers'

import {isOgpuError} from '../../errors/index.js'
import type {ChatMessage} from '../../gpu/engine.js'
import {fileTypeName} from '../../gpu/gguf.js'
import {DEFAULT_EPSILON, effectiveEpsilon, verifyCompletion} from '../../gpu/verifier.js'
import {
  type Attestation,
  bodyHashOf,
  type EvidenceCallBody,
  generationCharge,
  type OgpuResponseEnd,
  receiptDigest,
  recoverReceipt,
  recoverVoucher,
  type Receipt,
  responseHashOf,
  signAttestation,
  signReceipt,
  type StreamRequestAuth,
  toReceipt,
  verificationCharge,
  type VerifyCallBody,
  type VerifyCallResult,
} from '../../protocol/stream.js'
import {CachedTypedDataWallet} from '../../protocol/typed-data-cache.js'
import {HttpStatusError, OGPU_ERROR_TYPE, openAiError, readBody, sendError, sendJson, toJson} from '../../http/index.js'
import {writeFileDurable} from '../../storage/index.js'
import {checkExpiry, checkStream, DEFAULT_STREAM_LIMITS, RateLimiter, readAuthHeaders, recoverSigner, Refusal, type StreamLimits} from './auth.js'
import type {StreamBackend} from './backend.js'
import {type StreamBookStore, unpaidOf} from './book.js'
import type {StreamCache, StreamInfo} from './market.js'

export interface StreamApiHooks {
  /** Substitute the first generated token (another id) in what is streamed and signed: a cheating provider. */
  tamperStream?: boolean
}

export interface StreamApiOptions {
  /** The StreamMarket's EIP-712 domain. */
  domain: TypedDataDomain
  /** The provider's wallet: signs receipts and attestations. */
  wallet: Wallet
  streams: StreamCache
  book: StreamBookStore
  /** The served models. */
  backends: () => StreamBackend[]
  /** Where pushed evidence is kept (one file per receipt digest). */
  evidenceDir: string
  /** Limits. Defaults to DEFAULT_STREAM_LIMITS. */
  limits?: Partial<StreamLimits>
  /** Plain OpenAI access with `Authorization: Bearer KEY` (no receipts). Defaults to none (signed requests only). */
  apiKey?: string
  /** True while the daemon stops: new work is refused with 503. */
  stopping?: () => boolean
  hooks?: StreamApiHooks
  /** Called when a request failed unexpectedly. */
  onError?: (error: unknown) => void
  /** Wall clock, unix seconds. Defaults to Date.now(). */
  now?: () => number
}

export interface StreamApiCounters {
  /** Generations started on a backend (GPU time spent). */
  generations: number
  /** Verifications by prefill run. */
  verifications: number
  /** Requests refused, by code. */
  refused: Record<string, number>
}

/** Recent throughput of one stream. */
interface Recent {
  samples: Array<{at: number; tokens: number; ms: number}>
}

type Route = 'chat' | 'completions'

interface ParsedRequest {
  route: Route
  stream: boolean
  includeUsage: boolean
  messages?: ChatMessage[]
  prompt?: string | number[]
  maxTokens: number
  resumeTokens: number[]
  model?: string
}

const MAX_DEFAULT_TOKENS = 256

/** OpenAI's error shape with type `ogpu_error` (docs/protocol.md), with `param` when the refusal names one. */
function refuse(res: ServerResponse, refusal: Refusal): void {
  sendError(res, refusal.status, refusal.code, refusal.message, {type: OGPU_ERROR_TYPE, ...(refusal.param ? {param: refusal.param} : {})})
}

/** Reads the body, refusing (413 too_large) past `limit` bytes without buffering more. */
async function readRequestBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  try {
    return await readBody(req, {limit})
  } catch (error) {
    if (error instanceof HttpStatusError && error.status === 413) throw new Refusal('too_large', error.message)
    throw error
  }
}

const invalid = (message: string, param?: string) => new Refusal('invalid_request', message, param)

function parseJson(body: Buffer): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(body.toString('utf8'))
  } catch {
    throw invalid('The body is not JSON.')
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw invalid('The body must be a JSON object.')
  return value as Record<string, unknown>
}

function contentText(content: unknown, i: number): string {
  if (typeof content === 'string') return content
  if (Array.isArray(content)) {
    return content
      .map((part, j) => {
        const p = part as {type?: string; text?: unknown}
        if (p?.type !== 'text' || typeof p.text !== 'string') throw invalid(`messages[${i}].content[${j}] must be a text part ({"type": "text", "text": "..."}).`, 'messages')
        return p.text
      })
      .join('')
  }
  throw invalid(`messages[${i}].content must be a string.`, 'messages')
}

/** The max_tokens a body asks for (max_completion_tokens too), or undefined; for the size check before parsing fully. */
function requestedMaxTokens(body: Record<string, unknown>): unknown {
  return body.max_completion_tokens ?? body.max_tokens
}

/** Parses and validates an OpenAI request body (what a generation or a verification runs). */
export function parseOpenAiRequest(route: Route, body: Record<string, unknown>, limits: StreamLimits): ParsedRequest {
  const temperature = body.temperature
  if (temperature !== undefined && temperature !== null && temperature !== 0)
    throw invalid(`temperature must be 0 or absent: stream responses are greedy so that the council can verify them by prefill (got ${toJson(temperature)}).`, 'temperature')
  if (body.n !== undefined && body.n !== null && body.n !== 1) throw invalid('n must be 1.', 'n')
  const stop = body.stop
  if (stop !== undefined && stop !== null && !(Array.isArray(stop) && stop.length === 0))
    throw invalid('stop sequences are not supported (the response must be the model\'s whole greedy output up to its end or max_tokens).', 'stop')
  if (body.stream !== undefined && typeof body.stream !== 'boolean') throw invalid('stream must be a boolean.', 'stream')
  const rawMax = requestedMaxTokens(body)
  let maxTokens = MAX_DEFAULT_TOKENS
  if (rawMax !== undefined && rawMax !== null) {
    if (!Number.isInteger(rawMax) || (rawMax as number) < 1) throw invalid(`max_tokens must be a positive integer (got ${toJson(rawMax)}).`, 'max_tokens')
    maxTokens = rawMax as number
  }
  if (maxTokens > limits.maxTokens) throw new Refusal('too_large', `max_tokens ${maxTokens} is over this provider's limit of ${limits.maxTokens}.`, 'max_tokens')
  const ogpu = body.ogpu as {resumeTokens?: unknown} | undefined
  let resumeTokens: number[] = []
  if (ogpu !== undefined && ogpu !== null) {
    if (typeof ogpu !== 'object') throw invalid('ogpu must be an object.', 'ogpu')
    if (ogpu.resumeTokens !== undefined) {
      if (!Array.isArray(ogpu.resumeTokens) || !ogpu.resumeTokens.every((t) => Number.isInteger(t) && t >= 0)) throw invalid('ogpu.resumeTokens must be an array of token ids.', 'ogpu.resumeTokens')
      resumeTokens = ogpu.resumeTokens as number[]
    }
  }
  if (resumeTokens.length >= maxTokens) throw invalid(`ogpu.resumeTokens holds ${resumeTokens.length} tokens; max_tokens (${maxTokens}, the total) leaves none to generate.`, 'ogpu.resumeTokens')
  const streamOptions = body.stream_options as {include_usage?: unknown} | undefined
  const common = {stream: body.stream === true, includeUsage: streamOptions?.include_usage === true, maxTokens, resumeTokens, model: typeof body.model === 'string' ? body.model : undefined}
  if (route === 'chat') {
    if (!Array.isArray(body.messages) || body.messages.length === 0) throw invalid('messages must be a non-empty array.', 'messages')
    const messages = body.messages.map((m, i): ChatMessage => {
      const role = (m as {role?: unknown})?.role
      if (role !== 'system' && role !== 'user' && role !== 'assistant' && role !== 'developer')
        throw invalid(`messages[${i}].role must be system, user or assistant (got ${toJson(role)}).`, 'messages')
      return {role: role === 'developer' ? 'system' : role, content: contentText((m as {content?: unknown}).content, i)}
    })
    return {route, messages, ...common}
  }
  const prompt = body.prompt
  if (typeof prompt === 'string') {
    if (prompt.length === 0) throw invalid('prompt is empty.', 'prompt')
    return {route, prompt, ...common}
  }
  if (Array.isArray(prompt) && prompt.length > 0 && prompt.every((t) => Number.isInteger(t))) return {route, prompt: prompt as number[], ...common}
  throw invalid('prompt must be a string or an array of token ids.', 'prompt')
}

/** The prompt tokens a request runs with: the rendered chat or prompt, then the resumed tokens. */
export function promptTokensOf(backend: StreamBackend, request: ParsedRequest): number[] {
  try {
    const base = request.route === 'chat' ? backend.tokenizer.renderChat(request.messages!) : backend.tokenizer.preparePrompt(request.prompt!)
    if (request.resumeTokens.length > 0) backend.tokenizer.assertTokenIds(request.resumeTokens, 'ogpu.resumeTokens')
    return [...base, ...request.resumeTokens]
  } catch (error) {
    if (error instanceof Refusal) throw error
    throw invalid(isOgpuError(error) ? error.message : `The prompt cannot be prepared: ${(error as Error).message}`, request.route === 'chat' ? 'messages' : 'prompt')
  }
}

/** What /v1/ogpu/verify judges: the original body's prompt and max_tokens (resumed tokens count as prompt). */
function quantizationOf(backend: StreamBackend): string {
  const general = (backend.engine?.model.fileInfo?.metadata as {general?: {file_type?: number}} | undefined)?.general
  return fileTypeName(general?.file_type)
}

export class StreamApi {
  readonly counters: StreamApiCounters = {generations: 0, verifications: 0, refused: {}}
  private readonly limits: StreamLimits
  private readonly rate: RateLimiter
  /** Accepted request ids → expiry, in memory (the book keeps them across restarts). */
  private readonly seen = new Map<string, number>()
  private readonly recent = new Map<string, Recent>()
  private readonly now: () => number
  readonly address: string
  /** The provider's wallet, signing typed data with cached encoders (receipts, attestations). */
  private readonly signer: Wallet

  constructor(private readonly options: StreamApiOptions) {
    this.signer = CachedTypedDataWallet.of(options.wallet)
    this.limits = {...DEFAULT_STREAM_LIMITS, ...Object.fromEntries(Object.entries(options.limits ?? {}).filter(([, v]) => v !== undefined))}
    this.rate = new RateLimiter(this.limits.ratePerSecond, this.limits.rateBurst)
    this.now = options.now ?? (() => Math.floor(Date.now() / 1000))
    this.address = options.wallet.address
    mkdirSync(options.evidenceDir, {recursive: true, mode: 0o700})
  }

  /** Handles the /v1 routes; false for any other path. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '')
    const routes: Record<string, () => Promise<void>> = {
      '/v1/models': () => this.models(req, res),
      '/v1/chat/completions': () => this.generation(req, res, 'chat'),
      '/v1/completions': () => this.generation(req, res, 'completions'),
      '/v1/ogpu/verify': () => this.verify(req, res),
      '/v1/ogpu/vouchers': () => this.voucher(req, res),
      '/v1/ogpu/evidence': () => this.evidence(req, res),
    }
    const route = routes[path]
    if (!route) return false
    const method = path === '/v1/models' ? 'GET' : 'POST'
    if (req.method !== method) {
      sendError(res, 405, 'method_not_allowed', `Use ${method} ${path}.`, {type: OGPU_ERROR_TYPE})
      return true
    }
    try {
      await route()
    } catch (error) {
      if (error instanceof Refusal) {
        this.counters.refused[error.code] = (this.counters.refused[error.code] ?? 0) + 1
        if (!res.headersSent) refuse(res, error)
        else res.destroy()
        return true
      }
      throw error
    }
    return true
  }

  /** The streams section of the status: per stream, its book and recent throughput. */
  streamsStatus(): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    const book = this.options.book.state
    for (const [id, e] of Object.entries(book.streams)) {
      const recent = this.recent.get(id)?.samples.filter((s) => Date.now() - s.at < 60_000) ?? []
      const ms = recent.reduce((a, s) => a + s.ms, 0)
      const tokens = recent.reduce((a, s) => a + s.tokens, 0)
      out[id] = {
        requests: e.requests,
        verifications: e.verifications,
        promptTokens: e.promptTokens,
        completionTokens: e.completionTokens,
        tokensPerSecond: ms > 0 ? Math.round((tokens / ms) * 10_000) / 10 : null,
        charged: e.charged,
        voucher: e.voucher?.amount ?? null,
        redeemed: e.redeemed,
        unpaid: unpaidOf(e).toString(),
        subscription: this.options.streams.peek(BigInt(id))?.subscription ?? null,
      }
    }
    return out
  }

  // ------------------------------------------------------------------ routes

  private async models(_req: IncomingMessage, res: ServerResponse): Promise<void> {
    const data = this.options.backends().map((b) => ({id: b.name, object: 'model', created: 0, owned_by: this.address, sha256: b.sha256, backend: b.kind, verify: b.kind === 'local'}))
    sendJson(res, 200, {object: 'list', data})
  }

  /**
   * The checks shared by signed POSTs; returns the request's auth, the stream and the backend. `accept()` records the
   * request id in memory (replays are refused from then on) and returns `journal()`, which group-commits it to the book;
   * call that once the work is done, so that no fsync runs between a request and its first token.
   */
  private async authorize(
    req: IncomingMessage,
    body: Buffer,
    options: {billable: boolean},
  ): Promise<{auth: StreamRequestAuth; stream: StreamInfo; backend: StreamBackend | undefined; accept: () => () => void}> {
    const {auth, signature} = readAuthHeaders(req.headers, body)
    checkExpiry(auth, this.now())
    // body bytes were bounded by readBody; max_tokens is checked in parseOpenAiRequest before the signature
    const signer = recoverSigner(this.options.domain, auth, signature)
    const stream = await this.options.streams.get(auth.streamId)
    const backend = this.options.backends().find((b) => b.sha256 === stream.modelHash)
    checkStream(stream, signer, Boolean(backend))
    // From here on, synchronous: the replay check and the record of the id cannot interleave with another request.
    if (this.seenRequest(auth.requestId)) throw new Refusal('replayed', `Request ${auth.requestId} was already served.`)
    if (!this.rate.take(stream.client)) throw new Refusal('rate_limited', `Over ${this.limits.ratePerSecond} requests per second (burst ${this.limits.rateBurst}) for client ${stream.client}.`)
    if (options.billable) {
      const unpaid = unpaidOf(this.options.book.state.streams[stream.id.toString()])
      if (unpaid > this.limits.creditLimit)
        throw new Refusal('over_credit', `Stream ${stream.id} owes ${unpaid} wei beyond its newest voucher, over the credit limit of ${this.limits.creditLimit} wei. POST a voucher to /v1/ogpu/vouchers.`)
    }
    const accept = () => {
      this.seen.set(auth.requestId, auth.expiry)
      let journaled = false
      return () => {
        if (journaled) return
        journaled = true
        this.options.book.appendSoon({t: 'request', streamId: stream.id.toString(), requestId: auth.requestId, expiry: auth.expiry, at: Date.now()})
      }
    }
    return {auth, stream, backend, accept}
  }

  private seenRequest(requestId: string): boolean {
    const now = this.now()
    if (this.seen.size > 10_000) for (const [id, expiry] of this.seen) if (expiry < now) this.seen.delete(id)
    return this.seen.has(requestId) || (this.options.book.state.seen[requestId] ?? -1) >= now
  }

  private checkBusy(): void {
    if (this.options.stopping?.()) throw new Refusal('busy', 'The provider is shutting down.')
  }

  private bearer(req: IncomingMessage): boolean {
    const key = this.options.apiKey
    if (!key) return false
    const header = req.headers.authorization
    return typeof header === 'string' && header === `Bearer ${key}` && !req.headers['ogpu-signature']
  }

  private async generation(req: IncomingMessage, res: ServerResponse, route: Route): Promise<void> {
    const raw = await readRequestBody(req, this.limits.maxBodyBytes)
    if (this.bearer(req)) return this.plainGeneration(raw, res, route)
    // Size before signature (docs/protocol.md): a max_tokens over the limit is refused before anything else is read.
    let parsedBody: Record<string, unknown> | undefined
    try {
      parsedBody = JSON.parse(raw.toString('utf8')) as Record<string, unknown>
    } catch {
      parsedBody = undefined
    }
    const {auth} = readAuthHeaders(req.headers, raw)
    checkExpiry(auth, this.now())
    const rawMax = parsedBody && typeof parsedBody === 'object' ? requestedMaxTokens(parsedBody) : undefined
    if (typeof rawMax === 'number' && rawMax > this.limits.maxTokens)
      throw new Refusal('too_large', `max_tokens ${rawMax} is over this provider's limit of ${this.limits.maxTokens}.`, 'max_tokens')
    const {stream, backend, accept} = await this.authorize(req, raw, {billable: true})
    this.checkBusy()
    const request = parseOpenAiRequest(route, parseJson(raw), this.limits)
    const b = backend!
    if (!b.rawPrompts && (route === 'completions' || request.resumeTokens.length > 0))
      throw invalid(`This provider generates through an endpoint backend: it serves chat completions without ogpu.resumeTokens only.`, route === 'completions' ? 'prompt' : 'ogpu.resumeTokens')
    const prompt = promptTokensOf(b, request)
    this.checkPromptSize(b, prompt.length, request.maxTokens - request.resumeTokens.length)
    const journal = accept()
    try {
      await this.run(res, {backend: b, request, prompt, auth, stream})
    } finally {
      journal()
    }
  }

  private checkPromptSize(backend: StreamBackend, promptLength: number, completion: number): void {
    if (promptLength > this.limits.maxPromptTokens) throw new Refusal('too_large', `The prompt is ${promptLength} tokens; this provider takes at most ${this.limits.maxPromptTokens}.`, 'messages')
    if (promptLength + completion > backend.contextSize)
      throw new Refusal('too_large', `The prompt (${promptLength} tokens) plus ${completion} completion tokens exceed the context of ${backend.contextSize} tokens.`, 'max_tokens')
  }

  /** An API-key request: the first model, no receipt, no charge. */
  private async plainGeneration(raw: Buffer, res: ServerResponse, route: Route): Promise<void> {
    this.checkBusy()
    const backend = this.options.backends()[0]
    if (!backend) throw new Refusal('busy', 'No model is loaded.')
    const request = parseOpenAiRequest(route, parseJson(raw), this.limits)
    if (!backend.rawPrompts && (route === 'completions' || request.resumeTokens.length > 0)) throw invalid('This provider serves chat completions only.', 'prompt')
    const prompt = promptTokensOf(backend, request)
    this.checkPromptSize(backend, prompt.length, request.maxTokens - request.resumeTokens.length)
    await this.run(res, {backend, request, prompt})
  }

  /** Generates and writes the response (SSE or JSON), ending with the signed receipt when the request was signed. */
  private async run(
    res: ServerResponse,
    job: {backend: StreamBackend; request: ParsedRequest; prompt: number[]; auth?: StreamRequestAuth; stream?: StreamInfo},
  ): Promise<void> {
    const {backend, request, prompt, auth, stream} = job
    const created = Math.floor(Date.now() / 1000)
    const id = `${request.route === 'chat' ? 'chatcmpl' : 'cmpl'}-${(auth?.requestId ?? `0x${Math.random().toString(16).slice(2).padEnd(24, '0')}`).slice(2, 26)}`
    const object = request.route === 'chat' ? 'chat.completion.chunk' : 'text_completion'
    const controller = new AbortController()
    res.on('close', () => {
      if (!res.writableFinished) controller.abort()
    })
    const tamper = Boolean(this.options.hooks?.tamperStream && auth)
    let tampered = false
    const shift = (t: number) => {
      let next = (t + 1) % backend.tokenizer.vocabSize
      while (backend.tokenizer.isEndOfGeneration(next)) next = (next + 1) % backend.tokenizer.vocabSize
      return next
    }
    const tokens: number[] = []
    let text = ''
    let first = true
    const chunk = (choice: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      `data: ${toJson({id, object, created, model: backend.name, choices: [{index: 0, ...choice}], ...extra})}\n\n`
    if (request.stream) {
      res.writeHead(200, {'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no'})
      res.socket?.setNoDelay(true)
      res.flushHeaders()
    }
    const started = performance.now()
    this.counters.generations++
    let finishReason: 'eos' | 'length'
    let lastToken: number | undefined
    try {
      const result = await backend.generate({
        prompt,
        messages: request.messages,
        maxTokens: request.maxTokens - request.resumeTokens.length,
        signal: controller.signal,
        onToken: (event) => {
          let {token, text: piece} = event
          if (tamper && !tampered && !event.isEnd) {
            token = shift(token)
            piece = backend.tokenizer.detokenize([token], prompt)
            tampered = true
          }
          tokens.push(token)
          if (event.isEnd) {
            lastToken = token
            return // travels with finish_reason
          }
          text += piece
          if (!request.stream) return
          const delta = request.route === 'chat' ? {delta: first ? {role: 'assistant', content: piece} : {content: piece}, logprobs: null, finish_reason: null} : {text: piece, logprobs: null, finish_reason: null}
          first = false
          res.write(chunk(delta, {ogpu: {tokens: [token]}}))
        },
      })
      finishReason = result.finishReason
    } catch (error) {
      if (controller.signal.aborted) return // the caller left: no receipt, no charge
      if (isOgpuError(error) && error.code === 'CONTEXT_LENGTH_EXCEEDED') {
        if (!res.headersSent) throw new Refusal('too_large', error.message, 'max_tokens')
      }
      if (res.headersSent) {
        this.options.onError?.(error)
        res.end(`data: ${toJson(openAiError('generation_failed', (error as Error).message, {type: OGPU_ERROR_TYPE}))}\n\n`)
        return
      }
      throw error
    }
    const ms = performance.now() - started
    const finish = finishReason === 'eos' ? 'stop' : 'length'
    const promptTokens = prompt.length
    const usage = {prompt_tokens: promptTokens, completion_tokens: tokens.length, total_tokens: promptTokens + tokens.length}
    let end: OgpuResponseEnd | undefined
    if (auth && stream) {
      const receipt: Receipt = {streamId: auth.streamId, requestId: auth.requestId, responseHash: responseHashOf(auth.bodyHash, tokens), promptTokens, completionTokens: tokens.length}
      const signature = await signReceipt(this.signer, this.options.domain, receipt)
      const charge = generationCharge(tokens.length, stream.pricePerKTokenGenerated)
      end = {
        provider: this.address,
        receipt: {streamId: receipt.streamId.toString(), requestId: receipt.requestId, responseHash: receipt.responseHash, promptTokens, completionTokens: tokens.length},
        signature,
        charge: charge.toString(),
        finishReason: finish,
      }
      const streamKey = stream.id.toString()
      this.options.book.appendSoon({t: 'charge', streamId: streamKey, requestId: auth.requestId, kind: 'generation', promptTokens, completionTokens: tokens.length, amount: charge.toString(), at: Date.now()})
      const recent = this.recent.get(streamKey) ?? {samples: []}
      recent.samples.push({at: Date.now(), tokens: tokens.length, ms})
      if (recent.samples.length > 64) recent.samples.shift()
      this.recent.set(streamKey, recent)
    }
    if (request.stream) {
      const endTokens = lastToken === undefined ? [] : [lastToken]
      res.write(chunk(request.route === 'chat' ? {delta: {}, logprobs: null, finish_reason: finish} : {text: '', logprobs: null, finish_reason: finish}, {ogpu: {tokens: endTokens}}))
      if (end || request.includeUsage) res.write(`data: ${toJson({id, object, created, model: backend.name, choices: [], usage, ...(end ? {ogpu: end} : {})})}\n\n`)
      res.end('data: [DONE]\n\n')
      return
    }
    const choice =
      request.route === 'chat'
        ? {index: 0, message: {role: 'assistant', content: text}, logprobs: null, finish_reason: finish}
        : {index: 0, text, logprobs: null, finish_reason: finish}
    sendJson(res, 200, {
      id,
      object: request.route === 'chat' ? 'chat.completion' : 'text_completion',
      created,
      model: backend.name,
      choices: [choice],
      usage,
      ogpu: end ? {...end, tokens} : {tokens},
    })
  }

  private async verify(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readRequestBody(req, this.limits.maxBodyBytes)
    const {auth} = readAuthHeaders(req.headers, raw)
    checkExpiry(auth, this.now())
    const {stream, backend, accept} = await this.authorize(req, raw, {billable: true})
    if (!backend!.engine) {
      sendError(res, 501, 'not_implemented', `This provider generates through an endpoint backend and cannot verify by prefill.`, {type: OGPU_ERROR_TYPE})
      return
    }
    this.checkBusy()
    const call = parseJson(raw) as Partial<VerifyCallBody>
    if (typeof call.body !== 'string') throw invalid('body must be the original request body, as a string.', 'body')
    if (!Array.isArray(call.tokens) || !call.tokens.every((t) => Number.isInteger(t))) throw invalid('tokens must be an array of token ids.', 'tokens')
    if (typeof call.requestId !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(call.requestId)) throw invalid('requestId must be the original request id (32 bytes of hex).', 'requestId')
    if (call.allowPrefix !== undefined && typeof call.allowPrefix !== 'boolean') throw invalid('allowPrefix must be a boolean.', 'allowPrefix')
    const original = parseJson(Buffer.from(call.body, 'utf8'))
    const route: Route = Array.isArray(original.messages) ? 'chat' : 'completions'
    const request = parseOpenAiRequest(route, original, this.limits)
    const b = backend!
    const prompt = promptTokensOf(b, request)
    const completionLimit = request.maxTokens - request.resumeTokens.length
    if (call.tokens.length > 0) {
      try {
        b.tokenizer.assertTokenIds(call.tokens, 'tokens')
      } catch (error) {
        throw invalid((error as Error).message, 'tokens')
      }
    }
    this.checkPromptSize(b, prompt.length, Math.max(completionLimit, call.tokens.length))
    const journal = accept()
    this.counters.verifications++
    let verdict: Awaited<ReturnType<typeof verifyCompletion>> | undefined
    try {
      verdict =
        call.tokens.length === 0
          ? undefined
          : await verifyCompletion(b.engine!, {
              prompt,
              completion: call.tokens,
              maxTokens: completionLimit,
              allowPrefix: call.allowPrefix ?? false,
              epsilon: effectiveEpsilon(DEFAULT_EPSILON, quantizationOf(b)),
            })
    } catch (error) {
      journal()
      throw error
    }
    const valid = verdict?.ok ?? false
    const responseHash = responseHashOf(bodyHashOf(call.body), call.tokens)
    const attestation: Attestation = {streamId: stream.id, requestId: call.requestId.toLowerCase(), responseHash, valid}
    const signature = await signAttestation(this.signer, this.options.domain, attestation)
    const charge = verificationCharge(prompt.length, call.tokens.length, stream.pricePerKTokenVerified)
    journal() // with the charge: one group commit
    this.options.book.appendSoon({t: 'charge', streamId: stream.id.toString(), requestId: auth.requestId, kind: 'verification', promptTokens: prompt.length, completionTokens: call.tokens.length, amount: charge.toString(), at: Date.now()})
    const f = verdict?.firstFailure
    const result: VerifyCallResult = {
      valid,
      checked: verdict?.checked ?? 0,
      firstFailure: verdict
        ? f
          ? {position: f.position, reason: f.reason, claimed: f.claimed, expected: f.expected, margin: f.margin, rank: f.rank}
          : null
        : {position: 0, reason: 'empty', claimed: null, expected: null, margin: null, rank: null},
      responseHash,
      promptTokens: prompt.length,
      attestation: {streamId: stream.id.toString(), requestId: attestation.requestId, responseHash, valid},
      signature,
      verifier: this.address,
      charge: charge.toString(),
    }
    sendJson(res, 200, result)
  }

  private async voucher(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readRequestBody(req, 64 * 1024)
    const body = parseJson(raw) as {streamId?: unknown; cumulativeAmount?: unknown; signature?: unknown}
    if (typeof body.streamId !== 'string' || !/^\d{1,77}$/.test(body.streamId)) throw invalid('streamId must be a decimal string.', 'streamId')
    if (typeof body.cumulativeAmount !== 'string' || !/^\d{1,78}$/.test(body.cumulativeAmount)) throw invalid('cumulativeAmount must be a decimal string (wei).', 'cumulativeAmount')
    if (typeof body.signature !== 'string' || !/^0x[0-9a-fA-F]+$/.test(body.signature)) throw invalid('signature must be hex.', 'signature')
    const streamId = BigInt(body.streamId)
    const amount = BigInt(body.cumulativeAmount)
    const stream = await this.options.streams.get(streamId)
    if (stream.status === 'none') throw new Refusal('unknown_stream', `There is no stream ${streamId}.`)
    let signer: string
    try {
      signer = recoverVoucher(this.options.domain, {streamId, provider: this.address, cumulativeAmount: amount}, body.signature)
    } catch {
      throw new Refusal('bad_signature', 'The voucher signature is malformed.')
    }
    if (signer !== stream.client) throw new Refusal('bad_signature', `The voucher is signed by ${signer}, not by the client of stream ${streamId} (or not for provider ${this.address}).`)
    const key = streamId.toString()
    const entry = this.options.book.state.streams[key]
    const previous = BigInt(entry?.voucher?.amount ?? '0')
    // A retry of the stored voucher (same amount, same signature) is answered again; anything else must grow.
    const retry = amount === previous && entry?.voucher?.signature === body.signature
    if (amount <= previous && !retry) throw new Refusal('replayed', `The voucher's cumulative amount ${amount} does not grow: the newest stored is ${previous}.`)
    if (amount > previous) {
      // Durable (fsync) before the 200: a voucher acknowledged is a voucher that survives kill -9.
      this.options.book.append({t: 'voucher', streamId: key, amount: amount.toString(), signature: body.signature, at: Date.now()})
    }
    const now = this.options.book.state.streams[key]
    sendJson(res, 200, {streamId: key, cumulativeAmount: (now?.voucher?.amount ?? amount.toString()), stored: amount > previous, charged: now?.charged ?? '0', unpaid: unpaidOf(now).toString(), redeemed: now?.redeemed ?? '0'})
  }

  private async evidence(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readRequestBody(req, this.limits.maxBodyBytes * 2)
    const {auth} = readAuthHeaders(req.headers, raw)
    checkExpiry(auth, this.now())
    const {stream, accept} = await this.authorize(req, raw, {billable: false})
    const call = parseJson(raw) as Partial<EvidenceCallBody>
    const r = call.receipt
    if (!r || typeof r !== 'object' || typeof r.streamId !== 'string' || typeof r.requestId !== 'string' || typeof r.responseHash !== 'string' || !Number.isInteger(r.promptTokens) || !Number.isInteger(r.completionTokens))
      throw invalid('receipt must be {streamId, requestId, responseHash, promptTokens, completionTokens}.', 'receipt')
    if (r.streamId !== stream.id.toString()) throw invalid(`receipt.streamId ${r.streamId} is not the signed stream ${stream.id}.`, 'receipt')
    if (typeof call.signature !== 'string' || typeof call.provider !== 'string' || typeof call.body !== 'string' || !Array.isArray(call.tokens))
      throw invalid('evidence needs signature, provider, body and tokens.', 'body')
    const receipt = toReceipt(r)
    let signer: string
    try {
      signer = recoverReceipt(this.options.domain, receipt, call.signature)
    } catch {
      throw invalid('The receipt signature is malformed.', 'signature')
    }
    if (signer.toLowerCase() !== call.provider.toLowerCase()) throw invalid(`The receipt is signed by ${signer}, not by ${call.provider}.`, 'signature')
    const digest = receiptDigest(this.options.domain, receipt)
    accept()()
    writeFileDurable(this.options.evidenceDir, `${digest.toLowerCase()}.json`, toJson({receipt: r, signature: call.signature, provider: signer, body: call.body, tokens: call.tokens}))
    sendJson(res, 200, {digest, stored: true})
  }
}

/** Evidence pushed to this provider for a receipt digest, if any. */
export function storedEvidence(evidenceDir: string, digest: string): EvidenceCallBody | undefined {
  const file = join(evidenceDir, `${digest.toLowerCase()}.json`)
  if (!existsSync(file)) return undefined
  return JSON.parse(readFileSync(file, 'utf8')) as EvidenceCallBody
}
