import {createServer, type IncomingMessage, request, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'

import {afterEach, describe, expect, it} from 'vitest'

import {BugError, ExitCode, UserError} from '../../../src/errors/index.js'
import {HttpStatusError, httpStatusOf, listen, OGPU_ERROR_TYPE, openAiError, readBody, sendError, sendJson, sendText} from '../../../src/http/index.js'

const servers: Server[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
})

/** A real server on a free port answering with `handler`; errors it throws are answered as 500 with their message. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse) => Promise<void> | void): Promise<string> {
  const server = createServer((req, res) => {
    Promise.resolve(handler(req, res)).catch((error: unknown) => {
      if (error instanceof HttpStatusError) sendError(res, error.status, error.code, error.message)
      else sendError(res, 500, 'internal', String(error))
    })
  })
  servers.push(server)
  const port = await listen(server, 0, '127.0.0.1')
  return `http://127.0.0.1:${port}`
}

describe('sendJson and sendText', () => {
  it('answers JSON with bigints as decimal strings, its length, no caching, and added headers', async () => {
    const url = await serve((_req, res) => sendJson(res, 201, {amount: 10n ** 20n, text: 'é'}, {'x-extra': 'yes'}))
    const response = await fetch(url)
    expect(response.status).toBe(201)
    expect(response.headers.get('content-type')).toBe('application/json')
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(response.headers.get('x-extra')).toBe('yes')
    const text = await response.text()
    expect(text).toBe('{"amount":"100000000000000000000","text":"é"}')
    expect(Number(response.headers.get('content-length'))).toBe(Buffer.byteLength(text))
  })

  it('answers text with its content type', async () => {
    const url = await serve((_req, res) => sendText(res, 200, 'a 1\n', 'text/plain; version=0.0.4; charset=utf-8'))
    const response = await fetch(url)
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
    expect(await response.text()).toBe('a 1\n')
  })
})

describe('openAiError and sendError', () => {
  it('builds OpenAI\'s shape, with the type OpenAI gives the status and param only when given', () => {
    expect(JSON.stringify(openAiError('too_large', 'Too big.', {status: 413}))).toBe('{"error":{"message":"Too big.","type":"invalid_request_error","code":"too_large"}}')
    expect(openAiError('invalid_api_key', 'No.', {status: 401}).error.type).toBe('authentication_error')
    expect(openAiError('no_generator', 'None.', {status: 503}).error.type).toBe('server_error')
    expect(openAiError('x', 'y').error.type).toBe('invalid_request_error')
    expect(JSON.stringify(openAiError('invalid_request', 'Bad.', {type: OGPU_ERROR_TYPE, param: 'messages'}))).toBe('{"error":{"message":"Bad.","type":"ogpu_error","code":"invalid_request","param":"messages"}}')
  })

  it('answers the shape with the status and headers, and returns the status', async () => {
    let returned = 0
    const url = await serve((_req, res) => {
      returned = sendError(res, 401, 'invalid_api_key', 'Missing key.', {headers: {'www-authenticate': 'Bearer'}})
    })
    const response = await fetch(url)
    expect(response.status).toBe(401)
    expect(returned).toBe(401)
    expect(response.headers.get('www-authenticate')).toBe('Bearer')
    expect(await response.json()).toEqual({error: {message: 'Missing key.', type: 'authentication_error', code: 'invalid_api_key'}})
  })
})

describe('readBody', () => {
  const echo = (limit: number) => serve(async (req, res) => sendJson(res, 200, {text: (await readBody(req, {limit})).toString('utf8')}))

  it('reads a body up to the limit', async () => {
    const url = await echo(10)
    expect(await (await fetch(url, {method: 'POST', body: '0123456789'})).json()).toEqual({text: '0123456789'})
  })

  it('answers 413 too_large when the declared length is over the limit, and the refusal reaches the caller', async () => {
    const url = await echo(10)
    const response = await fetch(url, {method: 'POST', body: 'x'.repeat(11)})
    expect(response.status).toBe(413)
    expect((await response.json()).error).toMatchObject({code: 'too_large', message: 'The request body is 11 bytes, over the limit of 10 bytes.'})
  })

  it('answers 413 too_large when a body without a declared length grows over the limit, after draining it', async () => {
    const url = await echo(1000)
    const answer = await new Promise<{status: number; body: string}>((resolve, reject) => {
      const req = request(url, {method: 'POST', headers: {'transfer-encoding': 'chunked'}}, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8')}))
      })
      req.on('error', reject)
      for (let i = 0; i < 20; i++) req.write('y'.repeat(100))
      req.end()
    })
    expect(answer.status).toBe(413)
    expect(JSON.parse(answer.body).error).toMatchObject({code: 'too_large', message: 'The request body is over the limit of 1000 bytes.'})
  })

  it('rejects with a 400 aborted error when the caller breaks off', async () => {
    let rejected: ((error: unknown) => void) | undefined
    const failure = new Promise<unknown>((resolve) => (rejected = resolve))
    const url = await serve(async (req) => {
      await readBody(req, {limit: 1000}).catch((error: unknown) => rejected!(error))
    })
    const req = request(url, {method: 'POST', headers: {'content-length': '500'}})
    req.on('error', () => {})
    req.write('z'.repeat(10), () => req.destroy())
    const error = await failure
    expect(error).toBeInstanceOf(HttpStatusError)
    expect(error).toMatchObject({status: 400, code: 'aborted'})
  })
})

describe('HttpStatusError', () => {
  it('is a user error below 500 and an external one from 500, with its status, code and param', () => {
    const caller = new HttpStatusError(413, 'too_large', 'Too big.', {param: 'max_tokens'})
    expect(caller).toMatchObject({kind: 'user', exitCode: ExitCode.User, status: 413, code: 'too_large', param: 'max_tokens', message: 'Too big.'})
    expect(new HttpStatusError(502, 'bad_gateway', 'Down.')).toMatchObject({kind: 'external', exitCode: ExitCode.External})
    expect(caller.toJSON()).toEqual({code: 'too_large', kind: 'user', message: 'Too big.'})
  })

  it('httpStatusOf reads its status, a numeric details.status, else the fallback', () => {
    expect(httpStatusOf(new HttpStatusError(409, 'replayed', 'Seen.'))).toBe(409)
    expect(httpStatusOf(new UserError('x', {details: {status: 404}}))).toBe(404)
    expect(httpStatusOf(new BugError('x'))).toBe(500)
    expect(httpStatusOf(new Error('x'), 502)).toBe(502)
  })
})

describe('listen', () => {
  it('answers the bound port, and PORT_IN_USE when the port is taken', async () => {
    const url = await serve((_req, res) => sendJson(res, 200, {}))
    const port = Number(new URL(url).port)
    const other = createServer()
    await expect(listen(other, port, '127.0.0.1')).rejects.toMatchObject({code: 'PORT_IN_USE', kind: 'user'})
    expect((await fetch(url)).status).toBe(200)
    expect(port).toBe((servers[0]!.address() as AddressInfo).port)
  })
})
