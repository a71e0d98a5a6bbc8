/**
 * The provider's HTTP server: `GET /health`, `GET /v1/ogpu/status`, the signed batch-items API
 * (`GET /tasks/{id}/items/{i}`, `GET /tasks/{id}/items?first=&count=`) and, through `api`, the stream API (/v1/...). JSON everywhere, errors as
 * `{"error": {"message", "type": "ogpu_error", "code"}}` with a 4xx/5xx status.
 */
import type {IncomingMessage, Server, ServerResponse} from 'node:http'

import type {TypedDataDomain} from 'ethers'

import {createLimitedServer, listen, OGPU_ERROR_TYPE, sendError, sendJson, type ServerLimits} from '../http/index.js'
import {createItemsHandler, type ItemSource} from './items-api.js'

export interface ProviderServerOptions {
  host: string
  port: number
  domain: TypedDataDomain
  /** The provider's address: items requests must be signed for it. */
  address: string
  source: ItemSource
  health: () => unknown
  status: () => unknown | Promise<unknown>
  /** More routes (the stream API, ./stream/openai-api.ts): returns true when it handled the request. Defaults to none. */
  api?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>
  onError?: (error: unknown) => void
  /** Connection and timeout bounds. Defaults to DEFAULT_SERVER_LIMITS. */
  limits?: Partial<ServerLimits>
}

export interface ProviderServer {
  server: Server
  host: string
  port: number
  close(): Promise<void>
}

const sendProviderError = (res: ServerResponse, status: number, code: string, message: string) => void sendError(res, status, code, message, {type: OGPU_ERROR_TYPE})

export async function startProviderServer(options: ProviderServerOptions): Promise<ProviderServer> {
  const items = createItemsHandler({domain: options.domain, address: options.address, source: options.source})
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    if (path === '/health') {
      if (req.method !== 'GET') return sendProviderError(res, 405, 'METHOD_NOT_ALLOWED', 'Use GET.')
      return sendJson(res, 200, options.health())
    }
    if (path === '/v1/ogpu/status') {
      if (req.method !== 'GET') return sendProviderError(res, 405, 'METHOD_NOT_ALLOWED', 'Use GET.')
      return sendJson(res, 200, await options.status())
    }
    if (options.api && path.startsWith('/v1/') && (await options.api(req, res))) return
    if (await items(req, res)) return
    sendProviderError(res, 404, 'NOT_FOUND', `No route ${req.method} ${path}.`)
  }
  const server = createLimitedServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      options.onError?.(error)
      if (!res.headersSent) sendProviderError(res, 500, 'INTERNAL', 'The provider failed to answer.')
      else res.destroy()
    })
  }, options.limits)
  server.keepAliveTimeout = 5000
  const port = await listen(server, options.port, options.host)
  return {
    server,
    host: options.host,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
