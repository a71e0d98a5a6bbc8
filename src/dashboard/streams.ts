/**
 * The Streams pane's data. Stream markets (the StreamMarket contract) are still being built, so the dashboard takes
 * an optional source: without a `streamMarket` address in the network file the pane says so, and with an address
 * but no reader in this build it says that. It never shows made-up streams.
 */
import type {NetworkFile} from '../chain/networks.js'

export interface StreamRow {
  id: number
  client: string
  model: string
  /** Price per 1k generated tokens, base units. */
  pricePerKiloGenerated: string
  /** Price per 1k verified tokens, base units. */
  pricePerKiloVerified: string
  subscribers: number
  councilSize: number
  status: string
  /** Remaining deposit, base units. */
  deposit: string
}

/** Where stream rows come from (a StreamMarket reader, once one exists). */
export interface StreamSource {
  address: string
  list(signal?: AbortSignal): Promise<StreamRow[]>
}

export const NO_STREAM_MARKET = 'no stream market on this network yet'

export type StreamsView =
  | {kind: 'absent'; message: string}
  | {kind: 'unsupported'; address: string; message: string}
  | {kind: 'live'; address: string; streams: StreamRow[]; error: string | null}

/** The StreamMarket address of a network file, when it has one. */
export function streamMarketAddress(network: Pick<NetworkFile, 'contracts'>): string | undefined {
  const address = (network.contracts as unknown as Record<string, unknown>).streamMarket
  return typeof address === 'string' && address ? address : undefined
}

/** What the pane shows before (or without) reading the source. */
export function initialStreamsView(network: Pick<NetworkFile, 'contracts'>, source?: StreamSource): StreamsView {
  const address = source?.address ?? streamMarketAddress(network)
  if (!address) return {kind: 'absent', message: NO_STREAM_MARKET}
  if (!source) return {kind: 'unsupported', address, message: `stream market at ${address}; this ogpu cannot read it yet`}
  return {kind: 'live', address, streams: [], error: null}
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
