/**
 * The Streams pane's data: the StreamMarket's streams (src/chain/contracts/stream-market.ts readers: terms, subscribers, deposit) joined
 * with what their subscribers' daemons report on `GET /v1/ogpu/status` (requests, tokens, charges per stream). Without
 * a `streamMarket` address in the network file the pane says so; it never shows made-up streams.
 *
 * Rates (requests/s, tokens/s) are the growth of the subscribers' counters between two reads, so the first read has
 * none. Health compares the subscribers whose daemon answers with the stream's council size: a response needs the
 * generator and c − 1 verifiers live (ok: at least c live, degraded: some, down: none).
 */
import type {StreamInfo} from '../chain/contracts/stream-market.js'
import type {NetworkFile} from '../chain/networks.js'
import type {ProviderStatusResult} from './provider-status.js'
import type {SpecLookup, SpecRef} from './specs.js'

export type StreamHealth = 'ok' | 'degraded' | 'down' | 'unknown'

export interface StreamRow {
  id: number
  client: string
  /** The model's name from the published terms, else the start of its sha256. */
  model: string
  modelHash: string
  /** Price per 1k generated tokens, base units. */
  pricePerKiloGenerated: string
  /** Price per 1k verified tokens, base units. */
  pricePerKiloVerified: string
  /** optimistic, weighted or unanimous. */
  method: string
  subscribers: number
  councilSize: number
  status: string
  /** Remaining deposit, base units. */
  deposit: string
  /** Subscribers whose daemon answered its status endpoint (null when none was asked). */
  live: number | null
  health: StreamHealth
  /** Requests the subscribers generated for the stream (sum of their counters), or null when none reports it. */
  requests: number | null
  /** Growth of `requests` per second since the previous read, or null. */
  requestsPerSecond: number | null
  /** Growth per second, since the previous read, of the completion tokens the subscribers handled on the stream
   * (generated, and checked by prefill as verifiers: each response counts once per worker), or null. */
  tokensPerSecond: number | null
  /** What the subscribers charged the client so far (generation and verification), base units, or null. */
  spend: string | null
  openDisputes: number
}

/** Where stream rows come from. */
export interface StreamSource {
  address: string
  list(signal?: AbortSignal): Promise<StreamRow[]>
}

export const NO_STREAM_MARKET = 'no stream market on this network yet'

export type StreamsView =
  | {kind: 'absent'; message: string}
  | {kind: 'live'; address: string; streams: StreamRow[]; error: string | null}

/** The StreamMarket address of a network file, when it has one. */
export function streamMarketAddress(network: Pick<NetworkFile, 'contracts'>): string | undefined {
  const address = (network.contracts as unknown as Record<string, unknown>).streamMarket
  return typeof address === 'string' && address ? address : undefined
}

/** What the pane shows before reading the source: nothing to read without one (no stream market on the network). */
export function initialStreamsView(source: StreamSource | undefined): StreamsView {
  if (!source) return {kind: 'absent', message: NO_STREAM_MARKET}
  return {kind: 'live', address: source.address, streams: [], error: null}
}

/** Reads the source once into a view (errors are kept in the view, with the last rows). */
export async function readStreams(source: StreamSource, previous?: StreamsView, signal?: AbortSignal): Promise<StreamsView> {
  try {
    return {kind: 'live', address: source.address, streams: await source.list(signal), error: null}
  } catch (error) {
    const streams = previous?.kind === 'live' ? previous.streams : []
    return {kind: 'live', address: source.address, streams, error: (error instanceof Error ? error.message : String(error)).slice(0, 160)}
  }
}

// ------------------------------------------------------------------ the chain side, as the source reads it

/** A stream as the market reports it: the fields of the chain's StreamInfo that the pane uses. */
export type MarketStream = Pick<
  StreamInfo,
  'id' | 'client' | 'status' | 'modelHash' | 'specHash' | 'specUri' | 'pricePerKTokenGenerated' | 'pricePerKTokenVerified' | 'councilSize' | 'responseMethod' | 'deposit' | 'subscriberCount' | 'openDisputes'
>

/** What the stream source reads; `openDashboard` wires it to the chain, tests to fakes. */
export interface StreamSourcePorts {
  address: string
  /** Streams, newest first (at most `limit`). */
  listStreams(limit: number, signal?: AbortSignal): Promise<MarketStream[]>
  subscribersOf(id: bigint, signal?: AbortSignal): Promise<string[]>
  /** A provider's registered endpoint ('' when none). */
  endpointOf(address: string, signal?: AbortSignal): Promise<string>
  fetchStatus(endpoint: string, signal?: AbortSignal): Promise<ProviderStatusResult>
  /** The published terms' model names (read on request). Defaults to none: names fall back to the hash. */
  specs?: SpecLookup & {request(refs: Iterable<SpecRef>): void}
  /** Milliseconds now. Defaults to Date.now. */
  now?: () => number
}

export interface StreamSourceOptions {
  /** Streams shown. Defaults to 20. */
  limit?: number
  /** How long a provider's endpoint is remembered, ms. Defaults to 30000. */
  endpointTtlMs?: number
}

interface Totals {
  at: number
  requests: number
  tokens: number
  requestsPerSecond: number | null
  tokensPerSecond: number | null
}

/** The pane's stream source over the chain and the subscribers' status endpoints. */
export function createStreamSource(ports: StreamSourcePorts, options: StreamSourceOptions = {}): StreamSource {
  const now = ports.now ?? Date.now
  const endpoints = new Map<string, {endpoint: string; at: number}>()
  const previous = new Map<string, Totals>()
  const endpointOf = async (address: string, signal?: AbortSignal): Promise<string> => {
    const known = endpoints.get(address)
    if (known && now() - known.at < (options.endpointTtlMs ?? 30_000)) return known.endpoint
    const endpoint = await ports.endpointOf(address, signal)
    endpoints.set(address, {endpoint, at: now()})
    return endpoint
  }
  return {
    address: ports.address,
    async list(signal) {
      const streams = await ports.listStreams(options.limit ?? 20, signal)
      ports.specs?.request(streams.map((s) => ({specHash: s.specHash, specUri: s.specUri})))
      const subscribers = await Promise.all(streams.map((s) => (s.status === 'closed' ? Promise.resolve([]) : ports.subscribersOf(s.id, signal))))
      // One status read per daemon, whatever the number of streams it serves.
      const addresses = [...new Set(subscribers.flat())]
      const statuses = new Map<string, ProviderStatusResult | null>()
      await Promise.all(
        addresses.map(async (address) => {
          const endpoint = await endpointOf(address, signal).catch(() => '')
          statuses.set(address, endpoint ? await ports.fetchStatus(endpoint, signal) : null)
        }),
      )
      const at = now()
      return streams.map((s, i) => {
        const key = s.id.toString()
        const subs = subscribers[i]!
        let live = 0
        let reporting = 0
        let requests = 0
        let tokens = 0
        let spend = 0n
        for (const address of subs) {
          const status = statuses.get(address)
          if (!status?.reachable) continue
          live++
          const figures = status.streams?.[key]
          if (!figures) continue
          reporting++
          requests += figures.requests
          tokens += figures.completionTokens
          spend += BigInt(figures.charged)
        }
        // A rate needs a second or more between the reads it compares: a read sooner than that repeats the last rates.
        const before = previous.get(key)
        const seconds = before ? (at - before.at) / 1000 : 0
        let rates = {requests: before?.requestsPerSecond ?? null, tokens: before?.tokensPerSecond ?? null}
        if (reporting > 0 && (!before || seconds >= 1)) {
          rates = before ? {requests: Math.max(0, requests - before.requests) / seconds, tokens: Math.max(0, tokens - before.tokens) / seconds} : {requests: null, tokens: null}
          previous.set(key, {at, requests, tokens, requestsPerSecond: rates.requests, tokensPerSecond: rates.tokens})
        }
        const spec = ports.specs?.get(s.specHash)
        return {
          id: Number(s.id),
          client: s.client,
          model: spec?.state === 'ok' && spec.modelName ? spec.modelName : s.modelHash.replace(/^0x/, '').slice(0, 8),
          modelHash: s.modelHash,
          pricePerKiloGenerated: s.pricePerKTokenGenerated.toString(),
          pricePerKiloVerified: s.pricePerKTokenVerified.toString(),
          method: s.responseMethod,
          subscribers: s.subscriberCount,
          councilSize: s.councilSize,
          status: s.status,
          deposit: s.deposit.toString(),
          live: subs.length > 0 ? live : null,
          health: streamHealth(s.status, subs.length, live, s.councilSize),
          requests: reporting > 0 ? requests : null,
          requestsPerSecond: reporting > 0 ? rates.requests : null,
          tokensPerSecond: reporting > 0 ? rates.tokens : null,
          spend: reporting > 0 ? spend.toString() : null,
          openDisputes: s.openDisputes,
        }
      })
    },
  }
}

/** ok: at least c subscribers live; degraded: some; down: none; unknown: closed or nobody subscribed to ask. */
export function streamHealth(status: string, subscribers: number, live: number, councilSize: number): StreamHealth {
  if (status === 'closed' || subscribers === 0) return subscribers === 0 && status !== 'closed' ? 'down' : 'unknown'
  if (live >= councilSize) return 'ok'
  return live > 0 ? 'degraded' : 'down'
}
