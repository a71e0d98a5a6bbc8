/**
 * Bounds on what a client can hold of a server: connections per client address and in all, and how long headers
 * and a request body may take to arrive (Node's defaults let a request dribble in for 300 s). Every server ogpu runs
 * (the provider's, the gateway's) applies them; every bound is a flag of its command, with these defaults.
 */
import {createServer, type RequestListener, type Server} from 'node:http'
import type {Socket} from 'node:net'

export interface ServerLimits {
  /** Open connections one client address may hold; more are closed at once. Defaults to 32. */
  maxConnectionsPerClient: number
  /** Open connections in all; more are refused by the kernel's accept queue. Defaults to 1024. */
  maxConnections: number
  /** Milliseconds for a request's headers to arrive. Defaults to 10 000. */
  headersTimeoutMs: number
  /** Milliseconds for a whole request (headers and body) to arrive; responses may stream for longer. Defaults to 60 000. */
  requestTimeoutMs: number
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {maxConnectionsPerClient: 32, maxConnections: 1024, headersTimeoutMs: 10_000, requestTimeoutMs: 60_000}

/** The limits in full (defaults filled in); a RangeError names one that is not a positive integer. */
export function serverLimits(limits: Partial<ServerLimits> = {}): ServerLimits {
  const applied = {...DEFAULT_SERVER_LIMITS, ...limits}
  for (const [name, value] of Object.entries(applied))
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`Server limit ${name} must be a positive integer (got ${value}).`)
  return applied
}

/**
 * An HTTP server with `limits` applied. Node checks header and request timeouts every `connectionsCheckingInterval`
 * (30 s by default, which would let a slow client hold a connection 30 s past its timeout): here it is a fraction of
 * the header timeout, so that the timeouts hold as set.
 */
export function createLimitedServer(handler: RequestListener, limits: Partial<ServerLimits> = {}): Server {
  const applied = serverLimits(limits)
  const server = createServer(
    {
      headersTimeout: applied.headersTimeoutMs,
      // Node requires requestTimeout >= headersTimeout (0 disables it; we never disable).
      requestTimeout: Math.max(applied.requestTimeoutMs, applied.headersTimeoutMs),
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(applied.headersTimeoutMs / 4))),
    },
    handler,
  )
  limitConnections(server, applied)
  return server
}

function limitConnections(server: Server, applied: ServerLimits): void {
  server.maxConnections = applied.maxConnections
  const perClient = new Map<string, number>()
  server.on('connection', (socket: Socket) => {
    const client = socket.remoteAddress ?? 'unknown'
    const open = (perClient.get(client) ?? 0) + 1
    if (open > applied.maxConnectionsPerClient) {
      socket.destroy()
      return
    }
    perClient.set(client, open)
    socket.once('close', () => {
      const left = (perClient.get(client) ?? 1) - 1
      if (left <= 0) perClient.delete(client)
      else perClient.set(client, left)
    })
  })
}
