/** The narrow ports the daemon's roles share. Each role takes only the ones it uses; tests pass fakes. */
import type {IndexedTask} from '../../market/types.js'
import type {Logger} from '../log.js'
import type {ProviderRecord, ProviderStore, TaskRecord} from '../state.js'
import type {SendTx} from '../tx-queue.js'
import type {LoadedModel} from './types.js'

export type {SendTx} from '../tx-queue.js'
export type {Logger} from '../log.js'

/** The provider's durable task records (./state.ts). */
export interface TaskRecords {
  record(taskId: number): TaskRecord | undefined
  /** Durable (fsync) before it returns. */
  append(r: ProviderRecord): void
  /** Group commit: durable at the next flush. */
  appendSoon(r: ProviderRecord): void
  flush(): void
}

/** The market as the indexer knows it. */
export interface TaskView {
  task(taskId: number): IndexedTask | undefined
  tasks(): IndexedTask[]
}

/** The loaded models by sha256 (lower-case hex, no 0x). */
export interface Models {
  get(sha256: string): LoadedModel | undefined
}

export interface Clock {
  /** The chain's time, unix seconds. */
  now(): number
}

/** Keyed background jobs (../jobs.ts). */
export interface JobRunner {
  due(key: string, everyMs: number): boolean
  spawn(key: string, job: () => Promise<void>): Promise<void> | undefined
}

export interface RolePorts {
  /** The provider's address (checksummed). */
  address: string
  records: TaskRecords
  log: Logger
  clock: Clock
  sendTx: SendTx
}

/** The provider store as TaskRecords. */
export function storeRecords(store: ProviderStore): TaskRecords {
  return {
    record: (taskId) => store.state.tasks[taskId],
    append: (r) => store.append(r),
    appendSoon: (r) => store.appendSoon(r),
    flush: () => store.flush(),
  }
}

export const modelHex = (hash: string): string => hash.toLowerCase().replace(/^0x/, '')

export {nextCheckpoint} from '../../market/earnings.js'
