/**
 * Everything `ogpu tui` reads, behind one plain interface (`DashboardPorts`): the indexer, the chain clock, the
 * wallet, bidders' stakes, provider status endpoints and the stream source. The Ink app polls these through its hooks;
 * `--once`/`--json` read them once (`snapshotOnce`). Tests hand the app fakes of the same interface.
 */
import {join} from 'node:path'

import {FetchRequest, JsonRpcProvider, Network, getAddress, isAddress, type LogDescription, type Provider} from 'ethers'

import {taskMarketInterface} from '../chain/contracts/task-market.js'
import type {ChainContext} from '../chain/context.js'
import {type ProviderRegistry, readProvider} from '../chain/contracts/registry.js'
import {listStreams, subscribersOf} from '../stream/chain.js'
import {type PagedLog, pageLogs} from '../indexer/log-pager.js'

import type {OgpuPaths} from '../config/paths.js'
import {MarketIndexer, type SyncResult} from '../market/indexer.js'
import type {MarketState} from '../market/types.js'
import {WalletStore} from '../wallet/wallet-store.js'
import {auctionModel} from './auction.js'
import {EventRing} from './events.js'
import {fetchProviderStatus, type ProviderStatusResult} from './provider-status.js'
import {specsWanted} from './pulse.js'
import {buildSnapshot, type DashboardSnapshot, type SnapshotOptions} from './snapshot.js'
import type {WalletInput} from './sources.js'
import {SpecBook} from './specs.js'
import {createStreamSource, initialStreamsView, readStreams, type StreamSource, type StreamsView, streamMarketAddress} from './streams.js'
import {readStakes, readWalletChain, type WalletChainData} from './wallet.js'

export interface ChainClock {
  block: number
  /** Unix seconds of that block. */
  time: number
}

export interface MarketSource {
  readonly state: MarketState
  sync(signal?: AbortSignal): Promise<unknown>
  /** Called for every event applied (lets a long catch-up show progress). */
  onEvent?(listener: (event: LogDescription, log: PagedLog) => void): () => void
}

/** What the dashboard reads from, live or once. */
export interface DashboardPorts {
  network: {name: string; chainId: number; rpcUrl: string}
  market: MarketSource
  events: EventRing
  specs: SpecBook
  wallet: {name: string | null; address: string} | null
  streams: {initial: StreamsView; source?: StreamSource}
  /** Milliseconds between chain polls. */
  refreshMs: number
  /** Runs once before the first sync (fills the event log with what happened before the saved cursor). */
  prepare?(signal?: AbortSignal): Promise<void>
  readChainClock(signal?: AbortSignal): Promise<ChainClock>
  readWallet(address: string): Promise<WalletChainData>
  readStakes(addresses: readonly string[]): Promise<Map<string, bigint>>
  fetchStatus(endpoint: string, signal?: AbortSignal): Promise<ProviderStatusResult>
}

/**
 * The indexer as the dashboard drives it: the first sync resumes from (and saves) the CLI's snapshot under the data
 * dir; later syncs, every second or so for as long as the dashboard runs, stay in memory (writing a 10,000-task
 * snapshot every second would cost more than the sync).
 */
export class LiveMarket implements MarketSource {
  private readonly persisting: MarketIndexer
  private readonly live: MarketIndexer
  private synced = false

  constructor(options: {provider: JsonRpcProvider; market: string; fromBlock: number; snapshotPath?: string; pageSize?: number}) {
    this.persisting = new MarketIndexer(options)
    this.live = new MarketIndexer({...options, snapshotPath: undefined})
  }

  get state(): MarketState {
    return this.synced ? this.live.state : this.persisting.state
  }

  onEvent(listener: (event: LogDescription, log: PagedLog) => void): () => void {
    const off = [this.persisting.onEvent(listener), this.live.onEvent(listener)]
    return () => off.forEach((f) => f())
  }

  async sync(signal?: AbortSignal): Promise<SyncResult> {
    if (this.synced) return this.live.sync(signal)
    const result = await this.persisting.sync(signal)
    // Hand the state over to the in-memory indexer (same task objects, same cursor).
    this.live.state.cursor = this.persisting.state.cursor
    this.live.state.tasks = this.persisting.state.tasks
    this.synced = true
    return result
  }
}

export interface OpenDashboardOptions {
  paths: OgpuPaths
  network?: string
  rpc?: string
  /** A wallet name or an address. Defaults to the active wallet, if any. */
  wallet?: string
  /** Milliseconds between chain polls. Defaults to 1000 on the devnet, 3000 elsewhere. */
  refreshMs?: number
  /** Timeout of each RPC request. Defaults to 10000. */
  rpcTimeoutMs?: number
  /** Timeout of provider status requests. Defaults to 2000. */
  statusTimeoutMs?: number
}

export interface DashboardSession extends DashboardPorts {
  market: LiveMarket
  devnet: boolean
  /** Syncs and reads everything once and builds the snapshot. */
  snapshotOnce(options?: SnapshotOptions): Promise<DashboardSnapshot>
  dispose(): void
}

/** Resolves --wallet (a name or an address) or the active wallet; null when there is none. */
export function resolveDashboardWallet(paths: OgpuPaths, wallet?: string): {name: string | null; address: string} | null {
  if (wallet && isAddress(wallet)) return {name: null, address: getAddress(wallet)}
  const store = new WalletStore(paths)
  const name = wallet ?? store.activeName()
  if (!name) return null
  return {name, address: store.get(name).address}
}

export async function openDashboard(options: OpenDashboardOptions): Promise<DashboardSession> {
  const wallet = resolveDashboardWallet(options.paths, options.wallet)
  const {openChain} = await import('../chain/context.js')
  // openChain checks the endpoint, the chain id and the contracts; the dashboard then uses its own provider whose
  // requests time out (ethers' default is 5 minutes), so that a hung RPC shows as "reconnecting…" quickly.
  const checked = await openChain({paths: options.paths, network: options.network, rpc: options.rpc})
  checked.dispose()
  const {network, rpcUrl} = checked
  const request = new FetchRequest(rpcUrl)
  request.timeout = options.rpcTimeoutMs ?? 10_000
  const provider = new JsonRpcProvider(request, network.chainId, {
    staticNetwork: Network.from(network.chainId),
    batchMaxCount: 1,
    cacheTimeout: -1,
    pollingInterval: network.devnet ? 200 : 2000,
  })
  const token = checked.token.connect(provider)
  const registry = checked.registry.connect(provider)
  const market = new LiveMarket({
    provider,
    market: network.contracts.taskMarket,
    fromBlock: network.deployBlock,
    snapshotPath: join(options.paths.dataDir, 'index', `${network.name}-${network.chainId}-market.json`),
  })
  const events = new EventRing(200)
  market.onEvent(events.push)
  const specs = new SpecBook()
  const statusTimeoutMs = options.statusTimeoutMs ?? 2000
  const fetchStatus = (endpoint: string, signal?: AbortSignal) => fetchProviderStatus(endpoint, {timeoutMs: statusTimeoutMs, signal})
  const streamChain: ChainContext = {...checked, provider, token, registry, market: checked.market.connect(provider), dispose: () => {}}
  const streamSource = streamMarketAddress(network) ? marketStreamSource(streamChain, registry, fetchStatus, specs) : undefined
  const streams = {initial: initialStreamsView(streamSource), source: streamSource}

  const ports: DashboardPorts = {
    network: {name: network.name, chainId: network.chainId, rpcUrl},
    market,
    events,
    specs,
    wallet,
    streams,
    refreshMs: options.refreshMs ?? (network.devnet ? 1000 : 3000),
    prepare: (signal) => backfillEvents({provider, market: network.contracts.taskMarket, fromBlock: network.deployBlock, toBlock: market.state.cursor, ring: events, signal}),
    async readChainClock() {
      const block = await provider.getBlock('latest')
      if (!block) throw new Error('the node returned no latest block')
      return {block: block.number, time: block.timestamp}
    },
    readWallet: (address) => readWalletChain({provider, token, registry}, address),
    readStakes: (addresses) => readStakes(registry, addresses),
    fetchStatus,
  }
  return {
    ...ports,
    market,
    devnet: Boolean(network.devnet),
    snapshotOnce: (snapshotOptions) => snapshotOnce(ports, snapshotOptions),
    dispose: () => provider.destroy(),
  }
}

/** The Streams pane's source over the StreamMarket (src/stream/chain.ts) and the subscribers' status endpoints. */
function marketStreamSource(chain: ChainContext, registry: ProviderRegistry, fetchStatus: (endpoint: string, signal?: AbortSignal) => Promise<ProviderStatusResult>, specs: SpecBook): StreamSource {
  return createStreamSource({
    address: streamMarketAddress(chain.network)!,
    listStreams: async (limit, signal) => (await listStreams(chain, {limit, signal})).streams,
    subscribersOf: (id) => subscribersOf(chain, id),
    endpointOf: async (address) => (await readProvider(registry, address)).endpoint,
    fetchStatus,
    specs,
  })
}

/** Reads the streams; when their terms' model names were not known yet, reads them once more after fetching those. */
async function readStreamsWithNames(source: StreamSource, specs: SpecBook): Promise<StreamsView> {
  const first = await readStreams(source)
  const unnamed = first.kind === 'live' && first.streams.some((s) => s.model === s.modelHash.replace(/^0x/, '').slice(0, 8))
  if (!unnamed) return first
  await specs.settled(3000)
  return readStreams(source, first)
}

/** Reads everything once (sync, clock, wallet, provider status, specs of what is shown, stakes) and builds the snapshot. */
export async function snapshotOnce(ports: DashboardPorts, options: SnapshotOptions = {}): Promise<DashboardSnapshot> {
  const clock = await ports.readChainClock()
  await ports.prepare?.()
  await ports.market.sync()
  let wallet: WalletInput | null = null
  if (ports.wallet) {
    let chain: WalletChainData | null = null
    let chainError: string | null = null
    try {
      chain = await ports.readWallet(ports.wallet.address)
    } catch (error) {
      chainError = (error as Error).message.slice(0, 160)
    }
    const status = chain?.registered && chain.endpoint ? await ports.fetchStatus(chain.endpoint) : null
    wallet = {...ports.wallet, chain, chainError, status}
  }
  const query = {filter: options.filter ?? 'active', offset: options.offset ?? 0, limit: options.limit ?? Infinity, selectedId: options.selectedId ?? null}
  const preview = auctionModel({market: ports.market.state, now: clock.time, specs: ports.specs, stakes: new Map()}, query)
  const shown = preview.view.rows.slice(0, 200).map((r) => r.id)
  if (preview.view.selectedId !== null) shown.push(preview.view.selectedId)
  ports.specs.request(specsWanted(ports.market.state, shown, options.pulse))
  await ports.specs.settled(3000)
  const bidders = preview.view.selected?.ladder.map((b) => b.provider) ?? []
  const stakes = bidders.length > 0 ? await ports.readStakes(bidders).catch(() => new Map<string, bigint>()) : new Map<string, bigint>()
  return buildSnapshot(
    {
      network: ports.network,
      market: ports.market.state,
      head: clock.block,
      now: clock.time,
      connection: {status: 'live', attempt: 0, lastOkAt: Date.now()},
      specs: ports.specs,
      events: ports.events.recent(),
      wallet,
      stakes,
      streams: ports.streams.source ? await readStreamsWithNames(ports.streams.source, ports.specs) : ports.streams.initial,
    },
    options,
  )
}

/**
 * Fills the event log with the events before `toBlock` (the indexer's saved cursor, from which it resumes): read
 * backwards in growing windows until the ring is full or the deployment block is reached. Nothing is applied to the
 * market state: these events are in it already.
 */
export async function backfillEvents(options: {provider: Provider; market: string; fromBlock: number; toBlock: number; ring: EventRing; signal?: AbortSignal}): Promise<void> {
  const {ring} = options
  if (options.toBlock < options.fromBlock || ring.seen > 0) return
  const iface = taskMarketInterface()
  const windows: Array<Array<{event: LogDescription; log: PagedLog}>> = []
  let count = 0
  let to = options.toBlock
  let span = 1000
  for (let round = 0; round < 8 && to >= options.fromBlock && count < ring.capacity; round++) {
    const from = Math.max(options.fromBlock, to - span + 1)
    const found: Array<{event: LogDescription; log: PagedLog}> = []
    for await (const page of pageLogs(options.provider, {address: options.market, fromBlock: from, toBlock: to, signal: options.signal}))
      for (const log of page.logs) {
        const event = iface.parseLog(log)
        if (event) found.push({event, log})
      }
    windows.unshift(found)
    count += found.length
    to = from - 1
    span *= 4
  }
  const all = windows.flat()
  for (const {event, log} of all.slice(Math.max(0, all.length - ring.capacity))) ring.push(event, log)
}
