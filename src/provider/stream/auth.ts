/**
 * The checks of a signed stream request, before any GPU time (docs/protocol.md, "Stream tasks on the wire"), in this
 * order: headers present (401 unsigned), expiry (401 expired), body size (413), signature (401 bad_signature; an
 * unknown stream is 404 here, since it has no client to compare the signer with), that this provider serves the
 * stream (403 not_subscribed), replay (409), the client's request rate (429), its unpaid credit (402 over_credit).
 *
 * Everything after the stream lookup is synchronous, so a request id is checked and recorded atomically: two copies
 * of one request cannot both pass. A request id is recorded only when the request is accepted.
 */
import type {TypedDataDomain} from 'ethers'

import {HttpStatusError} from '../../http/index.js'

import {bodyHashOf, MAX_REQUEST_TTL, type RefusalCode, REFUSALS, STREAM_HEADERS, STREAM_REQUEST_TYPES, type StreamRequestAuth} from '../../protocol/stream.js'
import {recoverTypedData} from '../../protocol/typed-data-cache.js'
import type {StreamInfo} from './market.js'

export interface StreamLimits {
  /** Largest request body, bytes. Defaults to 1 MiB. */
  maxBodyBytes: number
  /** Largest max_tokens a request may ask for. Defaults to 4096. */
  maxTokens: number
  /** Largest prompt, tokens (resumed tokens included). Defaults to 8192 (the context bounds it further). */
  maxPromptTokens: number
  /** Requests per second per client (token bucket refill). Defaults to 20. */
  ratePerSecond: number
  /** Burst of the token bucket. Defaults to 40. */
  rateBurst: number
  /** Most a client may owe on a stream beyond its newest voucher, wei. Defaults to 1 oGPU. */
  creditLimit: bigint
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  maxBodyBytes: 1024 * 1024,
  maxTokens: 4096,
  maxPromptTokens: 8192,
  ratePerSecond: 20,
  rateBurst: 40,
  creditLimit: 10n ** 18n,
}

/** A refused stream request: an {@link HttpStatusError} whose status is fixed by its refusal code (REFUSALS). */
export class Refusal extends HttpStatusError {
  declare readonly code: RefusalCode
  constructor(code: RefusalCode, message: string, param?: string) {
    super(REFUSALS[code], code, message, {param})
  }
}

/** A per-key token bucket. */
export class RateLimiter {
  private readonly buckets = new Map<string, {tokens: number; at: number}>()
  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {}

  /** Takes one token for `key`; false when its bucket is empty. */
  take(key: string, nowMs = Date.now()): boolean {
    const bucket = this.buckets.get(key) ?? {tokens: this.burst, at: nowMs}
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((nowMs - bucket.at) / 1000) * this.perSecond)
    bucket.at = nowMs
    this.buckets.set(key, bucket)
    if (bucket.tokens < 1) return false
    bucket.tokens -= 1
    return true
  }
}

/**
 * The signed fields of a request to `provider` (this provider: a request signed for another one does not verify).
 * Throws a Refusal (unsigned) when a header is missing or malformed. Without `body` (before it is read), the body hash
 * is left empty: callers check the headers first, so an unsigned request never gets its body read.
 */
export function readAuthHeaders(headers: Record<string, string | string[] | undefined>, body: Uint8Array | undefined, provider: string): {auth: StreamRequestAuth; signature: string} {
  const get = (name: string) => {
    const v = headers[name]
    return Array.isArray(v) ? v[0] : v
  }
  const missing = Object.values(STREAM_HEADERS).filter((h) => !get(h))
  if (missing.length > 0) throw new Refusal('unsigned', `The request is not signed: header(s) ${missing.join(', ')} missing. Send requests through an ogpu gateway (ogpu client gateway).`)
  const streamText = get(STREAM_HEADERS.streamId)!
  const expiryText = get(STREAM_HEADERS.expiry)!
  const requestId = get(STREAM_HEADERS.requestId)!
  if (!/^\d{1,77}$/.test(streamText)) throw new Refusal('unsigned', `${STREAM_HEADERS.streamId} "${streamText}" is not a stream id.`)
  if (!/^\d{1,15}$/.test(expiryText)) throw new Refusal('unsigned', `${STREAM_HEADERS.expiry} "${expiryText}" is not unix seconds.`)
  if (!/^0x[0-9a-fA-F]{64}$/.test(requestId)) throw new Refusal('unsigned', `${STREAM_HEADERS.requestId} must be 32 bytes of hex (0x + 64 digits).`)
  return {
    auth: {streamId: BigInt(streamText), provider, requestId: requestId.toLowerCase(), bodyHash: body ? bodyHashOf(body) : '', expiry: Number(expiryText)},
    signature: get(STREAM_HEADERS.signature)!,
  }
}

/** 401 expired: in the past, or further ahead than MAX_REQUEST_TTL. */
export function checkExpiry(auth: StreamRequestAuth, nowSeconds: number): void {
  if (auth.expiry < nowSeconds) throw new Refusal('expired', `The request expired at ${auth.expiry} (now ${nowSeconds}).`)
  if (auth.expiry > nowSeconds + MAX_REQUEST_TTL + 5)
    throw new Refusal('expired', `The request's expiry ${auth.expiry} is more than ${MAX_REQUEST_TTL} s ahead (now ${nowSeconds}).`)
}

/** Recovers the signer; 401 bad_signature when the signature is malformed. */
export function recoverSigner(domain: TypedDataDomain, auth: StreamRequestAuth, signature: string): string {
  try {
    return recoverTypedData(domain, STREAM_REQUEST_TYPES, auth as unknown as Record<string, unknown>, signature)
  } catch {
    throw new Refusal('bad_signature', 'The request signature is malformed.')
  }
}

/** 404 / 401 / 403: the stream exists, the signer is its client, and this provider serves it. */
export function checkStream(stream: StreamInfo, signer: string, servesModel: boolean, options: {subscribed?: boolean} = {}): void {
  if (stream.status === 'none') throw new Refusal('unknown_stream', `There is no stream ${stream.id}.`)
  if (signer !== stream.client)
    throw new Refusal('bad_signature', `The request is signed by ${signer}, not by the client of stream ${stream.id} (or the body is not what was signed, or it was signed for another provider).`)
  if (stream.status === 'closed') throw new Refusal('not_subscribed', `Stream ${stream.id} is closed.`)
  // A dispute council is drawn from the whole pool of the model: evidence is taken from the client of any stream.
  if (options.subscribed !== false && stream.subscription !== 'active' && stream.subscription !== 'unsubscribing') throw new Refusal('not_subscribed', `This provider does not serve stream ${stream.id}.`)
  if (!servesModel) throw new Refusal('not_subscribed', `This provider does not hold the model of stream ${stream.id}.`)
}
