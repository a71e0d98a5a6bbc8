/**
 * `npm run demo`: the whole network on one machine. A devnet (anvil, contracts), the synthetic demo model, three
 * provider daemons (the real `ogpu provider start`, dev2..dev4, registered and staked), a batch task submitted by the
 * client dev1 (examples/summarize.yaml), a stream (examples/stream.yaml) the daemons subscribe to, the client gateway
 * (the real `ogpu client gateway`) and a few chat requests through it; the caller then watches it in the TUI, waits
 * for it headless (`--ci`), or leaves it running in the background (`--detach`).
 *
 * Everything lives in the demo's directory: its own ogpu home (home/config, home/data: the user's wallets and
 * networks are never touched), the logs, and demo.json, which records every process as soon as it exists so that
 * `stopDemo` (`npm run demo -- --stop`) can stop whatever is left, from any process.
 */
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'

import {parseUnits, Wallet} from 'ethers'

import {openChain, type ChainContext} from '../chain/context.js'
import {amountJson, formatAmount} from '../chain/units.js'
import type {OgpuPaths} from '../config/paths.js'
import {readDevnetRecord, startDevnet} from '../devnet/devnet.js'
import {BugError, CancelledError, ExternalError, UserError} from '../errors/index.js'
import {ModelStore} from '../gpu/model-store.js'
import {ensureSyntheticModel} from '../gpu/synthetic.js'
import {MarketIndexer} from '../market/indexer.js'
import {publishSpec, submitTask} from '../market/task-client.js'
import {TASK_STATUS} from '../market/types.js'
import {loadTaskSpec} from '../protocol/task-spec.js'
import {describeHost, registerProvider} from '../provider/registration.js'
import {depositStake} from '../staking/stake.js'
import {createFromSpec} from '../stream/actions.js'
import {getStream, subscribersOf} from '../stream/chain.js'
import {loadStreamSpec} from '../stream/spec.js'
import {WalletStore} from '../wallet/wallet-store.js'
import {
  aliveProcesses,
  type DemoProcess,
  type DemoState,
  firstJson,
  readState,
  removeState,
  spawnLogged,
  stopDemoProcess,
  waitForProcess,
  writeState,
} from './processes.js'
import {freePort, freePortNear} from './ports.js'
import {type BatchReport, batchReport} from './report.js'
import {DEMO_PROMPTS, type DemoResponse, type ProviderStreamFigures, providerStreamFigures, sendDemoRequests, type StreamReport} from './stream.js'

/** The client's wallet and the providers' wallets (devnet dev accounts). */
export const DEMO_CLIENT = 'dev1'
export const DEMO_PROVIDERS = ['dev2', 'dev3', 'dev4'] as const
/**
 * The lowest stream price the demo's providers accept, oGPU per 1k tokens: below the example stream's 0.02, so that
 * all three subscribe whatever their benchmark says (the floor they would derive from it is about 0.02 on a CPU).
 */
export const DEMO_MIN_STREAM_PRICE = '0.001'
/** What each provider stakes. */
export const DEMO_STAKE = parseUnits('1000', 18)
/** The batch task the demo submits (relative to the repository). */
export const DEMO_BATCH_SPEC = 'examples/summarize.yaml'
/** The stream the demo opens (relative to the repository). */
export const DEMO_STREAM_SPEC = 'examples/stream.yaml'

export interface DemoOptions {
  /** The demo's directory (its ogpu home, logs, demo.json). */
  dir: string
  /** The ogpu checkout: bin/run.js and examples/ are read from it. */
  root: string
  /** ogpu's version (recorded in the providers' info documents). */
  version: string
  /** The devnet's port; 0 picks a free one. Defaults to 8545 when it is free, else a free one. */
  port?: number
  /** Seconds between devnet blocks (0: one block per transaction). Defaults to 1. */
  blockTime?: number
  /** Whether the demo is left running in the background (recorded in demo.json). Defaults to false. */
  detached?: boolean
  /** The gateway's port; 0 picks a free one. Defaults to 0. */
  gatewayPort?: number
  /** Threads each provider daemon uses for inference. Defaults to 1. */
  threads?: number
  /** One line per step. Defaults to silence. */
  onStep?: (message: string) => void
  /**
   * Called once the providers serve, before the batch task and the stream are submitted (the TUI opens there, so
   * that the auction is seen live), with the environment of a CLI process on the demo. Defaults to nothing.
   */
  onReady?: (env: NodeJS.ProcessEnv) => void
  /** Aborts the start; what was started is stopped. */
  signal?: AbortSignal
}

export interface DemoWallet {
  name: string
  address: string
  role: 'client' | 'provider'
  /** Providers: the URL their daemon serves at. */
  url?: string
}

/** What the demo is made of (the JSON of `--detach --json`). */
export interface DemoInfo {
  rpcUrl: string
  chainId: number
  contracts: Record<string, string>
  /** The batch task's id. */
  taskId: number
  /** The stream's id (a decimal string). */
  streamId: string
  /** The client gateway: an OpenAI-compatible endpoint (POST /v1/chat/completions) for the stream. */
  gatewayUrl: string
  wallets: DemoWallet[]
  /** The demo's ogpu home: set these to use the CLI against the demo (`ogpu task show ID`). */
  env: {OGPU_CONFIG_DIR: string; OGPU_DATA_DIR: string}
  configDir: string
  dataDir: string
  /** The demo's directory (demo.json, logs). */
  dir: string
  /** Log file of each process, by name. */
  logs: Record<string, string>
  pids: Record<string, number>
  model: {name: string; sha256: string; path: string}
}

export interface DemoNetwork {
  info: DemoInfo
  paths: OgpuPaths
  /** The environment of a CLI process run against the demo. */
  env: NodeJS.ProcessEnv
  /** Waits until the batch task ends (finalized, failed, expired, cancelled) and reports it. */
  waitForBatch(options?: {timeoutMs?: number; signal?: AbortSignal}): Promise<BatchReport>
  /** The demo's requests through the gateway (sent during the start). */
  responses: DemoResponse[]
  /** Waits until the providers have recorded the client's vouchers for the demo's responses and reports the stream. */
  streamReport(options?: {timeoutMs?: number; signal?: AbortSignal}): Promise<StreamReport>
  /** Stops every process of the demo and removes demo.json. */
  stop(): Promise<DemoProcess[]>
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The paths of the demo's own ogpu home. */
export function demoPaths(dir: string): OgpuPaths {
  return {configDir: join(dir, 'home', 'config'), dataDir: join(dir, 'home', 'data')}
}

/** The environment of a process run against the demo: its home, and none of the user's ogpu overrides. */
export function demoEnv(dir: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const paths = demoPaths(dir)
  const env: NodeJS.ProcessEnv = {...base, OGPU_CONFIG_DIR: paths.configDir, OGPU_DATA_DIR: paths.dataDir}
  for (const key of ['OGPU_WALLET', 'OGPU_NETWORK', 'OGPU_RPC', 'OGPU_PASSWORD']) delete env[key]
  return env
}

/** Refuses to start over a demo that still runs. */
function assertNotRunning(dir: string): void {
  const running = aliveProcesses(readState(dir))
  if (running.length > 0)
    throw new UserError(`A demo is already running from ${dir} (${running.map((p) => `${p.name}: pid ${p.pid}`).join(', ')}).`, {
      code: 'DEMO_RUNNING',
      hint: 'Stop it with `npm run demo -- --stop`, or use another directory with --dir.',
    })
}

/**
 * Starts the demo network. On failure (or abort) everything it started is stopped before the error is thrown.
 */
export async function startDemo(options: DemoOptions): Promise<DemoNetwork> {
  const step = options.onStep ?? (() => {})
  const {dir, root, signal} = options
  const bin = join(root, 'bin', 'run.js')
  if (!existsSync(bin)) throw new UserError(`${bin} is missing: ${root} is not an ogpu checkout.`, {code: 'DEMO_NO_CHECKOUT'})
  assertNotRunning(dir)

  // A fresh home and fresh logs each time; the model cache is kept.
  const paths = demoPaths(dir)
  const logs = join(dir, 'logs')
  rmSync(join(dir, 'home'), {recursive: true, force: true})
  rmSync(logs, {recursive: true, force: true})
  mkdirSync(logs, {recursive: true})
  const env = demoEnv(dir)
  const state: DemoState = {pid: process.pid, detached: options.detached ?? false, startedAt: new Date().toISOString(), processes: []}
  writeState(dir, state)
  const record = (p: DemoProcess) => {
    state.processes.push(p)
    writeState(dir, state)
    return p
  }
  const stop = async () => {
    const stopped = await stopAll(state.processes)
    removeState(dir)
    return stopped
  }

  let chain: ChainContext | undefined
  try {
    // 1. The devnet.
    const port = options.port === 0 ? await freePort() : (options.port ?? (await freePortNear(8545)))
    const devnet = await startDevnet({paths, port, blockTime: options.blockTime ?? 1, detach: true, onStep: (m) => step(`devnet: ${m}`)})
    record({name: 'devnet', pid: devnet.info.pid, group: true, log: devnet.info.logFile})
    signal?.throwIfAborted()
    const wallets = new WalletStore(paths)
    wallets.use(DEMO_CLIENT)

    // 2. The demo model, in the providers' model store.
    step('Writing the synthetic demo model (tiny llama, seeded weights)')
    const modelPath = ensureSyntheticModel(join(dir, 'models'), 'tiny')
    const sha256 = createHash('sha256').update(readFileSync(modelPath)).digest('hex')
    const loaded = loadTaskSpec(join(root, DEMO_BATCH_SPEC))
    const wanted = loaded.spec.model.sha256.toLowerCase().replace(/^(sha256:|0x)/, '')
    if (wanted !== sha256)
      throw new BugError(`${DEMO_BATCH_SPEC} names model ${wanted}, but the synthetic demo model is ${sha256}: update the example's model.sha256.`, {code: 'DEMO_MODEL_MISMATCH'})
    const modelName = loaded.spec.model.name
    await new ModelStore({dataDir: paths.dataDir}).add({source: modelPath, name: modelName, sha256})

    // 3. Three providers: registered (the daemon sets its real URL) and staked.
    chain = await openChain({paths})
    const open = async (name: string) => (await wallets.unlock(name)).connect(chain!.provider) as Wallet
    const info = describeHost(options.version)
    step(`Registering and staking ${formatAmount(DEMO_STAKE)} oGPU for ${DEMO_PROVIDERS.join(', ')}`)
    await Promise.all(
      DEMO_PROVIDERS.map(async (name) => {
        const signer = await open(name)
        await registerProvider(chain!, signer, {endpoint: 'http://127.0.0.1:9', info})
        await depositStake(chain!, signer, DEMO_STAKE)
      }),
    )
    signal?.throwIfAborted()

    // 4. Their daemons.
    step(`Starting ${DEMO_PROVIDERS.length} provider daemons (logs in ${logs})`)
    const daemons = DEMO_PROVIDERS.map((name) =>
      record(
        spawnLogged({
          name: `provider ${name}`,
          command: process.execPath,
          args: [bin, 'provider', 'start', '--wallet', name, '--port', '0', '--threads', String(options.threads ?? 1), '--log-format', 'json', '--json', '--min-stream-price-per-1k', DEMO_MIN_STREAM_PRICE],
          env,
          cwd: root,
          stdoutFile: join(logs, `provider-${name}.json`),
          stderrFile: join(logs, `provider-${name}.log`),
        }),
      ),
    )
    const served = await Promise.all(
      daemons.map((p, i) =>
        waitForProcess(p, 'serving', () => firstJson<{address: string; url: string}>(join(logs, `provider-${DEMO_PROVIDERS[i]}.json`)), {timeoutMs: 180_000, signal}),
      ),
    )
    // The daemons update their registration to the URL they serve at: wait for it, so bids reach a live endpoint.
    await waitUntil(
      async () => {
        const endpoints = await Promise.all(served.map(async (s) => (await chain!.registry.providerOf(s.address)).endpoint))
        return endpoints.every((e, i) => e === served[i]!.url) || undefined
      },
      'the providers to register their URLs',
      60_000,
      signal,
    )
    for (const [i, s] of served.entries()) step(`provider ${DEMO_PROVIDERS[i]} serving at ${s.url}`)

    options.onReady?.(env)
    signal?.throwIfAborted()

    // 5. The batch task.
    step(`Submitting the batch task ${DEMO_BATCH_SPEC} as ${DEMO_CLIENT}`)
    const client = await open(DEMO_CLIENT)
    const published = await publishSpec(loaded, {specsDir: join(paths.dataDir, 'specs')})
    const submitted = await submitTask(chain, client, loaded.spec, published)
    step(`Task ${submitted.taskId}: ${submitted.itemCount} items, ${submitted.escrow} oGPU escrowed`)

    // 6. The stream: the daemons subscribe by themselves (they hold the model and the price is above their floor).
    const streamSpec = loadStreamSpec(join(root, DEMO_STREAM_SPEC))
    if (streamSpec.spec.model.sha256 !== sha256)
      throw new BugError(`${DEMO_STREAM_SPEC} names model ${streamSpec.spec.model.sha256 ?? streamSpec.spec.model.path}, but the synthetic demo model is ${sha256}: update the example's model.sha256.`, {code: 'DEMO_MODEL_MISMATCH'})
    step(`Opening the stream ${DEMO_STREAM_SPEC} as ${DEMO_CLIENT}`)
    const created = await createFromSpec(chain, client, streamSpec, {specsDir: join(paths.dataDir, 'specs')})
    const streamId = created.streamId.toString()
    await waitUntil(
      async () => ((await subscribersOf(chain!, created.streamId)).length >= DEMO_PROVIDERS.length ? true : undefined),
      `the ${DEMO_PROVIDERS.length} providers to subscribe to stream ${streamId} (see the provider logs in ${logs})`,
      90_000,
      signal,
    )
    step(`Stream ${streamId}: ${DEMO_PROVIDERS.length} subscribers`)

    // 7. The client gateway, and a few requests through it.
    const gateway = record(
      spawnLogged({
        name: 'gateway',
        command: process.execPath,
        args: [bin, 'client', 'gateway', '--stream', streamId, '--wallet', DEMO_CLIENT, '--port', String(options.gatewayPort ?? 0), '--json'],
        env,
        cwd: root,
        stdoutFile: join(logs, 'gateway.json'),
        stderrFile: join(logs, 'gateway.log'),
      }),
    )
    // Generous limits: on a loaded machine a process's start (oclif, ethers, the chain reads) can take a while.
    const {url: gatewayUrl} = await waitForProcess(gateway, 'serving', () => firstJson<{url: string}>(join(logs, 'gateway.json')), {timeoutMs: 180_000, signal})
    step(`Gateway serving at ${gatewayUrl}; sending ${DEMO_PROMPTS.length} chat requests`)
    const responses = await sendDemoRequests(gatewayUrl, streamId, {timeoutMs: 90_000, signal})
    for (const r of responses) step(`"${r.prompt}" → ${JSON.stringify(r.text.slice(0, 50))} (${r.completionTokens} tokens)`)

    const network = chain.network
    const walletList = wallets.list()
    const address = (name: string) => walletList.find((w) => w.name === name)!.address
    const demoInfo: DemoInfo = {
      rpcUrl: chain.rpcUrl,
      chainId: network.chainId,
      contracts: {...network.contracts} as Record<string, string>,
      taskId: submitted.taskId,
      streamId,
      gatewayUrl,
      wallets: [
        {name: DEMO_CLIENT, address: address(DEMO_CLIENT), role: 'client'},
        ...DEMO_PROVIDERS.map((name, i) => ({name, address: served[i]!.address, role: 'provider' as const, url: served[i]!.url})),
      ],
      env: {OGPU_CONFIG_DIR: paths.configDir, OGPU_DATA_DIR: paths.dataDir},
      configDir: paths.configDir,
      dataDir: paths.dataDir,
      dir,
      logs: Object.fromEntries(state.processes.map((p) => [p.name, p.log])),
      pids: Object.fromEntries(state.processes.map((p) => [p.name, p.pid])),
      model: {name: modelName, sha256, path: modelPath},
    }
    state.info = demoInfo
    writeState(dir, state)
    chain.dispose()
    chain = undefined

    return {
      info: demoInfo,
      paths,
      env,
      waitForBatch: (waitOptions = {}) => waitForBatch(paths, demoInfo, waitOptions),
      responses,
      streamReport: (waitOptions = {}) => streamReport(paths, demoInfo, responses, waitOptions),
      stop,
    }
  } catch (error) {
    chain?.dispose()
    await stop()
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new CancelledError('Demo cancelled; everything it started is stopped.')
    throw error
  }
}

async function waitUntil<T>(check: () => Promise<T | undefined>, what: string, timeoutMs: number, signal?: AbortSignal): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    signal?.throwIfAborted()
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new ExternalError(`Timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}.`, {code: 'DEMO_TIMEOUT'})
    await sleep(250)
  }
}

/** Follows the batch task on chain until it ends, then reads its whole story from the events. */
async function waitForBatch(paths: OgpuPaths, info: DemoInfo, options: {timeoutMs?: number; signal?: AbortSignal}): Promise<BatchReport> {
  const chain = await openChain({paths})
  try {
    await waitUntil(
      async () => {
        const task = await chain.market.getTask(info.taskId)
        const status = TASK_STATUS[Number(task.status)]!
        return ['finalized', 'failed', 'expired', 'cancelled'].includes(status) ? status : undefined
      },
      `batch task ${info.taskId} to end (see the provider logs in ${join(info.dir, 'logs')})`,
      options.timeoutMs ?? 600_000,
      options.signal,
    )
    const indexer = new MarketIndexer({provider: chain.provider, market: chain.network.contracts.taskMarket, fromBlock: chain.network.deployBlock})
    await indexer.sync()
    const task = indexer.task(info.taskId)
    if (!task) throw new BugError(`Task ${info.taskId} ended on chain but the indexer has no events for it.`)
    return batchReport(task, info.wallets)
  } finally {
    chain.dispose()
  }
}

/**
 * The stream's report: subscribers from the chain, figures from each provider's status endpoint, once every response
 * of the demo is paid by a voucher (the gateway sends them after each response; the providers store them).
 */
async function streamReport(paths: OgpuPaths, info: DemoInfo, responses: DemoResponse[], options: {timeoutMs?: number; signal?: AbortSignal}): Promise<StreamReport> {
  const chain = await openChain({paths})
  try {
    const stream = await getStream(chain, BigInt(info.streamId))
    const subscribers = await subscribersOf(chain, BigInt(info.streamId))
    const party = (address: string) => ({address, wallet: info.wallets.find((w) => w.address.toLowerCase() === address.toLowerCase())?.name ?? null})
    const providers = info.wallets.filter((w) => w.role === 'provider' && w.url).map((w) => ({address: w.address, wallet: w.name, url: w.url!}))
    const figures = await waitUntil(
      async () => {
        const read = (await Promise.all(providers.map((p) => providerStreamFigures(p, info.streamId, options.signal)))).filter((f): f is ProviderStreamFigures => f !== null)
        const generated = read.reduce((n, f) => n + f.requests, 0)
        const unpaid = read.some((f) => BigInt(f.charged.wei) > 0n && (f.voucher === null || BigInt(f.voucher.wei) < BigInt(f.charged.wei)))
        return generated >= responses.length && !unpaid ? read : undefined
      },
      `the providers to record the vouchers of stream ${info.streamId}`,
      options.timeoutMs ?? 60_000,
      options.signal,
    )
    const vouchers = figures.reduce((sum, f) => sum + BigInt(f.voucher?.wei ?? '0'), 0n)
    return {
      streamId: info.streamId,
      councilSize: stream.councilSize,
      responseMethod: stream.responseMethod,
      subscribers: subscribers.map(party),
      responses,
      tokens: responses.reduce((n, r) => n + r.completionTokens, 0),
      providers: figures,
      vouchers: amountJson(vouchers),
    }
  } finally {
    chain.dispose()
  }
}

/** Stops processes, newest first (the devnet last), each group until it is gone. */
async function stopAll(processes: readonly DemoProcess[]): Promise<DemoProcess[]> {
  const alive = aliveProcesses({pid: 0, detached: false, startedAt: '', processes: [...processes]})
  const devnet = alive.filter((p) => p.name === 'devnet')
  const others = alive.filter((p) => p.name !== 'devnet').reverse()
  await Promise.all(others.map((p) => stopDemoProcess(p)))
  for (const p of devnet) await stopDemoProcess(p)
  return alive
}

/**
 * Stops the demo recorded in `dir` (detached, or left behind by a crash): every process it started. Returns what was
 * running (nothing when no demo runs).
 */
export async function stopDemo(dir: string): Promise<{stopped: DemoProcess[]; dir: string}> {
  const state = readState(dir)
  const stopped = await stopAll(state?.processes ?? [])
  removeState(dir)
  const paths = demoPaths(dir)
  const devnet = readDevnetRecord(paths)
  if (devnet) rmSync(join(paths.dataDir, 'devnet', 'devnet.json'), {force: true})
  return {stopped, dir}
}
