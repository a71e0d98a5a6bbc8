/** Wires the batch-side roles (bidder, executor, council duty, scheduler) to the chain, the journal and each other. */
import type {TypedDataDomain, Wallet} from 'ethers'

import {readStake} from '../../chain/account.js'
import type {ChainContext} from '../../chain/context.js'
import type {TaskMarket} from '../../chain/contracts/task-market.js'
import type {MarketIndexer} from '../../market/indexer.js'
import type {ChainClock} from '../chain-clock.js'
import {fetchServedItems, memberSeed} from '../council-check.js'
import type {Jobs} from '../jobs.js'
import type {Logger} from '../log.js'
import type {Strategy} from '../strategy.js'
import type {MaterialsCache} from '../task-materials.js'
import type {SendTx} from '../tx-queue.js'
import {Bidder} from './bidder.js'
import {CouncilDuty} from './council-duty.js'
import {Executor} from './executor.js'
import type {Models, TaskRecords} from './ports.js'
import {Scheduler} from './scheduler.js'
import type {ProviderDaemonOptions, ProviderDaemonPorts} from './types.js'

export interface BatchRoleDeps {
  chain: ChainContext
  /** The provider's wallet, connected. */
  wallet: Wallet
  /** The TaskMarket, signing with the wallet. */
  market: TaskMarket
  records: TaskRecords
  indexer: MarketIndexer
  clock: ChainClock
  sendTx: SendTx
  strategy: Strategy
  materials: MaterialsCache
  jobs: Jobs
  models: Models
  domain: TypedDataDomain
  log: Logger
  signal: AbortSignal
  options: ProviderDaemonOptions
  ports: ProviderDaemonPorts
  state: {bidding(): boolean; draining(): boolean; stopping(): boolean; vramGiB(): number}
  warnOnce(key: string, message: string): void
}

export function composeBatchRoles(d: BatchRoleDeps): {bidder: Bidder; executor: Executor; council: CouncilDuty; scheduler: Scheduler} {
  const {chain, wallet, market, indexer, models, state} = d
  const me = wallet.address
  const o = d.options
  const common = {address: me, records: d.records, log: d.log, clock: d.clock, sendTx: d.sendTx}
  const {domain, strategy} = d
  const bidder = new Bidder(
    {
      ...common,
      tasks: indexer,
      models,
      materials: d.materials,
      freeStake: async () => (await readStake(chain, me)).free,
      strategy,
      // A bid's gas depends on the bids it lands among (the bid tree compares more prices when it lands higher, and
      // an eviction unlocks a stake): bids racing ours change it between the estimate and the block. Headroom
      // keeps a bid that is valid in its block from running out of gas.
      bid: async (taskId, price) => market.bid(taskId, price, {gasLimit: ((await market.bid.estimateGas(taskId, price)) * 13n) / 10n}),
      bidding: state.bidding,
      vramGiB: state.vramGiB,
    },
    {minPricePer1k: o.minPricePer1k, gpuSecondPrice: o.gpuSecondPrice, margin: o.margin, maxConcurrentTasks: o.maxConcurrentTasks},
  )
  const executor = new Executor({
    ...common,
    tasks: indexer,
    models,
    materials: d.materials,
    jobs: d.jobs,
    commitCheckpoint: (taskId, k, root) => market.commitCheckpoint(taskId, k, root),
    draining: state.draining,
    signal: d.signal,
    warnOnce: d.warnOnce,
    beforeItem: d.ports.beforeItem,
    transformResult: d.ports.transformResult,
    servingItems: d.ports.servingItems,
  })
  const council = new CouncilDuty({
    ...common,
    models,
    materials: d.materials,
    jobs: d.jobs,
    seedOf: (taskId, k, seedBlock) => memberSeed(chain, taskId, k, me, seedBlock),
    endpointOf: async (address) => (await chain.registry.providerOf(address)).endpoint,
    fetchItems: (request) => fetchServedItems({...request, signer: wallet, domain}),
    market,
    stopping: state.stopping,
    mayReveal: d.ports.mayReveal,
  })
  const scheduler = new Scheduler({
    ...common,
    jobs: d.jobs,
    bidder,
    executor,
    council,
    market,
    forgetMaterials: (taskId) => d.materials.delete(taskId),
    bidding: state.bidding,
    draining: state.draining,
  })
  return {bidder, executor, council, scheduler}
}
