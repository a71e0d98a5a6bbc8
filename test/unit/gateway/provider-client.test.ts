import {createServer, type Server} from 'node:http'

import {afterEach, describe, expect, it} from 'vitest'

import {ExternalError} from '../../../src/errors/index.js'
import {ProviderCallError, postVoucher} from '../../../src/gateway/provider-client.js'
import {listen, sendError, sendText} from '../../../src/http/index.js'

const servers: Server[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections()
    await new Promise((resolve) => s.close(resolve))
  }
})

async function answering(status: number, body: {code: string; message: string} | string): Promise<string> {
  const server = createServer((_req, res) => (typeof body === 'string' ? sendText(res, status, body, 'text/plain') : sendError(res, status, body.code, body.message, {type: 'ogpu_error'})))
  servers.push(server)
  return `http://127.0.0.1:${await listen(server, 0, '127.0.0.1')}`
}

const failure = (promise: Promise<unknown>) => promise.then(() => expect.unreachable(), (e: unknown) => e as ProviderCallError)

describe('provider calls', () => {
  it('carries what the provider answered as typed details: status, code, its own message, and whether the caller is at fault', async () => {
    const url = await answering(400, {code: 'invalid_request', message: 'cumulativeAmount must be a decimal string (wei).'})
    const error = await failure(postVoucher(url, {streamId: '1', cumulativeAmount: 'x', signature: '0x'}, 5000))
    expect(error).toBeInstanceOf(ProviderCallError)
    expect(error).toBeInstanceOf(ExternalError)
    expect(error.message).toBe(`${url}/v1/ogpu/vouchers answered 400 invalid_request: cumulativeAmount must be a decimal string (wei).`)
    expect(error.details).toEqual({status: 400, code: 'invalid_request', providerMessage: 'cumulativeAmount must be a decimal string (wei).', callerFault: true})
  })

  it('is no caller fault on other refusals, keeps a text answer as the message, and says when the provider is unreachable', async () => {
    const busy = await failure(postVoucher(await answering(503, 'overloaded'), {streamId: '1', cumulativeAmount: '1', signature: '0x'}, 5000))
    expect(busy.details).toMatchObject({status: 503, providerMessage: 'overloaded', callerFault: false})
    const gone = await failure(postVoucher('http://127.0.0.1:1', {streamId: '1', cumulativeAmount: '1', signature: '0x'}, 5000))
    expect(gone.details).toEqual({unreachable: true})
  })
})
