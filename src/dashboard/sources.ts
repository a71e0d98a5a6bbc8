/** What the dashboard's model is built from: the indexer's market state, chain reads, the wallet, the stream source. */
import type {MarketState} from '../market/types.js'
import type {MarketEvent} from './events.js'
import type {ConnectionState} from './poller.js'
import type {ProviderStatusResult} from './provider-status.js'
import type {SpecLookup} from './specs.js'
import type {StreamsView} from './streams.js'
import type {WalletChainData} from './wallet.js'

export interface WalletInput {
  /** The wallet's name in the keystore, when it has one. */
  name: string | null
  address: string
  /** The last chain read, or null before the first. */
  chain: WalletChainData | null
  /** Why the last chain read failed, if it did. */
  chainError: string | null
  /** The provider daemon's status, or null when not asked (not registered, or not read yet). */
  status: ProviderStatusResult | null
}

export interface SnapshotSources {
  network: {name: string; chainId: number; rpcUrl: string}
  market: MarketState
  /** The chain's head block, when known. */
  head: number | null
  /** The chain's clock, unix seconds. */
  now: number
  connection: ConnectionState
  specs: SpecLookup
  /** Newest first. */
  events: readonly MarketEvent[]
  wallet: WalletInput | null
  /** Active stake of bidders (for the ladder), base units. */
  stakes: ReadonlyMap<string, bigint>
  streams: StreamsView
}
