/**
 * Bidder: evaluates each open task once (model held, capacity, stake, feasibility, price floor, the strategy) and
 * either journals a skip or places a bid. The bid intent is durable BEFORE the transaction exists, so after any
 * crash a task is never bid on twice.
 */
import {performance} from 'node:perf_hooks'

import type {ContractTransactionResponse} from 'ethers'

import {errorText, revertOf} from '../../chain/errors.js'
import {formatAmount} from '../../chain/units.js'
import type {IndexedTask} from '../../market/types.js'
import {assessTask} from '../evaluate.js'
import {buildPrompt} from '../prompt.js'
import type {Strategy, StrategyTask} from '../strategy.js'
import type {TaskMaterials} from '../task-materials.js'
import {modelHex, type Models, type RolePorts, type TaskView} from './ports.js'

export interface BidderPorts extends RolePorts {
  tasks: TaskView
  models: Models
  materials: {get(task: IndexedTask): Promise<TaskMaterials>}
  /** Free stake of the provider (staked − locked), wei. */
  freeStake(): Promise<bigint>
  strategy: Strategy
  bid(taskId: number, price: bigint): Promise<ContractTransactionResponse>
  /** Whether new bids are allowed (false once stopping: a stopping daemon decides nothing). */
  bidding(): boolean
  /** VRAM of the GPU, GiB (0 on a CPU). */
  vramGiB(): number
}

export interface BidderOptions {
  /** Minimum price per 1000 output tokens, base units. Defaults to 0.1 oGPU. */
  minPricePer1k?: bigint
  /** Cost of one GPU-second, base units. Defaults to 0.01 oGPU. */
  gpuSecondPrice?: bigint
  /** cost-plus margin. Defaults to 0.2. */
  margin?: number
  /** Tasks executed (or being won) at once. Defaults to 2. */
  maxConcurrentTasks?: number
}

export class Bidder {
  private readonly promptLengths = new Map<number, number[]>()
  private readonly seenAt = new Map<number, number>()
  /** Milliseconds from seeing a task to broadcasting our bid, per bid. */
  readonly latencies: number[] = []

  constructor(
    private readonly ports: BidderPorts,
    private readonly options: BidderOptions = {},
  ) {}

  /** The task was first seen now (its TaskSubmitted event): bid latency counts from here. */
  seen(taskId: number): void {
    this.seenAt.set(taskId, performance.now())
  }

  /** The task ended: drop what was kept for it. */
  forget(taskId: number): void {
    this.promptLengths.delete(taskId)
    this.seenAt.delete(taskId)
  }

  /** Evaluates the task and bids or journals why not. Never throws: a failed evaluation is a skip. */
  async evaluate(task: IndexedTask): Promise<void> {
    try {
      await this.evaluateAndBid(task)
    } catch (error) {
      this.skip(task, `evaluation failed: ${errorText(error)}`)
    }
  }

  private skip(task: IndexedTask, reason: string): void {
    const {records, log} = this.ports
    if (!this.ports.bidding() || records.record(task.id)?.bid) return // a stopping daemon decides nothing
    records.append({t: 'skip', taskId: task.id, reason, at: Date.now()})
    log.info('skip', `Task ${task.id}: no bid: ${reason}`, {taskId: task.id})
  }

  private async evaluateAndBid(task: IndexedTask): Promise<void> {
    const p = this.ports
    const o = this.options
    const started = this.seenAt.get(task.id) ?? performance.now()
    const rec = p.records.record(task.id)
    if (rec?.bid || rec?.skipped || !p.bidding()) return
    const skip = (reason: string) => this.skip(task, reason)
    if (task.client === p.address) return skip('it is our own task')
    const model = p.models.get(modelHex(task.modelHash))
    if (!model) return skip(`model ${modelHex(task.modelHash).slice(0, 12)} is not held`)
    if (p.clock.now() >= task.biddingEnd) return skip('bidding is closed')
    // At the cap a bid still gets in by evicting the highest one, if it is lower (checked again once the price is known).
    const highest = task.bids.length >= task.maxBids ? task.bids.reduce((max, bid) => (bid.price > max ? bid.price : max), 0n) : undefined
    if (highest === 0n) return skip('the bid cap is reached and every bid is 0 oGPU: none can be evicted')
    const active = p.tasks
      .tasks()
      .filter((t) => (t.status === 'assigned' && t.executor === p.address) || (t.status === 'open' && t.bestIndex !== undefined && t.bids.find((bid) => bid.index === t.bestIndex)?.provider === p.address)).length
    const max = o.maxConcurrentTasks ?? 2
    if (active >= max) return skip(`at capacity (${active} of ${max} tasks)`)
    let materials: TaskMaterials
    let free: bigint
    try {
      ;[materials, free] = await Promise.all([p.materials.get(task), p.freeStake()])
    } catch (error) {
      return skip(errorText(error))
    }
    if (free < task.collateral) return skip(`free stake ${formatAmount(free)} oGPU is below the collateral ${formatAmount(task.collateral)}`)
    const {spec, data} = materials
    let lengths = this.promptLengths.get(task.id)
    try {
      lengths ??= data.items.map((item) => buildPrompt(model.engine, item).length)
    } catch (error) {
      return skip(`a prompt does not tokenize: ${errorText(error)}`)
    }
    this.promptLengths.set(task.id, lengths)
    const assessed = assessTask({
      spec,
      promptLengths: lengths,
      checkpoints: task.checkpoints,
      checkpointWindow: task.checkpointWindow,
      hardDeadline: task.hardDeadline,
      benchmark: model.benchmark,
      gpuSecondPrice: o.gpuSecondPrice ?? 10n ** 16n,
      contextSize: model.engine.contextSize,
      vramGiB: p.vramGiB(),
    })
    if (!assessed.feasible) return skip(assessed.reason!)
    const outputTokens = assessed.estimate.outputTokens
    const minPrice = ((o.minPricePer1k ?? 10n ** 17n) * BigInt(outputTokens)) / 1000n
    const decision = await p.strategy.decide({
      task: strategyTask(task, spec.instructions.maxTokens, outputTokens, assessed.estimate.promptTokens),
      estimate: {seconds: assessed.estimate.seconds, cost: assessed.estimate.cost},
      minPrice,
      margin: o.margin ?? 0.2,
      address: p.address,
    })
    if (!decision.bid) return skip(decision.reason)
    if (highest !== undefined && decision.price >= highest) return skip(`the bid cap is reached and ${formatAmount(decision.price)} oGPU is not below the highest bid (${formatAmount(highest)} oGPU)`)
    if (!p.bidding() || p.records.record(task.id)?.bid) return
    // The intent is durable before the transaction exists: after any crash, this task is never bid on again.
    p.records.append({t: 'bid', taskId: task.id, price: decision.price.toString(), strategy: p.strategy.name, at: Date.now()})
    try {
      const receipt = await p.sendTx(`Bid on task ${task.id}`, () => p.bid(task.id, decision.price), (hash) => {
        this.latencies.push(performance.now() - started)
        p.records.appendSoon({t: 'bid-tx', taskId: task.id, status: 'sent', tx: hash})
      })
      p.records.append({t: 'bid-tx', taskId: task.id, status: 'done', tx: receipt.hash})
      p.log.info('bid', `Bid ${formatAmount(decision.price)} oGPU on task ${task.id} (est. ${assessed.estimate.seconds.toFixed(2)} s, cost ${formatAmount(assessed.estimate.cost)} oGPU)`, {
        taskId: task.id,
        price: formatAmount(decision.price),
        tx: receipt.hash,
        latencyMs: Math.round(performance.now() - started),
      })
    } catch (error) {
      p.records.append({t: 'bid-tx', taskId: task.id, status: 'failed', error: errorText(error)})
      p.log.warn('bid', `Bid on task ${task.id} failed: ${errorText(error)}`, {taskId: task.id, revert: revertOf(error)})
    }
  }
}

/** What a strategy sees of a task (./strategy.ts). */
function strategyTask(task: IndexedTask, maxTokens: number, outputTokens: number, promptTokens: number): StrategyTask {
  return {
    id: task.id,
    client: task.client,
    modelHash: task.modelHash,
    itemCount: task.itemCount,
    checkpoints: task.checkpoints,
    maxTokens,
    outputTokens,
    promptTokens,
    maxPrice: task.maxPrice,
    collateral: task.collateral,
    councilFeePerVote: task.councilFeePerVote,
    councilSize: task.councilSize,
    maxBids: task.maxBids,
    biddingEnd: task.biddingEnd,
    bids: task.bids.map((b) => ({provider: b.provider, price: b.price})),
    ...(task.bestPrice === undefined ? {} : {bestPrice: task.bestPrice}),
  }
}
