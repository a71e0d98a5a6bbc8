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
}

export function streamMarketContract(address: string, runner: Provider | Signer): StreamMarket {
  return streamMarketAt(address, runner)
}

const hex = (s: string) => s.toLowerCase().replace(/^0x/, '')

/** Reads a stream and `provider`'s subscription to it (status none when the stream does not exist). */
export async function readStream(market: StreamMarket, id: bigint, provider: string): Promise<StreamInfo> {
  const [s, sub] = await Promise.all([market.getStream(id), market.subscription(id, provider)])
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

export class StreamCache {
  private readonly entries = new Map<string, Entry>()
  /** RPC reads made (for tests and status: the steady state makes none per request). */
  reads = 0

  constructor(
    private readonly market: StreamMarket,
    private readonly me: string,
    private readonly ttlMs = 5000,
  ) {}

  /** The stream as cached; reads it when never seen, refreshes it in the background when stale. */
  async get(id: bigint): Promise<StreamInfo> {
    const key = id.toString()
    const entry = this.entries.get(key)
    if (entry?.info) {
      if (Date.now() - entry.fetchedAt > this.ttlMs && !entry.pending) void this.refresh(id).catch(() => {})
      return entry.info
    }
    return entry?.pending ?? this.refresh(id)
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
