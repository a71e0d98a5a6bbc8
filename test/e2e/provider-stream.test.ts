import {createHash} from 'node:crypto'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {parseUnits, Wallet} from 'ethers'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type StreamMarket, streamMarketAt} from '../../src/chain/contracts/stream-market.js'
import {sendTx} from '../../src/chain/tx.js'
import {devKeys} from '../../src/devnet/devnet.js'
import {InferenceEngine} from '../../src/gpu/engine.js'
import {ogpuDomain} from '../../src/protocol/eip712.js'
import {
  bodyHashOf,
  generationCharge,
  recoverAttestation,
  recoverReceipt,
  responseHashOf,
  signedRequestHeaders,
  signVoucher,
  toReceipt,
} from '../../src/protocol/stream.js'
import {ensureModel} from '../fixtures/gguf-writer.js'
import {createHome, jsonOf, type OgpuHome, startDevnet, stopDevnet, waitFor} from '../helpers/cli.js'
import {Daemon} from '../helpers/daemon.js'
import {chainOf, testStreamParams} from '../helpers/market.js'

// Real anvil, real provider daemons (test/fixtures/provider-daemon.ts), the tiny synthetic GGUF; the client side
// signs with src/protocol/stream.ts directly (the gateway is another module's).
const oGPU = (v: string) => parseUnits(v, 18)

/** The SSE events of a response body (the JSON of each `data:` line, and whether [DONE] ended it). */
function sse(text: string): {events: any[]; done: boolean} {
  const events: any[] = []
  let done = false
  for (const block of text.split('\n\n')) {
    const line = block.trim()
    if (!line.startsWith('data: ')) continue
    const data = line.slice(6)
    if (data === '[DONE]') done = true
    else events.push(JSON.parse(data))
  }
  return {events, done}
}

describe('the provider serves streams (real chain, real daemons, real model)', () => {
  let home: OgpuHome
  let devnet: any
  let chain: ReturnType<typeof chainOf>
  let streamMarket: StreamMarket
  let sha: string
  let tiny: string
  let engine: InferenceEngine
  const daemons: Daemon[] = []
  const address: Record<string, string> = {}
  const client = () => new Wallet(devKeys(10)[1]!, chain.provider)
  let domain: ReturnType<typeof ogpuDomain>
  let streamId: bigint
  let a: Daemon
  let b: Daemon
  /** Charges of A's receipts (what its vouchers must cover). */
  const chargesA: bigint[] = []
  let lastBody = ''
  let lastTokens: number[] = []
  let lastRequestId = ''

  const start = async (wallet: string, options: Record<string, unknown>) => {
    const daemon = Daemon.fixture(home, wallet, {threads: 1, logFormat: 'json', sequences: 2, ...options})
    daemons.push(daemon)
    return daemon.ready()
  }

  const subscription = (id: bigint, who: string) => streamMarket.subscription(id, who)

  async function createStream(options: {price?: string; councilSize?: number; deposit?: string} = {}): Promise<bigint> {
    const wallet = client()
    const market = streamMarket.connect(wallet)
    const token = chain.token.connect(wallet)
    await sendTx(chain.provider, 'approve', () => token.approve(devnet.contracts.streamMarket, oGPU('100')))
    const params = testStreamParams(sha, {priceGenerated: oGPU(options.price ?? '1'), councilSize: options.councilSize, deposit: oGPU(options.deposit ?? '100')})
    const next = await streamMarket.nextStreamId()
    await sendTx(chain.provider, 'create stream', () => market.create(params))
    return next
  }

  async function post(daemon: Daemon, path: string, body: string, options: {signer?: Wallet; stream?: bigint; ttl?: number; requestId?: string; now?: number; headers?: Record<string, string>; for?: string} = {}) {
    const signed = await signedRequestHeaders(options.signer ?? client(), domain, options.stream ?? streamId, options.for ?? daemon.address, body, {ttlSeconds: options.ttl, requestId: options.requestId, now: options.now})
    const response = await fetch(`${daemon.localUrl}${path}`, {method: 'POST', headers: {'content-type': 'application/json', ...signed.headers, ...options.headers}, body})
    return {response, auth: signed.auth, headers: signed.headers}
  }

  async function voucher(daemon: Daemon, provider: string, amount: bigint, signer = client(), stream = streamId) {
    const signature = await signVoucher(signer, domain, {streamId: stream, provider, cumulativeAmount: amount})
    return fetch(`${daemon.localUrl}/v1/ogpu/vouchers`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({streamId: stream.toString(), cumulativeAmount: amount.toString(), signature})})
  }

  /** The client reserves `amount` of the stream's deposit for `provider` (what the provider counts vouchers up to). */
  async function allow(stream: bigint, provider: string, amount: bigint) {
    const market = streamMarket.connect(client())
    await sendTx(chain.provider, 'increase allowance', () => market.increaseAllowance(stream, provider, amount))
  }

  const generations = async (daemon: Daemon) => (await daemon.status()).streams.api.generations as number

  beforeAll(async () => {
    home = createHome('ogpu-stream-e2e-')
    devnet = await startDevnet(home)
    chain = chainOf(devnet)
    streamMarket = streamMarketAt(devnet.contracts.streamMarket, chain.provider)
    domain = ogpuDomain(devnet.chainId, devnet.contracts.streamMarket)
    tiny = ensureModel('tiny')
    sha = createHash('sha256').update(readFileSync(tiny)).digest('hex')
    expect((await home.run(['model', 'add', tiny, '--name', 'tiny'])).code).toBe(0)
    for (const w of ['dev2', 'dev3', 'dev4', 'dev5']) {
      const registered = await home.json(['provider', 'register', '--endpoint', 'http://127.0.0.1:9', '--wallet', w])
      expect(registered.code, registered.stderr).toBe(0)
      address[w] = registered.data.address
      expect((await home.run(['stake', 'deposit', '1000', '--wallet', w])).code).toBe(0)
    }
    engine = await InferenceEngine.load({modelPath: tiny, gpu: 'cpu', threads: 1, sequences: 1})
    // A: a tight credit limit; never redeems by threshold in its first life. B: a tight rate, an API key (the "TGI").
    ;[a, b] = await Promise.all([
      start('dev2', {streamLimits: {creditLimit: '0.02'}, redeemThreshold: '1000'}),
      start('dev3', {streamLimits: {ratePerSecond: 0.2, rateBurst: 2}, apiKey: 'test-key'}),
    ])
  }, 240_000)

  afterAll(async () => {
    await Promise.all(daemons.map((daemon) => daemon.stop()))
    if (process.env.OGPU_E2E_LOGS) daemons.forEach((daemon, i) => writeFileSync(join(process.env.OGPU_E2E_LOGS!, `stream-${i}-${daemon.wallet}.log`), daemon.output))
    await engine?.dispose()
    chain?.provider.destroy()
    if (home) {
      await stopDevnet(home)
      home.dispose()
    }
  })

  it('subscribes by itself to a new stream of its model, and lists its models', async () => {
    streamId = await createStream()
    await waitFor(async () => (await subscription(streamId, address.dev2!)).status === 1n && (await subscription(streamId, address.dev3!)).status === 1n, 'both daemons to subscribe', 30_000, 100)
    // A provider counts a voucher only up to what it can surely redeem: the client reserves part of the deposit for each.
    await allow(streamId, address.dev2!, oGPU('40'))
    await allow(streamId, address.dev3!, oGPU('40'))
    expect(await streamMarket.surelyRedeemable(streamId, address.dev2!)).toBe(oGPU('40'))
    const models = await jsonOf(await fetch(`${a.localUrl}/v1/models`))
    expect(models).toMatchObject({object: 'list', data: [{id: 'tiny', object: 'model', sha256: sha}]})
  })

  it('streams a signed chat completion: OpenAI chunks with the engine\'s own tokens, then a valid signed receipt', async () => {
    const messages = [{role: 'user' as const, content: 'Tell me a story about a GPU.'}]
    const body = JSON.stringify({model: 'tiny', messages, max_tokens: 16, stream: true})
    const {response, auth} = await post(a, '/v1/chat/completions', body)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/text\/event-stream/)
    const {events, done} = sse(await response.text())
    expect(done).toBe(true)
    const alone = await engine.chat({messages, maxTokens: 16})
    const tokens = events.flatMap((e) => e.ogpu?.tokens ?? [])
    expect(tokens).toEqual(alone.tokens)
    const tokenChunks = events.filter((e) => e.choices.length === 1 && e.choices[0].finish_reason === null)
    expect(tokenChunks.every((e) => e.object === 'chat.completion.chunk' && e.ogpu.tokens.length === 1)).toBe(true)
    expect(tokenChunks.map((e) => e.choices[0].delta.content).join('')).toBe(alone.text)
    const last = events.at(-1)
    expect(last.choices).toEqual([])
    expect(last.usage).toEqual({prompt_tokens: alone.promptTokens.length, completion_tokens: alone.tokens.length, total_tokens: alone.promptTokens.length + alone.tokens.length})
    const end = last.ogpu
    expect(end.provider).toBe(address.dev2)
    expect(end.receipt).toEqual({streamId: streamId.toString(), requestId: auth.requestId, responseHash: responseHashOf(bodyHashOf(body), alone.tokens), promptTokens: alone.promptTokens.length, completionTokens: alone.tokens.length})
    expect(recoverReceipt(domain, toReceipt(end.receipt), end.signature)).toBe(address.dev2)
    expect(BigInt(end.charge)).toBe(generationCharge(alone.tokens.length, oGPU('1')))
    expect(end.finishReason).toBe(alone.finishReason === 'eos' ? 'stop' : 'length')
    chargesA.push(BigInt(end.charge))
    lastBody = body
    lastTokens = tokens
    lastRequestId = auth.requestId
    expect((await voucher(a, address.dev2!, chargesA.reduce((x, y) => x + y, 0n))).status).toBe(200)
  })

  it('answers a non-streamed completion with the receipt, charge and all tokens under ogpu', async () => {
    const body = JSON.stringify({model: 'tiny', prompt: 'Once upon a time', max_tokens: 8})
    const {response} = await post(a, '/v1/completions', body)
    expect(response.status).toBe(200)
    const json = await jsonOf(response)
    const alone = await engine.generate({prompt: 'Once upon a time', maxTokens: 8})
    expect(json).toMatchObject({object: 'text_completion', choices: [{index: 0, text: alone.text}], ogpu: {tokens: alone.tokens, provider: address.dev2}})
    expect(json.ogpu.receipt.responseHash).toBe(responseHashOf(bodyHashOf(body), alone.tokens))
    chargesA.push(BigInt(json.ogpu.charge))
    expect((await voucher(a, address.dev2!, chargesA.reduce((x, y) => x + y, 0n))).status).toBe(200)
  })

  it('refuses unsigned, badly signed, expired, replayed, oversized and over-credit requests with JSON errors, before any GPU time', async () => {
    const body = JSON.stringify({messages: [{role: 'user', content: 'Hi'}], max_tokens: 4})
    const before = await generations(a)
    const expectRefusal = async (response: Response, status: number, code: string) => {
      expect(response.status).toBe(status)
      const json = await jsonOf(response)
      expect(json.error).toMatchObject({type: 'ogpu_error', code})
      expect(json.error.message.length).toBeGreaterThan(10)
    }
    await expectRefusal(await fetch(`${a.localUrl}/v1/chat/completions`, {method: 'POST', headers: {'content-type': 'application/json'}, body}), 401, 'unsigned')
    await expectRefusal((await post(a, '/v1/chat/completions', body, {signer: new Wallet(devKeys(10)[7]!)})).response, 401, 'bad_signature')
    // a body that is not what was signed
    const signed = await signedRequestHeaders(client(), domain, streamId, a.address, body)
    await expectRefusal(await fetch(`${a.localUrl}/v1/chat/completions`, {method: 'POST', headers: signed.headers, body: body.replace('Hi', 'Ho')}), 401, 'bad_signature')
    await expectRefusal((await post(a, '/v1/chat/completions', body, {now: Math.floor(Date.now() / 1000) - 120})).response, 401, 'expired')
    await expectRefusal((await post(a, '/v1/chat/completions', JSON.stringify({messages: [{role: 'user', content: 'Hi'}], max_tokens: 100_000}))).response, 400, 'context_length_exceeded')
    await expectRefusal((await post(a, '/v1/chat/completions', JSON.stringify({messages: [{role: 'user', content: 'x'.repeat(1024 * 1024 + 10)}]}))).response, 413, 'too_large')
    await expectRefusal((await post(a, '/v1/chat/completions', body, {stream: 999n})).response, 404, 'unknown_stream')
    // signed for another subscriber: a request replayed from B to A is refused (it names its provider)
    await expectRefusal((await post(a, '/v1/chat/completions', body, {for: b.address})).response, 401, 'bad_signature')
    await expectRefusal((await post(a, '/v1/chat/completions', JSON.stringify({messages: [{role: 'user', content: 'Hi'}], temperature: 0.7}))).response, 400, 'invalid_request')
    expect(await generations(a)).toBe(before)
    // a replay: served once, refused after
    const first = await post(a, '/v1/chat/completions', body)
    expect(first.response.status).toBe(200)
    const firstJson = await jsonOf(first.response)
    chargesA.push(BigInt(firstJson.ogpu.charge))
    const served = await generations(a)
    await expectRefusal(await fetch(`${a.localUrl}/v1/chat/completions`, {method: 'POST', headers: first.headers, body}), 409, 'replayed')
    // over credit: A's limit is 0.02 oGPU, and each request reserves its worst case (max_tokens at 1 oGPU per 1k
    // tokens) before any GPU time. 24 tokens (0.024 oGPU) never fit; requests of 4 (0.004) are served while what is
    // unpaid plus 0.004 fits in the limit, and refused from then on.
    await expectRefusal((await post(a, '/v1/chat/completions', JSON.stringify({messages: [{role: 'user', content: 'Say more.'}], max_tokens: 24}))).response, 402, 'over_credit')
    expect(await generations(a)).toBe(served)
    const unpaidOfA = async () => BigInt(((await a.status()) as any).streams.streams[streamId.toString()].unpaid)
    const worst4 = oGPU('0.004')
    let servedNow = served
    for (;;) {
      const unpaid = await unpaidOfA()
      const next = await post(a, '/v1/chat/completions', body)
      if (unpaid + worst4 > oGPU('0.02')) {
        await expectRefusal(next.response, 402, 'over_credit')
        break
      }
      expect(next.response.status).toBe(200)
      chargesA.push(BigInt((await jsonOf(next.response)).ogpu.charge))
      servedNow++
    }
    const afterServed = await generations(a)
    expect(afterServed).toBe(servedNow)
    expect(await unpaidOfA()).toBeLessThanOrEqual(oGPU('0.02'))
    // a voucher settles it
    expect((await voucher(a, address.dev2!, chargesA.reduce((x, y) => x + y, 0n))).status).toBe(200)
    expect((await post(a, '/v1/chat/completions', JSON.stringify({messages: [{role: 'user', content: 'Ok'}], max_tokens: 2}))).response.status).toBe(200)
    chargesA.push(...[]) // (charged below via the status check)
    const status = await a.status()
    expect(status.streams.api.refused).toMatchObject({unsigned: 1, bad_signature: 3, expired: 1, too_large: 1, context_length_exceeded: 1, unknown_stream: 1, invalid_request: 1, replayed: 1, over_credit: 2})
  })

  it('attack 3: a voucher of 1000 oGPU on a deposit of 0.001 counts only 0.001; over that, 402 before any GPU time', async () => {
    const small = await createStream({deposit: '0.001'})
    await waitFor(async () => (await subscription(small, address.dev2!)).status === 1n, 'A to subscribe', 30_000, 100)
    await allow(small, address.dev2!, oGPU('0.001'))
    const body = JSON.stringify({messages: [{role: 'user', content: 'Hi'}], max_tokens: 4})
    const first = await post(a, '/v1/chat/completions', body, {stream: small})
    expect(first.response.status).toBe(200)
    const charged = [BigInt((await jsonOf(first.response)).ogpu.charge)]
    // A re-reads the stream on the AllowanceIncreased event (its status shows the stream once it has served on it)
    const streamStatus = async () => ((await a.status()) as any).streams.streams[small.toString()]
    await waitFor(async () => ((await streamStatus())?.surelyRedeemable === oGPU('0.001').toString() ? true : undefined), 'A to see its allowance', 30_000, 100)
    // The client "pays" with a voucher of 1000 oGPU: stored, but it counts only what A can surely redeem.
    const stored = await jsonOf(await voucher(a, address.dev2!, oGPU('1000'), client(), small))
    expect(stored).toMatchObject({stored: true, unpaid: '0', counted: oGPU('0.001').toString(), surelyRedeemable: oGPU('0.001').toString()})
    // Served only while what is at risk (charges beyond 0.001) plus the worst case (0.004) fits in A's limit (0.02),
    // then refused with the amounts: before the fix every request was served (the voucher made "unpaid" 0).
    const atRisk = async () => BigInt((await streamStatus()).atRisk)
    for (let i = 0; ; i++) {
      expect(i).toBeLessThan(40)
      const before = await generations(a)
      const risk = await atRisk()
      const next = await post(a, '/v1/chat/completions', body, {stream: small})
      if (risk + oGPU('0.004') > oGPU('0.02')) {
        expect(next.response.status).toBe(402)
        const error = (await jsonOf(next.response)).error
        expect(error.code).toBe('over_credit')
        expect(error.message).toContain(`newest voucher ${oGPU('1000')} wei, of which ${oGPU('0.001')} wei counts`)
        expect(await generations(a)).toBe(before) // no GPU time: no token was generated
        break
      }
      expect(next.response.status).toBe(200)
      charged.push(BigInt((await jsonOf(next.response)).ogpu.charge))
    }
    const total = charged.reduce((x, y) => x + y, 0n)
    expect(total).toBeLessThanOrEqual(oGPU('0.001') + oGPU('0.02'))
    // On chain the 1000 voucher pays exactly the allowance (A's daemon redeems it: it is over its threshold): what A
    // counted is what it gets, and nothing is left that a redeem could take.
    await waitFor(async () => ((await streamMarket.redeemed(small, address.dev2!)) === oGPU('0.001') ? true : undefined), 'A to redeem the allowance', 30_000, 200)
    expect(await streamMarket.surelyRedeemable(small, address.dev2!)).toBe(0n)
  })

  it('a provider that serves within surelyRedeemable is paid in full, even after another subscriber drained the deposit first', async () => {
    const shared = await createStream({deposit: '1'})
    await waitFor(async () => (await subscription(shared, address.dev2!)).status === 1n && (await subscription(shared, address.dev3!)).status === 1n, 'both to subscribe', 30_000, 100)
    await allow(shared, address.dev2!, oGPU('0.5'))
    // A serves; the client signs A's charges
    const body = JSON.stringify({messages: [{role: 'user', content: 'Hi'}], max_tokens: 4})
    const served = await post(a, '/v1/chat/completions', body, {stream: shared})
    expect(served.response.status).toBe(200)
    const owedA = BigInt((await jsonOf(served.response)).ogpu.charge)
    expect(owedA).toBeLessThanOrEqual(await streamMarket.surelyRedeemable(shared, address.dev2!))
    expect((await voucher(a, address.dev2!, owedA, client(), shared)).status).toBe(200)
    // B (another subscriber) holds an over-signed voucher and redeems first: it takes every unreserved token
    const walletB = new Wallet(devKeys(10)[3]!, chain.provider)
    const bigB = await signVoucher(client(), domain, {streamId: shared, provider: address.dev3!, cumulativeAmount: oGPU('1000')})
    await sendTx(chain.provider, 'B redeems', () => streamMarket.connect(walletB).redeem(shared, oGPU('1000'), bigB))
    expect(await streamMarket.redeemed(shared, address.dev3!)).toBe(oGPU('0.5'))
    expect((await streamMarket.getStream(shared)).deposit).toBe(0n)
    // A is still paid in full, from its allowance
    const walletA = new Wallet(devKeys(10)[2]!, chain.provider)
    expect([walletA.address, walletB.address]).toEqual([address.dev2, address.dev3])
    const voucherA = await signVoucher(client(), domain, {streamId: shared, provider: address.dev2!, cumulativeAmount: owedA})
    await sendTx(chain.provider, 'A redeems', () => streamMarket.connect(walletA).redeem(shared, owedA, voucherA))
    expect(await streamMarket.redeemed(shared, address.dev2!)).toBe(owedA)
  })

  it('limits the request rate of a client (429) without GPU time', async () => {
    const body = () => JSON.stringify({messages: [{role: 'user', content: 'Hi'}], max_tokens: 2})
    expect((await post(b, '/v1/chat/completions', body())).response.status).toBe(200)
    expect((await post(b, '/v1/chat/completions', body())).response.status).toBe(200)
    const before = await generations(b)
    const limited = (await post(b, '/v1/chat/completions', body())).response
    expect(limited.status).toBe(429)
    expect((await jsonOf(limited)).error.code).toBe('rate_limited')
    expect(await generations(b)).toBe(before)
  })

  it('verifies by prefill: the true tokens are valid, a substituted token is not; attestations are signed', async () => {
    const call = (tokens: number[]) => JSON.stringify({body: lastBody, tokens, requestId: lastRequestId})
    await waitFor(async () => (await fetch(`${b.localUrl}/health`)).ok, 'b')
    // B's rate bucket refills at 0.2/s: wait for a token rather than sleeping a fixed time
    const verify = async (tokens: number[]) => waitFor(async () => {
      const {response} = await post(b, '/v1/ogpu/verify', call(tokens))
      if (response.status === 429) return undefined
      return response
    }, 'a verification slot', 30_000, 500)
    const ok = await verify(lastTokens)
    expect(ok.status).toBe(200)
    const good = await jsonOf(ok)
    expect(good).toMatchObject({valid: true, firstFailure: null, verifier: address.dev3, responseHash: responseHashOf(bodyHashOf(lastBody), lastTokens)})
    expect(recoverAttestation(domain, {...good.attestation, streamId: BigInt(good.attestation.streamId)}, good.signature)).toBe(address.dev3)
    const bad = [...lastTokens]
    bad[1] = (bad[1]! + 7) % engine.vocabSize
    const rejected = await jsonOf(await verify(bad))
    expect(rejected.valid).toBe(false)
    expect(rejected.firstFailure).toMatchObject({position: 1, reason: 'token', claimed: bad[1]})
  })

  it('keeps vouchers across kill -9 and redeems them after the restart: on-chain redeemed = the sum of its receipts', async () => {
    const status = await a.status()
    const charged = BigInt(status.streams.streams[streamId.toString()].charged)
    const total = chargesA.reduce((x, y) => x + y, 0n)
    expect(charged).toBeGreaterThanOrEqual(total)
    // the newest voucher covers everything charged
    expect((await voucher(a, address.dev2!, charged)).status).toBe(200)
    // a voucher that does not grow, or not signed by the client, is refused
    expect((await voucher(a, address.dev2!, charged - 1n)).status).toBe(409)
    expect((await voucher(a, address.dev2!, charged + 5n, new Wallet(devKeys(10)[7]!))).status).toBe(401)
    expect(await streamMarket.redeemed(streamId, address.dev2!)).toBe(0n)
    await a.kill9()
    a = await start('dev2', {redeemThreshold: '0.000001'})
    await waitFor(async () => (await streamMarket.redeemed(streamId, address.dev2!)) === charged, 'the voucher to be redeemed', 30_000, 200)
    // The daemon learns of the redemption from its receipt, which it polls for after the block is mined: its status
    // may trail the chain by that poll, so wait on the status too (it then shows the receipt's amount at once).
    const after = await waitFor(async () => {
      const now = await a.status()
      return now.streams.streams[streamId.toString()]?.redeemed === charged.toString() ? now : undefined
    }, 'the status to show the redemption', 10_000, 50)
    expect(after.streams.streams[streamId.toString()]).toMatchObject({charged: charged.toString(), voucher: charged.toString(), redeemed: charged.toString(), unpaid: '0'})
  })

  it('serves a completion through an endpoint backend (another provider as the "TGI"), and cannot verify', async () => {
    const c = await start('dev4', {backend: `endpoint:${b.localUrl}/v1`, backendToken: 'test-key'})
    await waitFor(async () => (await subscription(streamId, address.dev4!)).status === 1n, 'the endpoint provider to subscribe', 30_000, 100)
    const messages = [{role: 'user' as const, content: 'Tell me a story about a GPU.'}]
    const body = JSON.stringify({messages, max_tokens: 12})
    const {response} = await post(c, '/v1/chat/completions', body)
    const json = await jsonOf(response)
    expect(response.status, JSON.stringify(json)).toBe(200)
    const alone = await engine.chat({messages, maxTokens: 12})
    expect(json.choices[0].message.content).toBe(alone.text)
    expect(json.ogpu.provider).toBe(address.dev4)
    expect(recoverReceipt(domain, toReceipt(json.ogpu.receipt), json.ogpu.signature)).toBe(address.dev4)
    expect(json.ogpu.receipt.responseHash).toBe(responseHashOf(bodyHashOf(body), json.ogpu.tokens))
    const verify = await post(c, '/v1/ogpu/verify', JSON.stringify({body, tokens: json.ogpu.tokens, requestId: json.ogpu.receipt.requestId}))
    expect(verify.response.status).toBe(501)
    expect((await jsonOf(verify.response)).error.code).toBe('not_implemented')
  })

  it('a tampering provider (test hook) signs a wrong response; a council drawn from the pool judges the dispute invalid and it is slashed', async () => {
    const d = await start('dev5', {testHooks: {tamperStream: true}})
    await waitFor(async () => (await subscription(streamId, address.dev5!)).status === 1n, 'the tampering provider to subscribe', 30_000, 100)
    const messages = [{role: 'user' as const, content: 'Tell me a story about a GPU.'}]
    const body = JSON.stringify({messages, max_tokens: 16})
    const {response} = await post(d, '/v1/chat/completions', body)
    const json = await jsonOf(response)
    expect(response.status, JSON.stringify(json)).toBe(200)
    const alone = await engine.chat({messages, maxTokens: 16})
    expect(json.ogpu.tokens).not.toEqual(alone.tokens)
    expect(json.ogpu.tokens.slice(1)).toEqual(alone.tokens.slice(1))
    // The council is drawn from the staked pool of the model (every daemon joined it on start), so the evidence goes to
    // every other member of it; then the client opens the dispute, and a daemon seats its council a block later.
    const evidence = JSON.stringify({receipt: json.ogpu.receipt, signature: json.ogpu.signature, provider: address.dev5, body, tokens: json.ogpu.tokens})
    const endpointProvider = daemons.filter((x) => x.wallet === 'dev4').at(-1)!
    for (const daemon of [a, b, endpointProvider]) {
      const pushed = await waitFor(async () => {
        const r = (await post(daemon, '/v1/ogpu/evidence', evidence)).response
        return r.status === 429 ? undefined : r
      }, 'an evidence slot', 30_000, 500)
      expect(pushed.status).toBe(200)
    }
    const wallet = client()
    await sendTx(chain.provider, 'approve bond', () => chain.token.connect(wallet).approve(devnet.contracts.streamMarket, oGPU('1')))
    const stakeBefore = (await chain.registry.stakeOf(address.dev5!)).staked
    const market = streamMarket.connect(wallet)
    const disputeId = await streamMarket.nextDisputeId()
    await sendTx(chain.provider, 'open dispute', () => market.openDispute(address.dev5!, toReceipt(json.ogpu.receipt), json.ogpu.signature, 'http://127.0.0.1:9/evidence'))
    const settled = await waitFor(async () => {
      const dispute = await streamMarket.getDispute(disputeId)
      return dispute.state === 2n || dispute.state === 3n ? dispute : undefined
    }, 'the dispute to be settled', 90_000, 250)
    expect(settled.state).toBe(3n) // Invalid
    const [member] = settled.council
    expect(member).not.toBe(address.dev5)
    expect([address.dev2, address.dev3, address.dev4]).toContain(member)
    // Seated by one of the daemons (any daemon of the model may send it, the accused's too: the draw is not its choice).
    const seatedBy = [a, b, endpointProvider, d].filter((x) => x.logs().some((l) => l.event === 'dispute' && /seated its council from the pool/.test(String(l.msg))))
    expect(seatedBy.length).toBeGreaterThan(0)
    expect((await subscription(streamId, address.dev5!)).status).toBe(3n) // Removed
    expect((await chain.registry.stakeOf(address.dev5!)).staked).toBe(stakeBefore - oGPU('10'))
  })
})
