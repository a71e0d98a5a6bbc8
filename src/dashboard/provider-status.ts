/**
 * A small client for a provider daemon's `GET /v1/ogpu/status` (load, queue, GPU, tasks, earnings), as served on the
 * provider's registered endpoint. Every field is optional on the wire: daemons of other versions may omit or add
 * some, so the reader keeps what it understands and never throws on shape. A daemon that does not answer within
 * the timeout is "unreachable".
 */

export interface ProviderTaskLive {
  id: number
  role: string | null
  status: string | null
  phase: string | null
  items: {done: number; total: number} | null
}

/** A daemon's figures for one stream it serves (its status's `streams.streams[id]`). */
export interface ProviderStreamLive {
  requests: number
  verifications: number
  completionTokens: number
  /** What it charged the client on the stream so far, base units (a decimal string). */
  charged: string
  /** The newest voucher it holds, base units, or null. */
  voucher: string | null
}

export interface ProviderLiveStatus {
  reachable: true
  /** Busy sequences / all sequences, 0..1. */
  load: number | null
  queue: number | null
  gpu: {backend: string | null; vramGiB: number | null} | null
  models: Array<{name: string; busy: number | null; sequences: number | null}>
  tasks: ProviderTaskLive[]
  earnings: {executorPaid: string | null; councilFees: string | null} | null
  bidding: boolean | null
  uptimeSeconds: number | null
  /** Per stream id, when the daemon serves streams; null when it reports none. */
  streams: Record<string, ProviderStreamLive> | null
}

export type ProviderStatusResult = ProviderLiveStatus | {reachable: false; error: string}

const obj = (v: unknown): Record<string, unknown> | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined)
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)
const str = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null)
const bool = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : null)

/** Reads a status body of any shape into the fields the dashboard shows. */
export function parseProviderStatus(body: unknown): ProviderLiveStatus {
  const b = obj(body) ?? {}
  const gpu = obj(b.gpu)
  const earnings = obj(b.earnings)
  const tasks = Array.isArray(b.tasks) ? b.tasks : []
  const models = Array.isArray(b.models) ? b.models : []
  return {
    reachable: true,
    load: num(b.load),
    queue: num(b.queue),
    gpu: gpu ? {backend: str(gpu.backend), vramGiB: num(gpu.vramGiB)} : null,
    models: models.flatMap((m) => {
      const model = obj(m)
      const name = model && str(model.name)
      return model && name ? [{name, busy: num(model.busy), sequences: num(model.sequences)}] : []
    }),
    tasks: tasks.flatMap((t) => {
      const task = obj(t)
      const id = task ? num(task.id) : null
      if (!task || id === null) return []
      const items = obj(task.items)
      const done = items ? num(items.done) : null
      const total = items ? num(items.total) : null
      return [{id, role: str(task.role), status: str(task.status), phase: str(task.phase), items: done !== null && total !== null ? {done, total} : null}]
    }),
    earnings: earnings ? {executorPaid: str(earnings.executorPaid), councilFees: str(earnings.councilFees)} : null,
    bidding: bool(b.bidding),
    uptimeSeconds: num(b.uptimeSeconds),
    streams: parseStreams(obj(obj(b.streams)?.streams)),
  }
}

const wei = (v: unknown): string | null => (typeof v === 'string' && /^\d+$/.test(v) ? v : typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? String(v) : null)

function parseStreams(streams: Record<string, unknown> | undefined): Record<string, ProviderStreamLive> | null {
  if (!streams) return null
  const out: Record<string, ProviderStreamLive> = {}
  for (const [id, value] of Object.entries(streams)) {
    const s = obj(value)
    if (!s || !/^\d+$/.test(id)) continue
    out[id] = {
      requests: num(s.requests) ?? 0,
      verifications: num(s.verifications) ?? 0,
      completionTokens: num(s.completionTokens) ?? 0,
      charged: wei(s.charged) ?? '0',
      voucher: wei(s.voucher),
    }
  }
  return out
}

export interface FetchStatusOptions {
  /** Defaults to 2000. */
  timeoutMs?: number
  signal?: AbortSignal
  /** Defaults to the global fetch. */
  fetch?: typeof fetch
}

/** GET {endpoint}/v1/ogpu/status. Never throws: failures come back as `{reachable: false, error}`. */
export async function fetchProviderStatus(endpoint: string, options: FetchStatusOptions = {}): Promise<ProviderStatusResult> {
  const timeoutMs = options.timeoutMs ?? 2000
  let url: string
  try {
    url = new URL('v1/ogpu/status', endpoint.endsWith('/') ? endpoint : `${endpoint}/`).href
  } catch {
    return {reachable: false, error: `"${endpoint}" is not a URL`}
  }
  const signals = [AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])]
  try {
    const response = await (options.fetch ?? fetch)(url, {signal: AbortSignal.any(signals), headers: {accept: 'application/json'}})
    if (!response.ok) return {reachable: false, error: `HTTP ${response.status}`}
    return parseProviderStatus(await response.json())
  } catch (error) {
    const e = error as {name?: string; message?: string; cause?: {code?: string}}
    return {reachable: false, error: e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.message ?? String(error))}
  }
}
