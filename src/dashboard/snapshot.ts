/**
 * The dashboard's model: plain, JSON-safe data built from the indexer's market state, chain reads, the providers'
 * status endpoints and the stream source. Pure functions, no I/O, no ink/react: `ogpu tui --once/--json` print it,
 * and the Ink app renders the very same pieces (built with the same functions, memoized per piece).
 *
 * Built for scale: the auction book is windowed (only `limit` rows from `offset` are materialised, whatever the
 * number of tasks), and everything else is a single pass over the tasks.
 *
 * This file assembles the snapshot; its panes are built in ./auction.ts, ./pulse.ts and ./wallet-view.ts, from the
 * inputs of ./sources.ts.
 */
import {type AuctionQuery, type AuctionView, DEFAULT_FILTER, auctionModel} from './auction.js'
import type {EventLine, MarketEvent} from './events.js'
import {describeEvent} from './events.js'
import type {ConnectionState} from './poller.js'
import {type PulseOptions, type PulseView, pulseView} from './pulse.js'
import type {SnapshotSources} from './sources.js'
import type {StreamsView} from './streams.js'
import {type WalletView, walletView} from './wallet-view.js'

// ------------------------------------------------------------------ events

export function eventLines(events: readonly MarketEvent[], n: number): EventLine[] {
  return events.slice(0, n).map((e) => ({seq: e.seq, block: e.block, name: e.name, taskId: e.taskId, text: describeEvent(e)}))
}

// ------------------------------------------------------------------ the whole snapshot

export interface ConnectionView {
  status: ConnectionState['status']
  attempt: number
  lastError: string | null
  retryInSeconds: number | null
}

export function connectionView(state: ConnectionState, nowMs = Date.now()): ConnectionView {
  return {
    status: state.status,
    attempt: state.attempt,
    lastError: state.lastError ?? null,
    retryInSeconds: state.retryAt === undefined ? null : Math.max(0, Math.ceil((state.retryAt - nowMs) / 1000)),
  }
}

export interface DashboardSnapshot {
  generatedAt: string
  network: {name: string; chainId: number; rpcUrl: string; block: number; head: number | null; chainTime: string}
  connection: ConnectionView
  auction: AuctionView
  streams: StreamsView
  wallet: WalletView | null
  pulse: PulseView
  events: EventLine[]
}

export interface SnapshotOptions extends Partial<AuctionQuery> {
  /** Events listed. Defaults to 20. */
  events?: number
  pulse?: PulseOptions
}

export function buildSnapshot(sources: SnapshotSources, options: SnapshotOptions = {}): DashboardSnapshot {
  const auction = auctionModel(sources, {
    filter: options.filter ?? DEFAULT_FILTER,
    offset: options.offset ?? 0,
    limit: options.limit ?? Infinity,
    selectedId: options.selectedId ?? null,
  })
  return {
    generatedAt: new Date().toISOString(),
    network: {
      ...sources.network,
      block: sources.market.cursor,
      head: sources.head,
      chainTime: new Date(sources.now * 1000).toISOString(),
    },
    connection: connectionView(sources.connection),
    auction: auction.view,
    streams: sources.streams,
    wallet: walletView(sources),
    pulse: pulseView(sources, options.pulse),
    events: eventLines(sources.events, options.events ?? 20),
  }
}
