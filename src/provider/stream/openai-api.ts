/**
 * The provider's OpenAI-compatible API for stream tasks (docs/protocol.md, "Stream tasks on the wire"): the route
 * table over its roles (./api/):
 *
 *     GET  /v1/models               the models it serves (OpenAI's list; id = name, with its sha256)
 *     POST /v1/chat/completions     signed; stream true → SSE chat.completion.chunk, one chunk per token   (generation)
 *     POST /v1/completions          signed; stream true → SSE text_completion chunks                      (generation)
 *     POST /v1/ogpu/verify          signed; verification by prefill, answers a signed Attestation (501 on endpoint backends)
 *     POST /v1/ogpu/vouchers        the client's cumulative voucher, stored with fsync before the 200
 *     POST /v1/ogpu/evidence        signed; a dispute's evidence, kept for council duty
 *
 * Every refusal happens before any GPU time (./api/admission.ts, ./api/request.ts) and answers OpenAI's error shape.
 * Every response ends with the provider's signed Receipt: on SSE, a last chunk with `choices: []`, `usage` and
 * `ogpu`, then `data: [DONE]`; otherwise `ogpu` in the completion JSON. The end-of-generation token travels in the
 * chunk that carries `finish_reason` (its `ogpu.tokens` holds it; its delta is empty), so the concatenated
 * `ogpu.tokens` of all chunks are exactly the receipt's completion tokens.
 *
 * With an API key (`apiKey`), requests with `Authorization: Bearer KEY` and no ogpu headers are also served, on the
 * first model, without receipt or charge: the provider's own plain OpenAI endpoint (and what an endpoint backend of
 * another provider can point at).
 */
import type {IncomingMessage, ServerResponse} from 'node:http'

import type {TypedDataDomain, Wallet} from 'ethers'

import {OGPU_ERROR_TYPE, sendError, sendJson} from '../../http/index.js'
import {CachedTypedDataWallet} from '../../protocol/typed-data-cache.js'
import {Admission, type ApiBook, type StreamLookup} from './api/admission.js'
import {EvidenceIntake, evidenceDirectory, type EvidenceStore} from './api/evidence.js'
import {Generation, type TokenTransform} from './api/generation.js'
import {Throughput} from './api/throughput.js'
import {type PrefillJudge, Verification} from './api/verification.js'
import {VoucherIntake} from './api/vouchers.js'
import {DEFAULT_STREAM_LIMITS, Refusal, type StreamLimits} from './auth.js'
import type {StreamBackend} from './backend.js'
import {creditOf, unpaidOf} from './book.js'

export {storedEvidence} from './api/evidence.js'
export type {TokenTransform} from './api/generation.js'
export {parseOpenAiRequest, promptTokensOf} from './api/request.js'

export interface StreamApiOptions {
  /** The StreamMarket's EIP-712 domain. */
  domain: TypedDataDomain
  /** The provider's wallet: signs receipts and attestations. */
  wallet: Wallet
  streams: StreamLookup
  book: ApiBook
  /** The served models. */
  backends: () => StreamBackend[]
  /** Where pushed evidence is kept (one file per receipt digest). */
  evidenceDir: string
  /** Keeps pushed evidence. Defaults to files in `evidenceDir`. */
  evidence?: EvidenceStore
  /** Limits. Defaults to DEFAULT_STREAM_LIMITS. */
  limits?: Partial<StreamLimits>
  /** Plain OpenAI access with `Authorization: Bearer KEY` (no receipts). Defaults to none (signed requests only). */
  apiKey?: string
  /** True while the daemon stops: new work is refused with 503. Defaults to never. */
  stopping?: () => boolean
  /** Rewrites each generation's tokens before they are streamed and signed. Defaults to none. */
  tokenTransform?: TokenTransform
  /** Judges verifications by prefill. Defaults to verifyCompletion on the backend's engine. */
  judge?: PrefillJudge
  /** Called when a request failed unexpectedly. Defaults to none. */
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

export class StreamApi {
  readonly counters: StreamApiCounters = {generations: 0, verifications: 0, refused: {}}
  readonly address: string
  private readonly throughput = new Throughput()
  private readonly routes: Record<string, {method: 'GET' | 'POST'; run: (req: IncomingMessage, res: ServerResponse) => Promise<void>}>

  constructor(private readonly options: StreamApiOptions) {
    const signer = CachedTypedDataWallet.of(options.wallet)
    const limits: StreamLimits = {...DEFAULT_STREAM_LIMITS, ...Object.fromEntries(Object.entries(options.limits ?? {}).filter(([, v]) => v !== undefined))}
    const now = options.now ?? (() => Math.floor(Date.now() / 1000))
    const {domain, book, backends, streams} = options
    this.address = options.wallet.address
    const address = this.address
    const admission = new Admission({domain, address, streams, book, backends, limits, now, stopping: options.stopping})
    const generation = new Generation({
      domain,
      signer,
      address,
      admission,
      book,
      backends,
      limits,
      throughput: this.throughput,
      onGeneration: () => void this.counters.generations++,
      apiKey: options.apiKey,
      tokenTransform: options.tokenTransform,
      onError: options.onError,
    })
    const verification = new Verification({domain, signer, address, admission, book, limits, judge: options.judge, onVerification: () => void this.counters.verifications++})
    const vouchers = new VoucherIntake({domain, address, streams, book})
    const evidence = new EvidenceIntake({domain, admission, store: options.evidence ?? evidenceDirectory(options.evidenceDir), maxBodyBytes: limits.maxBodyBytes * 2})
    this.routes = {
      '/v1/models': {method: 'GET', run: async (_req, res) => this.models(res)},
      '/v1/chat/completions': {method: 'POST', run: (req, res) => generation.handle(req, res, 'chat')},
      '/v1/completions': {method: 'POST', run: (req, res) => generation.handle(req, res, 'completions')},
      '/v1/ogpu/verify': {method: 'POST', run: (req, res) => verification.handle(req, res)},
      '/v1/ogpu/vouchers': {method: 'POST', run: (req, res) => vouchers.handle(req, res)},
      '/v1/ogpu/evidence': {method: 'POST', run: (req, res) => evidence.handle(req, res)},
    }
  }

  /** Handles the /v1 routes; false for any other path. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '')
    const route = Object.hasOwn(this.routes, path) ? this.routes[path] : undefined
    if (!route) return false
    if (req.method !== route.method) {
      sendError(res, 405, 'method_not_allowed', `Use ${route.method} ${path}.`, {type: OGPU_ERROR_TYPE})
      return true
    }
    try {
      await route.run(req, res)
    } catch (error) {
      if (!(error instanceof Refusal)) throw error
      this.counters.refused[error.code] = (this.counters.refused[error.code] ?? 0) + 1
      // OpenAI's error shape with type ogpu_error (docs/protocol.md), with `param` when the refusal names one.
      if (!res.headersSent) sendError(res, error.status, error.code, error.message, {type: OGPU_ERROR_TYPE, ...(error.param ? {param: error.param} : {})})
      else res.destroy()
    }
    return true
  }

  /** The streams section of the status: per stream, its book and recent throughput. */
  streamsStatus(): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    for (const [id, e] of Object.entries(this.options.book.state.streams)) {
      const stream = this.options.streams.peek(BigInt(id))
      out[id] = {
        requests: e.requests,
        verifications: e.verifications,
        promptTokens: e.promptTokens,
        completionTokens: e.completionTokens,
        tokensPerSecond: this.throughput.tokensPerSecond(id),
        charged: e.charged,
        voucher: e.voucher?.amount ?? null,
        redeemed: e.redeemed,
        unpaid: unpaidOf(e).toString(),
        // What the chain guarantees of the voucher, and the charges beyond it (null before the stream is read).
        surelyRedeemable: stream ? stream.surelyRedeemable.toString() : null,
        atRisk: stream ? creditOf(e, stream).atRisk.toString() : null,
        subscription: stream?.subscription ?? null,
      }
    }
    return out
  }

  private models(res: ServerResponse): void {
    const data = this.options.backends().map((b) => ({id: b.name, object: 'model', created: 0, owned_by: this.address, sha256: b.sha256, backend: b.kind, verify: b.kind === 'local'}))
    sendJson(res, 200, {object: 'list', data})
  }
}
