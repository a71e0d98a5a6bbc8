/** The batch market's state as the indexer rebuilds it from events (mirrors ITaskMarket). */

export const TASK_STATUS = ['none', 'open', 'assigned', 'finalized', 'failed', 'expired', 'cancelled'] as const
export type TaskStatus = (typeof TASK_STATUS)[number]
export const CHECKPOINT_STATE = ['none', 'voting', 'accepted', 'rejected', 'cancelled'] as const
export type CheckpointState = (typeof CHECKPOINT_STATE)[number]
export const FAIL_REASON = ['rejected', 'timeout', 'undecided', 'no-council'] as const
export type FailReason = (typeof FAIL_REASON)[number]

/**
 * Whether a failure slashes the executor's collateral: a majority's rejection and a missed deadline do. A checkpoint
 * undecided twice (silence, a tie, which one dissenting seat can make) and a pool that cannot seat a council slash
 * nobody but the silent seats: the executor keeps its collateral (it is paid nothing for the failed checkpoint).
 */
export const slashesExecutor = (reason: string): boolean => reason === 'rejected' || reason === 'timeout'

/** What a failure did to the executor, in words: "executor slashed <amount>" or "no slash (...)". */
export const executorSlashText = (reason: string, slashed: string): string =>
  slashesExecutor(reason) ? `executor slashed ${slashed}` : 'no slash: the executor keeps its collateral'

/** Why a task failed, in words. */
export const FAIL_REASON_TEXT: Record<FailReason, string> = {
  rejected: 'the council rejected the work',
  timeout: 'the executor missed its deadline',
  undecided: 'two councils in a row reached no majority (silence or a tie)',
  'no-council': 'the pool could not seat a full council',
}

export const isEnded = (status: TaskStatus): boolean => ['finalized', 'failed', 'expired', 'cancelled'].includes(status)

export interface IndexedBid {
  index: number
  provider: string
  price: bigint
  block: number
  txHash: string
}

export interface IndexedVerdict {
  voter: string
  commitment?: string
  accept?: boolean
  slashed?: bigint
}

export interface IndexedCheckpoint {
  k: number
  state: CheckpointState
  resultRoot: string
  seedBlock: number
  commitEnd: number
  revealEnd: number
  committedBlock: number
  verdicts: Record<string, IndexedVerdict>
  approvals?: number
  rejections?: number
  executorPaid?: bigint
  latePenalty?: bigint
  feePerVoter?: bigint
}

export interface IndexedTask {
  id: number
  client: string
  status: TaskStatus
  specHash: string
  specUri: string
  dataRoot: string
  modelHash: string
  itemCount: number
  checkpoints: number
  councilSize: number
  maxBids: number
  maxPrice: bigint
  councilFeePerVote: bigint
  collateral: bigint
  biddingWindow: number
  checkpointWindow: number
  commitWindow: number
  revealWindow: number
  softDeadline: number
  hardDeadline: number
  /** Unix seconds when bidding closes. */
  biddingEnd: number
  /** Unix seconds before which nobody may assign the task (the deployment's minOpenTime after submission). */
  assignableAt: number
  escrow: bigint
  submittedBlock: number
  submittedTx: string
  bids: IndexedBid[]
  bestIndex?: number
  bestPrice?: bigint
  executor?: string
  price?: bigint
  /** The seated council (empty while it is not seated: after assign, and after an undecided round). */
  council: string[]
  /** Whether the current round's council is seated (TaskMarket.seatCouncil). */
  councilSeated?: boolean
  /** The block whose hash seeds the next council draw (seatCouncil works in any later block). */
  drawBlock?: number
  /** Unix seconds: the current checkpoint's deadline. */
  deadline?: number
  assignedBlock?: number
  checkpointList: IndexedCheckpoint[]
  /** Total paid to the executor so far. */
  executorPaid: bigint
  clientRefund: bigint
  failure?: {k: number; reason: FailReason; executorSlashed: bigint; rewardPerRejecter: bigint; slashToClient: bigint}
  confirmed?: boolean
  endedBlock?: number
}

export interface MarketState {
  /** Last block fully applied. */
  cursor: number
  tasks: Map<number, IndexedTask>
}
