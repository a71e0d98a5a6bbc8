/**
 * What the dashboard reads from published task specs: the model's name and maxTokens (for the price per 1k tokens).
 * Specs are fetched from their URI on demand (visible rows, recent winning bids), a few at a time, checked against
 * the on-chain hash, and cached by hash. An unreadable spec is remembered as such (and retried after a while).
 */
import {type SpecInfo, specInfoOf} from '../protocol/published-spec.js'
import {fetchDataUri} from '../protocol/task-data.js'

export {type SpecInfo, specInfoOf} from '../protocol/published-spec.js'

export interface SpecRef {
  specHash: string
  specUri: string
}

export interface SpecLookup {
  get(specHash: string): SpecInfo | undefined
}

export interface SpecBookOptions {
  /** Fetches the spec text. Defaults to fetchDataUri (file:, data:, http(s), ipfs). */
  fetchText?: (uri: string) => Promise<string>
  /** Parallel fetches. Defaults to 4. */
  concurrency?: number
  /** Retry an unreadable spec after this long. Defaults to 60000. */
  retryMs?: number
  now?: () => number
}

export class SpecBook implements SpecLookup {
  private readonly cache = new Map<string, SpecInfo & {at?: number}>()
  private readonly queue: SpecRef[] = []
  private active = 0
  private listeners = new Set<() => void>()
  private readonly fetchText: (uri: string) => Promise<string>

  constructor(private readonly options: SpecBookOptions = {}) {
    this.fetchText = options.fetchText ?? ((uri) => fetchDataUri(uri, {maxBytes: 1 << 20, timeoutMs: 5000}))
  }

  get(specHash: string): SpecInfo | undefined {
    return this.cache.get(specHash.toLowerCase())
  }

  /** Called whenever a spec resolves. Returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Asks for these specs (those not cached, or unreadable long enough ago, are queued). */
  request(refs: Iterable<SpecRef>): void {
    const now = (this.options.now ?? Date.now)()
    for (const ref of refs) {
      const key = ref.specHash.toLowerCase()
      const known = this.cache.get(key)
      if (known && !(known.state === 'unreadable' && now - (known.at ?? 0) > (this.options.retryMs ?? 60_000))) continue
      this.cache.set(key, {state: 'pending'})
      this.queue.push(ref)
    }
    this.pump()
  }

  /** Resolves when nothing is queued or being fetched (or after `timeoutMs`). */
  async settled(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while ((this.active > 0 || this.queue.length > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  }

  private pump(): void {
    while (this.active < (this.options.concurrency ?? 4) && this.queue.length > 0) {
      const ref = this.queue.shift()!
      this.active++
      void this.load(ref).finally(() => {
        this.active--
        for (const listener of this.listeners) listener()
        this.pump()
      })
    }
  }

  private async load(ref: SpecRef): Promise<void> {
    const key = ref.specHash.toLowerCase()
    let info: SpecInfo
    try {
      info = specInfoOf(await this.fetchText(ref.specUri), ref.specHash)
    } catch (error) {
      info = {state: 'unreadable', error: (error instanceof Error ? error.message : String(error)).slice(0, 120)}
    }
    this.cache.set(key, {...info, at: (this.options.now ?? Date.now)()})
  }
}
