/**
 * Who the batch market paid, and what it slashed: the one home of the settlement rule of ITaskMarket
 * (contracts/src/interfaces/ITaskMarket.sol), read back from the indexed events. Pure functions over IndexedTask.
 *
 * The rule, per checkpoint k once its verdict round is finalized (state 'accepted' or 'rejected'):
 *   - the outcome is the majority of the REVEALED verdicts (a tie, 0 reveals included, accepts);
 *   - each voter whose revealed verdict equals the outcome gets `feePerVoter` (CheckpointFinalized);
 *     minority voters get nothing, and a seat that did not reveal gets nothing and is slashed (VoterSlashed);
 *   - a rejection fails the task (TaskFailed): the executor's collateral is slashed, and each voter who revealed
 *     "reject" on that checkpoint gets `rewardPerRejecter`; a timeout slashes the executor and rewards no one.
 * The executor is paid pro rata per accepted checkpoint (and the rest on an early confirmation): `task.executorPaid`.
 */
import {getAddress} from 'ethers'

import type {CheckpointState, IndexedCheckpoint, IndexedTask} from './types.js'

/** What the market paid an address and slashed from it, in base units. */
export interface Earnings {
  /** Paid as executor. */
  executorPaid: bigint
  /** Council fees: paid for revealed verdicts that matched the outcome. */
  councilFees: bigint
  /** Shares of a rejected executor's slashed collateral, paid for revealed "reject" verdicts on the failing checkpoint. */
  rejectRewards: bigint
  /** Slashed as executor (a failed task) and as a council member that did not reveal. */
  slashed: bigint
}

/** One council member's verdict on one checkpoint, as the chain shows it. */
export interface VerdictState {
  committed: boolean
  revealed: boolean
  /** The revealed verdict; null before (or without) a reveal. */
  accept: boolean | null
}

/** One council member's part in one checkpoint: its verdict and what the round paid or slashed it. */
export interface CheckpointSeat extends VerdictState {
  k: number
  state: CheckpointState
  /** The council fee paid (0n on a task without fees); undefined when none was paid: round open, minority, no reveal. */
  fee: bigint | undefined
  /** The reject reward paid; undefined unless this checkpoint failed the task and this seat revealed "reject". */
  rejectReward: bigint | undefined
  /** Slashed for not revealing; undefined when not slashed. */
  slashed: bigint | undefined
}

// getAddress hashes (keccak): normalize once per call, never per checkpoint. The indexer stores checksummed addresses.
const normalize = (address: string): string => getAddress(address)

/** The checkpoint being worked on or voted on: the first one not accepted (`task.checkpoints` once all were). */
export function nextCheckpoint(task: IndexedTask): number {
  let k = 0
  while (k < task.checkpoints && task.checkpointList[k]?.state === 'accepted') k++
  return k
}

/** `voter`'s verdict on a checkpoint (every field false/null for a seat that did nothing, or no checkpoint). */
export function verdictState(cp: IndexedCheckpoint | undefined, voter: string): VerdictState {
  return verdict(cp, normalize(voter))
}

/** The fee a finalized round paid `voter`: `feePerVoter` when its revealed verdict is the outcome, else undefined. */
export function councilFeeOf(cp: IndexedCheckpoint | undefined, voter: string): bigint | undefined {
  return fee(cp, normalize(voter))
}

/** The reject reward `voter` got from a task that failed by rejection, else undefined. */
export function rejectRewardOf(task: IndexedTask, voter: string): bigint | undefined {
  return rejectReward(task, normalize(voter))
}

/** `address`'s seat, checkpoint by checkpoint (the checkpoints the chain has seen, in order; none off the council). */
export function checkpointSeats(task: IndexedTask, address: string): CheckpointSeat[] {
  return seats(task, normalize(address))
}

/** What each council member of `task` earned in council fees (every seat listed, 0n when it earned none). */
export function councilFeesByVoter(task: IndexedTask): Map<string, bigint> {
  const fees = new Map<string, bigint>()
  for (const member of task.council) {
    let total = 0n
    for (const cp of task.checkpointList) total += fee(cp, member) ?? 0n
    fees.set(member, total)
  }
  return fees
}

/**
 * What `address` earned and was slashed over `tasks`. Any tasks will do: those it had no part in add nothing
 * (only council members vote, so only their verdicts are read).
 */
export function earningsOf(address: string, tasks: Iterable<IndexedTask>): Earnings {
  const me = normalize(address)
  const earnings: Earnings = {executorPaid: 0n, councilFees: 0n, rejectRewards: 0n, slashed: 0n}
  for (const task of tasks) {
    if (task.executor === me) {
      earnings.executorPaid += task.executorPaid
      if (task.failure) earnings.slashed += task.failure.executorSlashed
    }
    for (const seat of seats(task, me)) {
      earnings.councilFees += seat.fee ?? 0n
      earnings.rejectRewards += seat.rejectReward ?? 0n
      earnings.slashed += seat.slashed ?? 0n
    }
  }
  return earnings
}

// The rule itself, on checksummed addresses.

function verdict(cp: IndexedCheckpoint | undefined, me: string): VerdictState {
  const mine = cp?.verdicts[me]
  return {committed: Boolean(mine?.commitment), revealed: mine?.accept !== undefined, accept: mine?.accept ?? null}
}

function fee(cp: IndexedCheckpoint | undefined, me: string): bigint | undefined {
  if (!cp || (cp.state !== 'accepted' && cp.state !== 'rejected') || cp.feePerVoter === undefined) return undefined
  const accept = cp.verdicts[me]?.accept
  return accept !== undefined && accept === (cp.state === 'accepted') ? cp.feePerVoter : undefined
}

function rejectReward(task: IndexedTask, me: string): bigint | undefined {
  if (task.failure?.reason !== 'rejected') return undefined
  return task.checkpointList[task.failure.k]?.verdicts[me]?.accept === false ? task.failure.rewardPerRejecter : undefined
}

function seats(task: IndexedTask, me: string): CheckpointSeat[] {
  if (!task.council.includes(me)) return []
  const rewardAt = task.failure?.reason === 'rejected' ? task.failure.k : undefined
  const out: CheckpointSeat[] = []
  for (const cp of task.checkpointList) {
    if (!cp) continue
    out.push({
      k: cp.k,
      state: cp.state,
      ...verdict(cp, me),
      fee: fee(cp, me),
      rejectReward: cp.k === rewardAt ? rejectReward(task, me) : undefined,
      slashed: cp.verdicts[me]?.slashed,
    })
  }
  return out
}
