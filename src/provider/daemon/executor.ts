/**
 * Executor: runs the items of the tasks this provider won, keeps each result in the journal (group commit: a lost
 * result is recomputed), records each checkpoint's result root once its segment is complete, commits the root on
 * chain, and serves the items with their proofs to the client and the council (./items-api.ts).
 */
import {performance} from 'node:perf_hooks'

import type {ContractTransactionResponse} from 'ethers'

import {errorText, revertOf} from '../../chain/errors.js'
import {formatAmount} from '../../chain/units.js'
import type {InferenceEngine} from '../../gpu/index.js'
import type {IndexedTask} from '../../market/types.js'
import type {MerkleTree} from '../../protocol/merkle.js'
import {checkpointOfItem, type ItemResult, resultTree, segmentOf} from '../../protocol/results.js'
import type {ServedItem} from '../../protocol/items.js'
import type {ItemSource} from '../items-api.js'
import {buildPrompt, runItem} from '../prompt.js'
import type {TaskMaterials} from '../task-materials.js'
import {type JobRunner, modelHex, type Models, nextCheckpoint, type RolePorts, type TaskView} from './ports.js'

export interface ExecutorPorts extends RolePorts {
  tasks: TaskView
  models: Models
  materials: {get(task: IndexedTask): Promise<TaskMaterials>}
  jobs: JobRunner
  commitCheckpoint(taskId: number, k: number, root: string): Promise<ContractTransactionResponse>
  /** Whether the daemon is stopping (no new items, no new commits). */
  draining(): boolean
  /** Aborted when running work must stop now. */
  signal: AbortSignal
  /** Warns once per key (a warning that would repeat every tick). */
  warnOnce(key: string, message: string): void
  /** Awaited before each item. Defaults to none. */
  beforeItem?: (taskId: number, index: number) => Promise<void>
  /** The result kept in place of the model's. Defaults to the model's. */
  transformResult?: (engine: InferenceEngine, result: ItemResult, prompt: readonly number[]) => ItemResult
  /** Whether items are served now. Defaults to always. */
  servingItems?: () => boolean
}

export class Executor {
  /** Tasks whose every item has a kept result. */
  private readonly executed = new Set<number>()
  private readonly trees = new Map<string, MerkleTree>()

  constructor(private readonly ports: ExecutorPorts) {}

  /** Starts what is due for a task we execute: running its items (once), committing its next root. */
  consider(task: IndexedTask, now: number): void {
    if (!this.executed.has(task.id)) this.ports.jobs.spawn(`execute:${task.id}`, () => this.execute(task))
    this.maybeCommit(task, now)
  }

  /** The task ended (its kept results are still served: the client reads them after the end). */
  forget(taskId: number): void {
    this.executed.delete(taskId)
  }

  async execute(task: IndexedTask): Promise<void> {
    const p = this.ports
    const model = p.models.get(modelHex(task.modelHash))
    if (!model) {
      p.warnOnce(`execute:${task.id}`, `Task ${task.id}: we are its executor but its model ${modelHex(task.modelHash).slice(0, 12)} is not loaded (start with --models)`)
      return
    }
    const {spec, data} = await p.materials.get(task)
    const started = performance.now()
    const cpu0 = process.cpuUsage()
    const resumed = Object.keys(p.records.record(task.id)?.results ?? {}).length
    if (!p.records.record(task.id)?.executing) {
      p.records.append({t: 'execute', taskId: task.id, at: Date.now()})
      p.log.info('execute', `Task ${task.id}: won at ${formatAmount(task.price ?? 0n)} oGPU; running ${task.itemCount} items in ${task.checkpoints} checkpoint(s)`, {taskId: task.id})
    } else if (resumed < task.itemCount) p.log.info('execute', `Task ${task.id}: resuming with ${resumed} of ${task.itemCount} items done`, {taskId: task.id})
    const engine = model.engine
    const missing: number[] = []
    for (let i = 0; i < task.itemCount; i++) if (!p.records.record(task.id)?.results?.[i]) missing.push(i)
    // Segments already complete (a restart) get their root now.
    for (let k = 0; k < task.checkpoints; k++) this.segmentDone(task, k)
    const remaining = new Map<number, number>()
    for (const i of missing) {
      const k = checkpointOfItem(task.itemCount, task.checkpoints, i)
      remaining.set(k, (remaining.get(k) ?? 0) + 1)
    }
    const queue = [...missing]
    const width = engine.sequenceCount + 1 // one waiting, so a freed sequence starts at once
    const worker = async () => {
      for (let index = queue.shift(); index !== undefined; index = queue.shift()) {
        if (p.draining() || p.signal.aborted) return
        const live = p.tasks.task(task.id)
        if (!live || live.status !== 'assigned') return
        await p.beforeItem?.(task.id, index)
        const item = data.items[index]!
        const prompt = buildPrompt(engine, item)
        let result: ItemResult
        try {
          result = await runItem(engine, spec, item, index, {prompt, signal: p.signal})
        } catch (error) {
          if (p.signal.aborted) return
          throw error
        }
        if (p.transformResult) result = p.transformResult(engine, result, prompt)
        p.records.appendSoon({t: 'result', taskId: task.id, result}) // group commit; a lost result is recomputed
        const k = checkpointOfItem(task.itemCount, task.checkpoints, index)
        const left = remaining.get(k)! - 1
        remaining.set(k, left)
        if (left === 0) {
          p.records.flush()
          if (this.segmentDone(task, k)) this.maybeCommit(p.tasks.task(task.id) ?? task, p.clock.now())
        }
      }
    }
    await Promise.all(Array.from({length: Math.min(width, Math.max(1, missing.length))}, worker))
    p.records.flush()
    let complete = true
    for (let k = 0; k < task.checkpoints; k++) complete = this.segmentDone(task, k) && complete
    if (!complete) return
    this.executed.add(task.id)
    if (missing.length === 0) return
    const cpu = process.cpuUsage(cpu0)
    const ms = performance.now() - started
    p.log.info('execute', `Task ${task.id}: ran ${missing.length} item(s) in ${Math.round(ms)} ms`, {
      taskId: task.id,
      items: missing.length,
      ms: Math.round(ms),
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      itemsPerMinute: Math.round((missing.length * 60_000) / ms),
    })
  }

  /** When every result of segment k is kept: records its root (once). Returns true when the root is recorded. */
  private segmentDone(task: IndexedTask, k: number): boolean {
    const p = this.ports
    const rec = p.records.record(task.id)
    if (rec?.checkpoints?.[k]) return true
    const {first, end} = segmentOf(task.itemCount, task.checkpoints, k)
    const results: ItemResult[] = []
    for (let i = first; i < end; i++) {
      const r = rec?.results?.[i]
      if (!r) return false
      results.push(r)
    }
    const tree = resultTree(results)
    this.trees.set(`${task.id}:${k}`, tree)
    p.records.append({t: 'checkpoint', taskId: task.id, k, root: tree.root})
    p.log.info('execute', `Task ${task.id}: checkpoint ${k} ready (items ${first}..${end - 1}), root ${tree.root.slice(0, 10)}…`, {taskId: task.id, k})
    return true
  }

  /** Commits the next checkpoint's root when it is recorded and not on chain yet. */
  maybeCommit(task: IndexedTask, now: number): void {
    const p = this.ports
    if (task.status !== 'assigned' || task.executor !== p.address) return
    const k = nextCheckpoint(task)
    if (k >= task.checkpoints) return
    const onChain = task.checkpointList[k]
    const rec = p.records.record(task.id)?.checkpoints?.[k]
    if (!rec) return
    if (onChain?.resultRoot) {
      if (rec.status !== 'done') p.records.appendSoon({t: 'checkpoint-tx', taskId: task.id, k, status: 'done'})
      return
    }
    if (task.deadline && now > task.deadline + 1) {
      p.warnOnce(`deadline:${task.id}:${k}`, `Task ${task.id}: missed the deadline of checkpoint ${k}`)
      return
    }
    if (!p.jobs.due(`commit:${task.id}:${k}`, 1500)) return
    p.jobs.spawn(`commit:${task.id}:${k}`, async () => {
      try {
        const receipt = await p.sendTx(`Commit checkpoint ${k} of task ${task.id}`, () => p.commitCheckpoint(task.id, k, rec.root), (hash) =>
          p.records.appendSoon({t: 'checkpoint-tx', taskId: task.id, k, status: 'sent', tx: hash}),
        )
        p.records.append({t: 'checkpoint-tx', taskId: task.id, k, status: 'done', tx: receipt.hash})
        p.log.info('commit', `Task ${task.id}: committed checkpoint ${k}`, {taskId: task.id, k, root: rec.root, tx: receipt.hash})
      } catch (error) {
        const name = revertOf(error)
        if (name === 'TaskMarketRoundInProgress' || name === 'TaskMarketWrongCheckpoint') return // the chain moved on; the next tick sees it
        p.records.append({t: 'checkpoint-tx', taskId: task.id, k, status: 'failed', error: errorText(error)})
        p.log.warn('commit', `Task ${task.id}: committing checkpoint ${k} failed: ${errorText(error)}`, {taskId: task.id, k})
      }
    })
  }

  /** The items API's source: our kept results with their proofs, to the client and the council only. */
  itemSource(): ItemSource {
    const p = this.ports
    return {
      items: async (taskId, first, count) => {
        const rec = p.records.record(taskId)
        const task = p.tasks.task(taskId)
        if (!rec?.checkpoints || !rec.results || !task || task.executor !== p.address) return undefined
        const {data} = await p.materials.get(task)
        const out: ServedItem[] = []
        for (let i = first; i < Math.min(first + count, task.itemCount); i++) {
          const k = checkpointOfItem(task.itemCount, task.checkpoints, i)
          const result = rec.results[i]
          if (!rec.checkpoints[k] || !result) continue
          out.push({index: i, k, item: data.items[i]!, itemProof: data.tree.proof(i), result, resultProof: this.treeOf(task, k).proof(i)})
        }
        return out
      },
      mayRead: async (taskId, address) => {
        const task = p.tasks.task(taskId)
        if (!task) return false
        return address === task.client || task.council.includes(address)
      },
      serving: () => p.servingItems?.() ?? true,
    }
  }

  private treeOf(task: IndexedTask, k: number): MerkleTree {
    const key = `${task.id}:${k}`
    let tree = this.trees.get(key)
    if (!tree) {
      const {first, end} = segmentOf(task.itemCount, task.checkpoints, k)
      const results = this.ports.records.record(task.id)!.results!
      tree = resultTree(Array.from({length: end - first}, (_, j) => results[first + j]!))
      this.trees.set(key, tree)
    }
    return tree
  }
}
