import {ExternalError, type ExternalErrorCode} from '../errors/index.js'
import type {MarketIndexer} from './indexer.js'
import {type IndexedTask, isEnded, type TaskStatus} from './types.js'

/** The code of a task that ended (finalized, failed, expired, cancelled) before what was awaited happened. */
const ENDED_CODES: Partial<Record<TaskStatus, ExternalErrorCode>> = {finalized: 'TASK_FINALIZED', failed: 'TASK_FAILED', expired: 'TASK_EXPIRED', cancelled: 'TASK_CANCELLED'}

/** Raised to waiters whose moment never came because the task ended first: `TASK_<STATUS>`, with the task. */
export class TaskEndedError extends ExternalError {
  constructor(readonly task: IndexedTask) {
    super(`Task ${task.id} ended (${task.status}).`, {code: taskEndedCode(task.status)})
  }
}

export const taskEndedCode = (status: TaskStatus): ExternalErrorCode => ENDED_CODES[status] ?? 'EXTERNAL_ERROR'

export interface FollowOptions {
  /** Milliseconds between syncs. Defaults to 1000. */
  pollMs?: number
  signal?: AbortSignal
}

/**
 * Follows one task: syncs the indexer until the task ends, calling every waiter whose condition now holds. Waiters
 * see every change; `until` resolves with the task once its predicate is true.
 */
export class TaskFollower {
  private waiters = new Set<{check: (task: IndexedTask) => boolean; resolve: (task: IndexedTask) => void; reject: (error: unknown) => void}>()
  private listeners = new Set<(task: IndexedTask) => void>()
  private loop?: Promise<void>
  private failure?: unknown

  constructor(
    private readonly indexer: MarketIndexer,
    readonly taskId: number,
    private readonly options: FollowOptions = {},
  ) {}

  /** Calls `listener` after every sync that saw the task. */
  onUpdate(listener: (task: IndexedTask) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Resolves when `predicate` holds for the task (checked after every sync). */
  until(predicate: (task: IndexedTask) => boolean): Promise<IndexedTask> {
    this.start()
    const task = this.indexer.task(this.taskId)
    if (task && predicate(task)) return Promise.resolve(task)
    if (this.failure) return Promise.reject(this.failure)
    return new Promise((resolve, reject) => this.waiters.add({check: predicate, resolve, reject}))
  }

  /** Resolves when the task has ended (finalized, failed, expired or cancelled). */
  ended(): Promise<IndexedTask> {
    return this.until((task) => isEnded(task.status))
  }

  private start(): void {
    this.loop ??= this.run().catch((error) => {
      this.failure = error
      for (const waiter of this.waiters) waiter.reject(error)
      this.waiters.clear()
    })
  }

  private async run(): Promise<void> {
    const pollMs = this.options.pollMs ?? 1000
    for (;;) {
      this.options.signal?.throwIfAborted()
      await this.indexer.sync(this.options.signal)
      const task = this.indexer.task(this.taskId)
      if (task) {
        for (const listener of this.listeners) listener(task)
        for (const waiter of [...this.waiters])
          if (waiter.check(task)) {
            this.waiters.delete(waiter)
            waiter.resolve(task)
          }
        if (isEnded(task.status)) {
          // What is still awaited can no longer happen.
          for (const waiter of this.waiters) waiter.reject(new TaskEndedError(task))
          this.waiters.clear()
          return
        }
      }
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, pollMs)
        this.options.signal?.addEventListener(
          'abort',
          () => {
            clearTimeout(timer)
            reject(this.options.signal!.reason)
          },
          {once: true},
        )
      })
    }
  }
}
