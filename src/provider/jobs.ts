/**
 * Keyed background jobs for level-triggered loops (the provider daemon's tick, the stream service's tick): every
 * tick may ask for the same work again, so a job runs at most once per key at a time (`spawn`), and a retry waits
 * its turn (`due`, `defer`). One home for this rule: the batch side and the stream side share it.
 */

export interface JobsOptions {
  /** A job that failed (its error is caught: one failed job never stops the loop). */
  onError: (key: string, error: unknown) => void
  /** Milliseconds now. Defaults to Date.now. */
  nowMs?: () => number
}

export class Jobs {
  private readonly busy = new Set<string>()
  private readonly running = new Set<Promise<void>>()
  private readonly lastTry = new Map<string, number>()
  private readonly nowMs: () => number
  private closed = false

  constructor(private readonly options: JobsOptions) {
    this.nowMs = options.nowMs ?? Date.now
  }

  /**
   * Whether `key` may be tried now: at least `everyMs` since its last try and not deferred. When it may, the try
   * is remembered (the next one waits `everyMs` again).
   */
  due(key: string, everyMs: number): boolean {
    const now = this.nowMs()
    const last = this.lastTry.get(key)
    if (last !== undefined && (last > now || now - last < everyMs)) return false
    this.lastTry.set(key, now)
    return true
  }

  /** Makes `key` not due for `ms` from now (e.g. an empty deposit: retry after a top-up could have come). */
  defer(key: string, ms: number): void {
    this.lastTry.set(key, this.nowMs() + ms)
  }

  /** Whether `key` is deferred into the future. */
  deferred(key: string): boolean {
    return (this.lastTry.get(key) ?? 0) > this.nowMs()
  }

  /** Runs `job` under `key` unless a job of that key runs already or the jobs are closed. Resolves when it settles. */
  spawn(key: string, job: () => Promise<void>): Promise<void> | undefined {
    if (this.closed || this.busy.has(key)) return undefined
    this.busy.add(key)
    const promise: Promise<void> = job()
      .catch((error: unknown) => this.options.onError(key, error))
      .finally(() => {
        this.busy.delete(key)
        this.running.delete(promise)
      })
    this.running.add(promise)
    return promise
  }

  /** Whether a job of `key` runs. */
  has(key: string): boolean {
    return this.busy.has(key)
  }

  /** The keys of the running jobs. */
  keys(): string[] {
    return [...this.busy]
  }

  /** Whether no job runs. */
  idle(): boolean {
    return this.busy.size === 0
  }

  /** Settles when every job running now has settled. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.running])
  }

  /** No new job starts from now on (running ones go on). */
  close(): void {
    this.closed = true
  }
}
