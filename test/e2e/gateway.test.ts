import {spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'

import {InferenceClient} from '@huggingface/inference'
import OpenAI from 'openai'
import {parseUnits, Wallet} from 'ethers'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type ChainContext, openChain} from '../../src/chain/context.js'
import {type StreamMarket, streamMarketAt} from '../../src/chain/contracts/stream-market.js'
import {sendTx} from '../../src/chain/tx.js'
import {resolvePaths} from '../../src/config/paths.js'
import {devKeys} from '../../src/devnet/devnet.js'
import type {GatewayEvent} from '../../src/gateway/gateway.js'
import {type GatewayHandle, startGateway} from '../../src/gateway/server.js'
import {InferenceEngine} from '../../src/gpu/engine.js'
import {verificationCharge} from '../../src/protocol/stream.js'
import {ensureModel} from '../fixtures/gguf-writer.js'
import {binary, createHome, jsonOf, type OgpuHome, startDevnet, stopDevnet, waitFor} from '../helpers/cli.js'
import {Daemon} from '../helpers/daemon.js'
import {chainOf} from '../helpers/market.js'

// Real anvil, real provider daemons (test/fixtures/provider-daemon.ts) serving the tiny synthetic GGUF, and the
// gateway in this process (startGateway) so the test can follow its events. Streams (ids known in advance, since
// they are created first on a fresh chain): 1 optimistic, 2 weighted 50 %, 3 unanimous, all c = 3 over H, I, J;
// 4 unanimous c = 3 over T (tampers every response), H, I.
const oGPU = (v: string) => parseUnits(v, 18)

async function readStream(response: Response, onChunk?: (chunk: any) => void): Promise<{chunks: any[]; done: boolean}> {
  const chunks: any[] = []
  let done = false
  let buffer = ''
  for await (const piece of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += Buffer.from(piece).toString('utf8')
    let cut: number
    while ((cut = buffer.indexOf('\n\n')) !== -1) {
      const frame = buffer.slice(0, cut).trim()
      buffer = buffer.slice(cut + 2)
      if (!frame.startsWith('data: ')) continue
      if (frame === 'data: [DONE]') done = true
      else {
        const chunk = JSON.parse(frame.slice(6))
        chunks.push(chunk)
        onChunk?.(chunk)
      }
    }
  }
  return {chunks, done}
}

const textOf = (chunks: any[]) => chunks.map((c) => c.choices?.[0]?.delta?.content ?? '').join('')

describe('ogpu client gateway (real chain, real daemons, real model)', () => {
  let home: OgpuHome
  let devnet: any
  let raw: ReturnType<typeof chainOf>
  let chain: ChainContext
  let streamMarket: StreamMarket
  let engine: InferenceEngine
  let sha: string
  const client = () => new Wallet(devKeys(10)[1]!, raw.provider)
  const daemons: Record<string, Daemon> = {}
  const gateways: GatewayHandle[] = []
  const addr: Record<string, string> = {}

  async function createStream(method: number, weightBps: number): Promise<bigint> {
    const wallet = client()
    const market = streamMarket.connect(wallet)
    const token = raw.token.connect(wallet)
    await sendTx(raw.provider, 'approve', () => token.approve(devnet.contracts.streamMarket, oGPU('100')))
    const next = await streamMarket.nextStreamId()
    await sendTx(raw.provider, 'create stream', () =>
      market.create({
        modelHash: `0x${sha}`,
        specHash: `0x${'22'.repeat(32)}`,
        specUri: 'data:application/json,{}',
        pricePerKTokenGenerated: oGPU('1'),
        pricePerKTokenVerified: oGPU('0.5'),
        councilSize: 3,
        responseMethod: method,
        weightBps,
        collateral: oGPU('10'),
        maxDowntime: 60,
        unsubscribeNotice: 5,
        closeNotice: 5,
        commitWindow: 15, // a seat judges by prefill within it, on a loaded CI machine too
        revealWindow: 15,
        disputeBond: oGPU('1'),
        deposit: oGPU('100'),
      }),
    )
    return next
  }

  async function gateway(streamId: bigint, events: Array<GatewayEvent | {type: 'caller_first_byte'}> = [], options: {preferred?: string[]; apiKey?: string} = {}): Promise<GatewayHandle> {
    const handle = await startGateway({
      chain,
      wallet: new Wallet(devKeys(10)[1]!),
      streamId,
      dataDir: resolvePaths(home.env).dataDir,
      port: 0,
      apiKey: options.apiKey,
      preferredGenerators: options.preferred,
      healthIntervalMs: 500,
      onEvent: (e) => events.push(e),
    })
    gateways.push(handle)
    return handle
  }

  const expected = async (content: string, maxTokens: number) => engine.chat({messages: [{role: 'user', content}], maxTokens})

  beforeAll(async () => {
    home = createHome('ogpu-gateway-e2e-')
    devnet = await startDevnet(home)
    raw = chainOf(devnet)
    chain = await openChain({paths: resolvePaths(home.env)})
    streamMarket = streamMarketAt(devnet.contracts.streamMarket, raw.provider)
    const tiny = ensureModel('tiny')
    sha = createHash('sha256').update(readFileSync(tiny)).digest('hex')
    expect((await home.run(['model', 'add', tiny, '--name', 'tiny'])).code).toBe(0)
    for (const w of ['dev2', 'dev3', 'dev4', 'dev5']) {
      const registered = await home.json(['provider', 'register', '--endpoint', 'http://127.0.0.1:9', '--wallet', w])
      expect(registered.code, registered.stderr).toBe(0)
      addr[w] = registered.data.address
      expect((await home.run(['stake', 'deposit', '1000', '--wallet', w])).code).toBe(0)
    }
    expect(await createStream(0, 0)).toBe(1n)
    expect(await createStream(1, 5000)).toBe(2n)
    expect(await createStream(2, 0)).toBe(3n)
    expect(await createStream(2, 0)).toBe(4n)
    engine = await InferenceEngine.load({modelPath: tiny, gpu: 'cpu', threads: 1, sequences: 1})
    const start = (wallet: string, options: Record<string, unknown>) =>
      (daemons[wallet] = Daemon.fixture(home, wallet, {threads: 1, logFormat: 'json', sequences: 2, ...options})).ready()
    await Promise.all([
      start('dev2', {streams: ['1', '2', '3', '4']}),
      start('dev3', {streams: ['1', '2', '3', '4']}),
      start('dev4', {streams: ['1', '2', '3']}),
      start('dev5', {streams: ['4'], testHooks: {tamperStream: true}}),
    ])
    const subscribed = async (id: number, n: number) => (await streamMarket.subscribersOf(id)).length === n
    await waitFor(async () => (await subscribed(1, 3)) && (await subscribed(2, 3)) && (await subscribed(3, 3)) && (await subscribed(4, 3)), 'the daemons to subscribe', 60_000, 200)
    // The daemons register their serving URL on start.
    await waitFor(async () => {
      for (const w of Object.keys(daemons)) if ((await raw.registry.providerOf(addr[w]!)).endpoint.endsWith(':9')) return false
      return true
    }, 'the daemons to publish their endpoints', 30_000, 200)
  }, 300_000)

  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.close()))
    await Promise.all(Object.values(daemons).map((d) => d.stop()))
    await engine?.dispose()
    chain?.dispose()
    raw?.provider.destroy()
    if (home) {
      await stopDevnet(home)
      home.dispose()
    }
  })

  it('the openai client and @huggingface/inference stream a chat completion whose tokens are the engine\'s own', async () => {
    const events: GatewayEvent[] = []
    const g = await gateway(1n, events as any[], {apiKey: 'sk-test'})
    const unauthorized = await fetch(`${g.url}/v1/models`)
    expect(unauthorized.status).toBe(401)
    expect((await jsonOf(unauthorized)).error.code).toBe('invalid_api_key')

    const want = await expected('Tell me a story about a GPU.', 24)
    const openai = new OpenAI({baseURL: `${g.url}/v1`, apiKey: 'sk-test'})
    // Model ids: the stream's terms here are a placeholder (no model name), so the alias ogpu-stream-1 is the id.
    const models = await openai.models.list()
    expect(models.data.map((m) => m.id)).toEqual(['ogpu-stream-1'])
    expect((await openai.models.retrieve('ogpu-stream-1')).id).toBe('ogpu-stream-1')
    const unknown = await openai.chat.completions.create({model: 'gpt-4o', messages: [{role: 'user', content: 'Hi'}]}).catch((error: any) => error)
    expect([unknown.status, unknown.code]).toEqual([404, 'model_not_found'])
    // Nothing is silently ignored: a parameter ogpu does not honour yet is a 400 naming it.
    const structured = await openai.chat.completions.create({model: 'ogpu-stream-1', messages: [{role: 'user', content: 'Hi'}], response_format: {type: 'json_object'}}).catch((error: any) => error)
    expect([structured.status, structured.code, structured.param]).toEqual([400, 'unsupported_value', 'response_format'])
    const stream = await openai.chat.completions.create({model: 'ogpu-stream-1', messages: [{role: 'user', content: 'Tell me a story about a GPU.'}], max_tokens: 24, stream: true, stream_options: {include_usage: true}})
    let text = ''
    let usage: any
    let finish: string | null = null
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? ''
      finish = chunk.choices[0]?.finish_reason ?? finish
      usage = chunk.usage ?? usage
    }
    expect(text).toBe(want.text)
    expect(finish).toBe(want.finishReason === 'eos' ? 'stop' : 'length')
    expect(usage).toMatchObject({completion_tokens: want.tokens.length, prompt_tokens: want.promptTokens.length})
    const done = events.find((e) => e.type === 'done') as Extract<GatewayEvent, {type: 'done'}>
    expect(done.tokens).toEqual(want.tokens)

    const hf = new InferenceClient('sk-test')
    let hfText = ''
    for await (const chunk of hf.chatCompletionStream({endpointUrl: g.url, model: 'ogpu-stream-1', messages: [{role: 'user', content: 'Tell me a story about a GPU.'}], max_tokens: 24})) hfText += chunk.choices[0]?.delta?.content ?? ''
    expect(hfText).toBe(want.text)

    // Non-streamed, through the same machinery.
    const whole = await openai.chat.completions.create({model: 'ogpu-stream-1', messages: [{role: 'user', content: 'Hello'}], max_tokens: 12})
    expect(whole.choices[0]!.message.content).toBe((await expected('Hello', 12)).text)

    // Verification (optimistic: after release) and vouchers to the generator and both verifiers.
    await g.gateway.idle()
    const verdicts = events.filter((e) => e.type === 'verdict')
    expect(verdicts.length).toBe(6) // 3 responses × c − 1
    expect(verdicts.every((v) => (v as any).outcome === 'approved')).toBe(true)
    const paid = g.gateway.book.all().filter((e) => e.cumulative > 0n && e.delivered === e.cumulative)
    expect(paid.map((e) => e.provider).sort()).toEqual([addr.dev2, addr.dev3, addr.dev4].sort())
    const metrics = await (await fetch(`${g.url}/metrics`, {headers: {authorization: 'Bearer sk-test'}})).text()
    expect(metrics).toMatch(/ogpu_gateway_verifications_total\{outcome="approved"\} 6/)
    expect(metrics).toMatch(/ogpu_gateway_time_to_first_token_seconds_count 3/)
    expect(metrics).toMatch(/ogpu_gateway_live_subscribers 3/)
  })

  it('releases per the response method: optimistic before any verdict, weighted after ⌈w·c⌉ − 1 approvals, unanimous after c − 1', async () => {
    const order: Record<string, string[]> = {}
    for (const [streamId, name] of [
      [1n, 'optimistic'],
      [2n, 'weighted'],
      [3n, 'unanimous'],
    ] as const) {
      const events: Array<GatewayEvent | {type: 'caller_first_byte'}> = []
      const g = await gateway(streamId, events)
      const response = await fetch(`${g.url}/v1/chat/completions`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({messages: [{role: 'user', content: 'Count to one hundred, slowly.'}], max_tokens: 32, stream: true})})
      let first = true
      const {chunks, done} = await readStream(response, () => {
        if (first) events.push({type: 'caller_first_byte'})
        first = false
      })
      expect(done).toBe(true)
      // Token ids are what must match (text cut at max_tokens can end inside a multi-byte character).
      expect((events.find((e) => e.type === 'done') as any).tokens).toEqual((await expected('Count to one hundred, slowly.', 32)).tokens)
      expect(textOf(chunks).length).toBeGreaterThan(0)
      await g.gateway.idle()
      order[name] = events.filter((e) => ['release', 'verdict', 'caller_first_byte'].includes(e.type)).map((e) => (e.type === 'verdict' ? `verdict:${(e as any).outcome}` : e.type))
    }
    const before = (list: string[], what: string) => list.slice(0, list.indexOf(what))
    // Optimistic: out at once; both verdicts come after the caller has the response.
    expect(order.optimistic!.slice(0, 2)).toEqual(['release', 'caller_first_byte'])
    expect(order.optimistic!.filter((e) => e === 'verdict:approved')).toHaveLength(2)
    // Weighted 50 % of 3: ⌈1.5⌉ = 2 approvals, the generator's receipt and one verifier, before the first byte.
    expect(before(order.weighted!, 'release')).toEqual(['verdict:approved'])
    expect(order.weighted!.indexOf('caller_first_byte')).toBeGreaterThan(order.weighted!.indexOf('release'))
    expect(order.weighted!.filter((e) => e === 'verdict:approved')).toHaveLength(2)
    // Unanimous: all c = 3, i.e. both verifiers, before the first byte.
    expect(order.unanimous!).toEqual(['verdict:approved', 'verdict:approved', 'release', 'caller_first_byte'])
  })

  it('the binary: `client chat` answers piped prompts; `client gateway` serves until Ctrl-C and owns the stream\'s voucher book', async () => {
    await Promise.all(gateways.splice(0).map((g) => g.close())) // release the in-process books of streams 1–3
    const chat = await home.run(['client', 'chat', '--stream', '1', '--wallet', 'dev1', '--max-tokens', '12', '--json'], {input: 'Hello\nAnd then?\n', timeoutMs: 120_000})
    expect(chat.code, chat.stderr).toBe(0)
    const turns = JSON.parse(chat.stdout).turns
    expect(turns).toHaveLength(2)
    expect(turns[0]).toMatchObject({prompt: 'Hello', reply: (await expected('Hello', 12)).text, error: null})
    expect(turns[1].error).toBeNull()
    expect(turns[1].tokens).toBeGreaterThan(0)

    const child = spawn(process.execPath, [binary, 'client', 'gateway', '--stream', '1', '--port', '0', '--wallet', 'dev1', '--json'], {env: home.env, stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    let err = ''
    child.stdout!.on('data', (d) => (out += d))
    child.stderr!.on('data', (d) => (err += d))
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    try {
      const line = await waitFor(() => out.split('\n').find((l) => l.startsWith('{')) ?? (child.exitCode !== null ? 'exited' : undefined), 'the gateway to print its URL', 60_000).catch((error: Error) => {
        throw new Error(`${error.message}\nstdout: ${out}\nstderr: ${err}`)
      })
      expect(line, err).not.toBe('exited')
      const {url} = JSON.parse(line)
      const response = await fetch(`${url}/v1/chat/completions`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({messages: [{role: 'user', content: 'Hello'}], max_tokens: 12})})
      expect(response.status).toBe(200)
      expect((await jsonOf(response)).choices[0].message.content).toBe((await expected('Hello', 12)).text)
      // A second gateway of the stream in another process would sign conflicting vouchers: refused, naming the first.
      const second = await home.json(['client', 'chat', '--stream', '1', '--wallet', 'dev1'], {input: 'Hi\n'})
      expect(second.code).toBe(2)
      expect(second.data.error.code).toBe('GATEWAY_RUNNING')
      expect(second.data.error.message).toContain(`pid ${child.pid}`)
    } finally {
      child.kill('SIGINT')
    }
    expect(await exit, err).toBe(0)
  })

  it('killing the generator mid-stream: the caller still gets the full, correct completion', async () => {
    const events: GatewayEvent[] = []
    const g = await gateway(1n, events, {preferred: [addr.dev4!]})
    const prompt = 'network network stream 18' // the tiny model generates 200 tokens without ending on this one
    const want = await expected(prompt, 200)
    expect(want.tokens).toHaveLength(200)
    const response = await fetch(`${g.url}/v1/chat/completions`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({messages: [{role: 'user', content: prompt}], max_tokens: 200, stream: true})})
    let killed = false
    const {chunks, done} = await readStream(response, () => {
      if (killed) return
      killed = true
      daemons.dev4!.child.kill('SIGSTOP') // freeze it mid-generation, then kill it
      daemons.dev4!.child.kill('SIGKILL')
    })
    expect(done).toBe(true)
    expect(textOf(chunks)).toBe(want.text.replace(/\uFFFD+$/, ''))
    const failover = events.find((e) => e.type === 'failover') as Extract<GatewayEvent, {type: 'failover'}>
    expect(failover).toMatchObject({provider: addr.dev4, kind: 'mid_stream'})
    const resumed = events.filter((e) => e.type === 'generator') as Array<Extract<GatewayEvent, {type: 'generator'}>>
    expect(resumed).toHaveLength(2)
    expect(resumed[1]!.resumeTokens).toBeGreaterThan(0)
    expect(resumed[1]!.resumeTokens).toBeLessThan(200)
    const done2 = events.find((e) => e.type === 'done') as Extract<GatewayEvent, {type: 'done'}>
    expect(done2.tokens).toEqual(want.tokens)
    await g.gateway.idle()
  })

  it('answers 503 with the reason when fewer than c subscribers are live', async () => {
    await daemons.dev4!.exit
    const g = await gateway(3n)
    const response = await fetch(`${g.url}/v1/chat/completions`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({messages: [{role: 'user', content: 'Hello'}], stream: true})})
    expect(response.status).toBe(503)
    const body = await jsonOf(response)
    expect(body.error.code).toBe('stream_interrupted')
    expect(body.error.message).toMatch(/2 live subscribers of the 3 its council needs/)
    expect((await fetch(`${g.url}/health`)).status).toBe(503)
  })

  it('a tampering generator is caught by verification, disputed and slashed; the caller gets an honest response', async () => {
    const events: GatewayEvent[] = []
    const g = await gateway(4n, events, {preferred: [addr.dev5!]})
    const want = await expected('Tell me a story about a GPU.', 16)
    const response = await fetch(`${g.url}/v1/chat/completions`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({messages: [{role: 'user', content: 'Tell me a story about a GPU.'}], max_tokens: 16})})
    expect(response.status).toBe(200)
    const completion = await jsonOf(response)
    expect(completion.choices[0].message.content).toBe(want.text)
    const generators = events.filter((e) => e.type === 'generator').map((e) => (e as any).provider)
    expect(generators[0]).toBe(addr.dev5)
    expect(generators[1]).not.toBe(addr.dev5)
    expect(events.find((e) => e.type === 'rejected')).toMatchObject({provider: addr.dev5, released: false})
    await g.gateway.idle()
    const dispute = events.find((e) => e.type === 'dispute') as Extract<GatewayEvent, {type: 'dispute'}>
    expect(dispute.error).toBeUndefined()
    // The evidence the dispute points at is served by the gateway.
    const evidence = await jsonOf(await fetch(`${g.url}/v1/ogpu/evidence/${dispute.digest}`))
    expect(evidence.provider).toBe(addr.dev5)
    // The council, seated by the gateway from the model's staked pool (never T, never the client), verifies, commits
    // and reveals; the dispute is settled (Valid 2 or Invalid 3): T is slashed and removed.
    await waitFor(async () => [2, 3].includes(Number((await streamMarket.getDispute(dispute.disputeId!)).state)) || undefined, 'the dispute to settle', 90_000, 500)
    const settled = await streamMarket.getDispute(dispute.disputeId!)
    expect(Number(settled.state)).toBe(3) // Invalid
    const sub = await streamMarket.subscription(4n, addr.dev5!)
    expect(Number(sub.status)).toBe(3) // Removed
    // The cheat's generation is not paid (it is paid only for verifying the honest retry, c = 3 needs it); the
    // honest generator and the verifiers are.
    expect(g.gateway.book.get(addr.dev5!).cumulative).toBe(verificationCharge(want.promptTokens.length, want.tokens.length, oGPU('0.5')))
    expect(g.gateway.book.get(addr.dev2!).cumulative).toBeGreaterThan(0n)
    expect(g.gateway.book.get(addr.dev3!).cumulative).toBeGreaterThan(0n)
  })
})
