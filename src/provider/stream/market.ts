/**
 * The provider's view of the StreamMarket: typed reads, and a cache of the streams it is asked about so that the
 * request checks (./auth.ts) cost no RPC round trip in the steady state.
 *
 * The cache is refreshed two ways: the daemon feeds it the market's events (every tick reads the new logs of the
 * StreamMarket; an event about a stream re-reads that stream), and an entry older than `ttlMs` is re-read in the
 * background while the cached value keeps answering (stale-while-revalidate). Only a stream never seen costs a
 * round trip, once.
 */
import {getAddress, type Interface, type Provider, type Signer} from 'ethers'

import {type StreamMarket, streamMarketAt} from '../../chain/contracts/stream-market.js'
import {EventDecoder} from '../../indexer/event-decoder.js'
import {type PagedLog, pageLogs} from '../../indexer/log-pager.js'

export const STREAM_STATUS = ['none', 'active', 'closing', 'closed'] as const
export type StreamStatusName = (typeof STREAM_STATUS)[number]
export const SUBSCRIPTION_STATUS = ['none', 'active', 'unsubscribing', 'removed'] as const
export type SubscriptionStatusName = (typeof SUBSCRIPTION_STATUS)[number]

/** What the provider needs of a stream. */
export interface StreamInfo {
  id: bigint
  client: string
  status: StreamStatusName
  /** sha256 of the model's GGUF, lower-case hex without 0x. */
  modelHash: string
  pricePerKTokenGenerated: bigint
  pricePerKTokenVerified: bigint
  councilSize: number
  collateral: bigint
  closeAt: number
  commitWindow: number
  revealWindow: number
  subscriberCount: number
  deposit: bigint
  /** This provider's subscription. */
  subscription: SubscriptionStatusName
  /** What this provider has redeemed on the stream (read with `surelyRedeemable`, so the two agree). */
  redeemed: bigint
  /**
   * What this provider can surely redeem on the stream: its allowance left less any announced decrease. Only its own
   * redeems lower it (and raise `redeemed` by as much), so redeemed + surelyRedeemable is what the chain guarantees
   * it, until the client announces a decrease (an event re-reads the stream).
   */
  surelyRedeemable: bigint
}

export function streamMarketContract(address: string, runner: Provider | Signer): StreamMarket {
  return streamMarketAt(address, runner)
}

const hex = (s: string) => s.toLowerCase().replace(/^0x/, '')

/** Reads a stream and `provider`'s subscription to it (status none when the stream does not exist). */
export async function readStream(market: StreamReads, id: bigint, provider: string): Promise<StreamInfo> {
  const [s, sub, redeemed, surelyRedeemable] = await Promise.all([
    market.getStream(id),
    market.subscription(id, provider),
    market.redeemed(id, provider),
    market.surelyRedeemable(id, provider),
  ])
  return {
    id,
    client: getAddress(s.client),
    status: STREAM_STATUS[Number(s.status)] ?? 'none',
    modelHash: hex(s.modelHash),
    pricePerKTokenGenerated: s.pricePerKTokenGenerated,
    pricePerKTokenVerified: s.pricePerKTokenVerified,
    councilSize: Number(s.councilSize),
    collateral: s.collateral,
    closeAt: Number(s.closeAt),
    commitWindow: Number(s.commitWindow),
    revealWindow: Number(s.revealWindow),
    subscriberCount: Number(s.subscriberCount),
    deposit: s.deposit,
    subscription: SUBSCRIPTION_STATUS[Number(sub.status)] ?? 'none',
    redeemed,
    surelyRedeemable,
  }
}

interface Entry {
  info?: StreamInfo
  fetchedAt: number
  pending?: Promise<StreamInfo>
}

/** A decoded StreamMarket event. */
export interface StreamEvent {
  name: string
  args: Record<string, unknown>
  blockNumber: number
  log: PagedLog
}

/** What the cache reads of the StreamMarket. */
export type StreamReads = Pick<StreamMarket, 'getStream' | 'subscription' | 'nextStreamId' | 'redeemed' | 'surelyRedeemable'>

export interface StreamCacheOptions {
  /** Milliseconds a cached stream answers before it is re-read in the background. Defaults to 5000. */
  ttlMs?: number
  /** Most streams kept (those this provider serves are never dropped). Defaults to 4096. */
  maxEntries?: number
  /** Milliseconds a read of nextStreamId answers "is this id created?". Defaults to 1000. */
  nextIdTtlMs?: number
}

/** What the cache answers for an id the market has not created: status none, nothing else. */
export function unknownStream(id: bigint): StreamInfo {
  return {
    id,
    client: '0x0000000000000000000000000000000000000000',
    status: 'none',
    modelHash: '',
    pricePerKTokenGenerated: 0n,
    pricePerKTokenVerified: 0n,
    councilSize: 0,
    collateral: 0n,
    closeAt: 0,
    commitWindow: 0,
    revealWindow: 0,
    subscriberCount: 0,
    deposit: 0n,
    subscription: 'none',
    redeemed: 0n,
    surelyRedeemable: 0n,
  }
}

export class StreamCache {
  private readonly entries = new Map<string, Entry>()
  /** RPC reads made (for tests and status: the steady state makes none per request). */
  reads = 0

  private readonly ttlMs: number
  private readonly maxEntries: number
  private readonly nextIdTtlMs: number
  private nextId?: {value: bigint; at: number}
  private nextIdPending?: Promise<bigint>

  constructor(
    private readonly market: StreamReads,
    private readonly me: string,
    options: StreamCacheOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 5000
    this.maxEntries = options.maxEntries ?? 4096
    this.nextIdTtlMs = options.nextIdTtlMs ?? 1000
  }

  /**
   * The stream as cached; reads it when never seen, refreshes it in the background when stale. An id the market has
   * not created yet costs no read of its own (one shared read of nextStreamId per `nextIdTtlMs` at most) and is not
   * kept: unknown ids cannot grow the cache or the RPC load.
   */
  async get(id: bigint): Promise<StreamInfo> {
    const key = id.toString()
    const entry = this.entries.get(key)
    if (entry?.info) {
      this.entries.delete(key) // most recently used last
      this.entries.set(key, entry)
      if (Date.now() - entry.fetchedAt > this.ttlMs && !entry.pending) void this.refresh(id).catch(() => {})
      return entry.info
    }
    if (entry?.pending) return entry.pending
    if (!(await this.created(id))) return unknownStream(id)
    return this.refresh(id)
  }

  /** Whether the market has created stream `id` (ids start at 1), from a shared, short-lived read of nextStreamId. */
  private async created(id: bigint): Promise<boolean> {
    if (id < 1n) return false
    const fresh = this.nextId && Date.now() - this.nextId.at <= this.nextIdTtlMs
    if (this.nextId && (id < this.nextId.value || fresh)) return id < this.nextId.value
    this.nextIdPending ??= this.market
      .nextStreamId()
      .then((value) => {
        this.reads++
        this.nextId = {value, at: Date.now()}
        return value
      })
      .finally(() => (this.nextIdPending = undefined))
    return id < (await this.nextIdPending)
  }

  /** Keeps the cache at `maxEntries`: the least recently used streams this provider does not serve go first. */
  private evict(): void {
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries) return
      if (entry.pending || (entry.info && entry.info.subscription !== 'none')) continue
      this.entries.delete(key)
    }
  }

  /** The cached value only (no read). */
  peek(id: bigint): StreamInfo | undefined {
    return this.entries.get(id.toString())?.info
  }

  /** Re-reads a stream now. */
  refresh(id: bigint): Promise<StreamInfo> {
    const key = id.toString()
    const entry = this.entries.get(key) ?? {fetchedAt: 0}
    this.entries.set(key, entry)
    this.reads++
    const pending = readStream(this.market, id, this.me)
      .then((info) => {
        entry.info = info
        entry.fetchedAt = Date.now()
        this.evict()
        return info
      })
      .finally(() => {
        if (entry.pending === pending) entry.pending = undefined
      })
    entry.pending = pending
    return pending
  }

  /** Every stream the cache knows. */
  known(): StreamInfo[] {
    return [...this.entries.values()].flatMap((e) => (e.info ? [e.info] : []))
  }
}

const decoders = new WeakMap<Interface, EventDecoder>()

/**
 * The StreamMarket's events of blocks [from, to], decoded, in chain order, one page of blocks at a time: the
 * indexer's pager (src/indexer/log-pager.ts) keeps pages small enough for nodes that refuse wide eth_getLogs ranges
 * (most public RPCs) and for memory; the indexer's decoder (src/indexer/event-decoder.ts) decodes them.
 */
export async function* streamEventPages(
  provider: Provider,
  market: StreamMarket,
  from: number,
  to: number,
  signal?: AbortSignal,
): AsyncGenerator<{events: StreamEvent[]; toBlock: number}> {
  if (to < from) return
  const iface: Interface = market.interface
  let decoder = decoders.get(iface)
  if (!decoder) {
    decoder = new EventDecoder(iface)
    decoders.set(iface, decoder)
  }
  for await (const page of pageLogs(provider, {address: await market.getAddress(), fromBlock: from, toBlock: to, signal})) {
    const events: StreamEvent[] = []
    for (const log of page.logs) {
      const parsed = decoder.parse(log)
      if (!parsed) continue
      const args: Record<string, unknown> = {}
      parsed.fragment.inputs.forEach((input, i) => (args[input.name] = parsed.args[i]))
      events.push({name: parsed.name, args, blockNumber: log.blockNumber, log})
    }
    yield {events, toBlock: page.toBlock}
  }
}
