import {existsSync, mkdirSync, readFileSync} from 'node:fs'
import {basename, dirname} from 'node:path'

import {type LogDescription, type Provider, getAddress} from 'ethers'

import {taskMarketInterface} from '../chain/contracts/task-market.js'
import {EventDecoder} from '../indexer/event-decoder.js'
import {type PagedLog, pageLogs} from '../indexer/log-pager.js'
import {writeFileDurable} from '../storage/index.js'
import {CHECKPOINT_STATE, FAIL_REASON, type IndexedBid, type IndexedCheckpoint, type IndexedTask, type MarketState} from './types.js'

export interface MarketIndexerOptions {
  provider: Provider
  /** The TaskMarket contract. */
  market: string
  /** First block to read (the deployment block). */
  fromBlock: number
  /** Blocks to stay behind the head, for chains that reorg. Defaults to 0. */
  confirmations?: number
  /** Blocks per eth_getLogs page. Defaults to 5000. */
  pageSize?: number
  /** Persist the state here after each sync and resume from it. Defaults to none (in memory). */
  snapshotPath?: string
}

export interface SyncResult {
  fromBlock: number
  toBlock: number
  events: number
}

const n = (v: unknown): number => Number(v)
const b = (v: unknown): bigint => BigInt(v as bigint)

/**
 * Rebuilds the batch market from TaskMarket events alone (no contract calls), incrementally from a cursor. Shared by
 * the task commands, the provider daemon and the TUI. Works on any JSON-RPC node: it only uses eth_blockNumber and
 * eth_getLogs.
 */
export class MarketIndexer {
  readonly state: MarketState
  private readonly decoder: EventDecoder
  private listeners = new Set<(event: LogDescription, log: PagedLog) => void>()

  constructor(private readonly options: MarketIndexerOptions) {
    this.decoder = new EventDecoder(taskMarketInterface())
    this.state = (options.snapshotPath && loadSnapshot(options.snapshotPath, options.market)) || {cursor: options.fromBlock - 1, tasks: new Map()}
  }

  /** Calls `listener` for every event applied from now on. Returns the unsubscribe function. */
  onEvent(listener: (event: LogDescription, log: PagedLog) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  task(id: number): IndexedTask | undefined {
    return this.state.tasks.get(id)
  }

  tasks(): IndexedTask[] {
    return [...this.state.tasks.values()]
  }

  /** Reads every new log up to the head (minus confirmations) and applies it. */
  async sync(signal?: AbortSignal): Promise<SyncResult> {
    const head = (await this.options.provider.getBlockNumber()) - (this.options.confirmations ?? 0)
    const fromBlock = this.state.cursor + 1
    let events = 0
    if (head >= fromBlock) {
      for await (const page of pageLogs(this.options.provider, {address: this.options.market, fromBlock, toBlock: head, step: this.options.pageSize, signal})) {
        for (const log of page.logs) {
          const parsed = this.decoder.parse(log)
          if (!parsed) continue
          this.apply(parsed, log)
          events++
          for (const listener of this.listeners) listener(parsed, log)
        }
        this.state.cursor = page.toBlock
      }
      if (this.options.snapshotPath) saveSnapshot(this.options.snapshotPath, this.options.market, this.state)
    }
    return {fromBlock, toBlock: Math.max(head, this.state.cursor), events}
  }

  private checkpoint(task: IndexedTask, k: number): IndexedCheckpoint {
    let cp = task.checkpointList[k]
    if (!cp) {
      cp = {k, state: 'none', resultRoot: '', seedBlock: 0, commitEnd: 0, revealEnd: 0, committedBlock: 0, verdicts: {}}
      task.checkpointList[k] = cp
    }
    return cp
  }

  private apply(event: LogDescription, log: PagedLog): void {
    const a = event.args
    const id = event.name === 'ConfigUpdated' ? -1 : n(a.taskId)
    const task = this.state.tasks.get(id)
    switch (event.name) {
      case 'TaskSubmitted': {
        const p = a.params
        this.state.tasks.set(id, {
          id,
          client: getAddress(a.client),
          status: 'open',
          specHash: p.specHash,
          specUri: p.specUri,
          dataRoot: p.dataRoot,
          modelHash: p.modelHash,
          itemCount: n(p.itemCount),
          checkpoints: n(p.checkpoints),
          councilSize: n(p.councilSize),
          maxBids: n(p.maxBids),
          maxPrice: b(p.maxPrice),
          councilFeePerVote: b(p.councilFeePerVote),
          collateral: b(p.collateral),
          biddingWindow: n(p.biddingWindow),
          checkpointWindow: n(p.checkpointWindow),
          commitWindow: n(p.commitWindow),
          revealWindow: n(p.revealWindow),
          softDeadline: n(p.softDeadline),
          hardDeadline: n(p.hardDeadline),
          biddingEnd: n(a.biddingEnd),
          assignableAt: n(a.assignableAt),
          escrow: b(a.escrow),
          submittedBlock: log.blockNumber,
          submittedTx: log.transactionHash,
          bids: [],
          council: [],
          checkpointList: [],
          executorPaid: 0n,
          clientRefund: 0n,
        })
        return
      }
      case 'ConfigUpdated':
        return
    }
    if (!task) return // an event of a task submitted before fromBlock: nothing to attach it to
    switch (event.name) {
      case 'BidEvicted': {
        // The bid leaves the task (a lower one takes its index in the BidPlaced that follows).
        const evicted = getAddress(a.provider)
        task.bids = task.bids.filter((bid) => bid.provider !== evicted)
        const best = task.bids.reduce<IndexedBid | undefined>((low, bid) => (low === undefined || bid.price < low.price ? bid : low), undefined)
        task.bestIndex = best?.index
        task.bestPrice = best?.price
        return
      }
      case 'BidPlaced': {
        const bid = {index: n(a.bidIndex), provider: getAddress(a.provider), price: b(a.price), block: log.blockNumber, txHash: log.transactionHash}
        task.bids.push(bid)
        // The contract's rule (the event no longer repeats it): a strictly lower price becomes the best, so ties keep the earlier bid.
        if (task.bestPrice === undefined || bid.price < task.bestPrice) {
          task.bestIndex = bid.index
          task.bestPrice = bid.price
        }
        return
      }
      case 'TaskAssigned':
        task.status = 'assigned'
        task.executor = getAddress(a.executor)
        task.price = b(a.price)
        task.council = []
        task.councilSeated = false
        task.drawBlock = n(a.drawBlock)
        task.assignedBlock = log.blockNumber
        return
      case 'CouncilSeated':
        task.council = [...a.council].map((c: string) => getAddress(c))
        task.councilSeated = true
        if (n(a.deadline) > 0) task.deadline = n(a.deadline)
        return
      case 'CouncilDrawReanchored':
        task.drawBlock = n(a.drawBlock)
        return
      case 'CouncilRedrawn': {
        // An undecided round: the council is released and a new one drawn; its round reopens at seating.
        task.council = []
        task.councilSeated = false
        task.drawBlock = n(a.drawBlock)
        this.checkpoint(task, n(a.k)).verdicts = {}
        return
      }
      case 'CheckpointCommitted': {
        const cp = this.checkpoint(task, n(a.k))
        Object.assign(cp, {state: 'voting', resultRoot: a.resultRoot, seedBlock: n(a.seedBlock), commitEnd: n(a.commitEnd), revealEnd: n(a.revealEnd), committedBlock: log.blockNumber})
        return
      }
      case 'VerdictCommitted': {
        const voter = getAddress(a.voter)
        const cp = this.checkpoint(task, n(a.k))
        cp.verdicts[voter] = {...cp.verdicts[voter], voter, commitment: a.commitment}
        return
      }
      case 'VerdictRevealed': {
        const voter = getAddress(a.voter)
        const cp = this.checkpoint(task, n(a.k))
        cp.verdicts[voter] = {...cp.verdicts[voter], voter, accept: a.accept}
        return
      }
      case 'VoterSlashed': {
        const voter = getAddress(a.voter)
        const cp = this.checkpoint(task, n(a.k))
        cp.verdicts[voter] = {...cp.verdicts[voter], voter, slashed: b(a.amount)}
        return
      }
      case 'CheckpointFinalized': {
        const cp = this.checkpoint(task, n(a.k))
        cp.state = a.accepted ? 'accepted' : 'rejected'
        cp.approvals = n(a.approvals)
        cp.rejections = n(a.rejections)
        cp.executorPaid = b(a.executorPaid)
        cp.latePenalty = b(a.latePenalty)
        cp.feePerVoter = b(a.feePerVoter)
        task.executorPaid += b(a.executorPaid)
        if (n(a.nextDeadline) > 0) task.deadline = n(a.nextDeadline)
        return
      }
      case 'TaskFinalized':
        task.status = 'finalized'
        task.confirmed = a.confirmed
        task.executorPaid += b(a.executorPaid)
        task.clientRefund += b(a.clientRefund)
        task.endedBlock = log.blockNumber
        for (const cp of task.checkpointList) if (cp?.state === 'voting') cp.state = CHECKPOINT_STATE[4]
        return
      case 'TaskFailed':
        task.status = 'failed'
        task.failure = {
          k: n(a.k),
          reason: FAIL_REASON[n(a.reason)] ?? 'rejected',
          executorSlashed: b(a.executorSlashed),
          rewardPerRejecter: b(a.rewardPerRejecter),
          slashToClient: b(a.slashToClient),
        }
        task.clientRefund += b(a.clientRefund)
        task.endedBlock = log.blockNumber
        return
      case 'TaskExpired':
        task.status = 'expired'
        task.clientRefund += b(a.clientRefund)
        task.endedBlock = log.blockNumber
        return
      case 'TaskCancelled':
        task.status = 'cancelled'
        task.clientRefund += b(a.clientRefund)
        task.endedBlock = log.blockNumber
    }
  }
}

// Snapshots: JSON with bigints tagged, written atomically.
const BIG = '$bigint:'
function saveSnapshot(path: string, market: string, state: MarketState): void {
  mkdirSync(dirname(path), {recursive: true})
  const json = JSON.stringify({market, cursor: state.cursor, tasks: [...state.tasks.values()]}, (_k, v) => (typeof v === 'bigint' ? `${BIG}${v}` : v))
  writeFileDurable(dirname(path), basename(path), json, {mode: 'umask'})
}

function loadSnapshot(path: string, market: string): MarketState | undefined {
  if (!existsSync(path)) return undefined
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8'), (_k, v) => (typeof v === 'string' && v.startsWith(BIG) ? BigInt(v.slice(BIG.length)) : v)) as {
      market: string
      cursor: number
      tasks: IndexedTask[]
    }
    if (parsed.market.toLowerCase() !== market.toLowerCase()) return undefined
    return {cursor: parsed.cursor, tasks: new Map(parsed.tasks.map((t) => [t.id, t]))}
  } catch {
    return undefined // a corrupt snapshot is rebuilt from the chain
  }
}
