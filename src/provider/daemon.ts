/**
 * The provider daemon (`ogpu provider start`): bids on batch tasks it can run, executes the ones it wins, commits
 * each checkpoint's result root, serves the items, and sits on councils — all driven by the market indexer.
 *
 * Level-triggered: every tick (≈200 ms on the devnet) syncs the indexer and looks at every task against the chain
 * state and the durable state (./state.ts), and starts what is due. A restarted daemon therefore picks up every task
 * where the chain and its journal say it is: it never bids twice (the bid intent is journaled before the
 * transaction), it resumes execution from the results it kept, and it reveals the votes whose salts it kept.
 */
import {randomBytes} from 'node:crypto'
import {rmSync} from 'node:fs'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'

import {hexlify, type ContractTransactionResponse, type TransactionReceipt, type Wallet} from 'ethers'

import type {TaskMarket} from '../chain/contracts/task-market.js'

import {readStake} from '../chain/account.js'
import {type ChainContext, openChain, withSigner} from '../chain/context.js'
import {errorText, revertOf} from '../chain/errors.js'
import {sendTx} from '../chain/tx.js'
import {formatAmount} from '../chain/units.js'
import type {OgpuPaths} from '../config/paths.js'
import {UserError} from '../errors/index.js'
import {type BenchmarkResult, type GpuChoice, InferenceEngine, loadBenchmark, ModelStore, runBenchmark, saveBenchmark} from '../gpu/index.js'
import {resolveBackend} from '../gpu/llama.js'
import {MarketIndexer} from '../market/indexer.js'
import {type IndexedTask, isEnded} from '../market/types.js'
import {canonicalHash} from '../protocol/canonical.js'
import {ogpuDomain} from '../protocol/eip712.js'
import type {MerkleTree} from '../protocol/merkle.js'
import {checkpointOfItem, type ItemResult, resultTree, segmentOf} from '../protocol/results.js'
import {daemonFilePath, readDaemonFile} from './daemon-file.js'
import {writeFileDurable} from '../storage/index.js'
import {checkItems, type FetchOutcome, fetchServedItems, indicesToCheck, memberSeed} from './council-check.js'
import {assessTask} from './evaluate.js'
import type {ItemSource, ServedItem} from './items-api.js'
import {createLogger, type LogFormat, type Logger} from './log.js'
import {buildPrompt, runItem, tamperResult} from './prompt.js'
import {describeHost, registerProvider} from './registration.js'
import {startProviderServer, type ProviderServer} from './server.js'
import {openProviderStore, providerDir, type ProviderStore, type TaskRecord} from './state.js'
import {createStrategy, preloadStrategy, type Strategy, type StrategyTask} from './strategy.js'
import {MaterialsCache} from './task-materials.js'
import type {StreamLimits} from './stream/auth.js'
import {localBackend, type StreamBackend} from './stream/backend.js'
import {StreamService, type StreamMode} from './stream/service.js'
import {generationSpeed} from './evaluate.js'
import {streamPriceFloor} from './strategy.js'

/** Test-only behaviours (never exposed as CLI flags). */
export interface ProviderTestHooks {
  /** The executor commits and serves altered outputs (other token ids, consistent text and roots). */
  tamperOutputs?: boolean
  /** The items API answers 503: an executor that stopped serving. */
  refuseItems?: boolean
  /** Council: commit verdicts but never reveal them (to kill the daemon between commit and reveal). */
  holdReveals?: boolean
  /** Executor: wait this long before each item (to kill it mid-task). */
  itemDelayMs?: number
  /** Streams: substitute the first generated token of every signed response (and sign it): a cheating provider. */
  tamperStream?: boolean
}

export interface ProviderDaemonOptions {
  paths: OgpuPaths
  /** The provider's unlocked wallet. */
  wallet: Wallet
  /** Its name, for hints. Defaults to none. */
  walletName?: string
  /** Network name. Defaults to the active network. */
  network?: string
  /** RPC URL overriding the network file's. */
  rpc?: string
  /** Models to serve: names, sha256s or .gguf paths. Defaults to every model in the store. */
  models?: string[]
  /** cost-plus (default), undercut, script:PATH or module:PATH. */
  strategy?: string
  /** Undercut step in base units. Defaults to 1 % of the best bid. */
  undercutStep?: bigint
  /** Minimum price per 1000 output tokens, base units. Defaults to 0.1 oGPU. */
  minPricePer1k?: bigint
  /** Cost of one GPU-second, base units. Defaults to 0.01 oGPU. */
  gpuSecondPrice?: bigint
  /** cost-plus margin. Defaults to 0.2. */
  margin?: number
  /** Interface of the HTTP server. Defaults to 127.0.0.1. */
  host?: string
  /** Port of the HTTP server (0: any free port). Defaults to 7070. */
  port?: number
  /** The URL clients and councils reach this provider at. Defaults to http://127.0.0.1:PORT. */
  publicUrl?: string
  /** Tasks executed (or being won) at once. Defaults to 2. */
  maxConcurrentTasks?: number
  gpu?: GpuChoice
  threads?: number
  /** Sequences per engine (requests served at once). Defaults to 4. */
  sequences?: number
  /** Context per sequence, in tokens. Defaults to the engine's default. */
  contextSize?: number
  /** Milliseconds between chain polls. Defaults to 200 on a devnet, 2000 elsewhere. */
  pollMs?: number
  logFormat?: LogFormat
  /** Where log lines go. Defaults to a logger on stdout in `logFormat`. */
  logger?: Logger
  /** ogpu version (for the host info document). */
  version?: string
  /** How long a stop waits for running work before cancelling it. Defaults to 15000 ms. */
  shutdownGraceMs?: number
  /** Streams to subscribe to: auto (those worth it), none, or a list of stream ids. Defaults to auto. */
  streams?: StreamMode
  /** Lowest price per 1000 generated tokens worth subscribing to, base units. Defaults to the benchmark's cost of 1000 tokens at gpuSecondPrice, plus the margin. */
  minStreamPricePer1k?: bigint
  /** Redeem a stream's voucher once its unredeemed amount reaches this, base units. Defaults to 20 × the redeem gas at the current gas price. */
  redeemThreshold?: bigint
  /** Limits of the stream API (body bytes, max_tokens, prompt tokens, rate, credit). Defaults to DEFAULT_STREAM_LIMITS. */
  streamLimits?: Partial<StreamLimits>
  /** Also serve plain OpenAI requests carrying `Authorization: Bearer KEY` (no receipt, no charge). Defaults to none. */
  apiKey?: string
  /** Where generations run: local (the loaded GGUF, default) or endpoint:URL (an OpenAI-compatible TGI/vLLM/HF endpoint; tokens from the local GGUF's tokenizer; cannot verify). */
  backend?: string
  /** Bearer token for an endpoint backend. Defaults to none. */
  backendToken?: string
  /** Test-only hooks. */
  testHooks?: ProviderTestHooks
}

export interface DaemonModelStatus {
  name: string
  sha256: string
  backend: string
  contextSize: number
  sequences: number
  busy: number
  queued: number
  benchmark: {promptTokensPerSecond: number; generateTokensPerSecond: number}
}

export interface DaemonTaskStatus {
  id: number
  status: string
  role: 'executor' | 'council' | 'bidder'
  phase: string
  price: string | null
  items: {done: number; total: number}
  checkpoint: number
}

export interface DaemonStatus {
  address: string
  version: string
  network: {name: string; chainId: number}
  url: string
  pid: number
  startedAt: string
  uptimeSeconds: number
  bidding: boolean
  stopping: boolean
  chain: {cursor: number; time: number}
  strategy: string
  models: DaemonModelStatus[]
  /** Busy sequences / all sequences, 0..1. */
  load: number
  /** Requests waiting for a sequence. */
  queue: number
  gpu: {backend: string; vramGiB: number}
  tasks: DaemonTaskStatus[]
  council: Array<{taskId: number; k: number; verdict: 'accept' | 'reject'; committed: boolean; revealed: boolean; sample: number[]; problems: string[]}>
  bids: {placed: number; skipped: number; failed: number; latencyMs: {p50: number | null; p95: number | null}}
  earnings: {executorPaid: string; councilFees: string; rejectRewards: string; slashed: string}
  txQueue: number
  /** The stream side: API counters (GPU work started, refusals), per-stream books, disputes. Absent without a StreamMarket. */
  streams?: ReturnType<StreamService['status']>
}

export interface ProviderDaemonHandle {
  address: string
  /** The URL registered on chain. */
  url: string
  /** Where the server listens (host:port). */
  localUrl: string
  port: number
  status(): DaemonStatus
  /** Stops cleanly: no new bids, running work finished (within the grace period), engines disposed, server closed. */
  stop(reason?: string): Promise<void>
  /** Same as stop(). */
  dispose(): Promise<void>
  /** Settles when the daemon stopped. */
  readonly stopped: Promise<void>
}

interface LoadedModel {
  name: string
  sha256: string
  path: string
  engine: InferenceEngine
  benchmark: BenchmarkResult
}

export {daemonFilePath, readDaemonFile} from './daemon-file.js'

const hex = (s: string) => s.toLowerCase().replace(/^0x/, '')
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The checkpoint being worked on or voted on (checkpoints when all were accepted). */
export function nextCheckpoint(task: IndexedTask): number {
  for (let k = 0; k < task.checkpoints; k++) if (task.checkpointList[k]?.state !== 'accepted') return k
  return task.checkpoints
}

function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! * 10) / 10
}

/** Starts the daemon; resolves once it serves, bids and watches the chain. */
export async function startProviderDaemon(options: ProviderDaemonOptions): Promise<ProviderDaemonHandle> {
  const daemon = new ProviderDaemon(options)
  try {
    await daemon.start()
  } catch (error) {
    await daemon.cleanup()
    throw error
  }
  return daemon.handle()
}

class ProviderDaemon {
  private readonly log: Logger
  private readonly hooks: ProviderTestHooks
  private chain?: ChainContext
  private wallet!: Wallet
  private market!: TaskMarket
  private address = ''
  private dir = ''
  private store?: ProviderStore
  private indexer!: MarketIndexer
  private readonly engines = new Map<string, LoadedModel>()
  private server?: ProviderServer
  private strategy!: Strategy
  private readonly materials = new MaterialsCache()
  private readonly promptLengths = new Map<number, number[]>()
  private readonly trees = new Map<string, MerkleTree>()
  private url = ''
  private localUrl = ''
  private vramGiB = 0
  private pollMs = 200
  private startedAt = new Date()
  /** New bids allowed. */
  private bidding = false
  /** Stopping: no new bids, executions or commits; council duty goes on until the daemon is idle. */
  private draining = false
  /** The loop ends and everything is released. */
  private stopping = false
  private loopPromise?: Promise<void>
  private wake?: () => void
  private stopPromise?: Promise<void>
  private resolveStopped!: () => void
  readonly stopped = new Promise<void>((resolve) => (this.resolveStopped = resolve))
  private readonly busy = new Set<string>()
  private readonly jobs = new Set<Promise<void>>()
  private readonly lastTry = new Map<string, number>()
  private readonly abort = new AbortController()
  private txChain: Promise<unknown> = Promise.resolve()
  private txPending = 0
  private readonly seenAt = new Map<number, number>()
  private readonly bidLatencies: number[] = []
  private clock = {block: -1, timestamp: 0, offset: 0}
  private cursorSavedAt = 0
  private readonly warned = new Set<string>()
  /** Tasks whose every item has a kept result. */
  private readonly executed = new Set<number>()
  private streams?: StreamService
  private readonly streamBackends: StreamBackend[] = []

  constructor(private readonly options: ProviderDaemonOptions) {
    this.log = options.logger ?? createLogger({format: options.logFormat})
    this.hooks = options.testHooks ?? {}
  }

  handle(): ProviderDaemonHandle {
    return {
      address: this.address,
      url: this.url,
      localUrl: this.localUrl,
      port: this.server!.port,
      status: () => this.status(),
      stop: (reason) => this.stop(reason),
      dispose: () => this.stop(),
      stopped: this.stopped,
    }
  }

  // ------------------------------------------------------------------ start and stop

  async start(): Promise<void> {
    const o = this.options
    const walletFlag = o.walletName ? ` --wallet ${o.walletName}` : ''
    const host = o.host ?? '127.0.0.1'
    const port = o.port ?? 7070
    this.chain = await openChain({paths: o.paths, network: o.network, rpc: o.rpc})
    const chain = this.chain
    this.pollMs = o.pollMs ?? (chain.network.devnet ? 200 : 2000)
    this.wallet = o.wallet.connect(chain.provider)
    this.address = this.wallet.address
    this.market = withSigner(chain.market, this.wallet)

    // Registration and stake first: nothing else is worth loading without them.
    const registration = await chain.registry.providerOf(this.address)
    const defaultUrl = o.publicUrl ?? `http://127.0.0.1:${port || 'PORT'}`
    if (!registration.registered)
      throw new UserError(`${this.address} is not registered as a provider on ${chain.network.name}.`, {
        code: 'NOT_REGISTERED',
        hint: `Register it first: ogpu provider register --endpoint ${defaultUrl}${walletFlag}`,
      })
    const stake = await readStake(chain, this.address)
    if (stake.free <= 0n)
      throw new UserError(`${this.address} has no free stake to lock as collateral (staked ${formatAmount(stake.staked)} oGPU, locked ${formatAmount(stake.locked)}).`, {
        code: 'NO_FREE_STAKE',
        hint: `Stake some first: ogpu stake deposit AMOUNT${walletFlag}`,
      })

    this.dir = providerDir(o.paths.dataDir, this.address)
    const running = readDaemonFile(this.dir)
    if (running && running.pid !== process.pid)
      throw new UserError(`A provider daemon for ${this.address} already runs (pid ${running.pid}, ${running.localUrl}).`, {
        code: 'DAEMON_RUNNING',
        hint: `Stop it first (kill ${running.pid}), or use another wallet.`,
      })
    this.store = openProviderStore(this.dir)
    // Claim the directory now (a second daemon for this address refuses to start); the URLs follow once serving.
    this.writeDaemonFile()
    const {recovery} = this.store
    const known = Object.keys(this.store.state.tasks).length
    if (recovery.snapshotSeq > 0 || recovery.replayed > 0)
      this.log.info('state', `Recovered ${known} task record(s) from ${this.dir}`, {
        snapshotSeq: recovery.snapshotSeq,
        replayed: recovery.replayed,
        droppedBytes: recovery.droppedBytes,
        cursor: this.store.state.cursor,
      })

    await this.loadModels()
    this.strategy = createStrategy(o.strategy ?? 'cost-plus', {undercutStep: o.undercutStep})
    await preloadStrategy(this.strategy)

    if (chain.network.contracts.streamMarket) {
      await this.loadStreamBackends()
      this.streams = new StreamService({
        chain,
        wallet: this.wallet,
        dir: this.dir,
        log: this.log,
        backends: () => this.streamBackends,
        mode: o.streams,
        priceFloor: (sha) => this.streamPriceFloor(sha),
        redeemThreshold: o.redeemThreshold,
        limits: o.streamLimits,
        apiKey: o.apiKey,
        hooks: {tamperStream: this.hooks.tamperStream},
        sendTx: (what, send, onSent) => this.sendTx(what, () => send(), onSent),
        now: () => this.now(),
        stopping: () => this.draining || this.stopping,
      })
    }

    this.server = await startProviderServer({
      api: async (req, res) => (this.streams ? this.streams.api.handle(req, res) : false),
      host,
      port,
      domain: ogpuDomain(chain.network.chainId, chain.network.contracts.taskMarket),
      source: this.itemSource(),
      health: () => ({ok: !this.stopping, address: this.address, bidding: this.bidding, uptimeSeconds: Math.round((Date.now() - this.startedAt.getTime()) / 1000)}),
      status: () => this.status(),
      refuseItems: () => Boolean(this.hooks.refuseItems),
      onError: (error) => this.log.error('http', `Request failed: ${errorText(error)}`),
    })
    const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
    this.localUrl = `http://${shownHost}:${this.server.port}`
    this.url = o.publicUrl ?? `http://127.0.0.1:${this.server.port}`
    const info = describeHost(o.version ?? 'dev', {verify: this.streamBackends.every((b) => b.kind === 'local')})
    const infoChanged = info.verify === false && (registration as unknown as {infoHash: string}).infoHash !== canonicalHash(info)
    if (registration.endpoint !== this.url || infoChanged) {
      await registerProvider(chain, this.wallet, {endpoint: this.url, info})
      this.log.info('register', `Updated the registered endpoint to ${this.url} (was ${registration.endpoint})`)
    }

    this.indexer = new MarketIndexer({
      provider: chain.provider,
      market: chain.network.contracts.taskMarket,
      fromBlock: chain.network.deployBlock,
      snapshotPath: join(this.dir, 'market-index.json'),
    })
    this.indexer.onEvent((event) => {
      if (event.name === 'TaskSubmitted') this.seenAt.set(Number(event.args.taskId), performance.now())
    })
    await this.indexer.sync()
    await this.updateClock()
    await this.streams?.start()
    this.writeDaemonFile()
    this.bidding = true
    this.log.info('start', `Provider ${this.address} serving at ${this.localUrl} on ${chain.network.name}`, {
      url: this.url,
      strategy: this.strategy.name,
      models: [...this.engines.values()].map((m) => m.name).join(','),
      block: this.indexer.state.cursor,
    })
    this.loopPromise = this.loop()
  }

  private writeDaemonFile(): void {
    const file = {pid: process.pid, address: this.address, url: this.url, localUrl: this.localUrl, network: this.chain!.network.name, startedAt: this.startedAt.toISOString()}
    writeFileDurable(this.dir, 'daemon.json', JSON.stringify(file))
  }

  private async loadModels(): Promise<void> {
    const o = this.options
    const store = new ModelStore({dataDir: o.paths.dataDir})
    let refs = o.models ?? []
    if (refs.length === 0) {
      refs = (await store.list()).filter((m) => !m.missing).map((m) => m.sha256)
      if (refs.length === 0)
        throw new UserError('There is no model to serve: the model store is empty.', {code: 'NO_MODELS', hint: 'Add one with `ogpu model add PATH|hf:USER/REPO/FILE.gguf`, or pass --models PATH.'})
    }
    const backend = await resolveBackend(o.gpu ?? 'auto')
    for (const ref of refs) {
      const located = await store.locate(ref)
      if (this.engines.has(located.sha256)) continue
      const name = located.model?.name ?? ref
      let benchmark = await loadBenchmark(o.paths.dataDir, {sha256: located.sha256, backend})
      if (!benchmark) {
        this.log.info('benchmark', `Benchmarking ${name} on ${backend} (once; stored for bidding)`)
        benchmark = await runBenchmark({modelPath: located.path, sha256: located.sha256, gpu: backend, threads: o.threads, signal: this.abort.signal})
        await saveBenchmark(o.paths.dataDir, benchmark)
      }
      const engine = await InferenceEngine.load({modelPath: located.path, gpu: backend, threads: o.threads, sequences: o.sequences ?? 4, contextSize: o.contextSize})
      this.engines.set(located.sha256, {name, sha256: located.sha256, path: located.path, engine, benchmark})
      if (engine.backend !== 'cpu') {
        const vram = await engine.model.llama.getVramState().catch(() => undefined)
        if (vram) this.vramGiB = Math.max(this.vramGiB, vram.total / 2 ** 30)
      }
      this.log.info('model', `Loaded ${name} (${located.sha256.slice(0, 12)}) on ${engine.backend}: ${engine.sequenceCount} × ${engine.contextSize} tokens`, {
        generateTps: benchmark.concurrent[0]?.tokensPerSecond ?? benchmark.generation.tokensPerSecond,
      })
    }
  }

  /** The stream backends: the loaded engines (local), or an endpoint with the local GGUF's tokenizer. */
  private async loadStreamBackends(): Promise<void> {
    const spec = this.options.backend ?? 'local'
    if (spec === 'local') {
      for (const m of this.engines.values()) this.streamBackends.push(localBackend({name: m.name, sha256: m.sha256, engine: m.engine}))
      return
    }
    const match = /^endpoint:(https?:\/\/.+)$/.exec(spec)
    if (!match) throw new UserError(`--backend ${spec} is not local or endpoint:URL.`, {code: 'INVALID_ARGUMENTS', hint: 'e.g. --backend endpoint:http://127.0.0.1:8080/v1'})
    const {endpointBackend} = await import('./stream/endpoint-backend.js')
    for (const m of this.engines.values())
      this.streamBackends.push(await endpointBackend({name: m.name, sha256: m.sha256, modelPath: m.path, url: match[1]!, accessToken: this.options.backendToken, contextSize: m.engine.contextSize}))
    this.log.info('model', `Stream generations go to ${match[1]} (endpoint backend: this provider cannot verify)`)
  }

  private streamPriceFloor(sha256: string): bigint {
    if (this.options.minStreamPricePer1k !== undefined) return this.options.minStreamPricePer1k
    const model = this.engines.get(sha256)
    if (!model) return 0n
    return streamPriceFloor(generationSpeed(model.benchmark).generate, this.options.gpuSecondPrice ?? 10n ** 16n, this.options.margin ?? 0.2)
  }

  stop(reason = 'stop requested'): Promise<void> {
    this.stopPromise ??= (async () => {
      this.log.info('stop', `Stopping (${reason}): no new bids; finishing running items and council duty`)
      this.bidding = false
      this.draining = true
      const grace = this.options.shutdownGraceMs ?? 15_000
      const deadline = Date.now() + grace
      while (!this.drained() && Date.now() < deadline) await sleep(100)
      if (!this.drained())
        this.log.warn('stop', `Running work did not finish within ${grace / 1000} s: cancelled (what is kept resumes after a restart)`)
      this.stopping = true
      this.wake?.()
      await this.loopPromise?.catch(() => {})
      // Vouchers not redeemed yet are redeemed now (the book keeps them anyway: a restart would redeem them too).
      await this.streams?.drain().catch((error: unknown) => this.log.warn('redeem', `Redeeming on shutdown failed: ${errorText(error)}`))
      this.abort.abort()
      await Promise.race([Promise.allSettled([...this.jobs]), sleep(5000)])
      await this.txChain.catch(() => {})
      await this.cleanup()
      this.log.info('stop', 'Stopped')
    })().finally(() => this.resolveStopped())
    return this.stopPromise
  }

  /**
   * Nothing left that a stop should wait for: no item running, no council check or verdict transaction in flight,
   * and no checkpoint of ours under review that the council has not fetched and committed on yet (stopping then
   * would make it unreachable: a reject).
   */
  private drained(): boolean {
    if ([...this.busy].some((key) => /^(execute|check|vote|reveal|commit|evaluate):/.test(key))) return false
    if (this.txPending > 0 || !this.indexer) return this.txPending === 0
    const now = this.now()
    for (const task of this.indexer.tasks()) {
      if (task.status !== 'assigned' || task.executor !== this.address) continue
      const cp = task.checkpointList[nextCheckpoint(task)]
      if (cp?.state === 'voting' && now < cp.commitEnd && Object.values(cp.verdicts).filter((v) => v.commitment).length < task.council.length) return false
    }
    return true
  }

  /** Releases everything (also after a failed start). */
  async cleanup(): Promise<void> {
    this.bidding = false
    this.stopping = true
    this.abort.abort()
    if (this.store) {
      try {
        if (this.indexer && this.indexer.state.cursor > this.store.state.cursor) this.store.appendSoon({t: 'cursor', block: this.indexer.state.cursor})
        this.store.close()
      } catch (error) {
        this.log.error('state', `Could not close the state: ${errorText(error)}`)
      }
    }
    await this.server?.close()
    try {
      this.streams?.close()
    } catch (error) {
      this.log.error('state', `Could not close the stream book: ${errorText(error)}`)
    }
    for (const backend of this.streamBackends) await backend.dispose().catch(() => {})
    for (const model of this.engines.values()) await model.engine.dispose().catch(() => {})
    this.engines.clear()
    if (this.dir && readDaemonFile(this.dir)?.pid === process.pid) rmSync(daemonFilePath(this.dir), {force: true})
    this.chain?.dispose()
  }

  // ------------------------------------------------------------------ the loop

  private async loop(): Promise<void> {
    while (!this.stopping) {
      const started = Date.now()
      try {
        await this.tick()
      } catch (error) {
        this.warnOnce('tick', `Chain poll failed: ${errorText(error)}`)
      }
      const wait = Math.max(0, this.pollMs - (Date.now() - started))
      if (wait > 0 && !this.stopping)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait)
          this.wake = () => {
            clearTimeout(timer)
            resolve()
          }
        })
    }
  }

  private async tick(): Promise<void> {
    await this.indexer.sync()
    await this.updateClock()
    this.warned.delete('tick')
    const now = this.now()
    for (const task of this.indexer.tasks()) this.consider(task, now)
    if (this.streams) {
      try {
        await this.streams.tick(this.clock.block)
        this.warned.delete('stream')
      } catch (error) {
        this.warnOnce('stream', `Stream poll failed: ${errorText(error)}`)
      }
    }
    const cursor = this.indexer.state.cursor
    if (cursor > this.store!.state.cursor && Date.now() - this.cursorSavedAt > 2000) {
      this.cursorSavedAt = Date.now()
      this.store!.appendSoon({t: 'cursor', block: cursor})
    }
  }

  private async updateClock(): Promise<void> {
    const block = await this.chain!.provider.getBlock('latest')
    if (!block) return
    // A block's timestamp is whole seconds, and we see it a little after it was made: +0.5 s centres the estimate.
    if (block.number !== this.clock.block) this.clock = {block: block.number, timestamp: block.timestamp, offset: block.timestamp + 0.5 - Date.now() / 1000}
  }

  /** The chain's time now, estimated from the latest block. */
  private now(): number {
    return Math.max(this.clock.timestamp, Date.now() / 1000 + this.clock.offset)
  }

  private due(key: string, everyMs: number): boolean {
    const last = this.lastTry.get(key) ?? 0
    if (Date.now() - last < everyMs) return false
    this.lastTry.set(key, Date.now())
    return true
  }

  private spawn(key: string, job: () => Promise<void>): void {
    if (this.busy.has(key) || this.stopping) return
    this.busy.add(key)
    const promise: Promise<void> = job()
      .catch((error: unknown) => {
        if (!this.abort.signal.aborted) this.log.error('job', `${key} failed: ${errorText(error)}`)
      })
      .finally(() => {
        this.busy.delete(key)
        this.jobs.delete(promise)
      })
    this.jobs.add(promise)
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return
    this.warned.add(key)
    this.log.warn(key.split(':')[0]!, message)
  }

  private record(id: number): TaskRecord | undefined {
    return this.store!.state.tasks[id]
  }

  private consider(task: IndexedTask, now: number): void {
    const me = this.address
    const rec = this.record(task.id)
    // A bid whose outcome we did not record (a crash after the intent): the chain says whether it was placed.
    if (rec?.bid && (rec.bid.status === 'intent' || rec.bid.status === 'sent')) {
      if (task.bids.some((b) => b.provider === me)) this.store!.appendSoon({t: 'bid-tx', taskId: task.id, status: 'done'})
      else if (task.status !== 'open' || now >= task.biddingEnd + 5) this.store!.appendSoon({t: 'bid-tx', taskId: task.id, status: 'failed', error: 'not placed (interrupted before or while sending)'})
    }
    if (isEnded(task.status)) {
      if (rec && !rec.ended) this.onEnded(task)
      return
    }
    if (task.status === 'open') {
      if (!rec?.bid && !rec?.skipped && this.bidding) this.spawn(`evaluate:${task.id}`, () => this.evaluate(task))
      const iBid = task.bids.some((b) => b.provider === me)
      if (!iBid || this.draining) return
      if (task.bids.length >= task.maxBids || (now >= task.biddingEnd && task.bids.length >= 2)) {
        if (this.due(`assign:${task.id}`, 1000)) this.spawn(`assign:${task.id}`, () => this.assign(task))
      } else if (now >= task.biddingEnd + 1 && task.bids.length < 2) {
        if (this.due(`expire:${task.id}`, 2000)) this.spawn(`expire:${task.id}`, () => this.simpleTx(task.id, 'Expire task', (m) => m.expire(task.id)))
      }
      return
    }
    // assigned
    const executor = task.executor === me
    const council = task.council.includes(me)
    if (!executor && !council) return
    const k = nextCheckpoint(task)
    if (k >= task.checkpoints) return
    const cp = task.checkpointList[k]
    if (executor && !this.draining) {
      if (!this.executed.has(task.id)) this.spawn(`execute:${task.id}`, () => this.execute(task))
      this.maybeCommit(task, now)
    }
    if (cp?.state === 'voting') {
      if (council) this.councilDuty(task, k, now)
      const seats = task.council.length
      const verdicts = Object.values(cp.verdicts)
      const reveals = verdicts.filter((v) => v.accept !== undefined).length
      if ((reveals >= seats || now >= cp.revealEnd) && this.due(`finalize:${task.id}:${k}`, 1500))
        this.spawn(`finalize:${task.id}:${k}`, () => this.simpleTx(task.id, `Finalize checkpoint ${k}`, (m) => m.finalizeCheckpoint(task.id, k)))
    } else if (council && task.deadline && now > task.deadline + 1 && this.due(`timeout:${task.id}`, 2000)) {
      this.spawn(`timeout:${task.id}`, () => this.simpleTx(task.id, 'Time out the executor', (m) => m.timeoutCheckpoint(task.id)))
    }
  }

  private onEnded(task: IndexedTask): void {
    this.store!.append({t: 'ended', taskId: task.id, status: task.status})
    const me = this.address
    const rec = this.record(task.id)!
    if (task.executor === me) {
      const detail = task.status === 'finalized' ? `paid ${formatAmount(task.executorPaid)} oGPU` : task.failure ? `${task.failure.reason} at checkpoint ${task.failure.k}, slashed ${formatAmount(task.failure.executorSlashed)} oGPU` : task.status
      this.log.info('task', `Task ${task.id} ${task.status} (executor: ${detail})`, {taskId: task.id})
    } else if (task.council.includes(me) || rec.bid) this.log.info('task', `Task ${task.id} ${task.status}`, {taskId: task.id})
    this.promptLengths.delete(task.id)
    if (task.executor !== me) this.materials.delete(task.id)
  }

  // ------------------------------------------------------------------ transactions

  /** Sends one transaction at a time from this wallet (nonces stay in order), journaling the hash when sent. */
  private sendTx(what: string, send: (market: TaskMarket) => Promise<ContractTransactionResponse>, onSent?: (hash: string) => void): Promise<TransactionReceipt> {
    const chain = this.chain!
    this.txPending++
    const run = this.txChain.then(() =>
      sendTx(
        chain.provider,
        what,
        async () => {
          const response = await send(this.market)
          onSent?.(response.hash)
          return response
        },
        {...chain.tx, pollMs: chain.network.devnet ? 25 : 1000},
      ),
    )
    this.txChain = run.catch(() => {}).finally(() => this.txPending--)
    return run
  }

  /** A transaction anyone may send and others may beat us to (assign, finalize, expire, timeout): a revert is fine. */
  private async simpleTx(taskId: number, what: string, send: (market: TaskMarket) => Promise<ContractTransactionResponse>): Promise<void> {
    try {
      const receipt = await this.sendTx(`${what} (task ${taskId})`, send)
      this.log.info('tx', `${what} on task ${taskId}`, {taskId, tx: receipt.hash})
    } catch (error) {
      this.log.debug('tx', `${what} on task ${taskId} not sent: ${errorText(error)}`, {taskId, revert: revertOf(error)})
    }
  }

  private async assign(task: IndexedTask): Promise<void> {
    await this.simpleTx(task.id, 'Assigned', (m) => m.assign(task.id))
  }

  // ------------------------------------------------------------------ evaluation and bidding

  private skip(task: IndexedTask, reason: string): void {
    if (!this.bidding || this.record(task.id)?.bid) return // a stopping daemon decides nothing
    this.store!.append({t: 'skip', taskId: task.id, reason, at: Date.now()})
    this.log.info('skip', `Task ${task.id}: no bid: ${reason}`, {taskId: task.id})
  }

  private async evaluate(task: IndexedTask): Promise<void> {
    try {
      await this.evaluateAndBid(task)
    } catch (error) {
      this.skip(task, `evaluation failed: ${errorText(error)}`)
    }
  }

  private async evaluateAndBid(task: IndexedTask): Promise<void> {
    const started = this.seenAt.get(task.id) ?? performance.now()
    const rec = this.record(task.id)
    if (rec?.bid || rec?.skipped || !this.bidding) return
    const skip = (reason: string) => this.skip(task, reason)
    if (task.client === this.address) return skip('it is our own task')
    const model = this.engines.get(hex(task.modelHash))
    if (!model) return skip(`model ${hex(task.modelHash).slice(0, 12)} is not held`)
    if (this.now() >= task.biddingEnd) return skip('bidding is closed')
    if (task.bids.length >= task.maxBids) return skip('the bid cap is reached')
    const active = this.indexer.tasks().filter((t) => (t.status === 'assigned' && t.executor === this.address) || (t.status === 'open' && t.bestIndex !== undefined && t.bids[t.bestIndex]?.provider === this.address)).length
    const max = this.options.maxConcurrentTasks ?? 2
    if (active >= max) return skip(`at capacity (${active} of ${max} tasks)`)
    let materials
    let stake
    try {
      ;[materials, stake] = await Promise.all([this.materials.get(task), readStake(this.chain!, this.address)])
    } catch (error) {
      return skip(errorText(error))
    }
    if (stake.free < task.collateral) return skip(`free stake ${formatAmount(stake.free)} oGPU is below the collateral ${formatAmount(task.collateral)}`)
    const {spec, data} = materials
    let lengths = this.promptLengths.get(task.id)
    try {
      lengths ??= data.items.map((item) => buildPrompt(model.engine, item).length)
    } catch (error) {
      return skip(`a prompt does not tokenize: ${errorText(error)}`)
    }
    this.promptLengths.set(task.id, lengths)
    const gpuSecondPrice = this.options.gpuSecondPrice ?? 10n ** 16n
    const assessed = assessTask({
      spec,
      promptLengths: lengths,
      checkpoints: task.checkpoints,
      checkpointWindow: task.checkpointWindow,
      hardDeadline: task.hardDeadline,
      benchmark: model.benchmark,
      gpuSecondPrice,
      contextSize: model.engine.contextSize,
      vramGiB: this.vramGiB,
    })
    if (!assessed.feasible) return skip(assessed.reason!)
    const outputTokens = assessed.estimate.outputTokens
    const minPrice = ((this.options.minPricePer1k ?? 10n ** 17n) * BigInt(outputTokens)) / 1000n
    const strategyTask: StrategyTask = {
      id: task.id,
      client: task.client,
      modelHash: task.modelHash,
      itemCount: task.itemCount,
      checkpoints: task.checkpoints,
      maxTokens: spec.instructions.maxTokens,
      outputTokens,
      promptTokens: assessed.estimate.promptTokens,
      maxPrice: task.maxPrice,
      collateral: task.collateral,
      councilFeePerVote: task.councilFeePerVote,
      councilSize: task.councilSize,
      maxBids: task.maxBids,
      biddingEnd: task.biddingEnd,
      bids: task.bids.map((b) => ({provider: b.provider, price: b.price})),
      ...(task.bestPrice === undefined ? {} : {bestPrice: task.bestPrice}),
    }
    const decision = await this.strategy.decide({
      task: strategyTask,
      estimate: {seconds: assessed.estimate.seconds, cost: assessed.estimate.cost},
      minPrice,
      margin: this.options.margin ?? 0.2,
      address: this.address,
    })
    if (!decision.bid) return skip(decision.reason)
    if (!this.bidding || this.record(task.id)?.bid) return
    // The intent is durable before the transaction exists: after any crash, this task is never bid on again.
    this.store!.append({t: 'bid', taskId: task.id, price: decision.price.toString(), strategy: this.strategy.name, at: Date.now()})
    try {
      const receipt = await this.sendTx(`Bid on task ${task.id}`, (m) => m.bid(task.id, decision.price), (hash) => {
        this.bidLatencies.push(performance.now() - started)
        this.store!.appendSoon({t: 'bid-tx', taskId: task.id, status: 'sent', tx: hash})
      })
      this.store!.append({t: 'bid-tx', taskId: task.id, status: 'done', tx: receipt.hash})
      this.log.info('bid', `Bid ${formatAmount(decision.price)} oGPU on task ${task.id} (est. ${assessed.estimate.seconds.toFixed(2)} s, cost ${formatAmount(assessed.estimate.cost)} oGPU)`, {
        taskId: task.id,
        price: formatAmount(decision.price),
        tx: receipt.hash,
        latencyMs: Math.round(performance.now() - started),
      })
    } catch (error) {
      this.store!.append({t: 'bid-tx', taskId: task.id, status: 'failed', error: errorText(error)})
      this.log.warn('bid', `Bid on task ${task.id} failed: ${errorText(error)}`, {taskId: task.id, revert: revertOf(error)})
    }
  }

  // ------------------------------------------------------------------ execution

  private async execute(task: IndexedTask): Promise<void> {
    const model = this.engines.get(hex(task.modelHash))
    if (!model) {
      this.warnOnce(`execute:${task.id}`, `Task ${task.id}: we are its executor but its model ${hex(task.modelHash).slice(0, 12)} is not loaded (start with --models)`)
      return
    }
    const {spec, data} = await this.materials.get(task)
    const store = this.store!
    const started = performance.now()
    const cpu0 = process.cpuUsage()
    const resumed = Object.keys(this.record(task.id)?.results ?? {}).length
    if (!this.record(task.id)?.executing) {
      store.append({t: 'execute', taskId: task.id, at: Date.now()})
      this.log.info('execute', `Task ${task.id}: won at ${formatAmount(task.price ?? 0n)} oGPU; running ${task.itemCount} items in ${task.checkpoints} checkpoint(s)`, {taskId: task.id})
    } else if (resumed < task.itemCount) this.log.info('execute', `Task ${task.id}: resuming with ${resumed} of ${task.itemCount} items done`, {taskId: task.id})
    const engine = model.engine
    const missing: number[] = []
    for (let i = 0; i < task.itemCount; i++) if (!this.record(task.id)?.results?.[i]) missing.push(i)
    // Segments already complete (a restart) get their root now.
    for (let k = 0; k < task.checkpoints; k++) this.segmentDone(task, k)
    const remaining = new Map<number, number>()
    for (const i of missing) {
      const k = checkpointOfItem(task.itemCount, task.checkpoints, i)
      remaining.set(k, (remaining.get(k) ?? 0) + 1)
    }
    const queue = [...missing]
    const width = engine.sequenceCount + 1 // one waiting, so a freed sequence starts at once
    const worker = async () => {
      for (let index = queue.shift(); index !== undefined; index = queue.shift()) {
        if (this.draining || this.abort.signal.aborted) return
        const live = this.indexer.task(task.id)
        if (!live || live.status !== 'assigned') return
        if (this.hooks.itemDelayMs) await sleep(this.hooks.itemDelayMs)
        const item = data.items[index]!
        const prompt = buildPrompt(engine, item)
        let result: ItemResult
        try {
          result = await runItem(engine, spec, item, index, {prompt, signal: this.abort.signal})
        } catch (error) {
          if (this.abort.signal.aborted) return
          throw error
        }
        if (this.hooks.tamperOutputs) result = tamperResult(engine, result, prompt)
        store.appendSoon({t: 'result', taskId: task.id, result}) // group commit; a lost result is recomputed
        const k = checkpointOfItem(task.itemCount, task.checkpoints, index)
        const left = remaining.get(k)! - 1
        remaining.set(k, left)
        if (left === 0) {
          store.flush()
          if (this.segmentDone(task, k)) this.maybeCommit(this.indexer.task(task.id) ?? task, this.now())
        }
      }
    }
    await Promise.all(Array.from({length: Math.min(width, Math.max(1, missing.length))}, worker))
    store.flush()
    let complete = true
    for (let k = 0; k < task.checkpoints; k++) complete = this.segmentDone(task, k) && complete
    if (complete) {
      this.executed.add(task.id)
      if (missing.length > 0) {
        const cpu = process.cpuUsage(cpu0)
        const ms = performance.now() - started
        this.log.info('execute', `Task ${task.id}: ran ${missing.length} item(s) in ${Math.round(ms)} ms`, {
          taskId: task.id,
          items: missing.length,
          ms: Math.round(ms),
          cpuMs: Math.round((cpu.user + cpu.system) / 1000),
          itemsPerMinute: Math.round((missing.length * 60_000) / ms),
        })
      }
    }
  }

  /** When every result of segment k is kept: records its root (once). Returns true when the root is recorded. */
  private segmentDone(task: IndexedTask, k: number): boolean {
    const rec = this.record(task.id)
    if (rec?.checkpoints?.[k]) return true
    const {first, end} = segmentOf(task.itemCount, task.checkpoints, k)
    const results: ItemResult[] = []
    for (let i = first; i < end; i++) {
      const r = rec?.results?.[i]
      if (!r) return false
      results.push(r)
    }
    const tree = resultTree(results)
    this.trees.set(`${task.id}:${k}`, tree)
    this.store!.append({t: 'checkpoint', taskId: task.id, k, root: tree.root})
    this.log.info('execute', `Task ${task.id}: checkpoint ${k} ready (items ${first}..${end - 1}), root ${tree.root.slice(0, 10)}…`, {taskId: task.id, k})
    return true
  }

  private maybeCommit(task: IndexedTask, now: number): void {
    if (task.status !== 'assigned' || task.executor !== this.address) return
    const k = nextCheckpoint(task)
    if (k >= task.checkpoints) return
    const onChain = task.checkpointList[k]
    const rec = this.record(task.id)?.checkpoints?.[k]
    if (!rec) return
    if (onChain?.resultRoot) {
      if (rec.status !== 'done') this.store!.appendSoon({t: 'checkpoint-tx', taskId: task.id, k, status: 'done'})
      return
    }
    if (task.deadline && now > task.deadline + 1) {
      this.warnOnce(`deadline:${task.id}:${k}`, `Task ${task.id}: missed the deadline of checkpoint ${k}`)
      return
    }
    if (!this.due(`commit:${task.id}:${k}`, 1500)) return
    this.spawn(`commit:${task.id}:${k}`, async () => {
      try {
        const receipt = await this.sendTx(`Commit checkpoint ${k} of task ${task.id}`, (m) => m.commitCheckpoint(task.id, k, rec.root), (hash) =>
          this.store!.appendSoon({t: 'checkpoint-tx', taskId: task.id, k, status: 'sent', tx: hash}),
        )
        this.store!.append({t: 'checkpoint-tx', taskId: task.id, k, status: 'done', tx: receipt.hash})
        this.log.info('commit', `Task ${task.id}: committed checkpoint ${k}`, {taskId: task.id, k, root: rec.root, tx: receipt.hash})
      } catch (error) {
        const name = revertOf(error)
        if (name === 'TaskMarketRoundInProgress' || name === 'TaskMarketWrongCheckpoint') return // the chain moved on; the next tick sees it
        this.store!.append({t: 'checkpoint-tx', taskId: task.id, k, status: 'failed', error: errorText(error)})
        this.log.warn('commit', `Task ${task.id}: committing checkpoint ${k} failed: ${errorText(error)}`, {taskId: task.id, k})
      }
    })
  }

  // ------------------------------------------------------------------ serving items

  private itemSource(): ItemSource {
    return {
      items: async (taskId, first, count) => {
        const rec = this.record(taskId)
        const task = this.indexer?.task(taskId)
        if (!rec?.checkpoints || !rec.results || !task || task.executor !== this.address) return undefined
        const {data} = await this.materials.get(task)
        const out: ServedItem[] = []
        for (let i = first; i < Math.min(first + count, task.itemCount); i++) {
          const k = checkpointOfItem(task.itemCount, task.checkpoints, i)
          const result = rec.results[i]
          if (!rec.checkpoints[k] || !result) continue
          out.push({index: i, k, item: data.items[i]!, itemProof: data.tree.proof(i), result, resultProof: this.treeOf(task, k).proof(i)})
        }
        return out
      },
      mayRead: async (taskId, address) => {
        const task = this.indexer?.task(taskId)
        if (!task) return false
        return address === task.client || task.council.includes(address)
      },
    }
  }

  private treeOf(task: IndexedTask, k: number): MerkleTree {
    const key = `${task.id}:${k}`
    let tree = this.trees.get(key)
    if (!tree) {
      const {first, end} = segmentOf(task.itemCount, task.checkpoints, k)
      const results = this.record(task.id)!.results!
      tree = resultTree(Array.from({length: end - first}, (_, j) => results[first + j]!))
      this.trees.set(key, tree)
    }
    return tree
  }

  // ------------------------------------------------------------------ council duty

  private councilDuty(task: IndexedTask, k: number, now: number): void {
    const cp = task.checkpointList[k]!
    const me = this.address
    const vote = this.record(task.id)?.votes?.[k]
    const onChain = cp.verdicts[me]
    if (!vote) {
      if (onChain?.commitment) return // committed by an earlier install without this state: nothing we can reveal
      if (now < cp.commitEnd) this.spawn(`check:${task.id}:${k}`, () => this.check(task, k))
      return
    }
    if (!onChain?.commitment) {
      if (now < cp.commitEnd && vote.status !== 'failed' && this.due(`vote:${task.id}:${k}`, 1500)) this.spawn(`vote:${task.id}:${k}`, () => this.commitVote(task.id, k))
      return
    }
    if (vote.status !== 'done') this.store!.appendSoon({t: 'vote-tx', taskId: task.id, k, status: 'done'})
    if (onChain.accept !== undefined || this.hooks.holdReveals) return
    const commits = Object.values(cp.verdicts).filter((v) => v.commitment).length
    const open = commits >= task.council.length || now >= cp.commitEnd
    if (open && now < cp.revealEnd + 1 && this.due(`reveal:${task.id}:${k}`, 1500)) this.spawn(`reveal:${task.id}:${k}`, () => this.reveal(task.id, k))
  }

  /** Checks our sample of checkpoint k, then journals the verdict and its salt (fsync) before committing it. */
  private async check(task: IndexedTask, k: number): Promise<void> {
    const cp = task.checkpointList[k]!
    const model = this.engines.get(hex(task.modelHash))
    const chain = this.chain!
    let accept = false
    let indices: number[] = []
    let problems: string[] = []
    const started = performance.now()
    const cpu0 = process.cpuUsage()
    try {
      if (!model) throw new Error(`the model ${hex(task.modelHash).slice(0, 12)} is not loaded`)
      const spec = await this.materials.spec(task)
      const seed = await memberSeed(chain, task.id, k, this.address, cp.seedBlock)
      indices = indicesToCheck(task, spec, k, seed).indices
      const endpoint = (await chain.registry.providerOf(task.executor!)).endpoint
      const domain = ogpuDomain(chain.network.chainId, chain.network.contracts.taskMarket)
      // Fetch; retry what fails (a restarting executor) until a quarter of the commit window (at least 3 s) is left,
      // plus a second for the uncertainty of our clock. A missing item at that point is a reject.
      const giveUpAt = cp.commitEnd - Math.max(3, task.commitWindow / 4) - 1
      const outcomes = new Map<number, FetchOutcome>()
      for (let attempt = 0; ; attempt++) {
        const wanted = indices.filter((i) => !outcomes.get(i)?.ok)
        const leftMs = (giveUpAt - this.now()) * 1000
        const fetched = await fetchServedItems({endpoint, signer: this.wallet, domain, taskId: task.id, indices: wanted, timeoutMs: Math.min(10_000, Math.max(1000, leftMs))})
        for (const [i, outcome] of fetched) outcomes.set(i, outcome)
        if (indices.every((i) => outcomes.get(i)?.ok) || this.now() >= giveUpAt || this.stopping) break
        if (attempt === 0) this.log.info('council', `Task ${task.id} checkpoint ${k}: the executor does not serve every item yet; retrying`, {taskId: task.id, k})
        await sleep(Math.max(0, Math.min(2000, 250 * 2 ** attempt, (giveUpAt - this.now()) * 1000)))
      }
      if (this.stopping) return // decide after the restart, with the executor given its full chance
      const checked = await checkItems(model.engine, spec, task, k, indices, outcomes)
      accept = checked.accept
      problems = checked.items.filter((i) => !i.ok).map((i) => `item ${i.index}: ${i.reason}`)
    } catch (error) {
      if (this.stopping) return
      accept = false
      problems = [`could not check: ${errorText(error)}`]
    }
    const cpu = process.cpuUsage(cpu0)
    const salt = hexlify(randomBytes(32))
    const commitment = await this.chain!.market.verdictCommitment(task.id, k, accept, salt, this.address)
    // The salt is durable before the commitment goes on chain: a salt lost is a reveal missed, and money lost.
    this.store!.append({t: 'vote', taskId: task.id, k, accept, salt, commitment, sample: indices, problems})
    this.log.info('council', `Task ${task.id} checkpoint ${k}: ${accept ? 'accept' : 'REJECT'} (${indices.length} item(s) checked in ${Math.round(performance.now() - started)} ms)`, {
      taskId: task.id,
      k,
      sample: indices.join(','),
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      ...(problems.length ? {problems: problems.slice(0, 5)} : {}),
    })
    await this.commitVote(task.id, k)
  }

  private async commitVote(taskId: number, k: number): Promise<void> {
    const vote = this.record(taskId)?.votes?.[k]
    if (!vote) return
    try {
      const receipt = await this.sendTx(`Commit verdict on checkpoint ${k} of task ${taskId}`, (m) => m.commitVerdict(taskId, k, vote.commitment), (hash) =>
        this.store!.appendSoon({t: 'vote-tx', taskId, k, status: 'sent', tx: hash}),
      )
      this.store!.append({t: 'vote-tx', taskId, k, status: 'done', tx: receipt.hash})
      this.log.info('council', `Task ${taskId} checkpoint ${k}: verdict committed`, {taskId, k, tx: receipt.hash})
    } catch (error) {
      const name = revertOf(error)
      if (name === 'VerdictRoundAlreadyCommitted') return
      if (name === 'VerdictRoundCommitClosed' || name === 'TaskMarketNoOpenRound' || name === 'TaskMarketUnexpectedStatus')
        this.store!.append({t: 'vote-tx', taskId, k, status: 'failed', error: errorText(error)})
      this.log.warn('council', `Task ${taskId} checkpoint ${k}: committing the verdict failed: ${errorText(error)}`, {taskId, k})
    }
  }

  private async reveal(taskId: number, k: number): Promise<void> {
    const vote = this.record(taskId)?.votes?.[k]
    if (!vote) return
    try {
      const receipt = await this.sendTx(`Reveal verdict on checkpoint ${k} of task ${taskId}`, (m) => m.revealVerdict(taskId, k, vote.accept, vote.salt), (hash) =>
        this.store!.appendSoon({t: 'reveal-tx', taskId, k, status: 'sent', tx: hash}),
      )
      this.store!.append({t: 'reveal-tx', taskId, k, status: 'done', tx: receipt.hash})
      this.log.info('council', `Task ${taskId} checkpoint ${k}: revealed ${vote.accept ? 'accept' : 'reject'}`, {taskId, k, tx: receipt.hash})
    } catch (error) {
      const name = revertOf(error)
      if (name === 'VerdictRoundAlreadyRevealed' || name === 'VerdictRoundRevealNotStarted') return
      if (name === 'VerdictRoundRevealClosed' || name === 'TaskMarketNoOpenRound') this.store!.append({t: 'reveal-tx', taskId, k, status: 'failed', error: errorText(error)})
      this.log.warn('council', `Task ${taskId} checkpoint ${k}: revealing failed: ${errorText(error)}`, {taskId, k})
    }
  }

  // ------------------------------------------------------------------ status

  status(): DaemonStatus {
    const me = this.address
    const chain = this.chain!
    const models = [...this.engines.values()].map((m) => {
      const s = m.engine.disposed ? {busy: 0, queued: 0} : m.engine.stats
      return {
        name: m.name,
        sha256: m.sha256,
        backend: m.engine.backend,
        contextSize: m.engine.contextSize,
        sequences: m.engine.sequenceCount,
        busy: s.busy,
        queued: s.queued,
        benchmark: {
          promptTokensPerSecond: m.benchmark.promptProcessing.tokensPerSecond,
          generateTokensPerSecond: Math.max(m.benchmark.generation.tokensPerSecond, ...m.benchmark.concurrent.map((c) => c.tokensPerSecond)),
        },
      }
    })
    const sequences = models.reduce((s, m) => s + m.sequences, 0)
    const tasks: DaemonTaskStatus[] = []
    const council: DaemonStatus['council'] = []
    let executorPaid = 0n
    let councilFees = 0n
    let rejectRewards = 0n
    let slashed = 0n
    let placed = 0
    let skipped = 0
    let failed = 0
    for (const rec of Object.values(this.store?.state.tasks ?? {})) {
      if (rec.skipped) skipped++
      if (rec.bid?.status === 'failed') failed++
      else if (rec.bid) placed++
      const task = this.indexer?.task(rec.id)
      if (!task) continue
      const role = task.executor === me ? 'executor' : task.council.includes(me) ? 'council' : rec.bid ? 'bidder' : undefined
      if (!role) continue
      if (task.executor === me) {
        executorPaid += task.executorPaid
        if (task.failure) slashed += task.failure.executorSlashed
      }
      for (const cp of task.checkpointList) {
        const mine = cp?.verdicts[me]
        if (!cp || !mine) continue
        if (mine.slashed) slashed += mine.slashed
        if (cp.feePerVoter && mine.accept !== undefined && mine.accept === (cp.state === 'accepted')) councilFees += cp.feePerVoter
      }
      if (task.failure?.reason === 'rejected' && task.checkpointList[task.failure.k]?.verdicts[me]?.accept === false) rejectRewards += task.failure.rewardPerRejecter
      for (const [k, vote] of Object.entries(rec.votes ?? {})) {
        const onChain = task.checkpointList[Number(k)]?.verdicts[me]
        council.push({taskId: task.id, k: Number(k), verdict: vote.accept ? 'accept' : 'reject', committed: Boolean(onChain?.commitment), revealed: onChain?.accept !== undefined, sample: vote.sample, problems: vote.problems})
      }
      if (isEnded(task.status) && task.endedBlock !== undefined && this.indexer.state.cursor - task.endedBlock > 10_000) continue
      const done = Object.keys(rec.results ?? {}).length
      const k = nextCheckpoint(task)
      const phase =
        task.status === 'open'
          ? 'bidding'
          : isEnded(task.status)
            ? task.status
            : role === 'executor'
              ? task.checkpointList[k]?.state === 'voting'
                ? `checkpoint ${k} in review`
                : done < task.itemCount
                  ? 'executing'
                  : `committing checkpoint ${k}`
              : role === 'council'
                ? task.checkpointList[k]?.state === 'voting'
                  ? `reviewing checkpoint ${k}`
                  : `waiting for checkpoint ${k}`
                : 'lost the auction'
      tasks.push({
        id: task.id,
        status: task.status,
        role,
        phase,
        price: rec.bid ? formatAmount(BigInt(rec.bid.price)) : null,
        items: {done, total: task.itemCount},
        checkpoint: k,
      })
    }
    return {
      address: me,
      version: this.options.version ?? 'dev',
      network: {name: chain.network.name, chainId: chain.network.chainId},
      url: this.url,
      pid: process.pid,
      startedAt: this.startedAt.toISOString(),
      uptimeSeconds: Math.round((Date.now() - this.startedAt.getTime()) / 1000),
      bidding: this.bidding,
      stopping: this.stopping,
      chain: {cursor: this.indexer?.state.cursor ?? 0, time: Math.floor(this.now())},
      strategy: this.strategy?.name ?? '',
      models,
      load: sequences ? Math.round((models.reduce((s, m) => s + m.busy, 0) / sequences) * 100) / 100 : 0,
      queue: models.reduce((s, m) => s + m.queued, 0),
      gpu: {backend: models[0]?.backend ?? 'cpu', vramGiB: Math.round(this.vramGiB * 10) / 10},
      tasks: tasks.sort((a, b) => b.id - a.id),
      council,
      bids: {placed, skipped, failed, latencyMs: {p50: percentile(this.bidLatencies, 50), p95: percentile(this.bidLatencies, 95)}},
      earnings: {executorPaid: formatAmount(executorPaid), councilFees: formatAmount(councilFees), rejectRewards: formatAmount(rejectRewards), slashed: formatAmount(slashed)},
      txQueue: this.txPending,
      ...(this.streams ? {streams: this.streams.status()} : {}),
    }
  }
}
