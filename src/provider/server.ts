/**
 * The provider's HTTP server: `GET /health`, `GET /v1/ogpu/status`, the signed batch-items API
 * (`GET /tasks/{id}/items/{i}`, `GET /tasks/{id}/items?first=&count=`) and, through `api`, the stream API (/v1/...). JSON everywhere, errors as
 * `{"error": {"code", "message"}}` with a 4xx/5xx status.
 */
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

import type {TypedDataDomain} from 'ethers'

import {ExternalError, UserError} from '../errors/index.js'
import {createItemsHandler, type ItemSource} from './items-api.js'

export interface ProviderServerOptions {
  host: string
  port: number
  domain: TypedDataDomain
  source: ItemSource
  health: () => unknown
  status: () => unknown | Promise<unknown>
  /** More routes (the stream API, ./stream/openai-api.ts): returns true when it handled the request. Defaults to none. */
  api?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>
  /** Test hook: refuse every items request with 503 (an executor that stopped serving). */
  refuseItems?: () => boolean
  onError?: (error: unknown) => void
}

export interface ProviderServer {
  server: Server
  host: string
  port: number
  close(): Promise<void>
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))
  res.writeHead(status, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store'})
  res.end(text)
}

export async function startProviderServer(options: ProviderServerOptions): Promise<ProviderServer> {
  const items = createItemsHandler({domain: options.domain, source: options.source})
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    if (path === '/health') {
      if (req.method !== 'GET') return send(res, 405, {error: {code: 'METHOD_NOT_ALLOWED', message: 'Use GET.'}})
      return send(res, 200, options.health())
    }
    if (path === '/v1/ogpu/status') {
      if (req.method !== 'GET') return send(res, 405, {error: {code: 'METHOD_NOT_ALLOWED', message: 'Use GET.'}})
      return send(res, 200, await options.status())
    }
    if (options.api && path.startsWith('/v1/') && (await options.api(req, res))) return
    if (path.startsWith('/tasks/') && options.refuseItems?.()) return send(res, 503, {error: {code: 'UNAVAILABLE', message: 'Items are not served right now.'}})
    if (await items(req, res)) return
    send(res, 404, {error: {code: 'NOT_FOUND', message: `No route ${req.method} ${path}.`}})
  }
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      options.onError?.(error)
      if (!res.headersSent) send(res, 500, {error: {code: 'INTERNAL', message: 'The provider failed to answer.'}})
      else res.destroy()
    })
  })
  server.keepAliveTimeout = 5000
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening)
      if (error.code === 'EADDRINUSE')
        reject(new UserError(`Port ${options.port} on ${options.host} is already in use.`, {code: 'PORT_IN_USE', hint: 'Pick another one with --port (0 picks a free port).'}))
      else reject(new ExternalError(`Cannot listen on ${options.host}:${options.port}: ${error.message}`, {code: 'LISTEN_FAILED', cause: error}))
    }
    const onListening = () => {
      server.off('error', onError)
      resolve()
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(options.port, options.host)
  })
  const address = server.address() as AddressInfo
  return {
    server,
    host: options.host,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
