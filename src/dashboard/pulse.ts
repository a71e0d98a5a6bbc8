/** The market pulse of the dashboard: winning prices over time per model, and the specs it needs read. */
import type {IndexedTask, MarketState} from '../market/types.js'
import {modelNameOf} from './auction.js'
import {compactNumber} from './format.js'
import type {SnapshotSources} from './sources.js'
import type {SpecRef} from './specs.js'

export type PulseUnit = 'per-1k-tokens' | 'per-item'

export interface ModelPulse {
  modelHash: string
  modelName: string | null
  /** What the points are: oGPU per 1000 generated tokens (items × maxTokens of the spec), or per item when no spec could be read. */
  unit: PulseUnit
  /** Winning prices in oGPU per unit, oldest first. */
  points: number[]
  last: string | null
  median: string | null
  /** Winning bids of this model seen. */
  samples: number
  /** Open tasks of this model. */
  open: number
}

export interface PulseView {
  models: ModelPulse[]
}

export interface PulseOptions {
  /** Points per model. Defaults to 40. */
  points?: number
  /** Models shown (most recently active first). Defaults to 8. */
  models?: number
}

interface ModelAcc {
  hash: string
  open: number
  won: IndexedTask[]
  latest: number
  sample: IndexedTask | undefined
}

function collectModels(market: MarketState): Map<string, ModelAcc> {
  const byModel = new Map<string, ModelAcc>()
  for (const task of market.tasks.values()) {
    const key = task.modelHash.toLowerCase()
    let acc = byModel.get(key)
    if (!acc) byModel.set(key, (acc = {hash: task.modelHash, open: 0, won: [], latest: 0, sample: undefined}))
    if (task.status === 'open') acc.open++
    if (task.price !== undefined) acc.won.push(task)
    acc.latest = Math.max(acc.latest, task.assignedBlock ?? task.submittedBlock)
    acc.sample ??= task
  }
  for (const acc of byModel.values()) acc.won.sort((a, b) => (a.assignedBlock ?? 0) - (b.assignedBlock ?? 0) || a.id - b.id)
  return byModel
}

const toTokens = (wei: bigint): number => Number(wei) / 1e18

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/**
 * Winning prices over time per model: per 1000 tokens (price / (items × maxTokens) × 1000) from the specs that could
 * be read; when none of a model's specs can be read, per item instead (and labelled so).
 */
export function pulseView(sources: Pick<SnapshotSources, 'market' | 'specs'>, options: PulseOptions = {}): PulseView {
  const points = options.points ?? 40
  const models = [...collectModels(sources.market).values()].sort((a, b) => b.latest - a.latest).slice(0, options.models ?? 8)
  return {
    models: models.map((acc) => {
      const recent = acc.won.slice(-points * 2)
      const perKilo: number[] = []
      let unresolved = 0
      for (const task of recent) {
        const spec = sources.specs.get(task.specHash)
        if (spec?.state === 'ok' && spec.maxTokens) perKilo.push((toTokens(task.price!) * 1000) / (task.itemCount * spec.maxTokens))
        else if (!spec || spec.state === 'pending') unresolved++
      }
      const unreadable = recent.length - perKilo.length - unresolved
      // Per item only when no spec of the model's recent winners can be read (and none is still being read).
      const unit: PulseUnit = perKilo.length === 0 && unreadable > 0 && unresolved === 0 ? 'per-item' : 'per-1k-tokens'
      const values = (unit === 'per-1k-tokens' ? perKilo : recent.map((t) => toTokens(t.price!) / t.itemCount)).slice(-points)
      const name = acc.won.map((t) => modelNameOf(t, sources.specs)).find(Boolean) ?? (acc.sample ? modelNameOf(acc.sample, sources.specs) : null)
      return {
        modelHash: acc.hash,
        modelName: name ?? null,
        unit,
        points: values,
        last: values.length > 0 ? compactNumber(values.at(-1)!) : null,
        median: values.length > 0 ? compactNumber(median(values)) : null,
        samples: acc.won.length,
        open: acc.open,
      }
    }),
  }
}

/** Specs the dashboard wants to read: those of the rows shown, the selected task, and the pulse's recent winners. */
export function specsWanted(market: MarketState, ids: Iterable<number>, options: PulseOptions = {}): SpecRef[] {
  const seen = new Map<string, SpecRef>()
  const add = (task: IndexedTask | undefined) => {
    if (task && !seen.has(task.specHash)) seen.set(task.specHash, {specHash: task.specHash, specUri: task.specUri})
  }
  for (const id of ids) add(market.tasks.get(id))
  const points = options.points ?? 40
  const models = [...collectModels(market).values()].sort((a, b) => b.latest - a.latest).slice(0, options.models ?? 8)
  for (const acc of models) {
    add(acc.sample)
    for (const task of acc.won.slice(-points * 2)) add(task)
  }
  return [...seen.values()]
}
