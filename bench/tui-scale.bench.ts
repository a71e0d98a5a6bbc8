/**
 * `ogpu tui` at scale: 10,000 batch tasks and 100,000 bids on a devnet, all real transactions.
 * Run: npx tsx bench/tui-scale.bench.ts [--tasks 10000] [--bids 10] [--assign-every 5] [--frames 200]
 *
 * Setup (timed, reported): anvil (automine, 22 unlocked accounts), the contracts, 20 providers staked and registered,
 * then the tasks, the bids and some assignments sent as JSON-RPC batches of eth_sendTransaction with pipelined nonces
 * (anvil signs; nothing is written to storage behind the contracts' back).
 *
 * Measured in a fresh child process (so that its memory is the indexer's and the dashboard's alone):
 *  1. the indexer's catch-up from the deployment block: time and peak RSS (targets ≤ 30 s, ≤ 400 MB);
 *  2. the CLI snapshot of it: first start (catch-up + save) and the next start (load + sync);
 *  3. the dashboard model at that size: the whole snapshot, and the auction book alone (what a key press rebuilds);
 *  4. the Ink app at 80×24: time from a key press to the frame written, and the bytes the screen stream sends for
 *     it (only the changed lines) against a full frame.
 * Prints a table; no asserts.
 */
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {mkdtempSync, openSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

import {JsonRpcProvider, Network, Wallet, keccak256, parseUnits, toUtf8Bytes} from 'ethers'

import {registryAt} from '../src/chain/contracts/registry.js'
import {taskMarketInterface} from '../src/chain/contracts/task-market.js'
import {tokenAt} from '../src/chain/contracts/token.js'
import {DEVNET_MARKET_CONFIG, deployContracts, mintMany} from '../src/chain/deploy.js'
import {findFoundryBinary} from '../src/devnet/anvil.js'
import {devKeys} from '../src/devnet/devnet.js'
import {canonicalJson} from '../src/protocol/canonical.js'

const {values} = parseArgs({
  options: {
    tasks: {type: 'string', default: '10000'},
    bids: {type: 'string', default: '10'},
    'assign-every': {type: 'string', default: '5'},
    frames: {type: 'string', default: '200'},
    child: {type: 'string'},
    keep: {type: 'boolean', default: false},
  },
})

const PROVIDERS = 20
const ACCOUNTS = PROVIDERS + 2 // 0: admin, 1: client, 2..21: providers
const oGPU = (v: number | string) => parseUnits(String(v), 18)
const MODELS = ['llama-3.1-8b-q4', 'qwen2.5-7b-q8', 'mistral-7b-q4', 'phi-3-mini'].map((name, i) => {
  const document = {model: {name, sha256: keccak256(toUtf8Bytes(name)).slice(2)}, instructions: {maxTokens: 64 * (i + 1)}}
  const json = canonicalJson(document)
  return {name, hash: `0x${document.model.sha256}`, specHash: keccak256(toUtf8Bytes(json)), specUri: `data:application/json,${encodeURIComponent(json)}`}
})

interface ChildArgs {
  rpcUrl: string
  market: string
  token: string
  registry: string
  deployBlock: number
  wallet: string
  dir: string
  frames: number
}

// ------------------------------------------------------------------ setup (parent)

async function rpc<T>(url: string, body: unknown): Promise<T> {
  const response = await fetch(url, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(body)})
  if (!response.ok) throw new Error(`HTTP ${response.status}`)
  return (await response.json()) as T
}

interface Tx {
  from: string
  to: string
  data: string
  gas: bigint
}

/** eth_estimateGas of one transaction, with headroom (the others of its kind cost about as much). */
async function gasFor(url: string, tx: Omit<Tx, 'gas'>, headroom = 1.5): Promise<bigint> {
  const reply = await rpc<{result?: string; error?: {message: string}}>(url, {jsonrpc: '2.0', id: 1, method: 'eth_estimateGas', params: [{from: tx.from, to: tx.to, data: tx.data}]})
  if (!reply.result) throw new Error(`eth_estimateGas failed: ${reply.error?.message}`)
  return BigInt(Math.ceil(Number(reply.result) * headroom))
}

/**
 * Sends transactions as JSON-RPC batches of eth_sendTransaction with explicit, pipelined nonces (anvil signs them).
 * Automine is off: each batch goes into the pool whole and `evm_mine` seals it into one block, so nonces never race
 * and every block stays under half its gas limit (the base fee does not climb). Checks that every one succeeded.
 */
async function sendAll(url: string, txs: Tx[], nonces: Map<string, number>): Promise<{blocks: number}> {
  const call = async (method: string, params: unknown[] = []) => {
    const reply = await rpc<{result?: unknown; error?: {message: string}}>(url, {jsonrpc: '2.0', id: 1, method, params})
    if (reply.error) throw new Error(`${method}: ${reply.error.message}`)
    return reply.result
  }
  const withNonce = txs.map((tx) => {
    const nonce = nonces.get(tx.from) ?? 0
    nonces.set(tx.from, nonce + 1)
    return {from: tx.from, to: tx.to, data: tx.data, gas: `0x${tx.gas.toString(16)}`, gasPrice: '0x2540be400', nonce: `0x${nonce.toString(16)}`}
  })
  // Blocks of at most ~12M gas declared (the limit is 30M; the target, above which the base fee rises, 15M).
  const perBlock = Math.max(1, Math.floor(12_000_000 / Number(txs[0]?.gas ?? 1n)))
  const hashes: string[] = []
  let blocks = 0
  await call('evm_setAutomine', [false])
  try {
    for (let next = 0; next < withNonce.length; next += perBlock) {
      const chunk = withNonce.slice(next, next + perBlock)
      const replies = await rpc<Array<{result?: string; error?: {message: string}}>>(
        url,
        chunk.map((tx, i) => ({jsonrpc: '2.0', id: i, method: 'eth_sendTransaction', params: [tx]})),
      )
      const failed = replies.find((r) => r.error)
      if (failed) throw new Error(`eth_sendTransaction failed: ${failed.error!.message}`)
      for (const r of replies) hashes.push(r.result!)
      await call('evm_mine')
      blocks++
    }
    const status = (await call('txpool_status')) as {pending: string; queued: string}
    if (Number(status.pending) + Number(status.queued) > 0) throw new Error(`transactions left in the pool: ${JSON.stringify(status)}`)
  } finally {
    await call('evm_setAutomine', [true])
  }
  for (let i = 0; i < hashes.length; i += 1000) {
    const receipts = await rpc<Array<{result: {status: string; transactionHash: string; gasUsed: string} | null}>>(
      url,
      hashes.slice(i, i + 1000).map((h, j) => ({jsonrpc: '2.0', id: j, method: 'eth_getTransactionReceipt', params: [h]})),
    )
    const missing = receipts.filter((r) => !r.result).length
    if (missing > 0) throw new Error(`${missing} transaction(s) of ${hashes.length} were not mined`)
    const reverted = receipts.find((r) => r.result!.status !== '0x1')
    if (reverted) throw new Error(`transaction ${reverted.result!.transactionHash} reverted (gas used ${Number(reverted.result!.gasUsed)})`)
  }
  return {blocks}
}

async function setup(): Promise<{anvil: ChildProcess; args: ChildArgs; times: Array<[string, number, number]>}> {
  const tasks = Number(values.tasks)
  const bidsPerTask = Number(values.bids)
  const assignEvery = Number(values['assign-every'])
  const dir = mkdtempSync(join(tmpdir(), 'ogpu-tui-bench-'))
  const port = 20_000 + Math.floor(Math.random() * 20_000)
  const log = openSync(join(dir, 'anvil.log'), 'a')
  const anvil = spawn(findFoundryBinary('anvil'), ['--host', '127.0.0.1', '--port', String(port), '--chain-id', '31337', '--accounts', String(ACCOUNTS), '--balance', '1000000', '--prune-history', '--quiet'], {stdio: ['ignore', log, log]})
  const url = `http://127.0.0.1:${port}`
  try {
    return await deployAndFill(anvil, url, dir, tasks, bidsPerTask, assignEvery)
  } catch (error) {
    anvil.kill('SIGTERM')
    rmSync(dir, {recursive: true, force: true})
    throw error
  }
}

async function deployAndFill(anvil: ChildProcess, url: string, dir: string, tasks: number, bidsPerTask: number, assignEvery: number): Promise<{anvil: ChildProcess; args: ChildArgs; times: Array<[string, number, number]>}> {
  for (let i = 0; ; i++) {
    try {
      await rpc(url, {jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: []})
      break
    } catch {
      if (i > 200) throw new Error('anvil did not start')
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  const times: Array<[string, number, number]> = []
  const timed = async <T>(label: string, count: number, fn: () => Promise<T>): Promise<T> => {
    const started = performance.now()
    const result = await fn()
    times.push([label, count, performance.now() - started])
    return result
  }

  const provider = new JsonRpcProvider(url, 31_337, {staticNetwork: Network.from(31_337), cacheTimeout: -1, pollingInterval: 50})
  const keys = devKeys(ACCOUNTS)
  const accounts = keys.map((k) => new Wallet(k).address)
  const [admin, client] = accounts as [string, string]
  const providers = accounts.slice(2)
  const deployment = await timed('deploy contracts + mint', 1, async () => {
    const d = await deployContracts({provider, signer: new Wallet(keys[0]!, provider), unbondingPeriod: 120, marketConfig: DEVNET_MARKET_CONFIG})
    await mintMany(provider, new Wallet(keys[0]!, provider), d.contracts.token, [
      {to: client, amount: oGPU(tasks * 100 + 1000)},
      ...providers.map((to) => ({to, amount: oGPU(tasks + 1000)})),
    ])
    return d
  })
  const {token, registry, taskMarket} = deployment.contracts
  const tokenI = tokenAt(token, provider).interface
  const registryI = registryAt(registry, provider).interface
  const marketI = taskMarketInterface()
  const nonces = new Map<string, number>()
  for (const a of accounts) nonces.set(a, await provider.getTransactionCount(a, 'latest'))

  await timed('providers: approve, stake, register', PROVIDERS * 3, () =>
    sendAll(
      url,
      providers.flatMap((p, i) => [
        {from: p, to: token, data: tokenI.encodeFunctionData('approve', [registry, oGPU(tasks + 1000)]), gas: 100_000n},
        {from: p, to: registry, data: registryI.encodeFunctionData('stake', [oGPU(tasks + 1000)]), gas: 300_000n},
        {from: p, to: registry, data: registryI.encodeFunctionData('register', [`http://127.0.0.1:${9 + i}/`, `0x${'11'.repeat(32)}`]), gas: 300_000n},
      ]),
      nonces,
    ),
  )
  await sendAll(url, [{from: client, to: token, data: tokenI.encodeFunctionData('approve', [taskMarket, oGPU(tasks * 100 + 1000)]), gas: 100_000n}], nonces)

  const submits: Tx[] = Array.from({length: tasks}, (_, t) => {
    const model = MODELS[t % MODELS.length]!
    const params = {
      specHash: model.specHash,
      specUri: model.specUri,
      dataRoot: keccak256(toUtf8Bytes(`data-${t}`)),
      modelHash: model.hash,
      itemCount: 10 + (t % 90),
      checkpoints: 1,
      councilSize: 3,
      maxBids: bidsPerTask,
      maxPrice: oGPU(100),
      councilFeePerVote: 0n,
      collateral: oGPU(1),
      biddingWindow: 6 * 3600,
      checkpointWindow: 6 * 3600,
      commitWindow: 3600,
      revealWindow: 3600,
      softDeadline: 0,
      hardDeadline: 0,
    }
    return {from: client, to: taskMarket, data: marketI.encodeFunctionData('submit', [params]), gas: 0n}
  })
  const submitGas = await gasFor(url, submits[0]!, 1.3)
  for (const tx of submits) tx.gas = submitGas
  const firstTask = Number(await provider.call({to: taskMarket, data: marketI.encodeFunctionData('nextTaskId')}))
  await timed('submit tasks', tasks, () => sendAll(url, submits, nonces))

  // Bids: task t gets bids from providers t..t+bids−1 (mod 20), prices spread over 10..100 oGPU. Sent round-robin
  // over the providers so that each one's nonces go out in order.
  const perProvider: Tx[][] = providers.map(() => [])
  for (let t = 0; t < tasks; t++)
    for (let j = 0; j < bidsPerTask; j++) {
      const p = (t + j) % PROVIDERS
      const price = oGPU(10) + (oGPU(90) * BigInt((t * 7919 + j * 104_729) % 1000)) / 1000n
      perProvider[p]!.push({from: providers[p]!, to: taskMarket, data: marketI.encodeFunctionData('bid', [firstTask + t, price]), gas: 0n})
    }
  const bidGas = await gasFor(url, perProvider[0]![0]!, 1.6)
  for (const q of perProvider) for (const tx of q) tx.gas = bidGas
  const bids: Tx[] = []
  for (let i = 0; perProvider.some((q) => i < q.length); i++) for (const q of perProvider) if (i < q.length) bids.push(q[i]!)
  await timed('bids', bids.length, () => sendAll(url, bids, nonces))

  // No task may be assigned before its minimum open time (DEVNET_MARKET_CONFIG.minOpenTime after submission).
  await rpc(url, [
    {jsonrpc: '2.0', id: 1, method: 'evm_increaseTime', params: [DEVNET_MARKET_CONFIG.minOpenTime]},
    {jsonrpc: '2.0', id: 2, method: 'evm_mine', params: []},
  ])
  const assigns: Tx[] = []
  for (let t = 0; t < tasks; t += assignEvery) assigns.push({from: admin, to: taskMarket, data: marketI.encodeFunctionData('assign', [firstTask + t]), gas: 0n})
  const assignGas = assigns.length > 0 ? await gasFor(url, assigns[0]!, 2) : 0n
  for (const tx of assigns) tx.gas = assignGas
  await timed('assign every 5th task', assigns.length, () => sendAll(url, assigns, nonces))
  provider.destroy()
  return {
    anvil,
    args: {rpcUrl: url, market: taskMarket, token, registry, deployBlock: deployment.deployBlock, wallet: providers[0]!, dir, frames: Number(values.frames)},
    times,
  }
}

// ------------------------------------------------------------------ measurements (child)

/** The numbers `measure` prints, by name (what the report reads). */
type Measured = Record<MeasuredKey, number>
type MeasuredKey =
  | 'assigned'
  | 'auctionMedianMs'
  | 'baselineRssMb'
  | 'bids'
  | 'blocks'
  | 'bytesPerKeyFrame'
  | 'catchUpMs'
  | 'catchUpPeakRssMb'
  | 'events'
  | 'firstPaintBytes'
  | 'firstStartMs'
  | 'frameMedianMs'
  | 'frameModelMedianMs'
  | 'frameP95Ms'
  | 'framesMeasured'
  | 'jsonSnapshotMb'
  | 'nextStartMs'
  | 'peakRssMb'
  | 'pulseMedianMs'
  | 'snapshotMb'
  | 'snapshotMedianMs'
  | 'snapshotP95Ms'
  | 'tasks'
  | 'walletMedianMs'

async function measure(args: ChildArgs): Promise<Record<string, number | string>> {
  const out: Record<string, number | string> = {}
  const {MarketIndexer} = await import('../src/market/indexer.js')
  const {EventRing} = await import('../src/dashboard/events.js')
  const {LiveMarket} = await import('../src/dashboard/session.js')
  const {buildSnapshot} = await import('../src/dashboard/snapshot.js')
  const {auctionModel} = await import('../src/dashboard/auction.js')
  const {pulseView, specsWanted} = await import('../src/dashboard/pulse.js')
  const {walletView} = await import('../src/dashboard/wallet-view.js')
  const {SpecBook} = await import('../src/dashboard/specs.js')
  const {readWalletChain} = await import('../src/dashboard/wallet.js')

  let peak = process.memoryUsage().rss
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20)
  const baseline = process.memoryUsage().rss
  const provider = new JsonRpcProvider(args.rpcUrl, 31_337, {staticNetwork: Network.from(31_337), cacheTimeout: -1, batchMaxCount: 1})
  const head = await provider.getBlockNumber()

  // 1. Catch-up from the deployment block.
  const indexer = new MarketIndexer({provider, market: args.market, fromBlock: args.deployBlock})
  const events = new EventRing(200)
  indexer.onEvent(events.push)
  let started = performance.now()
  const sync = await indexer.sync()
  out.catchUpMs = performance.now() - started
  peak = Math.max(peak, process.memoryUsage().rss)
  out.catchUpPeakRssMb = peak / 2 ** 20
  out.baselineRssMb = baseline / 2 ** 20
  out.blocks = head - args.deployBlock + 1
  out.events = sync.events
  out.tasks = indexer.state.tasks.size
  out.bids = [...indexer.state.tasks.values()].reduce((s, t) => s + t.bids.length, 0)
  out.assigned = [...indexer.state.tasks.values()].filter((t) => t.status === 'assigned').length

  // 2. The CLI's snapshot: first start (catch-up + save), next start (load + sync of nothing new).
  const snapshotPath = join(args.dir, 'index.json')
  started = performance.now()
  await new LiveMarket({provider, market: args.market, fromBlock: args.deployBlock, snapshotPath}).sync()
  out.firstStartMs = performance.now() - started
  out.snapshotMb = statSync(snapshotPath).size / 2 ** 20
  started = performance.now()
  const resumed = new LiveMarket({provider, market: args.market, fromBlock: args.deployBlock, snapshotPath})
  await resumed.sync()
  out.nextStartMs = performance.now() - started
  peak = Math.max(peak, process.memoryUsage().rss)

  // 3. The dashboard model.
  const specs = new SpecBook()
  specs.request(specsWanted(indexer.state, [...indexer.state.tasks.keys()].slice(-40)))
  await specs.settled(10_000)
  const contracts = {
    provider,
    token: tokenAt(args.token, provider),
    registry: registryAt(args.registry, provider),
  }
  const walletChain = await readWalletChain(contracts, args.wallet)
  const now = Math.floor(Date.now() / 1000)
  const sources = {
    network: {name: 'bench', chainId: 31_337, rpcUrl: args.rpcUrl},
    market: indexer.state,
    head,
    now,
    connection: {status: 'live' as const, attempt: 0},
    specs,
    events: events.recent(),
    wallet: {name: 'provider', address: args.wallet, chain: walletChain, chainError: null, status: null},
    stakes: new Map<string, bigint>(),
    streams: {kind: 'absent' as const, message: 'no stream market on this network yet'},
  }
  const time = (fn: () => unknown, runs = 30) => {
    const xs: number[] = []
    for (let i = 0; i < runs; i++) {
      const s = performance.now()
      fn()
      xs.push(performance.now() - s)
    }
    xs.sort((a, b) => a - b)
    return {median: xs[Math.floor(xs.length / 2)]!, p95: xs[Math.floor(xs.length * 0.95)]!}
  }
  const full = time(() => buildSnapshot(sources, {limit: 20}))
  out.snapshotMedianMs = full.median
  out.snapshotP95Ms = full.p95
  out.auctionMedianMs = time(() => auctionModel(sources, {filter: 'active', offset: 0, limit: 10, selectedId: null})).median
  out.pulseMedianMs = time(() => pulseView(sources)).median
  out.walletMedianMs = time(() => walletView(sources)).median
  const json = JSON.stringify(buildSnapshot(sources, {limit: Infinity}))
  out.jsonSnapshotMb = json.length / 2 ** 20

  // 4. The Ink app at 80×24 over this market: key press → frame.
  const React = await import('react')
  const {render} = await import('ink')
  const {App} = await import('../src/tui/app.js')
  const {ScreenStream} = await import('../src/tui/screen.js')
  const {EventEmitter} = await import('node:events')
  const ports = {
    network: sources.network,
    market: {state: indexer.state, sync: async () => undefined},
    events,
    specs,
    wallet: {name: 'provider', address: args.wallet},
    streams: {initial: sources.streams},
    refreshMs: 60_000,
    readChainClock: async () => ({block: head, time: now}),
    readWallet: async () => walletChain,
    readStakes: async (addresses: readonly string[]) => new Map(addresses.map((a) => [a, oGPU(1000)])),
    fetchStatus: async () => ({reachable: false as const, error: 'bench'}),
  }
  class Stdin extends EventEmitter {
    isTTY = true
    data: string | null = null
    write(data: string) {
      this.data = data
      this.emit('readable')
    }
    read = () => {
      const d = this.data
      this.data = null
      return d
    }
    setEncoding() {}
    setRawMode() {}
    resume() {}
    pause() {}
    ref() {}
    unref() {}
  }
  // a) debug mode: every render writes its frame at once, so key → frame is measurable.
  let onFrame: (() => void) | undefined
  const stdout = Object.assign(new EventEmitter(), {columns: 80, rows: 24, write: (s: string) => (onFrame?.(), s.length > 0)})
  const stdin = new Stdin()
  const models: number[] = []
  const instance = render(React.createElement(App, {ports: ports as never, size: {columns: 80, rows: 24}, colors: false, onModel: (ms: number) => models.push(ms)}), {
    stdout: stdout as never,
    stdin: stdin as never,
    debug: true,
    patchConsole: false,
    exitOnCtrlC: false,
  })
  await new Promise((r) => setTimeout(r, 1500)) // first frames, wallet and specs settle
  const frameTimes: number[] = []
  for (let i = 0; i < args.frames; i++) {
    const frame = new Promise<void>((resolve) => (onFrame = resolve))
    const s = performance.now()
    stdin.write(i % 40 < 20 ? 'j' : 'k')
    await frame
    frameTimes.push(performance.now() - s)
    onFrame = undefined
    await new Promise((r) => setImmediate(r))
  }
  instance.unmount()
  frameTimes.sort((a, b) => a - b)
  out.framesMeasured = frameTimes.length
  out.frameMedianMs = frameTimes[Math.floor(frameTimes.length / 2)]!
  out.frameP95Ms = frameTimes[Math.floor(frameTimes.length * 0.95)]!
  const sortedModels = [...models].sort((a, b) => a - b)
  out.frameModelMedianMs = sortedModels[Math.floor(sortedModels.length / 2)] ?? 0

  // b) as in the terminal: throttled frames through the screen stream; bytes sent per key press vs a full frame.
  let bytes = 0
  let writes = 0
  const target = Object.assign(new EventEmitter(), {columns: 80, rows: 24, isTTY: true, write: (s: string) => ((bytes += Buffer.byteLength(s)), writes++, true)})
  const screen = new ScreenStream(target)
  const stdin2 = new Stdin()
  const tty = render(React.createElement(App, {ports: ports as never, colors: true}), {stdout: screen as never, stdin: stdin2 as never, patchConsole: false, exitOnCtrlC: false, maxFps: 10})
  await new Promise((r) => setTimeout(r, 1500))
  const fullFrame = bytes
  bytes = 0
  writes = 0
  const presses = 20
  for (let i = 0; i < presses; i++) {
    stdin2.write('j')
    await new Promise((r) => setTimeout(r, 150)) // one throttled frame per press (maxFps 10)
  }
  tty.unmount()
  screen.dispose()
  out.firstPaintBytes = fullFrame
  out.bytesPerKeyFrame = bytes / Math.max(1, writes)
  clearInterval(sampler)
  out.peakRssMb = peak / 2 ** 20
  provider.destroy()
  return out
}

// ------------------------------------------------------------------ main

const fmt = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`)

if (values.child) {
  const result = await measure(JSON.parse(values.child) as ChildArgs)
  process.stdout.write(`${JSON.stringify(result)}\n`)
  process.exit(0)
} else {
  const started = performance.now()
  const {anvil, args, times} = await setup()
  const setupMs = performance.now() - started
  try {
    const here = fileURLToPath(import.meta.url)
    const tsx = join(here, '..', '..', 'node_modules', 'tsx', 'dist', 'cli.mjs')
    const env = {...process.env}
    delete env.CI // ink draws nothing under CI
    const child = spawnSync(process.execPath, [tsx, here, '--child', JSON.stringify(args)], {encoding: 'utf8', env, maxBuffer: 1 << 24})
    if (child.status !== 0) throw new Error(`measurement failed:\n${child.stderr}`)
    const m = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Measured
    const txs = times.reduce((s, [, n]) => s + n, 0)
    const rows: Array<[string, string, string]> = [
      ...times.map(([label, n, ms]): [string, string, string] => [`setup: ${label}`, `${n} tx in ${fmt(ms)}`, `${Math.round((n / ms) * 1000)} tx/s`]),
      ['setup: total', `${txs} tx, ${m.blocks} blocks in ${fmt(setupMs)}`, ''],
      ['market', `${m.tasks} tasks, ${m.bids} bids, ${m.assigned} assigned`, `${m.events} events`],
      ['indexer catch-up from the deployment block', fmt(m.catchUpMs), `target ≤ 30 s: ${m.catchUpMs <= 30_000 ? 'met' : 'NOT met'}`],
      ['  peak RSS during catch-up', `${m.catchUpPeakRssMb.toFixed(0)} MB (process baseline ${m.baselineRssMb.toFixed(0)} MB)`, `target ≤ 400 MB: ${m.catchUpPeakRssMb <= 400 ? 'met' : 'NOT met'}`],
      ['ogpu tui first start: catch-up + save snapshot', fmt(m.firstStartMs), `snapshot ${m.snapshotMb.toFixed(1)} MB`],
      ['ogpu tui next start: load snapshot + sync', fmt(m.nextStartMs), ''],
      ['dashboard model: whole snapshot (--once)', `median ${fmt(m.snapshotMedianMs)}`, `p95 ${fmt(m.snapshotP95Ms)}`],
      ['  auction book (10 rows of all tasks)', `median ${fmt(m.auctionMedianMs)}`, ''],
      ['  market pulse / wallet', `median ${fmt(m.pulseMedianMs)} / ${fmt(m.walletMedianMs)}`, ''],
      ['  --json snapshot (every active row)', `${m.jsonSnapshotMb.toFixed(1)} MB`, ''],
      ['Ink app 80×24: key press → frame', `median ${fmt(m.frameMedianMs)}`, `p95 ${fmt(m.frameP95Ms)} (${m.framesMeasured} frames)`],
      ['  of which the model (memoized pieces)', `median ${fmt(m.frameModelMedianMs)}`, ''],
      ['  bytes to the terminal per key frame', `${Math.round(m.bytesPerKeyFrame)} B`, `first paint ${m.firstPaintBytes} B`],
      ['peak RSS of the measuring process', `${m.peakRssMb.toFixed(0)} MB`, ''],
    ]
    const w0 = Math.max(...rows.map((r) => r[0].length))
    const w1 = Math.max(...rows.map((r) => r[1].length))
    console.log(`${'what'.padEnd(w0)}  ${'result'.padEnd(w1)}  note`)
    for (const [a, b, c] of rows) console.log(`${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`)
  } finally {
    if (values.keep) {
      console.log(`\nanvil left running (pid ${anvil.pid}); measure again with:\nnpx tsx bench/tui-scale.bench.ts --child '${JSON.stringify(args)}'`)
      anvil.unref()
    } else {
      anvil.kill('SIGTERM')
      rmSync(args.dir, {recursive: true, force: true})
    }
  }
}
