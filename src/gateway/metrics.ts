/**
 * The gateway's metrics in Prometheus' text exposition format (version 0.0.4): counters with labels, gauges read at
 * scrape time, and histograms with cumulative buckets. Small on purpose: the gateway needs a dozen series, not a
 * client library.
 */

type Labels = Record<string, string>

const escape = (value: string): string => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
const labelText = (labels: Labels): string => {
  const keys = Object.keys(labels).sort()
  return keys.length === 0 ? '' : `{${keys.map((k) => `${k}="${escape(labels[k]!)}"`).join(',')}}`
}
const num = (value: number | bigint): string => (typeof value === 'bigint' ? value.toString() : Number.isFinite(value) ? String(value) : value > 0 ? '+Inf' : value < 0 ? '-Inf' : 'NaN')

interface Metric {
  name: string
  help: string
  type: 'counter' | 'gauge' | 'histogram'
  render(): string[]
}

export class Counter implements Metric {
  readonly type = 'counter' as const
  private readonly values = new Map<string, {labels: Labels; value: number}>()
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels)
    const entry = this.values.get(key)
    if (entry) entry.value += by
    else this.values.set(key, {labels, value: by})
  }

  /** The current value of one label set (0 when never incremented). */
  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels))?.value ?? 0
  }

  render(): string[] {
    if (this.values.size === 0) return [`${this.name} 0`]
    return [...this.values.values()].map((e) => `${this.name}${labelText(e.labels)} ${num(e.value)}`)
  }
}

export class Gauge implements Metric {
  readonly type = 'gauge' as const
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => number | bigint,
  ) {}

  render(): string[] {
    return [`${this.name} ${num(this.read())}`]
  }
}

export class Histogram implements Metric {
  readonly type = 'histogram' as const
  private readonly counts: number[]
  private sum = 0
  private count = 0
  constructor(
    readonly name: string,
    readonly help: string,
    /** Upper bounds, ascending (the +Inf bucket is implicit). */
    readonly buckets: readonly number[],
  ) {
    this.counts = buckets.map(() => 0)
  }

  observe(value: number): void {
    this.sum += value
    this.count++
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) this.counts[i]!++
  }

  get observations(): number {
    return this.count
  }

  render(): string[] {
    return [
      ...this.buckets.map((le, i) => `${this.name}_bucket{le="${le}"} ${this.counts[i]}`),
      `${this.name}_bucket{le="+Inf"} ${this.count}`,
      `${this.name}_sum ${num(this.sum)}`,
      `${this.name}_count ${this.count}`,
    ]
  }
}

/** The metrics the gateway exports. */
export class GatewayMetrics {
  readonly requests = new Counter('ogpu_gateway_requests_total', 'HTTP requests answered, by method, route and status.')
  readonly tokens = new Counter('ogpu_gateway_completion_tokens_total', 'Completion tokens sent to callers.')
  readonly promptTokens = new Counter('ogpu_gateway_prompt_tokens_total', 'Prompt tokens of answered requests.')
  readonly timeToFirstToken = new Histogram('ogpu_gateway_time_to_first_token_seconds', 'From the request to the first token the caller received.', [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
  ])
  readonly verifications = new Counter('ogpu_gateway_verifications_total', 'Verifier verdicts on responses, by outcome (approved, rejected, abstained).')
  readonly responses = new Counter('ogpu_gateway_responses_total', 'Responses by response method and outcome (released, failed, rejected_after_release).')
  readonly failovers = new Counter('ogpu_gateway_failovers_total', 'Generators replaced during a response, by kind (before_first_token, mid_stream, bad_receipt, rejected).')
  readonly disputes = new Counter('ogpu_gateway_disputes_total', 'Disputes on failed verifications, by outcome (opened, failed).')
  readonly vouchers = new Counter('ogpu_gateway_vouchers_total', 'Vouchers signed and sent to providers, by outcome (delivered, failed).')
  readonly chargeMismatches = new Counter('ogpu_gateway_charge_mismatches_total', "Provider charges that differ from the gateway's own computation.")
  private readonly extra: Metric[] = []

  constructor(gauges: {liveSubscribers: () => number; subscribers: () => number; councilSize: () => number; owed: () => bigint; inflight: () => number}) {
    this.extra.push(
      new Gauge('ogpu_gateway_live_subscribers', 'Subscribers that answer their health check.', gauges.liveSubscribers),
      new Gauge('ogpu_gateway_subscribers', 'Subscribers of the stream on chain.', gauges.subscribers),
      new Gauge('ogpu_gateway_council_size', "The stream's council size c.", gauges.councilSize),
      new Gauge('ogpu_gateway_owed_wei', 'Sum of the cumulative vouchers signed on the stream, wei.', gauges.owed),
      new Gauge('ogpu_gateway_inflight_requests', 'Completions in progress.', gauges.inflight),
    )
  }

  /** The exposition text of every metric. */
  render(): string {
    const metrics: Metric[] = [
      this.requests,
      this.tokens,
      this.promptTokens,
      this.timeToFirstToken,
      this.verifications,
      this.responses,
      this.failovers,
      this.disputes,
      this.vouchers,
      this.chargeMismatches,
      ...this.extra,
    ]
    return `${metrics.flatMap((m) => [`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`, ...m.render()]).join('\n')}\n`
  }
}
