/**
 * The dashboard's model: plain, JSON-safe data built from the indexer's market state, chain reads, the providers'
 * status endpoints and the stream source. Pure functions, no I/O, no ink/react: `ogpu tui --once/--json` print it,
 * and the Ink app renders the very same pieces (built with the same functions, memoized per piece).
 *
 * Built for scale: the auction book is windowed (only `limit` rows from `offset` are materialised, whatever the
 * number of tasks), and everything else is a single pass over the tasks.
 */
import {type AmountJson, amountJson} from '../chain/units.js'
import {nextCheckpoint} from '../market/earnings.js'
import type {IndexedTask, MarketState, TaskStatus} from '../market/types.js'
import {type TaskJson, taskJson} from '../market/view.js'
import type {EventLine, MarketEvent} from './events.js'
import {describeEvent} from './events.js'
import {compactNumber} from './format.js'
import type {ConnectionState} from './poller.js'
import type {ProviderLiveStatus, ProviderStatusResult} from './provider-status.js'
import type {SpecLookup, SpecRef} from './specs.js'
import type {StreamsView} from './streams.js'
import {type WalletChainData, type WalletTask, marketActivity} from './wallet.js'

// ------------------------------------------------------------------ inputs

export interface WalletInput {
  /** The wallet's name in the keystore, when it has one. */
  name: string | null
  address: string
  /** The last chain read, or null before the first. */
  chain: WalletChainData | null
  /** Why the last chain read failed, if it did. */
  chainError: string | null
  /** The provider daemon's status, or null when not asked (not registered, or not read yet). */
  status: ProviderStatusResult | null
}

export interface SnapshotSources {
  network: {name: string; chainId: number; rpcUrl: string}
  market: MarketState
  /** The chain's head block, when known. */
  head: number | null
  /** The chain's clock, unix seconds. */
  now: number
  connection: ConnectionState
  specs: SpecLookup
  /** Newest first. */
  events: readonly MarketEvent[]
  wallet: WalletInput | null
  /** Active stake of bidders (for the ladder), base units. */
  stakes: ReadonlyMap<string, bigint>
  streams: StreamsView
}

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

function modelNameOf(task: IndexedTask, specs: SpecLookup): string | null {
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

// ------------------------------------------------------------------ market pulse

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

// ------------------------------------------------------------------ wallet

export interface WalletView {
  name: string | null
  address: string
  eth: AmountJson | null
  ogpu: AmountJson | null
  stake: {staked: AmountJson; free: AmountJson; locked: AmountJson; unbonding: AmountJson; unbondingEnd: string | null; unbondingSecondsLeft: number | null} | null
  /** From the indexer: what the market paid this address. */
  earnings: {executorPaid: AmountJson; councilFees: AmountJson; rejectRewards: AmountJson; total: AmountJson; slashed: AmountJson}
  provider: {
    registered: boolean | null
    endpoint: string | null
    /** ok: the status endpoint answered; unreachable: it did not; unknown: not asked yet; none: not a registered provider. */
    daemon: 'ok' | 'unreachable' | 'unknown' | 'none'
    error: string | null
    live: ProviderLiveStatus | null
  }
  /** Tasks this address takes part in that have not ended (from the indexer), newest first. */
  tasks: WalletTask[]
  /** Why the last chain read failed (the figures shown are then the previous ones). */
  error: string | null
}

export function walletView(sources: Pick<SnapshotSources, 'market' | 'now' | 'wallet'>, options: {tasks?: number} = {}): WalletView | null {
  const wallet = sources.wallet
  if (!wallet) return null
  const {earnings, active} = marketActivity(sources.market.tasks.values(), wallet.address)
  const c = wallet.chain
  const status = wallet.status
  return {
    name: wallet.name,
    address: wallet.address,
    eth: c ? amountJson(c.eth) : null,
    ogpu: c ? amountJson(c.ogpu) : null,
    stake: c
      ? {
          staked: amountJson(c.staked),
          free: amountJson(c.staked - c.locked),
          locked: amountJson(c.locked),
          unbonding: amountJson(c.unbonding),
          unbondingEnd: c.unbonding > 0n ? new Date(c.unbondingEnd * 1000).toISOString() : null,
          unbondingSecondsLeft: c.unbonding > 0n ? Math.max(0, c.unbondingEnd - sources.now) : null,
        }
      : null,
    earnings: {
      executorPaid: amountJson(earnings.executorPaid),
      councilFees: amountJson(earnings.councilFees),
      rejectRewards: amountJson(earnings.rejectRewards),
      total: amountJson(earnings.executorPaid + earnings.councilFees + earnings.rejectRewards),
      slashed: amountJson(earnings.slashed),
    },
    provider: {
      registered: c ? c.registered : null,
      endpoint: c?.endpoint ?? null,
      daemon: c && !c.registered ? 'none' : !status ? 'unknown' : status.reachable ? 'ok' : 'unreachable',
      error: status && !status.reachable ? status.error : null,
      live: status?.reachable ? status : null,
    },
    tasks: active.slice(0, options.tasks ?? 20),
    error: wallet.chainError,
  }
}

// ------------------------------------------------------------------ events

export function eventLines(events: readonly MarketEvent[], n: number): EventLine[] {
  return events.slice(0, n).map((e) => ({seq: e.seq, block: e.block, name: e.name, taskId: e.taskId, text: describeEvent(e)}))
}

// ------------------------------------------------------------------ the whole snapshot

export interface ConnectionView {
  status: ConnectionState['status']
  attempt: number
  lastError: string | null
  retryInSeconds: number | null
}

export function connectionView(state: ConnectionState, nowMs = Date.now()): ConnectionView {
  return {
    status: state.status,
    attempt: state.attempt,
    lastError: state.lastError ?? null,
    retryInSeconds: state.retryAt === undefined ? null : Math.max(0, Math.ceil((state.retryAt - nowMs) / 1000)),
  }
}

export interface DashboardSnapshot {
  generatedAt: string
  network: {name: string; chainId: number; rpcUrl: string; block: number; head: number | null; chainTime: string}
  connection: ConnectionView
  auction: AuctionView
  streams: StreamsView
  wallet: WalletView | null
  pulse: PulseView
  events: EventLine[]
}

export interface SnapshotOptions extends Partial<AuctionQuery> {
  /** Events listed. Defaults to 20. */
  events?: number
  pulse?: PulseOptions
}

export function buildSnapshot(sources: SnapshotSources, options: SnapshotOptions = {}): DashboardSnapshot {
  const auction = auctionModel(sources, {
    filter: options.filter ?? DEFAULT_FILTER,
    offset: options.offset ?? 0,
    limit: options.limit ?? Infinity,
    selectedId: options.selectedId ?? null,
  })
  return {
    generatedAt: new Date().toISOString(),
    network: {
      ...sources.network,
      block: sources.market.cursor,
      head: sources.head,
      chainTime: new Date(sources.now * 1000).toISOString(),
    },
    connection: connectionView(sources.connection),
    auction: auction.view,
    streams: sources.streams,
    wallet: walletView(sources),
    pulse: pulseView(sources, options.pulse),
    events: eventLines(sources.events, options.events ?? 20),
  }
}
