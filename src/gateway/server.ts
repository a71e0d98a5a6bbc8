/**
 * `startGateway`: the client gateway as a local OpenAI-compatible HTTP server over {@link StreamGateway}.
 *
 *     POST /v1/chat/completions, /v1/completions   stream true → SSE chunks; false → one JSON
 *     GET  /v1/models, /v1/models/{id}             the stream's model: its terms' name and ogpu-stream-N (src/gateway/models.ts)
 *     GET  /metrics                                Prometheus text
 *     GET  /health                                 live subscribers vs council size (200, or 503 when interrupted)
 *     GET  /v1/ogpu/evidence/{receiptDigest}       evidence of a disputed receipt (public: council members read it)
 *
 * With `apiKey`, every route but /health and the evidence needs `Authorization: Bearer KEY` (401 otherwise). Errors
 * are OpenAI's shape `{"error": {"message", "type", "code"}}`.
 */
import {timingSafeEqual} from 'node:crypto'
import type {IncomingMessage, Server, ServerResponse} from 'node:http'

import {ExternalError, isOgpuError, UserError} from '../errors/index.js'
import {createLimitedServer, HttpStatusError, listen, openAiError, readBody, sendError, sendJson, sendText, type ServerLimits} from '../http/index.js'
import {parseCallerBody, statusOf} from './caller.js'
import {GatewayModels, specModelName} from './models.js'
import {type CompletionOutcome, type GatewayOptions, type Route, StreamGateway} from './gateway.js'
import type {GatewayMetrics} from './metrics.js'
import {sseFrame} from './sse.js'

export interface StartGatewayOptions extends Omit<GatewayOptions, 'publicUrl'> {
  /** Port to listen on (0 picks a free one). Defaults to 8080. */
  port?: number
  /** Interface to listen on. Defaults to 127.0.0.1. */
  host?: string
  /** Callers must send `Authorization: Bearer <apiKey>`. Defaults to none (no authentication). */
  apiKey?: string
  /** The URL council members reach this gateway at (evidence URIs). Defaults to the local URL. */
  publicUrl?: string
  /** Largest request body, bytes. Defaults to 1 MiB. */
  maxBodyBytes?: number
  /** Connection and timeout bounds of the server. Defaults to DEFAULT_SERVER_LIMITS. */
  serverLimits?: Partial<ServerLimits>
}

export interface GatewayHandle {
  /** The local URL, e.g. http://127.0.0.1:8080 (no trailing slash). */
  url: string
  port: number
  gateway: StreamGateway
  metrics: GatewayMetrics
  /** Stops accepting requests, ends open ones, waits for background work, and stops health checks. */
  close(): Promise<void>
}

const ROUTES: Record<string, Route> = {'/v1/chat/completions': 'chat', '/v1/completions': 'completions'}

function authorized(req: IncomingMessage, apiKey: string | undefined): boolean {
  if (!apiKey) return true
  const header = req.headers.authorization ?? ''
  const match = /^Bearer\s+(.+)$/i.exec(header)
  if (!match) return false
  const given = Buffer.from(match[1]!.trim())
  const expected = Buffer.from(apiKey)
  return given.length === expected.length && timingSafeEqual(given, expected)
}

export async function startGateway(options: StartGatewayOptions): Promise<GatewayHandle> {
  if (options.apiKey !== undefined && options.apiKey.trim() === '') throw new UserError('The API key is empty.', {code: 'INVALID_API_KEY', hint: 'Give a non-empty --api-key, or none for no authentication.'})
  const gateway = await StreamGateway.open(options)
  const metrics = gateway.metrics
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024
  const created = () => Math.floor(Date.now() / 1000)
  const models = new GatewayModels(gateway.stream, await specModelName(gateway.stream.specUri, gateway.stream.specHash))

  const completion = async (req: IncomingMessage, res: ServerResponse, route: Route): Promise<number> => {
    const body = parseCallerBody(route, (await readBody(req, {limit: maxBodyBytes})).toString('utf8'))
    const streamed = body.stream === true
    const includeUsage = (body.stream_options as {include_usage?: unknown} | undefined)?.include_usage === true
    const model = models.resolve(body.model) // 404 model_not_found before any provider is asked
    const controller = new AbortController()
    res.on('close', () => {
      if (!res.writableFinished) controller.abort()
    })
    const object = route === 'chat' ? 'chat.completion.chunk' : 'text_completion'
    let id = ''
    let first = true
    const chunk = (choice: Record<string, unknown>) => sseFrame({id, object, created: created(), model, choices: [{index: 0, ...choice, logprobs: null}]})
    let outcome: CompletionOutcome
    try {
      outcome = await gateway.complete(
        route,
        body,
        {
          onRelease: (released) => {
            id = released
            if (!streamed) return
            res.writeHead(200, {'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no'})
            res.socket?.setNoDelay(true)
            res.flushHeaders()
          },
          onText: (text) => {
            if (!streamed || text === '') return
            res.write(chunk(route === 'chat' ? {delta: first ? {role: 'assistant', content: text} : {content: text}, finish_reason: null} : {text, finish_reason: null}))
            first = false
          },
        },
        controller.signal,
      )
    } catch (error) {
      if (!res.headersSent) throw error
      // The stream to the caller broke off after it started: say so in-band, as OpenAI servers do.
      const e = isOgpuError(error) ? error : new ExternalError((error as Error).message)
      if (!res.writableEnded) res.end(sseFrame(openAiError(e.code, e.message, {status: statusOf(e)})))
      return 200
    }
    const usage = {prompt_tokens: outcome.promptTokens, completion_tokens: outcome.tokens.length, total_tokens: outcome.promptTokens + outcome.tokens.length}
    if (streamed) {
      if (first && route === 'chat') res.write(chunk({delta: {role: 'assistant', content: ''}, finish_reason: null}))
      res.write(chunk(route === 'chat' ? {delta: {}, finish_reason: outcome.finishReason} : {text: '', finish_reason: outcome.finishReason}))
      if (includeUsage) res.write(sseFrame({id, object, created: created(), model, choices: [], usage}))
      res.end(sseFrame('[DONE]'))
      return 200
    }
    const choice =
      route === 'chat'
        ? {index: 0, message: {role: 'assistant', content: outcome.text}, logprobs: null, finish_reason: outcome.finishReason}
        : {index: 0, text: outcome.text, logprobs: null, finish_reason: outcome.finishReason}
    sendJson(res, 200, {id: outcome.id, object: route === 'chat' ? 'chat.completion' : 'text_completion', created: created(), model, choices: [choice], usage})
    return 200
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<number> => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '') || '/'
    const method = req.method ?? 'GET'
    const evidence = /^\/v1\/ogpu\/evidence\/(0x[0-9a-fA-F]{64})$/.exec(path)
    if (path === '/health' || evidence) {
      if (method !== 'GET') return sendError(res, 405, 'method_not_allowed', 'Use GET.')
      if (evidence) {
        const found = gateway.evidence(evidence[1]!)
        if (!found) return sendError(res, 404, 'not_found', `No evidence for receipt ${evidence[1]}.`)
        sendJson(res, 200, found)
        return 200
      }
      const reason = gateway.unavailableReason()
      const live = gateway.pool.live().length
      sendJson(res, reason ? 503 : 200, {ok: !reason, streamId: options.streamId.toString(), councilSize: gateway.stream.councilSize, liveSubscribers: live, subscribers: gateway.pool.all().length, responseMethod: gateway.stream.responseMethod, ...(reason ? {reason} : {})})
      return reason ? 503 : 200
    }
    if (!authorized(req, options.apiKey)) return sendError(res, 401, 'invalid_api_key', 'Missing or wrong API key: send Authorization: Bearer <key>.', {headers: {'www-authenticate': 'Bearer'}})
    const route = ROUTES[path]
    if (route) {
      if (method !== 'POST') return sendError(res, 405, 'method_not_allowed', 'Use POST.')
      return completion(req, res, route)
    }
    if (method !== 'GET') return sendError(res, path === '/v1/models' || path === '/metrics' ? 405 : 404, path === '/v1/models' || path === '/metrics' ? 'method_not_allowed' : 'not_found', `No route ${method} ${path}.`)
    if (path === '/v1/models') {
      sendJson(res, 200, {object: 'list', data: models.entries})
      return 200
    }
    const one = /^\/v1\/models\/(.+)$/.exec(path)
    if (one) {
      const entry = models.find(decodeURIComponent(one[1]!))
      if (!entry) return sendError(res, 404, 'model_not_found', `The model '${decodeURIComponent(one[1]!)}' does not exist on this gateway (GET /v1/models lists its ids).`, {param: 'model'})
      sendJson(res, 200, entry)
      return 200
    }
    if (path === '/metrics') {
      sendText(res, 200, metrics.render(), 'text/plain; version=0.0.4; charset=utf-8')
      return 200
    }
    return sendError(res, 404, 'not_found', `No route ${method} ${path}.`)
  }

  const server: Server = createLimitedServer((req, res) => {
    const label = ROUTES[new URL(req.url ?? '/', 'http://localhost').pathname] ?? 'other'
    handle(req, res)
      .then((status) => metrics.requests.inc({method: req.method ?? '', route: label, status: String(status)}))
      .catch((error: unknown) => {
        const status = statusOf(error)
        const e = isOgpuError(error) ? error : undefined
        if (!e || e.kind === 'bug') options.log?.(`gateway: ${(error as Error).stack ?? error}`)
        metrics.requests.inc({method: req.method ?? '', route: label, status: String(status)})
        if (!res.headersSent) sendError(res, status, e?.code ?? 'internal_error', e?.message ?? 'The gateway failed to answer.', error instanceof HttpStatusError && error.param ? {param: error.param} : {})
        else res.destroy()
      })
  }, options.serverLimits)
  server.keepAliveTimeout = 5000
  let port: number
  try {
    port = await listen(server, options.port ?? 8080, options.host ?? '127.0.0.1')
  } catch (error) {
    await gateway.close()
    throw error
  }
  const host = options.host ?? '127.0.0.1'
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  gateway.publicUrl = options.publicUrl ?? url
  let closing: Promise<void> | undefined
  return {
    url,
    port,
    gateway,
    metrics,
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeIdleConnections()
          setTimeout(() => server.closeAllConnections(), 2000).unref()
        })
        await gateway.close()
      })()),
  }
}
