/**
 * The daemon's status document (`GET /status`, `ogpu provider status`): models and load, the tasks it bid on,
 * executes or reviews, its council seats, bid counters and earnings (the settlement rule is ../../market/earnings.ts).
 */
import {formatAmount} from '../../chain/units.js'
import {earningsOf, nextCheckpoint} from '../../market/earnings.js'
import {type IndexedTask, isEnded} from '../../market/types.js'
import type {TaskRecord} from '../state.js'
import type {TaskView} from './ports.js'
import type {DaemonModelStatus, DaemonStatus, DaemonTaskStatus, LoadedModel} from './types.js'

export interface StatusInput {
  address: string
  version: string
  network: {name: string; chainId: number}
  url: string
  startedAt: Date
  bidding: boolean
  stopping: boolean
  chain: {cursor: number; time: number}
  strategy: string
  models: Iterable<LoadedModel>
  vramGiB: number
  records: Iterable<TaskRecord>
  tasks: TaskView
  bidLatencies: readonly number[]
  txQueue: number
  streams?: DaemonStatus['streams']
}

function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! * 10) / 10
}

export function modelStatus(m: LoadedModel): DaemonModelStatus {
  const s = m.engine.disposed ? {busy: 0, queued: 0} : m.engine.stats
  return {
    name: m.name,
    sha256: m.sha256,
    backend: m.engine.backend,
    contextSize: m.engine.contextSize,
    sequences: m.engine.sequenceCount,
    busy: s.busy,
    queued: s.queued,
    benchmark: {
      promptTokensPerSecond: m.benchmark.promptProcessing.tokensPerSecond,
      generateTokensPerSecond: Math.max(m.benchmark.generation.tokensPerSecond, ...m.benchmark.concurrent.map((c) => c.tokensPerSecond)),
    },
  }
}

/** What the provider is doing on a task, in words. */
export function taskPhase(task: IndexedTask, role: DaemonTaskStatus['role'], done: number): string {
  const k = nextCheckpoint(task)
  if (task.status === 'open') return 'bidding'
  if (isEnded(task.status)) return task.status
  const voting = task.checkpointList[k]?.state === 'voting'
  if (role === 'executor') return voting ? `checkpoint ${k} in review` : done < task.itemCount ? 'executing' : `committing checkpoint ${k}`
  if (role === 'council') return voting ? `reviewing checkpoint ${k}` : `waiting for checkpoint ${k}`
  return 'lost the auction'
}

export function buildStatus(input: StatusInput): DaemonStatus {
  const me = input.address
  const models = [...input.models].map(modelStatus)
  const sequences = models.reduce((s, m) => s + m.sequences, 0)
  const tasks: DaemonTaskStatus[] = []
  const council: DaemonStatus['council'] = []
  const involved: IndexedTask[] = []
  let placed = 0
  let skipped = 0
  let failed = 0
  for (const rec of input.records) {
    if (rec.skipped) skipped++
    if (rec.bid?.status === 'failed') failed++
    else if (rec.bid) placed++
    const task = input.tasks.task(rec.id)
    if (!task) continue
    const role = task.executor === me ? 'executor' : task.council.includes(me) ? 'council' : rec.bid ? 'bidder' : undefined
    if (!role) continue
    involved.push(task)
    for (const [k, vote] of Object.entries(rec.votes ?? {})) {
      const onChain = task.checkpointList[Number(k)]?.verdicts[me]
      const revealed = onChain?.accept !== undefined
      // Secret until revealed: the verdict, the sample and the problems found stay in the daemon before the reveal.
      council.push({
        taskId: task.id,
        k: Number(k),
        committed: Boolean(onChain?.commitment) || vote.status === 'done', // the receipt is in before the indexer sees it
        revealed,
        verdict: revealed ? (vote.accept ? 'accept' : 'reject') : null,
        sample: revealed ? vote.sample : null,
        problems: revealed ? vote.problems : null,
      })
    }
    if (isEnded(task.status) && task.endedBlock !== undefined && input.chain.cursor - task.endedBlock > 10_000) continue
    const done = Object.keys(rec.results ?? {}).length
    tasks.push({
      id: task.id,
      status: task.status,
      role,
      phase: taskPhase(task, role, done),
      price: rec.bid ? formatAmount(BigInt(rec.bid.price)) : null,
      items: {done, total: task.itemCount},
      checkpoint: nextCheckpoint(task),
    })
  }
  const earned = earningsOf(me, involved)
  const uptimeSeconds = Math.round((Date.now() - input.startedAt.getTime()) / 1000)
  return {
    address: me,
    version: input.version,
    network: input.network,
    url: input.url,
    pid: process.pid,
    startedAt: input.startedAt.toISOString(),
    uptimeSeconds,
    bidding: input.bidding,
    stopping: input.stopping,
    chain: input.chain,
    strategy: input.strategy,
    models,
    load: sequences ? Math.round((models.reduce((s, m) => s + m.busy, 0) / sequences) * 100) / 100 : 0,
    queue: models.reduce((s, m) => s + m.queued, 0),
    gpu: {backend: models[0]?.backend ?? 'cpu', vramGiB: Math.round(input.vramGiB * 10) / 10},
    tasks: tasks.sort((a, b) => b.id - a.id),
    council,
    bids: {placed, skipped, failed, latencyMs: {p50: percentile(input.bidLatencies, 50), p95: percentile(input.bidLatencies, 95)}},
    earnings: {
      executorPaid: formatAmount(earned.executorPaid),
      councilFees: formatAmount(earned.councilFees),
      rejectRewards: formatAmount(earned.rejectRewards),
      slashed: formatAmount(earned.slashed),
    },
    txQueue: input.txQueue,
    ...(input.streams ? {streams: input.streams} : {}),
  }
}
