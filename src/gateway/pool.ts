/**
 * The stream's subscribers as the gateway sees them: their endpoints (from the provider registry), whether they are
 * live (their `GET /health` answers), how fast they answer, how busy the gateway keeps them and how often they failed
 * lately. Every subscriber serves at the stream's price, so the generator is chosen by health, load and latency.
 */

export interface SubscriberRecord {
  address: string
  /** The registered endpoint (no trailing slash), or null when the provider has none. */
  endpoint: string | null
}

export interface SubscriberState extends SubscriberRecord {
  live: boolean
  /** Why it is not live (null when live). */
  reason: string | null
  /** Smoothed latency, ms: health round trips and times to first token. Null until measured. */
  latencyMs: number | null
  /** Requests the gateway has in flight on it (generations and verifications). */
  inflight: number
  /** Times of recent failures (ms since epoch), newest last. */
  failures: number[]
}

export interface ProbeResult {
  ok: boolean
  latencyMs: number
  /** Why it failed. */
  reason?: string
}

export interface SubscriberPoolOptions {
  /** The subscribers in subscription order (the chain: subscribersOf and the registry's endpoints). */
  list: () => Promise<SubscriberRecord[]>
  /** Checks one endpoint. Defaults to GET {endpoint}/health with a 2 s timeout. */
  probe?: (endpoint: string) => Promise<ProbeResult>
  /** How long a failure weighs on the choice, ms. Defaults to 30,000. */
  failureMemoryMs?: number
  /** Clock. Defaults to Date.now. */
  now?: () => number
  /** Generators to use first when live, in this order (e.g. the client's own provider). Defaults to none. */
  preferred?: readonly string[]
}

/** GET {endpoint}/health: live when it answers 2xx within `timeoutMs`. */
export async function probeHealth(endpoint: string, timeoutMs = 2000): Promise<ProbeResult> {
  const started = performance.now()
  try {
    const response = await fetch(`${endpoint}/health`, {signal: AbortSignal.timeout(timeoutMs)})
    await response.arrayBuffer()
    const latencyMs = performance.now() - started
    return response.ok ? {ok: true, latencyMs} : {ok: false, latencyMs, reason: `health answered ${response.status}`}
  } catch (error) {
    const cause = (error as {cause?: {code?: string}}).cause?.code
    return {ok: false, latencyMs: performance.now() - started, reason: cause ? `unreachable (${cause})` : `unreachable (${(error as Error).message})`}
  }
}

/** Score of a subscriber as generator: lower is better (expected ms to serve, with penalties for load and failures). */
export function generatorScore(s: Pick<SubscriberState, 'latencyMs' | 'inflight' | 'failures'>, now: number, failureMemoryMs = 30_000): number {
  const latency = s.latencyMs ?? 50
  const recentFailures = s.failures.filter((t) => now - t < failureMemoryMs).length
  return latency * (1 + s.inflight) + recentFailures * 1000
}

export class SubscriberPool {
  private states: SubscriberState[] = []
  private readonly probe: (endpoint: string) => Promise<ProbeResult>
  private readonly now: () => number
  private readonly failureMemoryMs: number
  private refreshing?: Promise<void>

  constructor(private readonly options: SubscriberPoolOptions) {
    this.probe = options.probe ?? ((endpoint) => probeHealth(endpoint))
    this.now = options.now ?? Date.now
    this.failureMemoryMs = options.failureMemoryMs ?? 30_000
  }

  /** Every subscriber, in subscription order. */
  all(): readonly SubscriberState[] {
    return this.states
  }

  live(): SubscriberState[] {
    return this.states.filter((s) => s.live)
  }

  get(address: string): SubscriberState | undefined {
    return this.states.find((s) => s.address === address)
  }

  /** Rereads the subscriber list and probes every endpoint (concurrent calls share one refresh). */
  refresh(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = undefined
    })
    return this.refreshing
  }

  private async doRefresh(): Promise<void> {
    const records = await this.options.list()
    const previous = new Map(this.states.map((s) => [s.address, s]))
    const next = records.map(
      (r): SubscriberState => {
        const old = previous.get(r.address)
        return old && old.endpoint === r.endpoint
          ? old
          : {...r, live: false, reason: r.endpoint ? 'not checked yet' : 'no endpoint registered', latencyMs: null, inflight: old?.inflight ?? 0, failures: old?.failures ?? []}
      },
    )
    await Promise.all(
      next.map(async (s) => {
        if (!s.endpoint) {
          s.live = false
          s.reason = 'no endpoint registered'
          return
        }
        const result = await this.probe(s.endpoint)
        s.live = result.ok
        s.reason = result.ok ? null : (result.reason ?? 'health check failed')
        if (result.ok) this.observeLatency(s, result.latencyMs)
      }),
    )
    this.states = next
  }

  private observeLatency(s: SubscriberState, ms: number): void {
    s.latencyMs = s.latencyMs === null ? ms : s.latencyMs * 0.7 + ms * 0.3
  }

  /** The best live generator not in `exclude` (undefined when none is left). */
  chooseGenerator(exclude: ReadonlySet<string> = new Set()): SubscriberState | undefined {
    for (const address of this.options.preferred ?? []) {
      const s = this.states.find((x) => x.address.toLowerCase() === address.toLowerCase())
      if (s?.live && !exclude.has(s.address)) return s
    }
    const now = this.now()
    let best: SubscriberState | undefined
    let bestScore = Infinity
    for (const s of this.states) {
      if (!s.live || exclude.has(s.address)) continue
      const score = generatorScore(s, now, this.failureMemoryMs)
      if (score < bestScore) {
        best = s
        bestScore = score
      }
    }
    return best
  }

  /** Up to `count` live verifiers other than those in `exclude`, best first. */
  chooseVerifiers(count: number, exclude: ReadonlySet<string>): SubscriberState[] {
    const now = this.now()
    return this.states
      .filter((s) => s.live && !exclude.has(s.address))
      .map((s) => ({s, score: generatorScore(s, now, this.failureMemoryMs)}))
      .sort((a, b) => a.score - b.score)
      .slice(0, Math.max(0, count))
      .map((e) => e.s)
  }

  /** Starts a call on the subscriber; the returned function ends it. */
  begin(address: string): () => void {
    const s = this.get(address)
    if (!s) return () => {}
    s.inflight++
    let ended = false
    return () => {
      if (ended) return
      ended = true
      s.inflight = Math.max(0, s.inflight - 1)
    }
  }

  succeeded(address: string, latencyMs?: number): void {
    const s = this.get(address)
    if (s && latencyMs !== undefined) this.observeLatency(s, latencyMs)
  }

  /** Records a failure; `down` also takes it out of the live set until its next successful health check. */
  failed(address: string, reason: string, options: {down?: boolean} = {}): void {
    const s = this.get(address)
    if (!s) return
    const now = this.now()
    s.failures = [...s.failures.filter((t) => now - t < this.failureMemoryMs), now]
    if (options.down) {
      s.live = false
      s.reason = reason
    }
  }
}
