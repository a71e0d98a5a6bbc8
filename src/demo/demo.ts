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
import {formatAmount} from '../chain/units.js'
import type {OgpuPaths} from '../config/paths.js'
import {startDevnet} from '../devnet/devnet.js'
import {BugError, CancelledError, UserError} from '../errors/index.js'
import {ModelStore} from '../gpu/model-store.js'
import {ensureSyntheticModel} from '../gpu/synthetic.js'
import {publishSpec, submitTask} from '../market/task-client.js'
import {loadTaskSpec} from '../protocol/task-spec.js'
import {describeHost, registerProvider} from '../provider/registration.js'
import {depositStake} from '../staking/stake.js'
import {createFromSpec} from '../stream/actions.js'
import {subscribersOf} from '../stream/chain.js'
import {loadStreamSpec} from '../stream/spec.js'
import {WalletStore} from '../wallet/wallet-store.js'
import {streamReport, waitForBatch, waitUntil} from './follow.js'
import {demoEnv, demoPaths, type DemoInfo} from './info.js'
import {type DemoProcess, type DemoState, firstJson, removeState, spawnLogged, waitForProcess, writeState} from './processes.js'
import {freePort, freePortNear} from './ports.js'
import type {BatchReport} from './report.js'
import {DEMO_PROMPTS, type DemoResponse, sendDemoRequests, type StreamReport} from './stream.js'
import {assertNotRunning, stopAll} from './stop.js'

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
