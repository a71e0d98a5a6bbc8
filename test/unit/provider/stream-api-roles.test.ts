import {describe, expect, it} from 'vitest'

import {signedRequestHeaders} from '../../../src/protocol/stream.js'
import {Admission} from '../../../src/provider/stream/api/admission.js'
import {checkPromptSize, checkRequestedSize, parseJson, promptTokensOf} from '../../../src/provider/stream/api/request.js'
import {Throughput} from '../../../src/provider/stream/api/throughput.js'
import {DEFAULT_STREAM_LIMITS} from '../../../src/provider/stream/auth.js'
import {client, domain, fakeBackend, lookupOf, memoryBook, provider, refusal, streamOf} from './stream-api-fakes.js'

describe('request parsing', () => {
  it('parses JSON objects only (400 invalid_request)', () => {
    expect(parseJson(Buffer.from('{"a":1}'))).toEqual({a: 1})
    expect(refusal(() => parseJson(Buffer.from('nope'))).code).toBe('invalid_request')
    expect(refusal(() => parseJson(Buffer.from('[1]'))).message).toBe('The body must be a JSON object.')
  })

  it('refuses max_tokens over the limit before the signature, and leaves bodies that do not parse to the full parse', () => {
    const limits = {...DEFAULT_STREAM_LIMITS, maxTokens: 10}
    expect(refusal(() => checkRequestedSize(Buffer.from('{"max_completion_tokens":11}'), limits)).param).toBe('max_tokens')
    expect(() => checkRequestedSize(Buffer.from('{"max_tokens":10}'), limits)).not.toThrow()
    expect(() => checkRequestedSize(Buffer.from('not json'), limits)).not.toThrow()
  })

  it('prepares the prompt with the resumed tokens, and checks its size against the limit and the context', () => {
    const backend = fakeBackend({contextSize: 10})
    const request = {route: 'completions' as const, prompt: 'abc', stream: false, includeUsage: false, maxTokens: 5, resumeTokens: [100]}
    expect(promptTokensOf(backend, request)).toEqual([97, 98, 99, 100])
    expect(refusal(() => promptTokensOf(backend, {...request, resumeTokens: [500]})).param).toBe('prompt')
    expect(refusal(() => checkPromptSize({...DEFAULT_STREAM_LIMITS, maxPromptTokens: 3}, backend, 4, 1)).param).toBe('messages')
    expect(refusal(() => checkPromptSize(DEFAULT_STREAM_LIMITS, backend, 4, 7)).param).toBe('max_tokens')
    expect(() => checkPromptSize(DEFAULT_STREAM_LIMITS, backend, 4, 6)).not.toThrow()
  })
})

describe('admission', () => {
  const setup = (limits = {}) => {
    const book = memoryBook()
    const now = 1_000_000
    const admission = new Admission({domain, address: provider.address, streams: lookupOf([streamOf(client.address)]), book, backends: () => [fakeBackend()], limits: {...DEFAULT_STREAM_LIMITS, ...limits}, now: () => now})
    const signed = async (body: string, requestId?: string) => {
      const {headers} = await signedRequestHeaders(client, domain, 1n, provider.address, body, {requestId, now})
      return {headers, raw: Buffer.from(body)}
    }
    return {book, admission, signed}
  }

  it('records a request id when accepted, journals it once, and refuses it again from then on', async () => {
    const {book, admission, signed} = setup()
    const r = await signed('{}', `0x${'01'.repeat(32)}`)
    const admitted = await admission.admit(r.headers, r.raw, {billable: true})
    expect(admitted.stream.id).toBe(1n)
    // not accepted yet: the same request passes again
    const again = await admission.admit(r.headers, r.raw, {billable: true})
    const journal = again.accept()
    await expect(admission.admit(r.headers, r.raw, {billable: true})).rejects.toMatchObject({code: 'replayed'})
    expect(book.records).toEqual([])
    journal()
    journal()
    expect(book.records).toMatchObject([{t: 'request', streamId: '1', requestId: `0x${'01'.repeat(32)}`}])
  })

  it('limits the client\'s rate (429) and its unpaid credit on billable requests only (402)', async () => {
    const {book, admission, signed} = setup({rateBurst: 2, ratePerSecond: 0.001, creditLimit: 5n})
    book.appendSoon({t: 'charge', streamId: '1', requestId: 'x', kind: 'generation', promptTokens: 1, completionTokens: 1, amount: '6', at: 0})
    const a = await signed('{"a":1}')
    await expect(admission.admit(a.headers, a.raw, {billable: true})).rejects.toMatchObject({code: 'over_credit', status: 402})
    const b = await signed('{"b":1}')
    expect((await admission.admit(b.headers, b.raw, {billable: false})).stream.client).toBe(client.address)
    const c = await signed('{"c":1}')
    await expect(admission.admit(c.headers, c.raw, {billable: false})).rejects.toMatchObject({code: 'rate_limited', status: 429})
  })

  it('refuses an expired request (401) and new work while stopping (503)', async () => {
    const {signed} = setup()
    const r = await signed('{}')
    const stopping = new Admission({domain, streams: lookupOf([]), book: memoryBook(), backends: () => [], limits: DEFAULT_STREAM_LIMITS, now: () => 2_000_000, stopping: () => true})
    expect(refusal(() => stopping.authOf(r.headers, r.raw)).code).toBe('expired')
    expect(refusal(() => stopping.checkBusy()).status).toBe(503)
  })
})

describe('throughput', () => {
  it('reports tokens per second over the last minute, null without generations', () => {
    let now = 0
    const t = new Throughput(() => now)
    expect(t.tokensPerSecond('1')).toBeNull()
    t.record('1', 10, 500)
    t.record('1', 30, 1500)
    expect(t.tokensPerSecond('1')).toBe(20)
    now = 61_000
    expect(t.tokensPerSecond('1')).toBeNull()
  })
})
