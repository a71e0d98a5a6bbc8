/**
 * The gateway's calls to a provider's stream API (docs/protocol.md, "Stream tasks on the wire"): a signed generation
 * read as SSE, a signed verification, a voucher, and a signed evidence push. Failures are {@link ProviderCallError}s
 * that say whether another provider may be tried and whether any token had arrived.
 */
import type {Signer, TypedDataDomain} from 'ethers'

import {ExternalError} from '../errors/index.js'
import type {EvidenceCallBody, OgpuResponseEnd, VerifyCallBody, VerifyCallResult, VoucherCallBody} from '../protocol/stream.js'
import {signedRequestHeaders} from '../protocol/stream.js'
import {readSse} from './sse.js'

export type Route = 'chat' | 'completions'
export const ROUTE_PATHS: Record<Route, string> = {chat: '/v1/chat/completions', completions: '/v1/completions'}

/** What a failed provider call says about itself, beyond its message. */
export type ProviderCallDetails = {
  /** The provider's HTTP status, when it answered one. */
  status?: number
  /** The provider's error code (OpenAI error JSON), when it gave one. */
  code?: string
  /** The provider's own error message (or the start of its answer when that is not JSON), when it answered one. */
  providerMessage?: string
  /** The caller's request is at fault (a 400 or 413 about the body): trying another provider will not help. */
  callerFault?: boolean
  /** The provider could not be reached at all (refused, reset, timed out before answering). */
  unreachable?: boolean
}

/** A call to a provider that failed: an ExternalError whose typed details say what the provider answered. */
export class ProviderCallError extends ExternalError {
  declare readonly details: ProviderCallDetails

  constructor(message: string, details: ProviderCallDetails = {}) {
    super(message, {code: 'PROVIDER_CALL_FAILED', details})
  }
}

export interface SignedCall {
  endpoint: string
  /** The provider at `endpoint`: every request is signed for it alone (replayed elsewhere, it is refused). */
  provider: string
  signer: Signer
  domain: TypedDataDomain
  streamId: bigint
}

const CALLER_FAULT_CODES = new Set(['invalid_request', 'too_large', 'context_length_exceeded', 'unsupported_parameter', 'unsupported_value'])

async function errorOf(response: Response, what: string): Promise<ProviderCallError> {
  const text = await response.text().catch(() => '')
  let code: string | undefined
  let message = text.slice(0, 300)
  try {
    const parsed = JSON.parse(text) as {error?: {message?: string; code?: string}}
    code = parsed.error?.code
    message = parsed.error?.message ?? message
  } catch {
    // not JSON: keep the text
  }
  return new ProviderCallError(`${what} answered ${response.status}${code ? ` ${code}` : ''}: ${message}`, {
    status: response.status,
    code,
    providerMessage: message,
    callerFault: (response.status === 400 || response.status === 413) && (code === undefined || CALLER_FAULT_CODES.has(code)),
  })
}

function unreachable(error: unknown, what: string): ProviderCallError {
  if (error instanceof ProviderCallError) return error
  const cause = (error as {cause?: {code?: string; message?: string}}).cause
  const reason = cause?.code ?? cause?.message ?? (error as Error).message
  return new ProviderCallError(`${what} failed: ${reason}`, {unreachable: true})
}

export interface GenerationHandlers {
  /** Every streamed chunk with a choice: its text (may be empty) and token ids. */
  onChunk(text: string, tokens: number[]): void
}

export interface GenerationResult {
  requestId: string
  /** This generator's tokens (the resumed ones not included), the end-of-generation token included. */
  tokens: number[]
  text: string
  end: OgpuResponseEnd
}

/**
 * POSTs a signed generation with `stream: true` and reads its SSE to the end (the receipt). Rejects with a
 * ProviderCallError; `tokensSeen()` of the handlers tells the caller how far it got. Times out when the first byte
 * takes longer than `firstByteTimeoutMs` or two chunks are further apart than `idleTimeoutMs`.
 */
export async function generateOn(
  call: SignedCall & {route: Route; body: string; requestId: string; signal?: AbortSignal; firstByteTimeoutMs: number; idleTimeoutMs: number},
  handlers: GenerationHandlers,
): Promise<GenerationResult> {
  const {headers, auth} = await signedRequestHeaders(call.signer, call.domain, call.streamId, call.provider, call.body, {requestId: call.requestId})
  const what = `${call.endpoint}${ROUTE_PATHS[call.route]}`
  const controller = new AbortController()
  const onAbort = () => controller.abort(call.signal?.reason)
  call.signal?.addEventListener('abort', onAbort, {once: true})
  let timer = setTimeout(() => controller.abort(new Error(`no answer within ${call.firstByteTimeoutMs} ms`)), call.firstByteTimeoutMs)
  const idle = () => {
    clearTimeout(timer)
    timer = setTimeout(() => controller.abort(new Error(`stalled for ${call.idleTimeoutMs} ms`)), call.idleTimeoutMs)
  }
  try {
    let response: Response
    try {
      response = await fetch(what, {method: 'POST', headers: {...headers, 'content-type': 'application/json', accept: 'text/event-stream'}, body: call.body, signal: controller.signal})
    } catch (error) {
      throw unreachable(controller.signal.reason instanceof Error ? controller.signal.reason : error, what)
    }
    if (!response.ok) throw await errorOf(response, what)
    if (!response.body) throw new ProviderCallError(`${what} answered without a body.`)
    const tokens: number[] = []
    let text = ''
    let end: OgpuResponseEnd | undefined
    let done = false
    try {
      for await (const event of readSse(response.body as unknown as AsyncIterable<Uint8Array>)) {
        idle()
        if (event.data === '[DONE]') {
          done = true
          break
        }
        let chunk: {error?: {message?: string; code?: string}; choices?: Array<{delta?: {content?: string}; text?: string}>; ogpu?: {tokens?: number[]} & Partial<OgpuResponseEnd>}
        try {
          chunk = JSON.parse(event.data)
        } catch {
          throw new ProviderCallError(`${what} sent a chunk that is not JSON: ${event.data.slice(0, 100)}`)
        }
        if (chunk.error) throw new ProviderCallError(`${what} failed mid-stream: ${chunk.error.message ?? chunk.error.code}`, {code: chunk.error.code, ...(chunk.error.message ? {providerMessage: chunk.error.message} : {})})
        const choice = chunk.choices?.[0]
        if (choice) {
          const piece = (call.route === 'chat' ? choice.delta?.content : choice.text) ?? ''
          const ids = Array.isArray(chunk.ogpu?.tokens) ? chunk.ogpu.tokens : []
          tokens.push(...ids)
          text += piece
          handlers.onChunk(piece, ids)
        } else if (chunk.ogpu?.receipt && chunk.ogpu.signature) {
          end = chunk.ogpu as OgpuResponseEnd
        }
      }
    } catch (error) {
      throw unreachable(controller.signal.aborted && controller.signal.reason instanceof Error ? controller.signal.reason : error, what)
    }
    if (!done) throw new ProviderCallError(`${what} ended the stream before [DONE].`, {unreachable: true})
    if (!end) throw new ProviderCallError(`${what} ended the response without a receipt.`)
    return {requestId: auth.requestId, tokens, text, end}
  } finally {
    clearTimeout(timer)
    call.signal?.removeEventListener('abort', onAbort)
  }
}

async function postJson<T>(url: string, body: string, headers: Record<string, string>, timeoutMs: number, signal?: AbortSignal): Promise<T> {
  let response: Response
  const signals = [AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])]
  try {
    response = await fetch(url, {method: 'POST', headers: {...headers, 'content-type': 'application/json'}, body, signal: AbortSignal.any(signals)})
  } catch (error) {
    throw unreachable(error, url)
  }
  if (!response.ok) throw await errorOf(response, url)
  try {
    return (await response.json()) as T
  } catch (error) {
    throw new ProviderCallError(`${url} answered a body that is not JSON (${(error as Error).message}).`)
  }
}

/** POST /v1/ogpu/verify (signed): the provider's verdict on a claimed part. */
export async function verifyOn(call: SignedCall & {request: VerifyCallBody; timeoutMs: number; signal?: AbortSignal}): Promise<VerifyCallResult> {
  const body = JSON.stringify(call.request)
  const {headers} = await signedRequestHeaders(call.signer, call.domain, call.streamId, call.provider, body)
  return postJson<VerifyCallResult>(`${call.endpoint}/v1/ogpu/verify`, body, headers, call.timeoutMs, call.signal)
}

/** POST /v1/ogpu/vouchers: the client's newest cumulative voucher (the signature authenticates it). */
export async function postVoucher(endpoint: string, voucher: VoucherCallBody, timeoutMs: number): Promise<unknown> {
  return postJson(`${endpoint}/v1/ogpu/vouchers`, JSON.stringify(voucher), {}, timeoutMs)
}

/** POST /v1/ogpu/evidence (signed): what a council member checks in a dispute. */
export async function postEvidence(call: SignedCall & {evidence: EvidenceCallBody; timeoutMs: number}): Promise<unknown> {
  const body = JSON.stringify(call.evidence)
  const {headers} = await signedRequestHeaders(call.signer, call.domain, call.streamId, call.provider, body)
  return postJson(`${call.endpoint}/v1/ogpu/evidence`, body, headers, call.timeoutMs)
}

/** The provider calls the gateway makes (ports: tests fake them). */
export interface ProviderCalls {
  generate: typeof generateOn
  verify: typeof verifyOn
  voucher: typeof postVoucher
  evidence: typeof postEvidence
}

/** The calls over HTTP. */
export const httpProviderCalls: ProviderCalls = {generate: generateOn, verify: verifyOn, voucher: postVoucher, evidence: postEvidence}
