import {describe, expect, it} from 'vitest'

import {checkExpiry, DEFAULT_STREAM_LIMITS, RateLimiter, readAuthHeaders} from '../../../src/provider/stream/auth.js'
import {refusal} from './stream-api-fakes.js'
import {applyBookRecord, type StreamBookData, unpaidOf, unredeemedOf} from '../../../src/provider/stream/book.js'
import {parseOpenAiRequest} from '../../../src/provider/stream/openai-api.js'
import {decideStreamSubscription, streamPriceFloor} from '../../../src/provider/strategy.js'

describe('stream request checks', () => {
  it('a token bucket refuses past its burst and refills with time', () => {
    const limiter = new RateLimiter(2, 3)
    expect([0, 0, 0, 0].map(() => limiter.take('c', 1000))).toEqual([true, true, true, false])
    expect(limiter.take('other', 1000)).toBe(true)
    expect(limiter.take('c', 1500)).toBe(true) // 0.5 s × 2/s = one token
    expect(limiter.take('c', 1500)).toBe(false)
  })

  it('names the missing headers (401 unsigned) and refuses expired or too-far expiries (401 expired)', () => {
    const r = refusal(() => readAuthHeaders({'ogpu-stream-id': '1'}, new Uint8Array()))
    expect([r.status, r.code]).toEqual([401, 'unsigned'])
    expect(r.message).toMatch(/ogpu-request-id, ogpu-expiry, ogpu-signature/)
    const auth = {streamId: 1n, requestId: `0x${'11'.repeat(32)}`, bodyHash: `0x${'00'.repeat(32)}`, expiry: 1000}
    expect(refusal(() => checkExpiry(auth, 1001)).code).toBe('expired')
    expect(refusal(() => checkExpiry({...auth, expiry: 2000}, 1000)).code).toBe('expired')
    expect(() => checkExpiry(auth, 900)).not.toThrow()
  })

  it('validates OpenAI bodies: greedy only, max_tokens within the limit, resumed tokens inside max_tokens', () => {
    const limits = DEFAULT_STREAM_LIMITS
    expect(parseOpenAiRequest('chat', {messages: [{role: 'user', content: [{type: 'text', text: 'a'}, {type: 'text', text: 'b'}]}], max_tokens: 5, stream: true}, limits)).toMatchObject({
      messages: [{role: 'user', content: 'ab'}],
      maxTokens: 5,
      stream: true,
      resumeTokens: [],
    })
    const temp = refusal(() => parseOpenAiRequest('chat', {messages: [{role: 'user', content: 'x'}], temperature: 0.5}, limits))
    expect([temp.status, temp.code, temp.param]).toEqual([400, 'invalid_request', 'temperature'])
    expect(refusal(() => parseOpenAiRequest('completions', {prompt: 'x', max_tokens: 5000}, limits))).toMatchObject({status: 400, code: 'context_length_exceeded', param: 'max_tokens'})
    expect(refusal(() => parseOpenAiRequest('completions', {prompt: 'x', max_tokens: 3, ogpu: {resumeTokens: [1, 2, 3]}}, limits)).param).toBe('ogpu.resumeTokens')
    expect(parseOpenAiRequest('completions', {prompt: [1, 2], max_tokens: 4, ogpu: {resumeTokens: [7]}}, limits)).toMatchObject({prompt: [1, 2], resumeTokens: [7], maxTokens: 4})
    expect(refusal(() => parseOpenAiRequest('chat', {messages: []}, limits)).param).toBe('messages')
  })
})

describe('the stream book', () => {
  it('sums charges, keeps the growing voucher, tracks redeemed, and prunes expired request ids', () => {
    const state: StreamBookData = {streams: {}, seen: {}, disputes: {}}
    applyBookRecord(state, {t: 'request', streamId: '1', requestId: 'a', expiry: 100, at: 50_000})
    applyBookRecord(state, {t: 'charge', streamId: '1', requestId: 'a', kind: 'generation', promptTokens: 5, completionTokens: 10, amount: '30', at: 1})
    applyBookRecord(state, {t: 'charge', streamId: '1', requestId: 'b', kind: 'verification', promptTokens: 15, completionTokens: 10, amount: '12', at: 2})
    expect(state.streams['1']).toMatchObject({requests: 1, verifications: 1, promptTokens: 20, completionTokens: 20, charged: '42'})
    expect(unpaidOf(state.streams['1'])).toBe(42n)
    applyBookRecord(state, {t: 'voucher', streamId: '1', amount: '40', signature: '0x01', at: 3})
    applyBookRecord(state, {t: 'voucher', streamId: '1', amount: '20', signature: '0x02', at: 4}) // older: ignored
    expect(state.streams['1']!.voucher).toMatchObject({amount: '40', signature: '0x01'})
    expect(unpaidOf(state.streams['1'])).toBe(2n)
    expect(unredeemedOf(state.streams['1'])).toBe(40n)
    applyBookRecord(state, {t: 'redeemed', streamId: '1', amount: '40'})
    expect(unredeemedOf(state.streams['1'])).toBe(0n)
    applyBookRecord(state, {t: 'request', streamId: '1', requestId: 'b', expiry: 300, at: 200_000})
    expect(state.seen).toEqual({b: 300})
  })
})

describe('stream subscription decision', () => {
  const offer = {id: 1n, client: '0xC', status: 'active', modelHeld: true, pricePerKTokenGenerated: 10n ** 18n, collateral: 10n, subscriberCount: 1, subscription: 'none'}
  const options = {address: '0xP', minPricePer1k: 10n ** 17n, freeStake: 100n}
  it('subscribes when the model is held, the price beats the floor and the collateral fits', () => {
    expect(decideStreamSubscription(offer, options)).toEqual({subscribe: true})
    expect(decideStreamSubscription({...offer, modelHeld: false}, options)).toMatchObject({subscribe: false, reason: /model/})
    expect(decideStreamSubscription({...offer, pricePerKTokenGenerated: 1n}, options)).toMatchObject({subscribe: false, reason: /below/})
    expect(decideStreamSubscription({...offer, collateral: 1000n}, options)).toMatchObject({subscribe: false, reason: /collateral/})
    expect(decideStreamSubscription({...offer, status: 'closing'}, options)).toMatchObject({subscribe: false})
    expect(decideStreamSubscription({...offer, client: '0xp'}, options)).toMatchObject({subscribe: false, reason: /own/})
  })
  it('prices 1000 tokens at the benchmark speed plus the margin', () => {
    // 100 tokens/s: 10 s of GPU at 0.01 per second = 0.1, +20 % = 0.12
    expect(streamPriceFloor(100, 10n ** 16n, 0.2)).toBe(12n * 10n ** 16n)
  })
})
