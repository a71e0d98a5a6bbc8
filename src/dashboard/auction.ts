/**
 * The auction book of the dashboard: the filter typed after `/`, the rows (windowed: only `limit` rows from `offset`
 * are materialised, whatever the number of tasks), the selected task's detail with its bid ladder, and keyboard
 * navigation over the matching ids.
 */
import {type AmountJson, amountJson} from '../chain/units.js'
import {nextCheckpoint} from '../market/earnings.js'
import type {IndexedTask, TaskStatus} from '../market/types.js'
import {type TaskJson, taskJson} from '../market/view.js'
import type {SnapshotSources} from './sources.js'
import type {SpecLookup} from './specs.js'

// ------------------------------------------------------------------ filter

export const DEFAULT_FILTER = 'active'
const ACTIVE: TaskStatus[] = ['open', 'assigned']
const ENDED: TaskStatus[] = ['finalized', 'failed', 'expired', 'cancelled']
const STATUSES: TaskStatus[] = [...ACTIVE, ...ENDED]

export interface TaskFilter {
  /** null: every status. */
  statuses: ReadonlySet<TaskStatus> | null
  /** Lower-case text matched against the model's name and hash, or null. */
  model: string | null
}

/**
 * The auction book's filter, from what the user typed after `/`: status words (open, assigned, finalized, failed,
 * expired, cancelled, and active / ended / all), and anything else matches the model (name or hash). Without a status
 * word, the active tasks (open and assigned) are shown.
 */
export function parseTaskFilter(text: string): TaskFilter {
  const statuses = new Set<TaskStatus>()
  let all = false
  const model: string[] = []
  for (const word of text.toLowerCase().split(/[\s,]+/).filter(Boolean)) {
    const w = word.replace(/^status:/, '')
    if (w === 'all') all = true
    else if (w === 'active') for (const s of ACTIVE) statuses.add(s)
    else if (w === 'ended' || w === 'done') for (const s of ENDED) statuses.add(s)
    else if ((STATUSES as string[]).includes(w)) statuses.add(w as TaskStatus)
    else model.push(word.replace(/^model:/, '').replace(/^0x/, ''))
  }
  return {
    statuses: all ? null : statuses.size > 0 ? statuses : new Set(ACTIVE),
    model: model.length > 0 ? model.join(' ') : null,
  }
}

export function describeFilter(filter: TaskFilter): string {
  const statuses = !filter.statuses
    ? 'all'
    : filter.statuses.size === 2 && ACTIVE.every((s) => filter.statuses!.has(s))
      ? 'active'
      : [...filter.statuses].join('+')
  return filter.model ? `${statuses}, model ~ ${filter.model}` : statuses
}

function matches(task: IndexedTask, filter: TaskFilter, specs: SpecLookup): boolean {
  if (filter.statuses && !filter.statuses.has(task.status)) return false
  if (!filter.model) return true
  if (task.modelHash.slice(2).toLowerCase().startsWith(filter.model)) return true
  const spec = specs.get(task.specHash)
  return spec?.state === 'ok' && spec.modelName !== null && spec.modelName.toLowerCase().includes(filter.model)
}

// ------------------------------------------------------------------ auction book

export interface AuctionRow {
  id: number
  status: TaskStatus
  modelHash: string
  modelName: string | null
  items: number
  maxPrice: AmountJson
  bids: number
  maxBids: number
  bestBid: AmountJson | null
  biddingEnd: string
  /** Seconds of bidding left (open tasks), else null. */
  secondsLeft: number | null
  /** What the task is doing: bidding, awaiting assignment, checkpoint 1/2 voting, finalized… */
  phase: string
  /** The same in one word: bidding, full, closed, expiring, running, voting, or the final status. */
  stage: string
  /** The checkpoint under way (1-based) while assigned, else null. */
  checkpoint: number | null
}

export interface LadderRow {
  rank: number
  index: number
  provider: string
  price: AmountJson
  /** The bidder's active stake, when read. */
  stake: AmountJson | null
  role: 'executor' | 'council' | 'best' | ''
  block: number
}

export interface TaskDetail extends TaskJson {
  modelName: string | null
  phase: string
  secondsLeft: number | null
  /** Bids, lowest price first (ties: earliest first). */
  ladder: LadderRow[]
}

export interface AuctionView {
  filter: string
  /** Tasks per status, over the whole market. */
  counts: Record<TaskStatus, number>
  /** Tasks that match the filter. */
  total: number
  /** Index of the first row shown. */
  offset: number
  /** The rows shown: at most `limit`, from `offset`. */
  rows: AuctionRow[]
  selectedId: number | null
  /** The selected task's index among the matching tasks (-1 when it does not match the filter any more). */
  selectedIndex: number
  selected: TaskDetail | null
}

export interface AuctionQuery {
  filter: string
  /** Requested first row; moved so that the selected task stays visible. */
  offset: number
  /** Rows to show (Infinity for all). */
  limit: number
  /** The selected task; null selects the first row shown. */
  selectedId: number | null
}

export interface AuctionModel {
  view: AuctionView
  /** Ids of every matching task, in display order (newest first): for keyboard navigation. Not part of the JSON. */
  order: number[]
}

const secondsLeftOf = (task: IndexedTask, now: number): number | null => (task.status === 'open' ? Math.max(0, task.biddingEnd - now) : null)

/** What the task is doing, in one word: bidding, full, closed, expiring, running, voting, or its final status. */
export function stageOf(task: IndexedTask, now: number): string {
  switch (task.status) {
    case 'open':
      if (task.bids.length >= task.maxBids) return 'full'
      if (task.biddingEnd > now) return 'bidding'
      return task.bids.length >= 2 ? 'closed' : 'expiring'
    case 'assigned':
      return task.checkpointList[nextCheckpoint(task)]?.state === 'voting' ? 'voting' : 'running'
    default:
      return task.status
  }
}

/** What the task is doing, in a few words. */
export function phaseOf(task: IndexedTask, now: number): string {
  const stage = stageOf(task, now)
  switch (stage) {
    case 'full':
      return 'full, awaiting assign'
    case 'closed':
      return 'awaiting assign'
    case 'running':
    case 'voting':
      return `cp ${Math.min(nextCheckpoint(task) + 1, task.checkpoints)}/${task.checkpoints} ${stage}`
    default:
      return stage
  }
}

/** The model's name from the task's spec, when it has been read. */
export function modelNameOf(task: IndexedTask, specs: SpecLookup): string | null {
  const spec = specs.get(task.specHash)
  return spec?.state === 'ok' ? spec.modelName : null
}

export function auctionRow(task: IndexedTask, now: number, specs: SpecLookup): AuctionRow {
  return {
    id: task.id,
    status: task.status,
    modelHash: task.modelHash,
    modelName: modelNameOf(task, specs),
    items: task.itemCount,
    maxPrice: amountJson(task.maxPrice),
    bids: task.bids.length,
    maxBids: task.maxBids,
    bestBid: task.bestPrice === undefined ? null : amountJson(task.bestPrice),
    biddingEnd: new Date(task.biddingEnd * 1000).toISOString(),
    secondsLeft: secondsLeftOf(task, now),
    phase: phaseOf(task, now),
    stage: stageOf(task, now),
    checkpoint: task.status === 'assigned' ? Math.min(nextCheckpoint(task) + 1, task.checkpoints) : null,
  }
}

export function taskDetail(task: IndexedTask, now: number, specs: SpecLookup, stakes: ReadonlyMap<string, bigint>): TaskDetail {
  const ladder = [...task.bids].sort((a, b) => (a.price < b.price ? -1 : a.price > b.price ? 1 : a.index - b.index))
  return {
    ...taskJson(task),
    modelName: modelNameOf(task, specs),
    phase: phaseOf(task, now),
    secondsLeft: secondsLeftOf(task, now),
    ladder: ladder.map((bid, i) => {
      const stake = stakes.get(bid.provider)
      return {
        rank: i + 1,
        index: bid.index,
        provider: bid.provider,
        price: amountJson(bid.price),
        stake: stake === undefined ? null : amountJson(stake),
        role: task.executor === bid.provider ? 'executor' : task.council.includes(bid.provider) ? 'council' : task.status === 'open' && task.bestIndex === bid.index ? 'best' : '',
        block: bid.block,
      }
    }),
  }
}

/** Clamps the first row so that the selected one is visible. */
export function windowOffset(requested: number, selectedIndex: number, limit: number, total: number): number {
  if (!Number.isFinite(limit)) return 0
  let offset = Math.max(0, Math.min(requested, Math.max(0, total - limit)))
  if (selectedIndex >= 0) {
    if (selectedIndex < offset) offset = selectedIndex
    else if (selectedIndex >= offset + limit) offset = selectedIndex - limit + 1
  }
  return offset
}

/** The auction book: one pass over the tasks to filter and count, then only the visible rows are built. */
export function auctionModel(sources: Pick<SnapshotSources, 'market' | 'now' | 'specs' | 'stakes'>, query: AuctionQuery): AuctionModel {
  const filter = parseTaskFilter(query.filter)
  const counts = Object.fromEntries(['none', ...STATUSES].map((s) => [s, 0])) as Record<TaskStatus, number>
  const order: number[] = []
  let ascending = true
  let last = -Infinity
  for (const task of sources.market.tasks.values()) {
    counts[task.status]++
    if (!matches(task, filter, sources.specs)) continue
    if (task.id < last) ascending = false
    last = task.id
    order.push(task.id)
  }
  if (ascending) order.reverse()
  else order.sort((a, b) => b - a)
  let selectedId = query.selectedId !== null && sources.market.tasks.has(query.selectedId) ? query.selectedId : null
  let selectedIndex = selectedId === null ? -1 : indexOfId(order, selectedId)
  if (selectedId === null && order.length > 0) {
    selectedIndex = Math.min(Math.max(0, query.offset), order.length - 1)
    selectedId = order[selectedIndex]!
  }
  const offset = windowOffset(query.offset, selectedIndex, query.limit, order.length)
  const end = Number.isFinite(query.limit) ? Math.min(order.length, offset + query.limit) : order.length
  const rows: AuctionRow[] = []
  for (let i = offset; i < end; i++) rows.push(auctionRow(sources.market.tasks.get(order[i]!)!, sources.now, sources.specs))
  const selectedTask = selectedId === null ? undefined : sources.market.tasks.get(selectedId)
  return {
    view: {
      filter: describeFilter(filter),
      counts,
      total: order.length,
      offset,
      rows,
      selectedId,
      selectedIndex,
      selected: selectedTask ? taskDetail(selectedTask, sources.now, sources.specs, sources.stakes) : null,
    },
    order,
  }
}

/** Index of `id` in `order` (ids in descending order), or -1. Binary search: the order may hold 10,000s of ids. */
export function indexOfId(order: readonly number[], id: number): number {
  const i = insertionIndex(order, id)
  return order[i] === id ? i : -1
}

/** The first index whose id is ≤ `id` (order is descending). */
function insertionIndex(order: readonly number[], id: number): number {
  let lo = 0
  let hi = order.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (order[mid]! > id) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** The id `delta` rows away from `id` (clamped to the list); from a task no longer listed, from where it would be. */
export function neighborId(order: readonly number[], id: number | null, delta: number): number | null {
  if (order.length === 0) return null
  if (id === null) return order[Math.max(0, Math.min(order.length - 1, delta > 0 ? delta - 1 : 0))]!
  const at = insertionIndex(order, id)
  const listed = order[at] === id
  const base = listed ? at + delta : delta > 0 ? at + delta - 1 : at + delta
  return order[Math.max(0, Math.min(order.length - 1, base))]!
}
