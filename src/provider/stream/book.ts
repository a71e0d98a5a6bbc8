/**
 * The provider's durable book of its streams: what it charged on each stream (its signed receipts and
 * verifications), the newest voucher the client signed, what it redeemed on chain, the request ids it accepted (the
 * replay window), and its dispute votes (salts).
 *
 * It is a journaled store (../journal.ts) of its own, in `<provider dir>/streams/`. What costs money when lost is
 * fsynced before anyone is told: a voucher before /v1/ogpu/vouchers answers 200, a verdict salt before its commit is
 * sent. Charges and accepted request ids are group-committed (written within the event-loop turn after the response
 * ends): a charge lost in a crash only under-counts the client's unpaid credit, and a request id is also kept in
 * memory for the life of the process; after a restart the journal holds every id whose response ended (see
 * `seenRequest`).
 */
import {join} from 'node:path'

import {JournalStore} from '../journal.js'

export interface VoucherEntry {
  /** cumulativeAmount, wei (decimal string). */
  amount: string
  signature: string
  /** Unix ms when it was stored. */
  at: number
}

export interface StreamBookEntry {
  streamId: string
  requests: number
  verifications: number
  promptTokens: number
  completionTokens: number
  /** Sum of the charges of every response and verification, wei (decimal string). */
  charged: string
  voucher?: VoucherEntry
  /** What the chain says this provider redeemed on the stream, wei (decimal string). */
  redeemed: string
  redeemTx?: string
  /** Unix ms of the last request. */
  lastAt?: number
}

export interface DisputeVoteEntry {
  disputeId: string
  streamId: string
  accept: boolean
  /** Secret until revealed: never logged. */
  salt: string
  commitment: string
  reason: string
  commit?: {status: 'sent' | 'done' | 'failed'; tx?: string; error?: string}
  reveal?: {status: 'sent' | 'done' | 'failed'; tx?: string; error?: string}
}

export interface StreamBookData {
  streams: Record<string, StreamBookEntry>
  /** Accepted request ids → their expiry (unix seconds); pruned once expired. */
  seen: Record<string, number>
  disputes: Record<string, DisputeVoteEntry>
}

export type StreamBookRecord =
  | {t: 'request'; streamId: string; requestId: string; expiry: number; at: number}
  | {t: 'charge'; streamId: string; requestId: string; kind: 'generation' | 'verification'; promptTokens: number; completionTokens: number; amount: string; at: number}
  | {t: 'voucher'; streamId: string; amount: string; signature: string; at: number}
  | {t: 'redeemed'; streamId: string; amount: string; tx?: string}
  | {t: 'dispute-vote'; disputeId: string; streamId: string; accept: boolean; salt: string; commitment: string; reason: string}
  | {t: 'dispute-tx'; disputeId: string; step: 'commit' | 'reveal'; status: 'sent' | 'done' | 'failed'; tx?: string; error?: string}

const entryOf = (state: StreamBookData, streamId: string): StreamBookEntry =>
  (state.streams[streamId] ??= {streamId, requests: 0, verifications: 0, promptTokens: 0, completionTokens: 0, charged: '0', redeemed: '0'})

export function applyBookRecord(state: StreamBookData, r: StreamBookRecord): void {
  switch (r.t) {
    case 'request': {
      const nowSeconds = Math.floor(r.at / 1000)
      for (const [id, expiry] of Object.entries(state.seen)) if (expiry < nowSeconds) delete state.seen[id]
      state.seen[r.requestId] = r.expiry
      return
    }
    case 'charge': {
      const e = entryOf(state, r.streamId)
      if (r.kind === 'generation') e.requests++
      else e.verifications++
      e.promptTokens += r.promptTokens
      e.completionTokens += r.completionTokens
      e.charged = (BigInt(e.charged) + BigInt(r.amount)).toString()
      e.lastAt = r.at
      return
    }
    case 'voucher': {
      const e = entryOf(state, r.streamId)
      if (!e.voucher || BigInt(r.amount) > BigInt(e.voucher.amount)) e.voucher = {amount: r.amount, signature: r.signature, at: r.at}
      return
    }
    case 'redeemed': {
      const e = entryOf(state, r.streamId)
      if (BigInt(r.amount) >= BigInt(e.redeemed)) {
        e.redeemed = r.amount
        if (r.tx) e.redeemTx = r.tx
      }
      return
    }
    case 'dispute-vote':
      state.disputes[r.disputeId] = {disputeId: r.disputeId, streamId: r.streamId, accept: r.accept, salt: r.salt, commitment: r.commitment, reason: r.reason}
      return
    case 'dispute-tx': {
      const d = state.disputes[r.disputeId]
      if (d) d[r.step] = {status: r.status, ...(r.tx ? {tx: r.tx} : {}), ...(r.error ? {error: r.error} : {})}
    }
  }
}

export type StreamBookStore = JournalStore<StreamBookData, StreamBookRecord>

const initial = (): StreamBookData => ({streams: {}, seen: {}, disputes: {}})

export const streamBookDir = (providerDir: string): string => join(providerDir, 'streams')

export function openStreamBook(providerDir: string): StreamBookStore {
  return JournalStore.open<StreamBookData, StreamBookRecord>({dir: streamBookDir(providerDir), initial, apply: applyBookRecord, compactEvery: 2000})
}

/**
 * The book's record of a StreamMarket `VoucherRedeemed` event (its decoded args), when `provider` redeemed: the chain's
 * redeemed total afterwards. Undefined for another provider's redemption.
 */
export function redeemedRecord(args: {streamId?: unknown; provider?: unknown; redeemed?: unknown}, provider: string, tx: string): StreamBookRecord | undefined {
  if (typeof args.provider !== 'string' || args.provider.toLowerCase() !== provider.toLowerCase()) return undefined
  return {t: 'redeemed', streamId: String(args.streamId), amount: String(args.redeemed), tx}
}

/** What the client owes on the stream beyond its newest voucher, wei (never negative). */
export function unpaidOf(entry: StreamBookEntry | undefined): bigint {
  if (!entry) return 0n
  const unpaid = BigInt(entry.charged) - BigInt(entry.voucher?.amount ?? '0')
  return unpaid > 0n ? unpaid : 0n
}

/** What the newest voucher holds beyond what was redeemed, wei. */
export function unredeemedOf(entry: StreamBookEntry | undefined): bigint {
  if (!entry?.voucher) return 0n
  const left = BigInt(entry.voucher.amount) - BigInt(entry.redeemed)
  return left > 0n ? left : 0n
}

/** A provider's credit on a stream: what it charged against what the chain guarantees it will be paid. */
export interface StreamCredit {
  /** Sum of its charges on the stream, wei. */
  charged: bigint
  /** The newest voucher's cumulative amount, wei. */
  voucher: bigint
  /** What the chain guarantees it in all: redeemed + surelyRedeemable (same read), wei. */
  guaranteed: bigint
  /** The part of the voucher that counts: min(voucher, guaranteed). A voucher beyond what its provider can surely redeem is a promise, not a payment. */
  counted: bigint
  /** charged − counted (never negative): what the provider loses if the client pays nothing more. */
  atRisk: bigint
}

/**
 * The one home of the credit rule (issue 12, attack 3): a voucher counts only up to what the provider can surely
 * redeem, `stream.redeemed + stream.surelyRedeemable` as read from the chain together (an own redeem moves an amount
 * from the second to the first, so the sum stays right while the cache is a little stale; a client's announced
 * decrease lowers it, and the provider's view is re-read on that event, well within the close notice).
 */
export function creditOf(entry: StreamBookEntry | undefined, stream: {redeemed: bigint; surelyRedeemable: bigint}): StreamCredit {
  const charged = BigInt(entry?.charged ?? '0')
  const voucher = BigInt(entry?.voucher?.amount ?? '0')
  const guaranteed = stream.redeemed + stream.surelyRedeemable
  const counted = voucher < guaranteed ? voucher : guaranteed
  const atRisk = charged > counted ? charged - counted : 0n
  return {charged, voucher, guaranteed, counted, atRisk}
}
