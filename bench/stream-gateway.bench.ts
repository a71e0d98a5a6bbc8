/**
 * Stream gateway benchmark on a devnet: three provider daemons (test/fixtures/provider-daemon.ts) serving the synthetic
 * ~134M-parameter Q8_0 model (test/fixtures/gguf-writer.ts, as bench/gpu-engine.bench.ts; --model tiny for a quick
 * run), three streams of council 3 (optimistic, weighted 50 %, unanimous) and the gateways in this process. Run:
 *   npx tsx bench/stream-gateway.bench.ts [--model bench|tiny] [--max-tokens 64] [--runs 9] [--threads 1] [--concurrency 8] [--cpu-prof DIR]
 *
 * Every path gets the same chat messages and max_tokens, and is timed the same way at the caller: TTFT is the time
 * from sending the request (calling the engine, for the bare engine) to the first content (a chunk with text); the
 * token rate is (content chunks − 1) / (last content − first content); "request" is the time to the end of the
 * response ([DONE], or the engine's result). The three single-caller paths are measured interleaved, run by run, so
 * a busy machine slows them alike:
 *   bare       InferenceEngine.chat in this process (1 sequence, the daemons' threads and context size; and an
 *              engine with --concurrency sequences, as the daemons load it),
 *   direct     a signed request straight to provider P's API (the request is signed before the clock starts),
 *   gateway    through `startGateway` (optimistic stream, P as its preferred generator) to P.
 * Then: aggregate tokens/s of --concurrency callers through the gateway (all on P, and spread over the three
 * providers) against the bare engine with as many sequences; and per response method, what verification costs: the
 * time to first content and to the end at the caller, the extra time over a direct request to P made just before
 * (paired, same load), when each verifier answered after the generation ended, the time until every verification has
 * settled and been paid (gateway.idle()), and the oGPU paid per response (to P for the generation, to the others for
 * their verifications; from the voucher book).
 *
 * --cpu-prof DIR starts the daemons with `node --cpu-prof` into DIR (profile the gateway with
 * `node --cpu-prof --import tsx bench/stream-gateway.bench.ts`). Figures are medians and p95 (nearest rank) of --runs
 * runs. Prints tables; no asserts. Give the machine's load (uptime) with the figures: two cores shared with other
 * work make single runs noisy.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdirSync, readFileSync} from 'node:fs'
import {loadavg} from 'node:os'
import {join, resolve} from 'node:path'
import {performance} from 'node:perf_hooks'
import {parseArgs} from 'node:util'

import {formatUnits, parseUnits, Wallet} from 'ethers'

import {openChain} from '../src/chain/context.js'
import {streamMarketAt} from '../src/chain/contracts/stream-market.js'
import {sendTx} from '../src/chain/tx.js'
import {resolvePaths} from '../src/config/paths.js'
import {devKeys} from '../src/devnet/devnet.js'
import type {GatewayEvent} from '../src/gateway/gateway.js'
import {type GatewayHandle, startGateway} from '../src/gateway/server.js'
import {readSse} from '../src/gateway/sse.js'
import {InferenceEngine} from '../src/gpu/engine.js'
import type {ChatMessage} from '../src/gpu/engine-types.js'
import {ogpuDomain} from '../src/protocol/eip712.js'
import {signedRequestHeaders} from '../src/protocol/stream.js'
import {ensureModel} from '../test/fixtures/gguf-writer.js'
import {createHome, repoRoot, startDevnet, stopDevnet, waitFor} from '../test/helpers/cli.js'
import {chainOf} from '../test/helpers/market.js'

const {values} = parseArgs({
  options: {
    model: {type: 'string', default: 'bench'},
    'max-tokens': {type: 'string', default: '64'},
    runs: {type: 'string', default: '9'},
    threads: {type: 'string', default: '1'},
    concurrency: {type: 'string', default: '8'},
    'cpu-prof': {type: 'string'},
  },
})
const maxTokens = Number(values['max-tokens'])
const runs = Number(values.runs)
const threads = Number(values.threads)
const concurrency = Number(values.concurrency)
for (const [name, v] of [['max-tokens', maxTokens], ['runs', runs], ['threads', threads], ['concurrency', concurrency]] as const)
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer (got ${values[name]}).`)
if (values.model !== 'bench' && values.model !== 'tiny') throw new Error(`--model must be bench or tiny (got ${values.model}).`)
const profileDir = values['cpu-prof'] ? resolve(values['cpu-prof']) : undefined

const oGPU = (v: string) => parseUnits(v, 18)
const PRICE_GENERATED = oGPU('1')
const PRICE_VERIFIED = oGPU('0.5')
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b)
const median = (xs: number[]) => {
  const s = sorted(xs)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
const p95 = (xs: number[]) => sorted(xs)[Math.min(xs.length - 1, Math.ceil(0.95 * xs.length) - 1)]!
const ms = (x: number) => `${x.toFixed(1)} ms`
const stats = (xs: number[], f: (x: number) => string) => `${f(median(xs))} (p95 ${f(p95(xs))})`
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ')
const messages: ChatMessage[] = [{role: 'user', content: 'network network stream 18'}]

/** One timed response at the caller. */
interface Timed {
  ttft: number
  /** Tokens/s from the first to the last content. */
  rate: number
  /** Time to the end of the response. */
  total: number
  /** Content events (chunks with text, or engine tokens with text). */
  contents: number
}

function timing(started: number, contentTimes: number[], end: number): Timed {
  const first = contentTimes[0] ?? end
  const last = contentTimes.at(-1) ?? end
  return {ttft: first - started, rate: contentTimes.length > 1 ? (contentTimes.length - 1) / ((last - first) / 1000) : 0, total: end - started, contents: contentTimes.length}
}

/** One streamed chat completion over HTTP, timed at the caller. */
async function viaHttp(url: string, body: string, headers: Record<string, string> = {}): Promise<Timed> {
  const started = performance.now()
  const response = await fetch(url, {method: 'POST', headers: {'content-type': 'application/json', ...headers}, body})
  if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`)
  const contentTimes: number[] = []
  for await (const event of readSse(response.body as unknown as AsyncIterable<Uint8Array>)) {
    if (event.data === '[DONE]') break
    const chunk = JSON.parse(event.data) as {error?: unknown; choices?: Array<{delta?: {content?: string}}>}
    if (chunk.error) throw new Error(`${url}: ${event.data}`)
    if (chunk.choices?.[0]?.delta?.content) contentTimes.push(performance.now())
  }
  return timing(started, contentTimes, performance.now())
}

/** One chat completion on the engine, timed the same way. */
async function viaEngine(engine: InferenceEngine): Promise<Timed & {tokens: number}> {
  const started = performance.now()
  const contentTimes: number[] = []
  const result = await engine.chat({messages, maxTokens, onToken: (e) => void (e.text !== '' && contentTimes.push(performance.now()))})
  return {...timing(started, contentTimes, performance.now()), tokens: result.tokens.length}
}

const home = createHome('ogpu-bench-gateway-')
const children: ChildProcess[] = []
const gateways: GatewayHandle[] = []
const engines: InferenceEngine[] = []
try {
  const loadAtStart = load()
  const devnet = await startDevnet(home)
  const raw = chainOf(devnet)
  const chain = await openChain({paths: resolvePaths(home.env)})
  const model = ensureModel(values.model)
  const sha = createHash('sha256').update(readFileSync(model)).digest('hex')
  await home.run(['model', 'add', model, '--name', 'm'])
  for (const w of ['dev2', 'dev3', 'dev4']) {
    await home.run(['provider', 'register', '--endpoint', 'http://127.0.0.1:9', '--wallet', w])
    await home.run(['stake', 'deposit', '1000', '--wallet', w])
  }
  const clientKey = devKeys(10)[1]!
  const client = new Wallet(clientKey, raw.provider)
  const market = streamMarketAt(devnet.contracts.streamMarket, client)
  await sendTx(raw.provider, 'approve', () => raw.token.connect(client).approve(devnet.contracts.streamMarket, oGPU('3000')))
  for (const [method, weightBps] of [
    [0, 0],
    [1, 5000],
    [2, 0],
  ] as const)
    await sendTx(raw.provider, 'create', () =>
      market.create({
        modelHash: `0x${sha}`, specHash: `0x${'22'.repeat(32)}`, specUri: 'data:,', pricePerKTokenGenerated: PRICE_GENERATED, pricePerKTokenVerified: PRICE_VERIFIED, councilSize: 3, responseMethod: method, weightBps,
        collateral: oGPU('10'), maxDowntime: 60, unsubscribeNotice: 5, closeNotice: 5, commitWindow: 6, revealWindow: 6, disputeBond: oGPU('1'), deposit: oGPU('900'),
      }),
    )

  if (profileDir) mkdirSync(profileDir, {recursive: true})
  for (const w of ['dev2', 'dev3', 'dev4']) {
    const nodeArgs = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-name', `provider-${w}.cpuprofile`] : []
    const options = {wallet: w, threads, sequences: concurrency, logFormat: 'json', streams: ['1', '2', '3'], streamLimits: {ratePerSecond: 1000, rateBurst: 1000, creditLimit: '1000'}}
    children.push(spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(repoRoot, 'test/fixtures/provider-daemon.ts'), JSON.stringify(options)], {env: home.env, cwd: repoRoot, stdio: 'ignore'}))
  }
  await waitFor(async () => (await market.subscribersOf(3)).length === 3 || undefined, 'subscriptions', 300_000, 500)
  await waitFor(async () => {
    for (const a of await market.subscribersOf(1)) if ((await raw.registry.providerOf(a)).endpoint.endsWith(':9')) return undefined
    return true
  }, 'endpoints', 120_000, 500)
  const subscribers = await market.subscribersOf(1)
  const generator = subscribers[0]!
  const endpoint = (await raw.registry.providerOf(generator)).endpoint.replace(/\/+$/, '')
  // When each verifier answered, after its response's generation ended (for the cost of verification).
  const generatedAt = new Map<string, number>()
  const verdictMs: number[] = []
  const onEvent = (event: GatewayEvent) => {
    if (event.type === 'generated') generatedAt.set(event.id, performance.now())
    else if (event.type === 'verdict' && event.verifier && generatedAt.has(event.id)) verdictMs.push(performance.now() - generatedAt.get(event.id)!)
  }
  const open = async (id: bigint, preferred: string[] = [generator]) => {
    const g = await startGateway({chain, wallet: new Wallet(clientKey), streamId: id, dataDir: resolvePaths(home.env).dataDir, port: 0, preferredGenerators: preferred, onEvent})
    gateways.push(g)
    await waitFor(() => g.gateway.unavailableReason() === undefined || undefined, 'live council', 60_000, 200)
    return g
  }
  const optimistic = await open(1n)
  const body = JSON.stringify({messages, max_tokens: maxTokens, stream: true})
  const url = (g: GatewayHandle) => `${g.url}/v1/chat/completions`
  const domain = ogpuDomain(devnet.chainId, devnet.contracts.streamMarket)
  const direct = async () => {
    const {headers} = await signedRequestHeaders(new Wallet(clientKey), domain, 1n, generator, body)
    return viaHttp(`${endpoint}/v1/chat/completions`, body, headers)
  }

  // 1 + 2. One caller: bare engine, provider direct, gateway — interleaved run by run.
  const bareEngine = await InferenceEngine.load({modelPath: model, gpu: 'cpu', threads, sequences: 1})
  engines.push(bareEngine)
  const warm = await viaEngine(bareEngine)
  await direct()
  await viaHttp(url(optimistic), body)
  await optimistic.gateway.idle()
  // the engine as the daemons load it (as many sequences as callers), for one caller too
  const multiEngine = await InferenceEngine.load({modelPath: model, gpu: 'cpu', threads, sequences: concurrency})
  engines.push(multiEngine)
  await viaEngine(multiEngine)
  const single = {bare: [] as Timed[], bareMulti: [] as Timed[], direct: [] as Timed[], gateway: [] as Timed[]}
  const loadSingle = load()
  for (let i = 0; i < runs; i++) {
    single.bare.push(await viaEngine(bareEngine))
    single.bareMulti.push(await viaEngine(multiEngine))
    single.direct.push(await direct())
    single.gateway.push(await viaHttp(url(optimistic), body))
    // the optimistic verification runs after the response: let it finish before the next run
    await optimistic.gateway.idle()
  }
  await bareEngine.dispose()
  engines.splice(engines.indexOf(bareEngine), 1)

  // 3. Concurrent callers: the bare engine with as many sequences, the gateway onto P, the gateway spread over all.
  const aggregate = async (one: () => Promise<Timed>): Promise<number> => {
    const started = performance.now()
    const results = await Promise.all(Array.from({length: concurrency}, one))
    return results.reduce((s, r) => s + r.contents, 0) / ((performance.now() - started) / 1000)
  }
  const concurrentRuns = Math.max(3, Math.ceil(runs / 3))
  const spread = await open(1n, [])
  const concurrent = {bare: [] as number[], gateway: [] as number[], spread: [] as number[]}
  const loadConcurrent = load()
  for (let i = 0; i < concurrentRuns; i++) {
    concurrent.bare.push(await aggregate(() => viaEngine(multiEngine)))
    concurrent.gateway.push(await aggregate(() => viaHttp(url(optimistic), body)))
    await optimistic.gateway.idle()
    concurrent.spread.push(await aggregate(() => viaHttp(url(spread), body)))
    await spread.gateway.idle()
  }
  await multiEngine.dispose()
  engines.length = 0

  // 4. Verification per response method (P generates; the two others verify).
  const methods: Array<[string, GatewayHandle]> = [['optimistic', optimistic], ['weighted 50 %', await open(2n)], ['unanimous', await open(3n)]]
  const perMethod: string[][] = []
  const loadMethods = load()
  const oGpu = (wei: bigint) => formatUnits(wei, 18)
  for (const [name, g] of methods) {
    const rows: Array<Timed & {settled: number; extra: number}> = []
    await viaHttp(url(g), body) // warm-up
    await g.gateway.idle()
    const generatorBefore = g.gateway.book.get(generator).cumulative
    const owedBefore = g.gateway.book.total
    verdictMs.length = 0
    for (let i = 0; i < runs; i++) {
      // paired with a direct request (no verification) just before, so that both see the same load
      const plain = await direct()
      const started = performance.now()
      const r = await viaHttp(url(g), body)
      await g.gateway.idle()
      rows.push({...r, settled: performance.now() - started, extra: r.total - plain.total})
    }
    const paid = (g.gateway.book.total - owedBefore) / BigInt(runs)
    const generation = (g.gateway.book.get(generator).cumulative - generatorBefore) / BigInt(runs)
    perMethod.push([
      name,
      stats(rows.map((r) => r.ttft), ms),
      stats(rows.map((r) => r.total), ms),
      stats(rows.map((r) => r.extra), (x) => `${x >= 0 ? '+' : ''}${ms(x)}`),
      stats(verdictMs, ms),
      stats(rows.map((r) => r.settled), ms),
      `${oGpu(paid)} (${oGpu(generation)} + ${oGpu(paid - generation)})`,
    ])
  }

  // Tables.
  const rate = (xs: Timed[]) => median(xs.map((r) => r.rate))
  const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(1)} %`
  console.log(`model ${values.model} (${model}), ${warm.tokens} tokens per response (max_tokens ${maxTokens}), ${threads} thread(s), ${runs} runs; medians (p95)`)
  console.log(`load average (1/5/15 min): at start ${loadAtStart}; single-caller runs ${loadSingle}; concurrent ${loadConcurrent}; methods ${loadMethods}; end ${load()}\n`)
  console.log('| path (1 caller) | TTFT | tokens/s (first→last content) | request (to the end) |\n|---|---|---|---|')
  for (const [name, xs] of [['bare engine', single.bare], [`bare engine, ${concurrency} sequences (as the daemons load it)`, single.bareMulti], ['provider direct', single.direct], ['gateway + provider', single.gateway]] as const)
    console.log(`| ${name} | ${stats(xs.map((r) => r.ttft), ms)} | ${stats(xs.map((r) => r.rate), (x) => x.toFixed(1))} | ${stats(xs.map((r) => r.total), ms)} |`)
  console.log('\n| measure | value | target |\n|---|---|---|')
  console.log(`| gateway + provider tokens/s vs bare | ${pct(rate(single.gateway), rate(single.bare))} | ≥ 95 % |`)
  console.log(`| provider direct tokens/s vs bare | ${pct(rate(single.direct), rate(single.bare))} | |`)
  console.log(`| gateway + provider tokens/s vs bare with ${concurrency} sequences | ${pct(rate(single.gateway), rate(single.bareMulti))} | |`)
  // Paired: the difference within each run (same load), then its median and p95.
  const extra = (a: Timed[], b: Timed[]) => stats(a.map((r, i) => r.ttft - b[i]!.ttft), (x) => `${x >= 0 ? '+' : ''}${ms(x)}`)
  console.log(`| extra TTFT, gateway over bare engine (paired per run) | ${extra(single.gateway, single.bare)} | ≤ +10 ms |`)
  console.log(`| extra TTFT, gateway over provider direct (paired per run) | ${extra(single.gateway, single.direct)} | |`)
  console.log(`| extra TTFT, provider direct over bare engine (paired per run) | ${extra(single.direct, single.bare)} | |`)
  console.log(`\n| ${concurrency} concurrent callers (median of ${concurrentRuns}) | aggregate tokens/s | vs bare |\n|---|---|---|`)
  console.log(`| bare engine, ${concurrency} sequences | ${median(concurrent.bare).toFixed(1)} | |`)
  console.log(`| gateway, all on one provider | ${median(concurrent.gateway).toFixed(1)} | ${pct(median(concurrent.gateway), median(concurrent.bare))} |`)
  console.log(`| gateway, spread over 3 providers (verifications in the background) | ${median(concurrent.spread).toFixed(1)} | ${pct(median(concurrent.spread), median(concurrent.bare))} |`)
  console.log(
    `\n| response method (council 3) | TTFT | request (to the end) | extra over provider direct (paired) | each verifier's answer, after generation | until verified and paid | oGPU paid per response (generation + verifications) |\n|---|---|---|---|---|---|---|`,
  )
  for (const row of perMethod) console.log(`| ${row.join(' | ')} |`)
  chain.dispose()
  raw.provider.destroy()
} finally {
  await Promise.all(engines.map((e) => e.dispose()))
  await Promise.all(gateways.map((g) => g.close()))
  for (const child of children) child.kill('SIGTERM')
  await Promise.all(children.map((c) => new Promise((done) => (c.exitCode !== null ? done(null) : c.on('exit', done)))))
  await stopDevnet(home)
  home.dispose()
}
