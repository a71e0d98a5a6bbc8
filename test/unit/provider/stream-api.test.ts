import {request} from 'node:http'

import {afterEach, describe, expect, it} from 'vitest'

import {Wallet} from 'ethers'

import {bodyHashOf, generationCharge, receiptDigest, recoverAttestation, recoverReceipt, responseHashOf, signReceipt, signVoucher, toReceipt, verificationCharge} from '../../../src/protocol/stream.js'
import {tamperFirstToken} from '../../fixtures/cheats.js'
import {client, domain, END, fakeBackend, provider, type ServedApi, serveApi, sseEvents, streamOf} from './stream-api-fakes.js'

const codes = (text: string) => [...text].map((c) => c.charCodeAt(0))
const served: ServedApi[] = []
const start = async (...args: Parameters<typeof serveApi>) => {
  const s = await serveApi(...args)
  served.push(s)
  return s
}
afterEach(async () => {
  for (const s of served.splice(0)) await s.close()
})

const chat = {messages: [{role: 'user', content: 'Hi'}], max_tokens: 8}

describe('the route table', () => {
  it('lists the models, answers 405 on the wrong method, and leaves other paths', async () => {
    const s = await start()
    expect(await (await fetch(`${s.url}/v1/models`)).json()).toEqual({object: 'list', data: [{id: 'tiny', object: 'model', created: 0, owned_by: provider.address, sha256: 'ab'.repeat(32), backend: 'local', verify: true}]})
    const wrong = await fetch(`${s.url}/v1/chat/completions`)
    expect(wrong.status).toBe(405)
    expect(await wrong.json()).toEqual({error: {message: 'Use POST /v1/chat/completions.', type: 'ogpu_error', code: 'method_not_allowed'}})
    expect((await fetch(`${s.url}/v1/other`)).status).toBe(404)
  })
})

describe('generation', () => {
  it('answers a signed request with the tokens, a receipt the provider signed, and books the charge', async () => {
    const s = await start()
    const body = JSON.stringify(chat)
    const response = await s.post('/v1/chat/completions', body)
    expect(response.status).toBe(200)
    const json = await response.json()
    const tokens = [...codes('ok!'), END]
    expect(json).toMatchObject({object: 'chat.completion', model: 'tiny', choices: [{index: 0, message: {role: 'assistant', content: 'ok!'}, finish_reason: 'stop'}], ogpu: {tokens, provider: provider.address}})
    expect(json.usage.completion_tokens).toBe(4)
    expect(json.ogpu.receipt.responseHash).toBe(responseHashOf(bodyHashOf(body), tokens))
    expect(recoverReceipt(domain, toReceipt(json.ogpu.receipt), json.ogpu.signature)).toBe(provider.address)
    expect(json.ogpu.charge).toBe(generationCharge(4, 10n ** 18n).toString())
    expect(s.book.state.streams['1']).toMatchObject({requests: 1, completionTokens: 4, charged: json.ogpu.charge})
    expect(Object.keys(s.book.state.seen)).toEqual([json.ogpu.receipt.requestId])
    expect(s.api.counters.generations).toBe(1)
    expect(s.api.streamsStatus()['1']).toMatchObject({requests: 1, charged: json.ogpu.charge, unpaid: json.ogpu.charge, subscription: 'active'})
  })

  it('streams one chunk per token, the end token with finish_reason, then usage and the receipt', async () => {
    const s = await start()
    const response = await s.post('/v1/completions', {prompt: 'Hi', max_tokens: 3, stream: true})
    expect(response.headers.get('content-type')).toMatch(/text\/event-stream/)
    const text = await response.text()
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true)
    const events = sseEvents(text)
    expect(events.map((e) => e.choices[0]?.text)).toEqual(['o', 'k', '!', '', undefined])
    expect(events.slice(0, 4).flatMap((e) => e.ogpu.tokens)).toEqual(codes('ok!'))
    expect(events[3]!.choices[0].finish_reason).toBe('length')
    expect(events[4]).toMatchObject({choices: [], usage: {prompt_tokens: 2, completion_tokens: 3}, ogpu: {finishReason: 'length', receipt: {completionTokens: 3}}})
  })

  it('refuses before any GPU time: unsigned, a wrong signer, an unknown stream, a replay, over max_tokens, over credit', async () => {
    const backend = fakeBackend()
    // Credit for exactly one request's worst case (8 tokens at 1 oGPU per 1k): the first fits, the next cannot.
    const s = await start({backend, limits: {creditLimit: 8n * 10n ** 15n, maxTokens: 16}})
    const refusal = async (response: Response) => [response.status, (await response.json()).error.code]
    expect(await refusal(await fetch(`${s.url}/v1/chat/completions`, {method: 'POST', body: JSON.stringify(chat)}))).toEqual([401, 'unsigned'])
    expect(await refusal(await s.post('/v1/chat/completions', chat, {signer: Wallet.createRandom()}))).toEqual([401, 'bad_signature'])
    expect(await refusal(await s.post('/v1/chat/completions', chat, {stream: 9n}))).toEqual([404, 'unknown_stream'])
    expect(await refusal(await s.post('/v1/chat/completions', {...chat, max_tokens: 17}))).toEqual([400, 'context_length_exceeded'])
    expect(backend.calls).toBe(0)
    const requestId = `0x${'42'.repeat(32)}`
    expect((await s.post('/v1/chat/completions', chat, {requestId})).status).toBe(200)
    expect(await refusal(await s.post('/v1/chat/completions', chat, {requestId}))).toEqual([409, 'replayed'])
    expect(await refusal(await s.post('/v1/chat/completions', chat))).toEqual([402, 'over_credit'])
    expect(backend.calls).toBe(1)
    expect(s.api.counters.refused).toEqual({unsigned: 1, bad_signature: 1, unknown_stream: 1, context_length_exceeded: 1, replayed: 1, over_credit: 1})
  })

  it('refuses with 401 a request the client signed for another provider (a replay to another subscriber), before any GPU time', async () => {
    const backend = fakeBackend()
    const s = await start({backend})
    const elsewhere = await s.post('/v1/chat/completions', chat, {for: Wallet.createRandom().address})
    expect([elsewhere.status, (await elsewhere.json()).error.code]).toEqual([401, 'bad_signature'])
    expect(backend.calls).toBe(0)
    expect((await s.post('/v1/chat/completions', chat)).status).toBe(200)
  })

  it('refuses an unsigned request from its headers alone, without waiting for (or reading) its body', async () => {
    const backend = fakeBackend()
    const s = await start({backend})
    // A body announced as 10 MB of which only a few bytes ever come: only a refusal from the headers can answer.
    const answer = await new Promise<{status: number; body: string}>((resolve, reject) => {
      const req = request(`${s.url}/v1/chat/completions`, {method: 'POST', headers: {'content-type': 'application/json', 'content-length': String(10 * 1024 * 1024)}}, (res) => {
        let body = ''
        res.on('data', (c: Buffer) => (body += c.toString()))
        res.on('end', () => resolve({status: res.statusCode ?? 0, body}))
      })
      req.on('error', reject)
      req.write('{"messages":')
    })
    expect(answer.status).toBe(401)
    expect(JSON.parse(answer.body).error.code).toBe('unsigned')
    expect(backend.calls).toBe(0)
  })

  it('reserves each request\'s worst case before generating: concurrent requests never owe more than the credit limit', async () => {
    const backend = fakeBackend()
    const worst = 8n * 10n ** 15n // max_tokens 8 at 1 oGPU per 1k generated tokens
    const s = await start({backend, limits: {creditLimit: 3n * worst, ratePerSecond: 1000, rateBurst: 1000}})
    const answers = await Promise.all(Array.from({length: 40}, () => s.post('/v1/chat/completions', chat)))
    const served = answers.filter((r) => r.status === 200).length
    const refused = await Promise.all(answers.filter((r) => r.status !== 200).map(async (r) => [r.status, (await r.json()).error]))
    // Served until the credit is used up (a finished request frees its reservation and books its real, smaller
    // charge), and never beyond it: the rest are refused with the amounts.
    expect(served).toBeGreaterThan(0)
    expect(refused.length).toBeGreaterThan(0)
    expect(refused.every(([status, error]) => status === 402 && error.code === 'over_credit' && /may cost up to 8000000000000000 wei/.test(error.message))).toBe(true)
    const charged = s.book.state.streams['1']
    expect(BigInt(charged?.charged ?? '0')).toBeLessThanOrEqual(3n * worst)
    expect(backend.calls).toBe(served)
  })

  it('refuses a body over the limit with 413 too_large, and new work with 503 busy while stopping', async () => {
    let stopping = false
    const s = await start({limits: {maxBodyBytes: 100}, stopping: () => stopping})
    const big = await s.post('/v1/chat/completions', {messages: [{role: 'user', content: 'x'.repeat(200)}]})
    expect(big.status).toBe(413)
    expect((await big.json()).error).toMatchObject({type: 'ogpu_error', code: 'too_large'})
    stopping = true
    expect((await s.post('/v1/chat/completions', chat)).status).toBe(503)
  })

  it('serves an API-key request on the first model without receipt or charge', async () => {
    const s = await start({apiKey: 'k3y'})
    const response = await fetch(`${s.url}/v1/chat/completions`, {method: 'POST', headers: {authorization: 'Bearer k3y'}, body: JSON.stringify(chat)})
    const json = await response.json()
    expect(json.choices[0].message.content).toBe('ok!')
    expect(json.ogpu).toEqual({tokens: [...codes('ok!'), END]})
    expect(s.book.records).toEqual([])
  })

  it('rewrites signed generations through the token transform (the first-token cheat), and not plain ones', async () => {
    const s = await start({apiKey: 'k3y', tokenTransform: tamperFirstToken()})
    const body = JSON.stringify(chat)
    const json = await (await s.post('/v1/chat/completions', body)).json()
    const tokens = [codes('o')[0]! + 1, ...codes('k!'), END]
    expect(json.choices[0].message.content).toBe('pk!')
    expect(json.ogpu.tokens).toEqual(tokens)
    expect(json.ogpu.receipt.responseHash).toBe(responseHashOf(bodyHashOf(body), tokens))
    const plain = await (await fetch(`${s.url}/v1/chat/completions`, {method: 'POST', headers: {authorization: 'Bearer k3y'}, body})).json()
    expect(plain.choices[0].message.content).toBe('ok!')
  })
})

describe('verification', () => {
  const verifyBody = (tokens: number[]) => ({body: JSON.stringify(chat), tokens, requestId: `0x${'07'.repeat(32)}`})

  it('judges the claimed tokens, signs the attestation and books the verification charge', async () => {
    const judged: unknown[] = []
    const s = await start({
      judge: async (_backend, input) => {
        judged.push(input)
        return {ok: false, checked: 1, firstFailure: {position: 1, reason: 'token', claimed: 5, expected: 6, margin: 0.5, rank: 2, ok: false}}
      },
    })
    const tokens = [...codes('ok'), END]
    const response = await s.post('/v1/ogpu/verify', verifyBody(tokens))
    expect(response.status).toBe(200)
    const json = await response.json()
    expect(judged).toEqual([{prompt: codes('user:Hi'), completion: tokens, maxTokens: 8, allowPrefix: false}])
    const responseHash = responseHashOf(bodyHashOf(JSON.stringify(chat)), tokens)
    expect(json).toMatchObject({valid: false, checked: 1, firstFailure: {position: 1, reason: 'token', claimed: 5, expected: 6, margin: 0.5, rank: 2}, responseHash, promptTokens: 7, verifier: provider.address})
    expect(json.charge).toBe(verificationCharge(7, 3, 10n ** 17n).toString())
    expect(recoverAttestation(domain, {streamId: 1n, requestId: `0x${'07'.repeat(32)}`, responseHash, valid: false}, json.signature)).toBe(provider.address)
    expect(s.book.state.streams['1']).toMatchObject({verifications: 1, charged: json.charge})
    expect(s.api.counters.verifications).toBe(1)
  })

  it('answers an empty completion as invalid without judging, and 501 on an endpoint backend', async () => {
    const s = await start({judge: async () => expect.unreachable()})
    expect(await (await s.post('/v1/ogpu/verify', verifyBody([]))).json()).toMatchObject({valid: false, checked: 0, firstFailure: {position: 0, reason: 'empty'}})
    const endpoint = await start({backend: fakeBackend({local: false})})
    const refused = await endpoint.post('/v1/ogpu/verify', verifyBody([1]))
    expect(refused.status).toBe(501)
    expect((await refused.json()).error.code).toBe('not_implemented')
  })
})

describe('vouchers', () => {
  const post = (s: ServedApi, amount: bigint, signature: string) =>
    fetch(`${s.url}/v1/ogpu/vouchers`, {method: 'POST', body: JSON.stringify({streamId: '1', cumulativeAmount: amount.toString(), signature})})
  const sign = (amount: bigint, signer = client) => signVoucher(signer, domain, {streamId: 1n, provider: provider.address, cumulativeAmount: amount})

  it('stores a growing voucher durably, answers a retry again, refuses one that does not grow or is not the client\'s', async () => {
    const s = await start()
    const first = await sign(100n)
    expect(await (await post(s, 100n, first)).json()).toEqual({streamId: '1', cumulativeAmount: '100', stored: true, charged: '0', unpaid: '0', redeemed: '0', counted: '100', surelyRedeemable: (10n ** 20n).toString(), atRisk: '0'})
    expect(s.book.durable).toMatchObject([{t: 'voucher', streamId: '1', amount: '100', signature: first}])
    expect(await (await post(s, 100n, first)).json()).toMatchObject({stored: false, cumulativeAmount: '100'})
    const older = await post(s, 50n, await sign(50n))
    expect([older.status, (await older.json()).error.code]).toEqual([409, 'replayed'])
    const stranger = await post(s, 200n, await sign(200n, Wallet.createRandom()))
    expect([stranger.status, (await stranger.json()).error.code]).toEqual([401, 'bad_signature'])
    expect(s.book.durable).toHaveLength(1)
  })
})

describe('credit the chain guarantees (issue 12, attack 3)', () => {
  const oGPU = (n: number) => BigInt(Math.round(n * 1000)) * 10n ** 15n
  const postVoucher = async (s: ServedApi, amount: bigint) =>
    (await fetch(`${s.url}/v1/ogpu/vouchers`, {method: 'POST', body: JSON.stringify({streamId: '1', cumulativeAmount: amount.toString(), signature: await signVoucher(client, domain, {streamId: 1n, provider: provider.address, cumulativeAmount: amount})})})).json()

  it('counts a voucher of 1000 oGPU on a deposit of 0.001 only up to what it can surely redeem, and refuses 402 before any GPU time', async () => {
    const backend = fakeBackend()
    // The whole deposit (0.001 oGPU) reserved for this provider; a credit limit of 0.008 (one request's worst case).
    const stream = streamOf(client.address, {deposit: 0n, surelyRedeemable: oGPU(0.001)})
    const s = await start({backend, stream, limits: {creditLimit: oGPU(0.008), maxTokens: 16, ratePerSecond: 1000, rateBurst: 1000}})
    // The first request fits the credit limit alone (4 tokens at 1 oGPU per 1k: 0.004 charged).
    expect((await s.post('/v1/chat/completions', chat)).status).toBe(200)
    // The client "pays" with a voucher of 1000 oGPU: stored, but it counts only 0.001.
    expect(await postVoucher(s, oGPU(1000))).toMatchObject({stored: true, unpaid: '0', counted: oGPU(0.001).toString(), surelyRedeemable: oGPU(0.001).toString(), atRisk: oGPU(0.003).toString()})
    // 0.003 at risk + 0.008 worst case > 0.008: refused with the amounts, before any token is generated.
    const refused = await s.post('/v1/chat/completions', chat)
    const error = (await refused.json()).error
    expect([refused.status, error.code]).toEqual([402, 'over_credit'])
    expect(error.message).toContain(`stream 1 owes ${oGPU(0.003)} wei beyond what this provider can surely redeem`)
    expect(error.message).toContain(`newest voucher ${oGPU(1000)} wei, of which ${oGPU(0.001)} wei counts`)
    expect(backend.calls).toBe(1)
    expect(s.api.streamsStatus()['1']).toMatchObject({unpaid: '0', surelyRedeemable: oGPU(0.001).toString(), atRisk: oGPU(0.003).toString()})
  })

  it('counts what it already redeemed with what it can still surely redeem', async () => {
    const backend = fakeBackend()
    const stream = streamOf(client.address, {redeemed: oGPU(0.004), surelyRedeemable: 0n})
    const s = await start({backend, stream, limits: {creditLimit: oGPU(0.008), maxTokens: 16}})
    expect((await s.post('/v1/chat/completions', chat)).status).toBe(200)
    expect(await postVoucher(s, oGPU(0.004))).toMatchObject({counted: oGPU(0.004).toString(), atRisk: '0'})
    expect((await s.post('/v1/chat/completions', chat)).status).toBe(200)
  })
})

describe('evidence', () => {
  it('keeps evidence whose receipt the named provider signed, and refuses one it did not', async () => {
    const kept: Array<[string, unknown]> = []
    const s = await start({evidence: {put: (digest, e) => kept.push([digest, e]), get: () => undefined}})
    const receipt = {streamId: '1', requestId: `0x${'09'.repeat(32)}`, responseHash: `0x${'0a'.repeat(32)}`, promptTokens: 3, completionTokens: 2}
    const signature = await signReceipt(provider, domain, toReceipt(receipt))
    const evidence = {receipt, signature, provider: provider.address, body: '{}', tokens: [1, 2]}
    const response = await s.post('/v1/ogpu/evidence', evidence)
    expect(await response.json()).toEqual({digest: receiptDigest(domain, toReceipt(receipt)), stored: true})
    expect(kept).toEqual([[receiptDigest(domain, toReceipt(receipt)), evidence]])
    const forged = await s.post('/v1/ogpu/evidence', {...evidence, provider: client.address})
    expect([forged.status, (await forged.json()).error.param]).toEqual([400, 'signature'])
    expect(kept).toHaveLength(1)
  })
})

describe('admission of a closed stream', () => {
  it('refuses 403 not_subscribed', async () => {
    const s = await start({stream: streamOf(client.address, {status: 'closed'})})
    const response = await s.post('/v1/chat/completions', chat)
    expect([response.status, (await response.json()).error.code]).toEqual([403, 'not_subscribed'])
  })
})
