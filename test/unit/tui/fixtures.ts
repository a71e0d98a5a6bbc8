/** Fakes for the dashboard's ports: a market of N tasks in memory, a chain clock, a wallet, scripted failures. */
import {EventEmitter} from 'node:events'

import {getAddress, parseUnits} from 'ethers'

import {EventRing} from '../../../src/dashboard/events.js'
import type {ProviderStatusResult} from '../../../src/dashboard/provider-status.js'
import type {ChainClock, DashboardPorts, MarketSource} from '../../../src/dashboard/session.js'
import {SpecBook} from '../../../src/dashboard/specs.js'
import {initialStreamsView} from '../../../src/dashboard/streams.js'
import type {WalletChainData} from '../../../src/dashboard/wallet.js'
import type {IndexedTask, MarketState, TaskStatus} from '../../../src/market/types.js'

export const oGPU = (v: string | number): bigint => parseUnits(String(v), 18)
export const NOW = 1_800_000_000
export const MODEL_A = `0x${'ab'.repeat(32)}`
export const MODEL_B = `0x${'cd'.repeat(32)}`
export const addr = (i: number): string => getAddress(`0x${(i + 1).toString(16).padStart(40, '0')}`)

export function makeTask(id: number, options: {status?: TaskStatus; bids?: number[]; model?: string; biddingEnd?: number; price?: number; assignedBlock?: number; items?: number} = {}): IndexedTask {
  const bids = (options.bids ?? []).map((price, index) => ({index, provider: addr(10 + index), price: oGPU(price), block: id * 10 + index, txHash: `0x${'00'.repeat(32)}`}))
  let bestIndex: number | undefined
  for (const bid of bids) if (bestIndex === undefined || bid.price < bids[bestIndex]!.price) bestIndex = bid.index
  const status = options.status ?? 'open'
  const task: IndexedTask = {
    id,
    client: addr(1),
    status,
    specHash: `0x${id.toString(16).padStart(64, '0')}`,
    specUri: `data:,missing-${id}`,
    dataRoot: `0x${'11'.repeat(32)}`,
    modelHash: options.model ?? MODEL_A,
    itemCount: options.items ?? 6,
    checkpoints: 2,
    councilSize: 2,
    maxBids: 4,
    maxPrice: oGPU(30),
    councilFeePerVote: oGPU(1),
    collateral: oGPU(10),
    biddingWindow: 300,
    checkpointWindow: 600,
    commitWindow: 60,
    revealWindow: 60,
    softDeadline: 0,
    hardDeadline: 0,
    biddingEnd: options.biddingEnd ?? NOW + 300,
    escrow: oGPU(34),
    submittedBlock: id * 10,
    submittedTx: `0x${'00'.repeat(32)}`,
    bids,
    bestIndex,
    bestPrice: bestIndex === undefined ? undefined : bids[bestIndex]!.price,
    council: [],
    checkpointList: [],
    executorPaid: 0n,
    clientRefund: 0n,
  }
  if (status === 'assigned' || status === 'finalized') {
    const best = bids[bestIndex ?? 0]
    task.executor = best?.provider ?? addr(10)
    task.price = options.price !== undefined ? oGPU(options.price) : (best?.price ?? oGPU(20))
    task.council = bids.filter((b) => b.index !== bestIndex).slice(0, 2).map((b) => b.provider)
    task.assignedBlock = options.assignedBlock ?? id * 10 + 5
    task.deadline = NOW + 600
  }
  return task
}

export function makeMarket(tasks: IndexedTask[], cursor = 1000): MarketState {
  return {cursor, tasks: new Map(tasks.map((t) => [t.id, t]))}
}

/** A market source whose sync can be made to fail (the RPC dropped) and that applies scripted changes when it runs. */
export class FakeMarket implements MarketSource {
  failing: Error | null = null
  syncs = 0
  private listeners = new Set<() => void>()
  private pending: Array<(state: MarketState) => void> = []
  readonly synced = new EventEmitter()
  constructor(readonly state: MarketState) {}
  onEvent(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
  /** Queues a change that the next successful sync applies (like new events on chain). */
  change(apply: (state: MarketState) => void): void {
    this.pending.push(apply)
  }
  async sync(): Promise<void> {
    this.syncs++
    if (this.failing) {
      this.synced.emit('failed')
      throw this.failing
    }
    const changes = this.pending.splice(0)
    for (const apply of changes) {
      apply(this.state)
      this.state.cursor++
      for (const l of this.listeners) l()
    }
    this.synced.emit('ok')
  }
}

export const WALLET: WalletChainData = {
  eth: oGPU(9999.5),
  ogpu: oGPU(95_000),
  staked: oGPU(5000),
  locked: oGPU(50),
  unbonding: 0n,
  unbondingEnd: 0,
  registered: true,
  endpoint: 'http://127.0.0.1:1/',
}

export function fakePorts(market: FakeMarket, options: {wallet?: WalletChainData | null; status?: ProviderStatusResult; refreshMs?: number} = {}): DashboardPorts {
  return {
    network: {name: 'devnet', chainId: 31_337, rpcUrl: 'http://127.0.0.1:8545'},
    market,
    events: new EventRing(200),
    specs: new SpecBook({fetchText: async () => 'not json'}),
    wallet: options.wallet === null ? null : {name: 'dev3', address: addr(10)},
    streams: {initial: initialStreamsView(undefined)},
    refreshMs: options.refreshMs ?? 50,
    readChainClock: async (): Promise<ChainClock> => {
      if (market.failing) throw market.failing
      return {block: market.state.cursor, time: NOW}
    },
    readWallet: async () => {
      if (market.failing) throw market.failing
      return options.wallet ?? WALLET
    },
    readStakes: async (addresses) => new Map(addresses.map((a) => [a, oGPU(1000)])),
    fetchStatus: async () => options.status ?? {reachable: false, error: 'ECONNREFUSED'},
  }
}
