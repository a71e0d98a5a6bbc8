import {join} from 'node:path'

import type {ChainContext} from '../chain/context.js'
import {type AmountJson, amountJson} from '../chain/units.js'
import type {OgpuPaths} from '../config/paths.js'
import {UserError} from '../errors/index.js'
import {MarketIndexer} from './indexer.js'
import {type IndexedTask, type TaskStatus, TASK_STATUS} from './types.js'

/** An indexer over the chain's TaskMarket, resuming from a snapshot under the data dir. */
export async function syncedIndexer(chain: ChainContext, paths: OgpuPaths): Promise<MarketIndexer> {
  const indexer = new MarketIndexer({
    provider: chain.provider,
    market: chain.network.contracts.taskMarket,
    fromBlock: chain.network.deployBlock,
    snapshotPath: join(paths.dataDir, 'index', `${chain.network.name}-${chain.network.chainId}-market.json`),
  })
  await indexer.sync()
  return indexer
}

/** A task as `--json` prints it: the indexed task's plain fields as they are, amounts as decimal strings with their wei. */
export interface TaskJson
  extends Pick<IndexedTask, 'id' | 'status' | 'client' | 'specHash' | 'specUri' | 'dataRoot' | 'modelHash' | 'itemCount' | 'checkpoints' | 'councilSize' | 'maxBids'> {
  maxPrice: AmountJson
  councilFeePerVote: AmountJson
  collateral: AmountJson
  escrow: AmountJson
  biddingEnd: string
  /** ISO time before which the task cannot be assigned (its minimum open time), even with the bid cap reached. */
  assignableAt: string
  bids: Array<{index: number; provider: string; price: AmountJson; block: number}>
  bestBid: {index: number; provider: string; price: AmountJson} | null
  executor: string | null
  price: AmountJson | null
  /** The seated council, drawn from the model's staked pool (empty while it is pending). */
  council: string[]
  /** Whether the council of the current round is seated; false after assign or an undecided round, until seatCouncil. */
  councilSeated: boolean
  /** The block whose hash seeds the next council draw (null before assignment). */
  drawBlock: number | null
  deadline: string | null
  checkpointList: Array<{
    k: number
    state: string
    resultRoot: string
    verdicts: Array<{voter: string; committed: boolean; revealed: boolean; accept: boolean | null; slashed: AmountJson | null}>
    approvals: number | null
    rejections: number | null
    executorPaid: AmountJson | null
    feePerVoter: AmountJson | null
  }>
  executorPaid: AmountJson
  clientRefund: AmountJson
  failure: {k: number; reason: string; executorSlashed: AmountJson; rewardPerRejecter: AmountJson; slashToClient: AmountJson} | null
  confirmed: boolean
}

const iso = (seconds: number | undefined): string | null => (seconds ? new Date(seconds * 1000).toISOString() : null)

export function taskJson(task: IndexedTask): TaskJson {
  const best = task.bestIndex === undefined ? undefined : task.bids.find((bid) => bid.index === task.bestIndex)
  return {
    id: task.id,
    status: task.status,
    client: task.client,
    specHash: task.specHash,
    specUri: task.specUri,
    dataRoot: task.dataRoot,
    modelHash: task.modelHash,
    itemCount: task.itemCount,
    checkpoints: task.checkpoints,
    councilSize: task.councilSize,
    maxBids: task.maxBids,
    maxPrice: amountJson(task.maxPrice),
    councilFeePerVote: amountJson(task.councilFeePerVote),
    collateral: amountJson(task.collateral),
    escrow: amountJson(task.escrow),
    biddingEnd: iso(task.biddingEnd)!,
    assignableAt: iso(task.assignableAt) ?? iso(task.biddingEnd)!,
    bids: task.bids.map((bid) => ({index: bid.index, provider: bid.provider, price: amountJson(bid.price), block: bid.block})),
    bestBid: best ? {index: best.index, provider: best.provider, price: amountJson(best.price)} : null,
    executor: task.executor ?? null,
    price: task.price === undefined ? null : amountJson(task.price),
    council: task.council,
    councilSeated: task.councilSeated ?? false,
    drawBlock: task.drawBlock ?? null,
    deadline: iso(task.deadline),
    checkpointList: task.checkpointList.filter(Boolean).map((cp) => ({
      k: cp.k,
      state: cp.state,
      resultRoot: cp.resultRoot,
      verdicts: Object.values(cp.verdicts).map((v) => ({
        voter: v.voter,
        committed: v.commitment !== undefined,
        revealed: v.accept !== undefined,
        accept: v.accept ?? null,
        slashed: v.slashed === undefined ? null : amountJson(v.slashed),
      })),
      approvals: cp.approvals ?? null,
      rejections: cp.rejections ?? null,
      executorPaid: cp.executorPaid === undefined ? null : amountJson(cp.executorPaid),
      feePerVoter: cp.feePerVoter === undefined ? null : amountJson(cp.feePerVoter),
    })),
    executorPaid: amountJson(task.executorPaid),
    clientRefund: amountJson(task.clientRefund),
    failure: task.failure
      ? {
          k: task.failure.k,
          reason: task.failure.reason,
          executorSlashed: amountJson(task.failure.executorSlashed),
          rewardPerRejecter: amountJson(task.failure.rewardPerRejecter),
          slashToClient: amountJson(task.failure.slashToClient),
        }
      : null,
    confirmed: task.confirmed ?? false,
  }
}

export function requireTask(indexer: MarketIndexer, id: number): IndexedTask {
  const task = indexer.task(id)
  if (!task)
    throw new UserError(`No task ${id} on this network.`, {code: 'TASK_NOT_FOUND', hint: 'Run `ogpu task list` to see the tasks.'})
  return task
}

export function parseTaskId(text: string): number {
  if (!/^\d+$/.test(text)) throw new UserError(`"${text}" is not a task id.`, {code: 'INVALID_TASK_ID', hint: 'Task ids are whole numbers, e.g. 3.'})
  return Number(text)
}

export function parseStatus(text: string): TaskStatus {
  if (!(TASK_STATUS as readonly string[]).includes(text) || text === 'none')
    throw new UserError(`Unknown task status "${text}".`, {code: 'INVALID_STATUS', hint: `Use one of: ${TASK_STATUS.slice(1).join(', ')}.`})
  return text as TaskStatus
}
