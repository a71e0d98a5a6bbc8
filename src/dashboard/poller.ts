/**
 * A polling loop with exponential backoff: runs a job every `intervalMs`; when the job fails (an RPC that dropped,
 * a node that hangs past `timeoutMs`), it retries after 0.5 s, 1 s, 2 s … up to `maxBackoffMs`, and reports its
 * state at each step. Framework-free: the TUI's hooks start one in an effect and stop it in the cleanup.
 */

export type ConnectionStatus = 'connecting' | 'live' | 'reconnecting'

export interface ConnectionState {
  status: ConnectionStatus
  /** Failed attempts in a row (0 when live). */
  attempt: number
  /** The last failure's message, while failing. */
  lastError?: string
  /** When the next attempt starts (ms since the epoch), while failing. */
  retryAt?: number
  /** When the job last succeeded (ms since the epoch). */
  lastOkAt?: number
}

export interface PollerOptions {
  /** One round of work. It should honour `signal` (aborted on stop and on timeout). */
  run: (signal: AbortSignal) => Promise<void>
  /** Milliseconds between the end of a successful run and the next. */
  intervalMs: number
  /** A run taking longer than this counts as failed. Defaults to 30000. */
  timeoutMs?: number
  /** First retry delay. Defaults to 500. */
  baseBackoffMs?: number
  /** Longest retry delay. Defaults to 15000. */
  maxBackoffMs?: number
  onState?: (state: ConnectionState) => void
  /** Defaults to Date.now. */
  now?: () => number
}

/** The delay before retry number `attempt` (1-based): base · 2^(attempt−1), capped. */
export function backoffMs(attempt: number, base = 500, max = 15_000): number {
  return Math.min(max, base * 2 ** Math.max(0, Math.min(30, attempt - 1)))
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 200)

export class Poller {
  private timer?: ReturnType<typeof setTimeout>
  private abort?: AbortController
  private running = false
  /** The last job until it settles: a job that timed out may still run, and two must never overlap. */
  private inflight?: Promise<void>
  private stopped = true
  private current: ConnectionState = {status: 'connecting', attempt: 0}

  constructor(private readonly options: PollerOptions) {}

  get state(): ConnectionState {
    return this.current
  }

  start(): void {
    if (!this.stopped) return
    this.stopped = false
    this.schedule(0)
  }

  /** Runs at once (e.g. the user pressed r), unless a run is in progress. */
  poke(): void {
    if (this.stopped || this.running) return
    this.schedule(0)
  }

  stop(): void {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    this.abort?.abort(new Error('stopped'))
  }

  private schedule(delay: number): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = setTimeout(() => void this.tick(), delay)
  }

  private setState(state: ConnectionState): void {
    this.current = state
    this.options.onState?.(state)
  }

  private async tick(): Promise<void> {
    this.timer = undefined
    if (this.stopped || this.running) return
    if (this.inflight) {
      this.schedule(100)
      return
    }
    this.running = true
    const now = this.options.now ?? Date.now
    const abort = new AbortController()
    this.abort = abort
    const timeoutMs = this.options.timeoutMs ?? 30_000
    let timeout: ReturnType<typeof setTimeout> | undefined
    try {
      const job = Promise.resolve().then(() => this.options.run(abort.signal))
      const settled = job.then(
        () => undefined,
        () => undefined,
      )
      this.inflight = settled
      void settled.then(() => {
        if (this.inflight === settled) this.inflight = undefined
      })
      await Promise.race([
        job,
        new Promise<never>((_, reject) => {
          timeout = setTimeout(() => {
            const error = new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`)
            abort.abort(error)
            reject(error)
          }, timeoutMs)
        }),
      ])
      if (this.stopped) return
      this.setState({status: 'live', attempt: 0, lastOkAt: now()})
      this.schedule(this.options.intervalMs)
    } catch (error) {
      if (this.stopped) return
      const attempt = this.current.attempt + 1
      const delay = backoffMs(attempt, this.options.baseBackoffMs, this.options.maxBackoffMs)
      this.setState({status: 'reconnecting', attempt, lastError: message(error), retryAt: now() + delay, lastOkAt: this.current.lastOkAt})
      this.schedule(delay)
    } finally {
      if (timeout) clearTimeout(timeout)
      this.running = false
    }
  }
}
