/**
 * Generation: POST /v1/chat/completions and /v1/completions. A signed request is admitted (./admission.ts), parsed
 * (./request.ts), generated on the stream's backend and answered as OpenAI SSE chunks or one JSON, ending with the
 * provider's signed Receipt and its charge in the book. An API-key request runs on the first model without either.
 */
import type {IncomingMessage, ServerResponse} from 'node:http'

import type {Signer, TypedDataDomain} from 'ethers'

import {isOgpuError} from '../../../errors/index.js'
import {OGPU_ERROR_TYPE, openAiError, sendJson, toJson} from '../../../http/index.js'
import {generationCharge, type OgpuResponseEnd, type Receipt, responseHashOf, signReceipt, type StreamRequestAuth} from '../../../protocol/stream.js'
import {Refusal, type StreamLimits} from '../auth.js'
import type {BackendToken, StreamBackend} from '../backend.js'
import type {StreamInfo} from '../market.js'
import type {Admission, ApiBook} from './admission.js'
import {checkPromptSize, checkRequestedSize, invalid, type ParsedRequest, parseJson, parseOpenAiRequest, promptTokensOf, readRequestBody, type Route} from './request.js'
import type {Throughput} from './throughput.js'

/**
 * Rewrites the tokens of one generation before they are streamed, hashed and signed, or returns undefined to leave
 * them (called once per generation). Tests inject cheating providers through it (test/fixtures/cheats.ts).
 */
export type TokenTransform = (ctx: {backend: StreamBackend; prompt: number[]; signed: boolean}) => ((e: BackendToken) => {token: number; text: string}) | undefined

export interface GenerationPorts {
  domain: TypedDataDomain
  /** Signs receipts. */
  signer: Signer
  /** The provider's address (in every receipt). */
  address: string
  admission: Admission
  book: ApiBook
  backends: () => StreamBackend[]
  limits: StreamLimits
  throughput: Throughput
  /** Counts generations started on a backend (GPU time spent). */
  onGeneration: () => void
  /** Plain OpenAI access with `Authorization: Bearer KEY`. Defaults to none. */
  apiKey?: string
  /** Defaults to none (tokens as generated). */
  tokenTransform?: TokenTransform
  /** Called when a generation failed after its response started. Defaults to none. */
  onError?: (error: unknown) => void
}

interface Job {
  backend: StreamBackend
  request: ParsedRequest
  prompt: number[]
  auth?: StreamRequestAuth
  stream?: StreamInfo
}

const sse = (value: unknown) => `data: ${toJson(value)}\n\n`

export class Generation {
  constructor(private readonly ports: GenerationPorts) {}

  async handle(req: IncomingMessage, res: ServerResponse, route: Route): Promise<void> {
    const {admission, limits} = this.ports
    const bearer = this.bearer(req)
    if (!bearer) admission.checkHeaders(req.headers) // before a byte of the body is read
    const raw = await readRequestBody(req, limits.maxBodyBytes)
    if (bearer) return this.plain(raw, res, route)
    admission.authOf(req.headers, raw)
    checkRequestedSize(raw, limits)
    const {auth, stream, backend, accept} = await admission.admit(req.headers, raw, {billable: true})
    admission.checkBusy()
    const request = parseOpenAiRequest(route, parseJson(raw), limits)
    if (!backend.rawPrompts && (route === 'completions' || request.resumeTokens.length > 0))
      throw invalid(`This provider generates through an endpoint backend: it serves chat completions without ogpu.resumeTokens only.`, route === 'completions' ? 'prompt' : 'ogpu.resumeTokens')
    const prompt = promptTokensOf(backend, request)
    checkPromptSize(limits, backend, prompt.length, request.maxTokens - request.resumeTokens.length)
    // The most this response can cost, reserved before any GPU time (released once its charge is booked).
    const release = admission.reserve(stream, generationCharge(request.maxTokens - request.resumeTokens.length, stream.pricePerKTokenGenerated))
    const journal = accept()
    try {
      await this.run(res, {backend, request, prompt, auth, stream})
    } finally {
      journal()
      release()
    }
  }

  private bearer(req: IncomingMessage): boolean {
    const key = this.ports.apiKey
    if (!key) return false
    const header = req.headers.authorization
    return typeof header === 'string' && header === `Bearer ${key}` && !req.headers['ogpu-signature']
  }

  /** An API-key request: the first model, no receipt, no charge. */
  private async plain(raw: Buffer, res: ServerResponse, route: Route): Promise<void> {
    this.ports.admission.checkBusy()
    const backend = this.ports.backends()[0]
    if (!backend) throw new Refusal('busy', 'No model is loaded.')
    const request = parseOpenAiRequest(route, parseJson(raw), this.ports.limits)
    if (!backend.rawPrompts && (route === 'completions' || request.resumeTokens.length > 0)) throw invalid('This provider serves chat completions only.', 'prompt')
    const prompt = promptTokensOf(backend, request)
    checkPromptSize(this.ports.limits, backend, prompt.length, request.maxTokens - request.resumeTokens.length)
    await this.run(res, {backend, request, prompt})
  }

  /** Generates and writes the response (SSE or JSON), ending with the signed receipt when the request was signed. */
  private async run(res: ServerResponse, job: Job): Promise<void> {
    const {backend, request, prompt, auth, stream} = job
    const created = Math.floor(Date.now() / 1000)
    const id = `${request.route === 'chat' ? 'chatcmpl' : 'cmpl'}-${(auth?.requestId ?? `0x${Math.random().toString(16).slice(2).padEnd(24, '0')}`).slice(2, 26)}`
    const object = request.route === 'chat' ? 'chat.completion.chunk' : 'text_completion'
    const controller = new AbortController()
    res.on('close', () => {
      if (!res.writableFinished) controller.abort()
    })
    const transform = this.ports.tokenTransform?.({backend, prompt, signed: Boolean(auth)})
    const tokens: number[] = []
    let text = ''
    let first = true
    const chunk = (choice: Record<string, unknown>, extra: Record<string, unknown> = {}) => sse({id, object, created, model: backend.name, choices: [{index: 0, ...choice}], ...extra})
    if (request.stream) {
      res.writeHead(200, {'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no'})
      res.socket?.setNoDelay(true)
      res.flushHeaders()
    }
    const started = performance.now()
    this.ports.onGeneration()
    let finishReason: 'eos' | 'length'
    let lastToken: number | undefined
    try {
      const result = await backend.generate({
        prompt,
        messages: request.messages,
        maxTokens: request.maxTokens - request.resumeTokens.length,
        signal: controller.signal,
        onToken: (event) => {
          const {token, text: piece} = transform ? transform(event) : event
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
        if (!res.headersSent) throw new Refusal('context_length_exceeded', error.message, 'max_tokens')
      }
      if (res.headersSent) {
        this.ports.onError?.(error)
        res.end(sse(openAiError('generation_failed', (error as Error).message, {type: OGPU_ERROR_TYPE})))
        return
      }
      throw error
    }
    const ms = performance.now() - started
    const finish = finishReason === 'eos' ? 'stop' : 'length'
    const promptTokens = prompt.length
    const usage = {prompt_tokens: promptTokens, completion_tokens: tokens.length, total_tokens: promptTokens + tokens.length}
    const end = auth && stream ? await this.settle(auth, stream, promptTokens, tokens, finish, ms) : undefined
    if (request.stream) {
      const endTokens = lastToken === undefined ? [] : [lastToken]
      res.write(chunk(request.route === 'chat' ? {delta: {}, logprobs: null, finish_reason: finish} : {text: '', logprobs: null, finish_reason: finish}, {ogpu: {tokens: endTokens}}))
      if (end || request.includeUsage) res.write(sse({id, object, created, model: backend.name, choices: [], usage, ...(end ? {ogpu: end} : {})}))
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

  /** Signs the receipt of a finished signed generation and books its charge and throughput. */
  private async settle(auth: StreamRequestAuth, stream: StreamInfo, promptTokens: number, tokens: number[], finishReason: 'stop' | 'length', ms: number): Promise<OgpuResponseEnd> {
    const receipt: Receipt = {streamId: auth.streamId, requestId: auth.requestId, responseHash: responseHashOf(auth.bodyHash, tokens), promptTokens, completionTokens: tokens.length}
    const signature = await signReceipt(this.ports.signer, this.ports.domain, receipt)
    const charge = generationCharge(tokens.length, stream.pricePerKTokenGenerated)
    const streamKey = stream.id.toString()
    this.ports.book.appendSoon({t: 'charge', streamId: streamKey, requestId: auth.requestId, kind: 'generation', promptTokens, completionTokens: tokens.length, amount: charge.toString(), at: Date.now()})
    this.ports.throughput.record(streamKey, tokens.length, ms)
    return {
      provider: this.ports.address,
      receipt: {streamId: receipt.streamId.toString(), requestId: receipt.requestId, responseHash: receipt.responseHash, promptTokens, completionTokens: tokens.length},
      signature,
      charge: charge.toString(),
      finishReason,
    }
  }
}
