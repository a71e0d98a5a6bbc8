/**
 * Admission of signed requests, shared by generation, verification and evidence: the checks of ../auth.ts in their
 * order, then the replay window, the client's rate and its credit (../book.ts creditOf: a voucher counts only up to
 * what this provider can surely redeem on chain). Everything after the stream lookup is
 * synchronous, so a request id is checked and recorded atomically.
 */
import type {IncomingHttpHeaders} from 'node:http'

import type {TypedDataDomain} from 'ethers'

import type {StreamRequestAuth} from '../../../protocol/stream.js'
import {checkExpiry, checkStream, RateLimiter, readAuthHeaders, recoverSigner, Refusal, type StreamLimits} from '../auth.js'
import type {StreamBackend} from '../backend.js'
import {creditOf, type StreamBookStore, type StreamCredit} from '../book.js'
import type {StreamCache, StreamInfo} from '../market.js'

/** What the API reads of the stream cache. */
export type StreamLookup = Pick<StreamCache, 'get' | 'peek'>
/** What the API uses of the stream book: its state, durable appends (vouchers), group-committed ones (the rest). */
export type ApiBook = Pick<StreamBookStore, 'state' | 'append' | 'appendSoon'>

export interface AdmissionPorts {
  /** The StreamMarket's EIP-712 domain. */
  domain: TypedDataDomain
  /** This provider's address: requests must be signed for it. */
  address: string
  streams: StreamLookup
  book: ApiBook
  /** The served models. */
  backends: () => StreamBackend[]
  limits: StreamLimits
  /** Wall clock, unix seconds. */
  now: () => number
  /** True while the daemon stops. Defaults to never. */
  stopping?: () => boolean
}

export interface Admitted {
  auth: StreamRequestAuth
  stream: StreamInfo
  /** The backend serving the stream's model (present: checkStream refuses otherwise). */
  backend: StreamBackend
  /**
   * Records the request id in memory (replays are refused from then on) and returns `journal()`, which
   * group-commits it to the book; call that once the work is done, so that no fsync runs between a request and its
   * first token. Calling `journal` again does nothing.
   */
  accept: () => () => void
}

const CREDIT_HINT = 'POST a voucher to /v1/ogpu/vouchers, and reserve enough of the deposit for this provider (`ogpu stream allowance STREAM PROVIDER AMOUNT`).'

/** The amounts behind a credit decision, for a 402's message. */
function creditText(c: StreamCredit): string {
  return `charged ${c.charged} wei, newest voucher ${c.voucher} wei, of which ${c.counted} wei counts: redeemed + surelyRedeemable on chain is ${c.guaranteed} wei`
}

export class Admission {
  private readonly rate: RateLimiter
  /** Accepted request ids → expiry, in memory (the book keeps them across restarts). */
  private readonly seen = new Map<string, number>()
  /** Per stream: the worst-case charges of the requests running now (booked charges are in the book's unpaid). */
  private readonly reserved = new Map<string, bigint>()

  constructor(private readonly ports: AdmissionPorts) {
    this.rate = new RateLimiter(ports.limits.ratePerSecond, ports.limits.rateBurst)
  }

  /**
   * 401 unsigned / expired from the headers alone, before the body is read: a request that cannot be authenticated
   * costs no body bytes (the signature over the body is checked by {@link admit} once it is read).
   */
  checkHeaders(headers: IncomingHttpHeaders): void {
    const {auth} = readAuthHeaders(headers, undefined, this.ports.address)
    checkExpiry(auth, this.ports.now())
  }

  /** 401 unsigned / expired: the signature headers of a request and its expiry (before its size and signature). */
  authOf(headers: IncomingHttpHeaders, body: Buffer): StreamRequestAuth {
    const {auth} = readAuthHeaders(headers, body, this.ports.address)
    checkExpiry(auth, this.ports.now())
    return auth
  }

  /** The checks shared by signed POSTs (body bytes already bounded by the reader). */
  /** `subscribed: false` (evidence for a dispute seat) admits the client of a stream this provider is not subscribed to. */
  async admit(headers: IncomingHttpHeaders, body: Buffer, options: {billable: boolean; subscribed?: boolean}): Promise<Admitted> {
    const {limits, book} = this.ports
    const {auth, signature} = readAuthHeaders(headers, body, this.ports.address)
    checkExpiry(auth, this.ports.now())
    const signer = recoverSigner(this.ports.domain, auth, signature)
    const stream = await this.ports.streams.get(auth.streamId)
    const backend = this.ports.backends().find((b) => b.sha256 === stream.modelHash)
    checkStream(stream, signer, Boolean(backend), {subscribed: options.subscribed})
    // From here on, synchronous: the replay check and the record of the id cannot interleave with another request.
    if (this.seenRequest(auth.requestId)) throw new Refusal('replayed', `Request ${auth.requestId} was already served.`)
    if (!this.rate.take(stream.client)) throw new Refusal('rate_limited', `Over ${limits.ratePerSecond} requests per second (burst ${limits.rateBurst}) for client ${stream.client}.`)
    if (options.billable) {
      const credit = creditOf(book.state.streams[stream.id.toString()], stream)
      if (credit.atRisk > limits.creditLimit)
        throw new Refusal('over_credit', `Stream ${stream.id} owes ${credit.atRisk} wei beyond what this provider can surely redeem (${creditText(credit)}), over the credit limit of ${limits.creditLimit} wei. ${CREDIT_HINT}`)
    }
    const accept = () => {
      this.seen.set(auth.requestId, auth.expiry)
      let journaled = false
      return () => {
        if (journaled) return
        journaled = true
        book.appendSoon({t: 'request', streamId: stream.id.toString(), requestId: auth.requestId, expiry: auth.expiry, at: Date.now()})
      }
    }
    return {auth, stream, backend: backend!, accept}
  }

  /**
   * Reserves a request's worst-case charge against the stream's credit before any GPU time, so that requests running
   * at once can never together exceed the limit: 402 over_credit, with the amounts, when what is at risk (charges
   * beyond the part of the voucher the chain guarantees) + reserved + this request's worst case is over the credit
   * limit. Returns the release, to call once the real charge is appended to
   * the book.
   */
  reserve(stream: StreamInfo, worstCase: bigint): () => void {
    const key = stream.id.toString()
    const credit = creditOf(this.ports.book.state.streams[key], stream)
    const reserved = this.reserved.get(key) ?? 0n
    const limit = this.ports.limits.creditLimit
    if (credit.atRisk + reserved + worstCase > limit)
      throw new Refusal(
        'over_credit',
        `This request may cost up to ${worstCase} wei; stream ${stream.id} owes ${credit.atRisk} wei beyond what this provider can surely redeem (${creditText(credit)}) and ${reserved} wei is reserved for requests running now, over the credit limit of ${limit} wei. ${CREDIT_HINT} Or ask for fewer tokens.`,
      )
    this.reserved.set(key, reserved + worstCase)
    let released = false
    const free = () => {
      const left = (this.reserved.get(key) ?? 0n) - worstCase
      if (left > 0n) this.reserved.set(key, left)
      else this.reserved.delete(key)
    }
    return () => {
      if (released) return
      released = true
      // The charge was just appended with appendSoon: the book applies it in its group commit, scheduled on the
      // same setImmediate queue before this. Freeing the reservation after that leaves no moment where neither the
      // reservation nor the charge counts.
      setImmediate(free)
    }
  }

  /** 503 busy while the daemon stops. */
  checkBusy(): void {
    if (this.ports.stopping?.()) throw new Refusal('busy', 'The provider is shutting down.')
  }

  private seenRequest(requestId: string): boolean {
    const now = this.ports.now()
    if (this.seen.size > 10_000) for (const [id, expiry] of this.seen) if (expiry < now) this.seen.delete(id)
    return this.seen.has(requestId) || (this.ports.book.state.seen[requestId] ?? -1) >= now
  }
}
