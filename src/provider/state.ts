/**
 * The provider daemon's durable state, one directory per provider address: `<data dir>/provider/<address>/`.
 *
 *     journal.jsonl, snapshot.json   the journaled store (./journal.ts) of the records below
 *     market-index.json              the market indexer's snapshot (a cache: rebuilt from the chain when lost)
 *     daemon.json                    the running daemon (pid, URL); removed on a clean stop
 *
 * The rule for everything that costs money when lost: journal the intent (fsynced) BEFORE the transaction. A bid
 * intent means the task is never bid on again, even if the process died before sending; a vote intent holds the
 * salt, so a restarted daemon reveals what it committed.
 */
import {join} from 'node:path'

import type {ItemResult} from '../protocol/results.js'
import {JournalStore} from './journal.js'

export type TxStatus = 'intent' | 'sent' | 'done' | 'failed'

export interface BidRecord {
  price: string
  strategy: string
  /** Unix ms when the intent was recorded. */
  at: number
  status: TxStatus
  tx?: string
  error?: string
}

export interface CheckpointRecord {
  root: string
  status: TxStatus
  tx?: string
  error?: string
}

export interface VoteRecord {
  accept: boolean
  /** Secret until revealed: never logged. */
  salt: string
  commitment: string
  sample: number[]
  problems: string[]
  /** commit: intent → sent → done (committed) | failed */
  status: TxStatus
  commitTx?: string
  reveal?: {status: TxStatus; tx?: string; error?: string}
  error?: string
}

export interface TaskRecord {
  id: number
  /** Why the daemon did not bid (set once: a task is evaluated once). */
  skipped?: {reason: string; at: number}
  bid?: BidRecord
  /** Set when the daemon started executing the task. */
  executing?: {at: number}
  /** Results by item index (executor). */
  results?: Record<string, ItemResult>
  /** Checkpoint commits by k (executor). */
  checkpoints?: Record<string, CheckpointRecord>
  /** Verdicts by k (council). */
  votes?: Record<string, VoteRecord>
  /** The task's final status once it ended. */
  ended?: string
}

export interface ProviderStateData {
  /** Last block whose events the daemon has acted on. */
  cursor: number
  tasks: Record<string, TaskRecord>
}

export type ProviderRecord =
  | {t: 'cursor'; block: number}
  | {t: 'skip'; taskId: number; reason: string; at: number}
  | {t: 'bid'; taskId: number; price: string; strategy: string; at: number}
  | {t: 'bid-tx'; taskId: number; status: TxStatus; tx?: string; error?: string}
  | {t: 'execute'; taskId: number; at: number}
  | {t: 'result'; taskId: number; result: ItemResult}
  | {t: 'checkpoint'; taskId: number; k: number; root: string}
  | {t: 'checkpoint-tx'; taskId: number; k: number; status: TxStatus; tx?: string; error?: string}
  | {t: 'vote'; taskId: number; k: number; accept: boolean; salt: string; commitment: string; sample: number[]; problems: string[]}
  | {t: 'vote-tx'; taskId: number; k: number; status: TxStatus; tx?: string; error?: string}
  | {t: 'reveal-tx'; taskId: number; k: number; status: TxStatus; tx?: string; error?: string}
  | {t: 'ended'; taskId: number; status: string}

function task(state: ProviderStateData, id: number): TaskRecord {
  return (state.tasks[id] ??= {id})
}

export function applyRecord(state: ProviderStateData, r: ProviderRecord): void {
  switch (r.t) {
    case 'cursor':
      state.cursor = Math.max(state.cursor, r.block)
      return
    case 'skip':
      task(state, r.taskId).skipped = {reason: r.reason, at: r.at}
      return
    case 'bid':
      task(state, r.taskId).bid = {price: r.price, strategy: r.strategy, at: r.at, status: 'intent'}
      return
    case 'bid-tx': {
      const bid = task(state, r.taskId).bid
      if (bid) Object.assign(bid, {status: r.status, ...(r.tx ? {tx: r.tx} : {}), ...(r.error ? {error: r.error} : {})})
      return
    }
    case 'execute':
      task(state, r.taskId).executing ??= {at: r.at}
      return
    case 'result':
      ;(task(state, r.taskId).results ??= {})[r.result.index] = r.result
      return
    case 'checkpoint':
      ;(task(state, r.taskId).checkpoints ??= {})[r.k] = {root: r.root, status: 'intent'}
      return
    case 'checkpoint-tx': {
      const cp = task(state, r.taskId).checkpoints?.[r.k]
      if (cp) Object.assign(cp, {status: r.status, ...(r.tx ? {tx: r.tx} : {}), ...(r.error ? {error: r.error} : {})})
      return
    }
    case 'vote':
      ;(task(state, r.taskId).votes ??= {})[r.k] = {
        accept: r.accept,
        salt: r.salt,
        commitment: r.commitment,
        sample: r.sample,
        problems: r.problems,
        status: 'intent',
      }
      return
    case 'vote-tx': {
      const vote = task(state, r.taskId).votes?.[r.k]
      if (vote) Object.assign(vote, {status: r.status, ...(r.tx ? {commitTx: r.tx} : {}), ...(r.error ? {error: r.error} : {})})
      return
    }
    case 'reveal-tx': {
      const vote = task(state, r.taskId).votes?.[r.k]
      if (vote) vote.reveal = {status: r.status, ...(r.tx ? {tx: r.tx} : {}), ...(r.error ? {error: r.error} : {})}
      return
    }
    case 'ended':
      task(state, r.taskId).ended = r.status
  }
}

export type ProviderStore = JournalStore<ProviderStateData, ProviderRecord>

export const providerDir = (dataDir: string, address: string): string => join(dataDir, 'provider', address.toLowerCase())

export function openProviderStore(dir: string, options: {compactEvery?: number} = {}): ProviderStore {
  return JournalStore.open<ProviderStateData, ProviderRecord>({
    dir,
    initial: () => ({cursor: 0, tasks: {}}),
    apply: applyRecord,
    compactEvery: options.compactEvery ?? 2000,
  })
}

/** The provider's state as on disk, read-only (a running daemon may own it); undefined when there is none. */
export function readProviderState(dir: string): ProviderStateData | undefined {
  return JournalStore.read<ProviderStateData, ProviderRecord>({dir, initial: () => ({cursor: 0, tasks: {}}), apply: applyRecord})
}
