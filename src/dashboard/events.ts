/**
 * The dashboard's event log: the last N TaskMarket events the indexer applied, kept as small plain records in a ring
 * buffer (cheap even when a catch-up applies 100,000 events), formatted only when shown.
 */
import {getAddress, type Log, type LogDescription} from 'ethers'

import {FAIL_REASON, slashesExecutor} from '../market/types.js'
import {compactAmount, shortAddress} from './format.js'

export interface MarketEvent {
  /** Sequence number, counting every event seen. */
  seq: number
  block: number
  name: string
  taskId: number | null
  /** The account the event is about (bidder, executor, voter, client). */
  account?: string
  /** An amount in base units (bid price, payment, refund, slash). */
  amount?: string
  k?: number
  accept?: boolean
  extra?: string
}

export interface EventLine {
  seq: number
  block: number
  name: string
  taskId: number | null
  text: string
}

const address = (v: unknown): string | undefined => {
  try {
    return getAddress(String(v))
  } catch {
    return undefined
  }
}

/** The plain record of a parsed TaskMarket log. */
export function toMarketEvent(seq: number, event: Pick<LogDescription, 'name' | 'args'>, log: Pick<Log, 'blockNumber'>): MarketEvent {
  const a = event.args as unknown as Record<string, unknown>
  const taskId = a.taskId === undefined ? null : Number(a.taskId)
  const base: MarketEvent = {seq, block: log.blockNumber, name: event.name, taskId}
  switch (event.name) {
    case 'TaskSubmitted':
      return {...base, account: address(a.client), amount: String((a.params as {maxPrice: bigint}).maxPrice)}
    case 'BidPlaced':
      return {...base, account: address(a.provider), amount: String(a.price)}
    case 'TaskAssigned':
      return {...base, account: address(a.executor), amount: String(a.price)}
    case 'CouncilSeated':
      return {...base, k: Number(a.k), extra: `${(a.council as unknown[]).length}`}
    case 'CouncilRedrawn':
      return {...base, k: Number(a.k)}
    case 'CheckpointCommitted':
      return {...base, k: Number(a.k)}
    case 'VerdictCommitted':
      return {...base, k: Number(a.k), account: address(a.voter)}
    case 'VerdictRevealed':
      return {...base, k: Number(a.k), account: address(a.voter), accept: Boolean(a.accept)}
    case 'VoterSlashed':
      return {...base, k: Number(a.k), account: address(a.voter), amount: String(a.amount)}
    case 'CheckpointFinalized':
      return {...base, k: Number(a.k), accept: Boolean(a.accepted), amount: String(a.executorPaid)}
    case 'TaskFinalized':
      return {...base, amount: String(a.executorPaid), extra: a.confirmed ? 'confirmed' : undefined}
    case 'TaskFailed':
      return {...base, k: Number(a.k), amount: String(a.executorSlashed), extra: FAIL_REASON[Number(a.reason)] ?? 'rejected'}
    case 'TaskExpired':
    case 'TaskCancelled':
      return {...base, amount: String(a.clientRefund)}
    default:
      return base
  }
}

/** One line, most important first, so that cutting it to any width keeps the meaning. */
export function describeEvent(e: MarketEvent): string {
  const t = e.taskId === null ? '' : `#${e.taskId}`
  const who = shortAddress(e.account)
  const amount = e.amount === undefined ? '' : compactAmount(e.amount)
  switch (e.name) {
    case 'TaskSubmitted':
      return `${t} submitted, max ${amount}`
    case 'BidPlaced':
      return `${t} bid ${amount} by ${who}`
    case 'TaskAssigned':
      return `${t} assigned to ${who} at ${amount}`
    case 'CouncilSeated':
      return `${t} council of ${e.extra} seated from the pool`
    case 'CouncilRedrawn':
      return `${t} cp${e.k} undecided: council re-drawn`
    case 'CheckpointCommitted':
      return `${t} checkpoint ${e.k} committed`
    case 'VerdictCommitted':
      return `${t} cp${e.k} verdict committed by ${who}`
    case 'VerdictRevealed':
      return `${t} cp${e.k} ${e.accept ? 'accept' : 'reject'} by ${who}`
    case 'VoterSlashed':
      return `${t} cp${e.k} voter ${who} slashed ${amount}`
    case 'CheckpointFinalized':
      return `${t} cp${e.k} ${e.accept ? `accepted, paid ${amount}` : 'rejected'}`
    case 'TaskFinalized':
      return `${t} finalized, paid ${amount}${e.extra ? ` (${e.extra})` : ''}`
    case 'TaskFailed':
      return `${t} failed at cp${e.k} (${e.extra}), ${slashesExecutor(e.extra ?? '') ? `slashed ${amount}` : 'no slash'}`
    case 'TaskExpired':
      return `${t} expired, refunded ${amount}`
    case 'TaskCancelled':
      return `${t} cancelled, refunded ${amount}`
    default:
      return `${t} ${e.name}`.trim()
  }
}

const MARKET_EVENTS = new Set([
  'TaskSubmitted',
  'BidPlaced',
  'TaskAssigned',
  'CouncilSeated',
  'CouncilRedrawn',
  'CheckpointCommitted',
  'VerdictCommitted',
  'VerdictRevealed',
  'VoterSlashed',
  'CheckpointFinalized',
  'TaskFinalized',
  'TaskFailed',
  'TaskExpired',
  'TaskCancelled',
])

/** A fixed-size ring of the last events. */
export class EventRing {
  private readonly buffer: Array<MarketEvent | undefined>
  private next = 0
  /** Every event seen since creation. */
  seen = 0

  constructor(readonly capacity = 200) {
    this.buffer = new Array(capacity)
  }

  /** Records an event the indexer applied (a `MarketIndexer.onEvent` listener). */
  readonly push = (event: Pick<LogDescription, 'name' | 'args'>, log: Pick<Log, 'blockNumber'>): void => {
    if (!MARKET_EVENTS.has(event.name)) return // role grants, config updates: not market activity
    this.buffer[this.next] = toMarketEvent(++this.seen, event, log)
    this.next = (this.next + 1) % this.capacity
  }

  /** The last `n` events, newest first. */
  recent(n = this.capacity): MarketEvent[] {
    const out: MarketEvent[] = []
    for (let i = 1; i <= Math.min(n, this.capacity); i++) {
      const e = this.buffer[(this.next - i + this.capacity) % this.capacity]
      if (!e) break
      out.push(e)
    }
    return out
  }
}
