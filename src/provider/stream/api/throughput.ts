/** Recent throughput per stream: the last generations' tokens and times, for the status. */

const MAX_SAMPLES = 64
const WINDOW_MS = 60_000

export class Throughput {
  private readonly samples = new Map<string, Array<{at: number; tokens: number; ms: number}>>()

  constructor(private readonly nowMs: () => number = Date.now) {}

  /** One generation of `tokens` in `ms` on the stream. */
  record(streamId: string, tokens: number, ms: number): void {
    const list = this.samples.get(streamId) ?? []
    list.push({at: this.nowMs(), tokens, ms})
    if (list.length > MAX_SAMPLES) list.shift()
    this.samples.set(streamId, list)
  }

  /** Tokens per second over the last minute's generations (one decimal), or null when there were none. */
  tokensPerSecond(streamId: string): number | null {
    const recent = this.samples.get(streamId)?.filter((s) => this.nowMs() - s.at < WINDOW_MS) ?? []
    const ms = recent.reduce((a, s) => a + s.ms, 0)
    const tokens = recent.reduce((a, s) => a + s.tokens, 0)
    return ms > 0 ? Math.round((tokens / ms) * 10_000) / 10 : null
  }
}
