/**
 * Stream gateway benchmark on a devnet: three provider daemons (test/fixtures/provider-daemon.ts) serving the synthetic
 * ~134M-parameter model (--model tiny for a quick run), three streams of council 3 (optimistic, weighted 50 %,
 * unanimous) and the gateway in this process. Run:
 *   npx tsx bench/stream-gateway.bench.ts [--model bench] [--max-tokens 64] [--runs 5] [--threads 1]
 *
 * Measures:
 *  1. tokens/s of one streamed chat completion through gateway + provider vs the bare engine (target ≥ 95 %),
 *  2. extra time to first token of the gateway over calling the provider directly (target ≤ 10 ms on loopback),
 *  3. aggregate tokens/s with 8 concurrent callers through the gateway,
 *  4. cost of verification per response method: time from request to the last byte, and verifier charges.
 * Prints a table; no asserts. Figures are medians of --runs runs.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'
import {parseArgs} from 'node:util'

import {Contract, parseUnits, Wallet} from 'ethers'

import {loadArtifact} from '../src/chain/artifacts.js'
import {openChain} from '../src/chain/context.js'
import {formatAmount} from '../src/chain/units.js'
import {sendTx} from '../src/chain/tx.js'
import {resolvePaths} from '../src/config/paths.js'
import {devKeys} from '../src/devnet/devnet.js'
import {type GatewayHandle, startGateway} from '../src/gateway/server.js'
import {readSse} from '../src/gateway/sse.js'
import {InferenceEngine} from '../src/gpu/engine.js'
import {ogpuDomain} from '../src/protocol/eip712.js'
import {signedRequestHeaders} from '../src/protocol/stream.js'
import {ensureModel} from '../test/fixtures/gguf-writer.js'
import {createHome, repoRoot, startDevnet, stopDevnet, waitFor} from '../test/helpers/cli.js'
import {chainOf} from '../test/helpers/market.js'

const {values} = parseArgs({
  options: {model: {type: 'string', default: 'bench'}, 'max-tokens': {type: 'string', default: '64'}, runs: {type: 'string', default: '5'}, threads: {type: 'string', default: '1'}},
})
const maxTokens = Number(values['max-tokens'])
const runs = Number(values.runs)
const threads = Number(values.threads)
const oGPU = (v: string) => parseUnits(v, 18)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const messages = [{role: 'user', content: 'network network stream 18'}]

/** One streamed request: ms to the first token, ms to the end, and tokens received. */
async function timed(url: string, body: string, headers: Record<string, string> = {}): Promise<{ttft: number; total: number; chunks: number}> {
  const started = performance.now()
  const response = await fetch(url, {method: 'POST', headers: {'content-type': 'application/json', ...headers}, body})
  if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`)
  let ttft = 0
  let chunks = 0
  for await (const event of readSse(response.body as unknown as AsyncIterable<Uint8Array>)) {
    if (event.data === '[DONE]') break
    const chunk = JSON.parse(event.data)
    if (chunk.choices?.[0]?.delta?.content) {
      chunks++
      ttft ||= performance.now() - started
    }
  }
  return {ttft, total: performance.now() - started, chunks}
}

const home = createHome('ogpu-bench-gateway-')
const children: ChildProcess[] = []
const gateways: GatewayHandle[] = []
try {
  const devnet = await startDevnet(home)
  const raw = chainOf(devnet)
  const chain = await openChain({paths: resolvePaths(home.env)})
  const model = ensureModel(values.model as 'bench' | 'tiny')
  const sha = createHash('sha256').update(readFileSync(model)).digest('hex')
  await home.run(['model', 'add', model, '--name', 'm'])
  for (const w of ['dev2', 'dev3', 'dev4']) {
    await home.run(['provider', 'register', '--endpoint', 'http://127.0.0.1:9', '--wallet', w])
    await home.run(['stake', 'deposit', '1000', '--wallet', w])
  }
  const client = new Wallet(devKeys(10)[1]!, raw.provider)
  const market = new Contract(devnet.contracts.streamMarket, loadArtifact('StreamMarket').abi, client)
  await sendTx(raw.provider, 'approve', () => (raw.token.connect(client) as Contract).getFunction('approve')(devnet.contracts.streamMarket, oGPU('1000')))
  for (const [method, weightBps] of [
    [0, 0],
    [1, 5000],
    [2, 0],
  ])
    await sendTx(raw.provider, 'create', () =>
      market.getFunction('create')({
        modelHash: `0x${sha}`, specHash: `0x${'22'.repeat(32)}`, specUri: 'data:,', pricePerKTokenGenerated: oGPU('1'), pricePerKTokenVerified: oGPU('0.5'), councilSize: 3, responseMethod: method, weightBps,
        collateral: oGPU('10'), maxDowntime: 60, unsubscribeNotice: 5, closeNotice: 5, commitWindow: 6, revealWindow: 6, disputeBond: oGPU('1'), deposit: oGPU('300'),
      }),
    )

  // 1a. The bare engine, alone on the machine.
  const engine = await InferenceEngine.load({modelPath: model, gpu: 'cpu', threads, sequences: 1})
  const bare: number[] = []
  let tokens = 0
  for (let i = 0; i < runs; i++) {
    let first = 0
    const started = performance.now()
    const result = await engine.chat({messages: messages as any, maxTokens, onToken: () => (first ||= performance.now())})
    tokens = result.tokens.length
    bare.push((result.tokens.length - 1) / ((performance.now() - first) / 1000))
    void started
  }
  await engine.dispose()

  for (const w of ['dev2', 'dev3', 'dev4']) {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/fixtures/provider-daemon.ts'), JSON.stringify({wallet: w, threads, sequences: 8, logFormat: 'json', streams: ['1', '2', '3']})], {env: home.env, cwd: repoRoot, stdio: 'ignore'})
    children.push(child)
  }
  await waitFor(async () => ((await market.getFunction('subscribersOf')(3)) as string[]).length === 3 || undefined, 'subscriptions', 300_000, 500)
  await waitFor(async () => {
    for (const a of (await market.getFunction('subscribersOf')(1)) as string[]) if (((await raw.registry.getFunction('providerOf')(a)) as {endpoint: string}).endpoint.endsWith(':9')) return undefined
    return true
  }, 'endpoints', 120_000, 500)
  const open = async (id: bigint) => {
    const g = await startGateway({chain, wallet: new Wallet(devKeys(10)[1]!), streamId: id, dataDir: resolvePaths(home.env).dataDir, port: 0})
    gateways.push(g)
    return g
  }
  const optimistic = await open(1n)
  const body = JSON.stringify({messages, max_tokens: maxTokens, stream: true})
  const url = (g: GatewayHandle) => `${g.url}/v1/chat/completions`
  await timed(url(optimistic), body) // warm-up

  // 1b + 2. Through the gateway vs directly to the generator the gateway would pick.
  const viaGateway: Array<{ttft: number; total: number; chunks: number}> = []
  const direct: Array<{ttft: number; total: number; chunks: number}> = []
  const domain = ogpuDomain(devnet.chainId, devnet.contracts.streamMarket)
  const provider = optimistic.gateway.pool.chooseGenerator()!
  for (let i = 0; i < runs; i++) {
    await optimistic.gateway.idle()
    viaGateway.push(await timed(url(optimistic), body))
    await optimistic.gateway.idle()
    const {headers} = await signedRequestHeaders(new Wallet(devKeys(10)[1]!), domain, 1n, body)
    direct.push(await timed(`${provider.endpoint}/v1/chat/completions`, body, headers))
  }
  const rate = (r: {ttft: number; total: number; chunks: number}) => (r.chunks - 1) / ((r.total - r.ttft) / 1000)

  // 3. Eight concurrent callers.
  await optimistic.gateway.idle()
  const started = performance.now()
  const concurrent = await Promise.all(Array.from({length: 8}, () => timed(url(optimistic), body)))
  const aggregate = concurrent.reduce((s, r) => s + r.chunks, 0) / ((performance.now() - started) / 1000)
  await optimistic.gateway.idle()

  // 4. Verification per response method.
  const methods: Array<[string, GatewayHandle]> = [['optimistic', optimistic], ['weighted 50 %', await open(2n)], ['unanimous', await open(3n)]]
  const perMethod: string[][] = []
  for (const [name, g] of methods) {
    const totals: number[] = []
    const ttfts: number[] = []
    const owedBefore = g.gateway.book.total
    for (let i = 0; i < runs; i++) {
      const r = await timed(url(g), body)
      totals.push(r.total)
      ttfts.push(r.ttft)
      await g.gateway.idle()
    }
    const verifierWei = (g.gateway.book.total - owedBefore) / BigInt(runs)
    perMethod.push([name, `${median(ttfts).toFixed(1)} ms`, `${median(totals).toFixed(1)} ms`, `${formatAmount(verifierWei)} oGPU`])
  }

  const bareRate = median(bare)
  const gwRate = median(viaGateway.map(rate))
  console.log(`model ${values.model}, ${tokens} tokens per response, threads ${threads}, median of ${runs}\n`)
  console.log('| measure | value | target |\n|---|---|---|')
  console.log(`| bare engine tokens/s | ${bareRate.toFixed(1)} | |`)
  console.log(`| gateway + provider tokens/s | ${gwRate.toFixed(1)} (${((gwRate / bareRate) * 100).toFixed(1)} %) | ≥ 95 % |`)
  console.log(`| provider direct TTFT | ${median(direct.map((r) => r.ttft)).toFixed(1)} ms | |`)
  console.log(`| gateway TTFT | ${median(viaGateway.map((r) => r.ttft)).toFixed(1)} ms (+${(median(viaGateway.map((r) => r.ttft)) - median(direct.map((r) => r.ttft))).toFixed(1)} ms) | ≤ +10 ms |`)
  console.log(`| 8 concurrent callers, aggregate tokens/s | ${aggregate.toFixed(1)} | |`)
  console.log('\n| response method | TTFT | request to last byte | paid per response (generation + verifications) |\n|---|---|---|---|')
  for (const row of perMethod) console.log(`| ${row.join(' | ')} |`)
  chain.dispose()
  raw.provider.destroy()
} finally {
  await Promise.all(gateways.map((g) => g.close()))
  for (const child of children) child.kill('SIGTERM')
  await Promise.all(children.map((c) => new Promise((resolve) => (c.exitCode !== null ? resolve(null) : c.on('exit', resolve)))))
  await stopDevnet(home)
  home.dispose()
}
