/**
 * Scheduler: level-triggered. Every tick it looks at each indexed task against the chain state and the journal and
 * starts what is due: an evaluation and bid, the auction's assignment or expiry, execution and commits, council
 * duty, a checkpoint's finalization or the executor's timeout. Jobs are keyed (../jobs.ts), so asking again while one
 * runs does nothing, and a restarted daemon picks up every task where the chain and its journal say it is.
 */
import type {ContractTransactionResponse} from 'ethers'

import {errorText, revertOf} from '../../chain/errors.js'
import {formatAmount} from '../../chain/units.js'
import {executorSlashText, type IndexedTask, isEnded} from '../../market/types.js'
import type {Bidder} from './bidder.js'
import type {CouncilDuty} from './council-duty.js'
import type {Executor} from './executor.js'
import {type JobRunner, nextCheckpoint, type RolePorts} from './ports.js'

/** The transactions anyone may send and others may beat us to: a revert is fine. */
export interface PermissionlessMarket {
  assign(taskId: number): Promise<ContractTransactionResponse>
  expire(taskId: number): Promise<ContractTransactionResponse>
  finalizeCheckpoint(taskId: number, k: number): Promise<ContractTransactionResponse>
  timeoutCheckpoint(taskId: number): Promise<ContractTransactionResponse>
  seatCouncil(taskId: number): Promise<ContractTransactionResponse>
}

export interface SchedulerPorts extends RolePorts {
  jobs: JobRunner
  bidder: Pick<Bidder, 'evaluate' | 'forget'>
  executor: Pick<Executor, 'consider' | 'forget'>
  council: Pick<CouncilDuty, 'consider'>
  market: PermissionlessMarket
  /** Drops the task's cached spec and data. */
  forgetMaterials(taskId: number): void
  /** New bids allowed. */
  bidding(): boolean
  /** Stopping: no new bids, executions or commits; council duty goes on. */
  draining(): boolean
}

export class Scheduler {
  constructor(private readonly ports: SchedulerPorts) {}

  consider(task: IndexedTask, now: number): void {
    const p = this.ports
    const me = p.address
    const rec = p.records.record(task.id)
    // A bid whose outcome we did not record (a crash after the intent): the chain says whether it was placed.
    if (rec?.bid && (rec.bid.status === 'intent' || rec.bid.status === 'sent')) {
      if (task.bids.some((b) => b.provider === me)) p.records.appendSoon({t: 'bid-tx', taskId: task.id, status: 'done'})
      else if (task.status !== 'open' || now >= task.biddingEnd + 5) p.records.appendSoon({t: 'bid-tx', taskId: task.id, status: 'failed', error: 'not placed (interrupted before or while sending)'})
    }
    if (isEnded(task.status)) {
      if (rec && !rec.ended) this.ended(task)
      return
    }
    if (task.status === 'open') return this.auction(task, now)
    // assigned. Councils come from the model's pool, not from the bids: every daemon seats a council that is due
    // (another may be first, or the draw block not past yet: a revert is fine), then looks for its own seat.
    if (!task.councilSeated) {
      if (p.jobs.due(`seat:${task.id}`, 2000)) p.jobs.spawn(`seat:${task.id}`, () => this.anyoneTx(task.id, 'Seat the council', () => p.market.seatCouncil(task.id)))
      return
    }
    const executor = task.executor === me
    const council = task.council.includes(me)
    if (!executor && !council) return
    const k = nextCheckpoint(task)
    if (k >= task.checkpoints) return
    const cp = task.checkpointList[k]
    if (executor && !p.draining()) p.executor.consider(task, now)
    if (cp?.state === 'voting') {
      if (council) p.council.consider(task, k, now)
      const seats = task.council.length
      const reveals = Object.values(cp.verdicts).filter((v) => v.accept !== undefined).length
      if ((reveals >= seats || now >= cp.revealEnd) && p.jobs.due(`finalize:${task.id}:${k}`, 1500))
        p.jobs.spawn(`finalize:${task.id}:${k}`, () => this.anyoneTx(task.id, `Finalize checkpoint ${k}`, () => p.market.finalizeCheckpoint(task.id, k)))
    } else if (council && task.deadline && now > task.deadline + 1 && p.jobs.due(`timeout:${task.id}`, 2000)) {
      p.jobs.spawn(`timeout:${task.id}`, () => this.anyoneTx(task.id, 'Time out the executor', () => p.market.timeoutCheckpoint(task.id)))
    }
  }

  private auction(task: IndexedTask, now: number): void {
    const p = this.ports
    const rec = p.records.record(task.id)
    if (!rec?.bid && !rec?.skipped && p.bidding()) p.jobs.spawn(`evaluate:${task.id}`, () => p.bidder.evaluate(task))
    // Every daemon pokes a task whose window ended without a bid, whether or not it bid: otherwise a task nobody
    // bid on would stay open (and its escrow locked) for good. Another daemon may be first: a revert is fine.
    if (now >= task.biddingEnd + 1 && task.bids.length === 0) {
      if (p.jobs.due(`expire:${task.id}`, 2000)) p.jobs.spawn(`expire:${task.id}`, () => this.anyoneTx(task.id, 'Expire task', () => p.market.expire(task.id)))
      return
    }
    const iBid = task.bids.some((b) => b.provider === p.address)
    if (!iBid || p.draining()) return
    // Never before the minimum open time, even with the cap reached: honest providers always get that long to bid.
    if (now < task.assignableAt) return
    if (task.bids.length >= task.maxBids || now >= task.biddingEnd) {
      if (p.jobs.due(`assign:${task.id}`, 1000)) p.jobs.spawn(`assign:${task.id}`, () => this.anyoneTx(task.id, 'Assigned', () => p.market.assign(task.id)))
    }
  }

  private ended(task: IndexedTask): void {
    const p = this.ports
    p.records.append({t: 'ended', taskId: task.id, status: task.status})
    const rec = p.records.record(task.id)!
    if (task.executor === p.address) {
      const detail =
        task.status === 'finalized'
          ? `paid ${formatAmount(task.executorPaid)} oGPU`
          : task.failure
            ? `${task.failure.reason} at checkpoint ${task.failure.k}, ${executorSlashText(task.failure.reason, `${formatAmount(task.failure.executorSlashed)} oGPU`)}`
            : task.status
      p.log.info('task', `Task ${task.id} ${task.status} (executor: ${detail})`, {taskId: task.id})
    } else if (task.council.includes(p.address) || rec.bid) p.log.info('task', `Task ${task.id} ${task.status}`, {taskId: task.id})
    p.bidder.forget(task.id)
    p.executor.forget(task.id)
    if (task.executor !== p.address) p.forgetMaterials(task.id)
  }

  /** A transaction anyone may send (assign, finalize, expire, timeout): another provider may have sent it first. */
  private async anyoneTx(taskId: number, what: string, send: () => Promise<ContractTransactionResponse>): Promise<void> {
    const p = this.ports
    try {
      const receipt = await p.sendTx(`${what} (task ${taskId})`, send)
      p.log.info('tx', `${what} on task ${taskId}`, {taskId, tx: receipt.hash})
    } catch (error) {
      p.log.debug('tx', `${what} on task ${taskId} not sent: ${errorText(error)}`, {taskId, revert: revertOf(error)})
    }
  }
}
