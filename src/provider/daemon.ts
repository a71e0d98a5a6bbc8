/**
 * The provider daemon (`ogpu provider start`): bids, executes, commits, serves items, sits on councils, and serves
 * and settles streams, all driven by the market indexer. This file wires the roles (./daemon/*) and owns start, the
 * loop and stop. Level-triggered: every tick (≈200 ms on the devnet) syncs the indexer and the scheduler starts what
 * is due, so a restarted daemon picks up every task where the chain and its journal (./state.ts) say it is.
 */
import {rmSync} from 'node:fs'
import {join} from 'node:path'

import {type ChainContext, openChain, withSigner} from '../chain/context.js'
import {errorText} from '../chain/errors.js'
import {nextCheckpoint} from '../market/earnings.js'
import {MarketIndexer} from '../market/indexer.js'
import {canonicalHash} from '../protocol/canonical.js'
import {ogpuDomain} from '../protocol/eip712.js'
import {ChainClock} from './chain-clock.js'
import type {Bidder} from './daemon/bidder.js'
import {loadModels, loadStreamBackends, streamFloorOf} from './daemon/models.js'
import {storeRecords} from './daemon/ports.js'
import {preflight} from './daemon/preflight.js'
import {composeBatchRoles} from './daemon/roles.js'
import type {Scheduler} from './daemon/scheduler.js'
import {buildStatus} from './daemon/status.js'
import type {DaemonStatus, LoadedModel, ProviderDaemonHandle, ProviderDaemonOptions, ProviderDaemonPorts} from './daemon/types.js'
import {daemonFilePath, readDaemonFile} from './daemon-file.js'
import {Jobs} from './jobs.js'
import {createLogger, type Logger} from './log.js'
import {type CouncilRegistry, joinCouncilPools, leaveCouncilPools} from './council-pool.js'
import {describeHost, registerProvider} from './registration.js'
import {startProviderServer, type ProviderServer} from './server.js'
import {openProviderStore, providerDir, type ProviderStore} from './state.js'
import {createStrategy, preloadStrategy, type Strategy} from './strategy.js'
import {localBackend, type StreamBackend} from './stream/backend.js'
import {StreamService} from './stream/service.js'
import {MaterialsCache} from './task-materials.js'
import {writeFileDurable} from '../storage/index.js'
import {TxQueue} from './tx-queue.js'

export type * from './daemon/types.js'
export {daemonFilePath, readDaemonFile} from './daemon-file.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Starts the daemon; resolves once it serves, bids and watches the chain. `ports` inject behaviours into its roles
 * (tests pass cheating providers, test/fixtures/cheats.ts); production passes none.
 */
export async function startProviderDaemon(options: ProviderDaemonOptions, ports: ProviderDaemonPorts = {}): Promise<ProviderDaemonHandle> {
  const daemon = new ProviderDaemon(options, ports)
  try {
    await daemon.start()
  } catch (error) {
    await daemon.cleanup()
    throw error
  }
  return daemon.handle()
}

/** What the loop and the status read once the daemon started (set together, so nothing sees half of it). */
interface Running {
  store: ProviderStore
  indexer: MarketIndexer
  clock: ChainClock
  strategy: Strategy
  bidder: Bidder
  scheduler: Scheduler
}

class ProviderDaemon {
  private readonly log: Logger
  private r?: Running
  private chain?: ChainContext
  private store?: ProviderStore
  private indexer?: MarketIndexer
  private server?: ProviderServer
  private tx?: TxQueue
  private address = ''
  private dir = ''
  private url = ''
  private localUrl = ''
  private vramGiB = 0
  private pollMs = 200
  private readonly startedAt = new Date()
  private readonly engines = new Map<string, LoadedModel>()
  private readonly streamBackends: StreamBackend[] = []
  private readonly materials = new MaterialsCache()
  private streams?: StreamService
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
  private readonly abort = new AbortController()
  private readonly jobs: Jobs
  private cursorSavedAt = 0
  private readonly warned = new Set<string>()
  /** The council pools joined or found on start (council duty on); a clean stop leaves them. */
  private councilPools: string[] = []
  private councilRegistry?: CouncilRegistry

  constructor(
    private readonly options: ProviderDaemonOptions,
    private readonly ports: ProviderDaemonPorts,
  ) {
    this.log = options.logger ?? createLogger({format: options.logFormat})
    this.jobs = new Jobs({onError: (key, error) => !this.abort.signal.aborted && this.log.error('job', `${key} failed: ${errorText(error)}`)})
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
    const chain = (this.chain = await openChain({paths: o.paths, network: o.network, rpc: o.rpc}))
    this.pollMs = o.pollMs ?? (chain.network.devnet ? 200 : 2000)
    const wallet = o.wallet.connect(chain.provider)
    const me = (this.address = wallet.address)
    const market = withSigner(chain.market, wallet)
    this.dir = providerDir(o.paths.dataDir, me)
    const registration = await preflight({chain, address: me, dir: this.dir, walletFlag, defaultUrl: o.publicUrl ?? `http://127.0.0.1:${port || 'PORT'}`})
    const store = (this.store = openProviderStore(this.dir))
    // Claim the directory now (a second daemon for this address refuses to start); the URLs follow once serving.
    this.writeDaemonFile()
    const {recovery} = store
    if (recovery.snapshotSeq > 0 || recovery.replayed > 0)
      this.log.info('state', `Recovered ${Object.keys(store.state.tasks).length} task record(s) from ${this.dir}`, {
        snapshotSeq: recovery.snapshotSeq,
        replayed: recovery.replayed,
        droppedBytes: recovery.droppedBytes,
        cursor: store.state.cursor,
      })

    this.vramGiB = await loadModels({dataDir: o.paths.dataDir, refs: o.models, gpu: o.gpu, threads: o.threads, sequences: o.sequences, contextSize: o.contextSize, signal: this.abort.signal, log: this.log}, this.engines)
    const strategy = createStrategy(o.strategy ?? 'cost-plus', {undercutStep: o.undercutStep})
    await preloadStrategy(strategy)
    const tx = (this.tx = new TxQueue(chain.provider, {...chain.tx, pollMs: chain.network.devnet ? 25 : 1000}))
    const clock = new ChainClock({latest: async () => chain.provider.getBlock('latest')}, Date.now)

    if (chain.network.contracts.streamMarket) {
      await loadStreamBackends(o.backend ?? 'local', this.engines.values(), {accessToken: o.backendToken, log: this.log}, this.streamBackends)
      this.streams = new StreamService({
        chain,
        wallet,
        dir: this.dir,
        log: this.log,
        backends: () => this.streamBackends,
        localModel: (sha) => {
          const m = this.engines.get(sha)
          return m ? localBackend({name: m.name, sha256: m.sha256, engine: m.engine}) : undefined
        },
        mode: o.streams,
        priceFloor: (sha) => streamFloorOf(o, this.engines.get(sha)),
        redeemThreshold: o.redeemThreshold,
        limits: o.streamLimits,
        apiKey: o.apiKey,
        tokenTransform: this.ports.tokenTransform,
        sendTx: tx.send,
        now: () => clock.now(),
        stopping: () => this.draining || this.stopping,
      })
    }

    const indexer = (this.indexer = new MarketIndexer({
      provider: chain.provider,
      market: chain.network.contracts.taskMarket,
      fromBlock: chain.network.deployBlock,
      snapshotPath: join(this.dir, 'market-index.json'),
    }))
    const records = storeRecords(store)
    const domain = ogpuDomain(chain.network.chainId, chain.network.contracts.taskMarket)
    const {bidder, executor, scheduler} = composeBatchRoles({
      chain,
      wallet,
      market,
      records,
      indexer,
      clock,
      sendTx: tx.send,
      strategy,
      materials: this.materials,
      jobs: this.jobs,
      models: this.engines,
      domain,
      log: this.log,
      signal: this.abort.signal,
      options: o,
      ports: this.ports,
      state: {bidding: () => this.bidding, draining: () => this.draining, stopping: () => this.stopping, vramGiB: () => this.vramGiB},
      warnOnce: (key, message) => this.warnOnce(key, message),
    })

    const server = (this.server = await startProviderServer({
      api: async (req, res) => (this.streams ? this.streams.api.handle(req, res) : false),
      host,
      port,
      domain,
      address: me,
      source: executor.itemSource(),
      health: () => ({ok: !this.stopping, address: me, bidding: this.bidding, uptimeSeconds: Math.round((Date.now() - this.startedAt.getTime()) / 1000)}),
      status: () => this.status(),
      onError: (error) => this.log.error('http', `Request failed: ${errorText(error)}`),
      limits: o.serverLimits,
    }))
    const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
    this.localUrl = `http://${shownHost}:${server.port}`
    this.url = o.publicUrl ?? `http://127.0.0.1:${server.port}`
    const info = describeHost(o.version ?? 'dev', {verify: this.streamBackends.every((b) => b.kind === 'local')})
    const infoChanged = info.verify === false && registration.infoHash !== canonicalHash(info)
    if (registration.endpoint !== this.url || infoChanged) {
      await registerProvider(chain, wallet, {endpoint: this.url, info})
      this.log.info('register', `Updated the registered endpoint to ${this.url} (was ${registration.endpoint})`)
    }

    if (o.councilDuty !== false) {
      const pools = await joinCouncilPools({registry: withSigner(chain.registry, wallet), provider: me, models: this.engines.keys(), sendTx: tx.send, log: this.log})
      this.councilPools = [...pools.joined, ...pools.already]
      this.councilRegistry = withSigner(chain.registry, wallet)
    }

    indexer.onEvent((event) => {
      if (event.name === 'TaskSubmitted') bidder.seen(Number(event.args.taskId))
    })
    await indexer.sync()
    await clock.update()
    this.r = {store, indexer, clock, strategy, bidder, scheduler}
    await this.streams?.start()
    this.writeDaemonFile()
    this.bidding = true
    this.log.info('start', `Provider ${me} serving at ${this.localUrl} on ${chain.network.name}`, {
      url: this.url,
      strategy: strategy.name,
      models: [...this.engines.values()].map((m) => m.name).join(','),
      block: indexer.state.cursor,
    })
    this.loopPromise = this.loop()
  }

  private writeDaemonFile(): void {
    const file = {pid: process.pid, address: this.address, url: this.url, localUrl: this.localUrl, network: this.chain!.network.name, startedAt: this.startedAt.toISOString()}
    writeFileDurable(this.dir, 'daemon.json', JSON.stringify(file))
  }

  stop(reason = 'stop requested'): Promise<void> {
    this.stopPromise ??= (async () => {
      this.log.info('stop', `Stopping (${reason}): no new bids; finishing running items and council duty`)
      this.bidding = false
      this.draining = true
      await this.leaveCouncilPools()
      const grace = this.options.shutdownGraceMs ?? 15_000
      const deadline = Date.now() + grace
      while (!this.drained() && Date.now() < deadline) await sleep(100)
      if (!this.drained())
        this.log.warn('stop', `Running work did not finish within ${grace / 1000} s: cancelled (what is kept resumes after a restart)`)
      this.stopping = true
      this.jobs.close()
      this.wake?.()
      await this.loopPromise?.catch(() => {})
      // Vouchers not redeemed yet are redeemed now (the book keeps them anyway: a restart would redeem them too).
      await this.streams?.drain().catch((error: unknown) => this.log.warn('redeem', `Redeeming on shutdown failed: ${errorText(error)}`))
      this.abort.abort()
      await Promise.race([this.jobs.settled(), sleep(5000)])
      await this.tx?.settled()
      await this.cleanup()
      this.log.info('stop', 'Stopped')
    })().finally(() => this.resolveStopped())
    return this.stopPromise
  }

  /**
   * A clean stop leaves the council pools the daemon joined or found on start, so that no council is drawn with a
   * seat that nobody is there to fill (a silent seat is slashed). Seats drawn before the leave are still served while
   * draining. Never throws: a failed leave is logged and the stop goes on (a kill -9 leaves nothing either; the next
   * start finds the membership and keeps it).
   */
  private async leaveCouncilPools(): Promise<void> {
    if (!this.councilPools.length || !this.councilRegistry || !this.tx || !this.address) return
    const models = this.councilPools
    this.councilPools = []
    try {
      const left = await leaveCouncilPools({registry: this.councilRegistry, provider: this.address, models, sendTx: this.tx.send})
      if (left.length) this.log.info('council', `Left the council pool of ${left.length} model(s) while stopped: no seat is drawn for us until the next start`, {models: left.join(',')})
    } catch (error) {
      this.log.warn('council', `Leaving the council pools failed: ${errorText(error)}; seats drawn while stopped go unserved (slashed as silent)`)
    }
  }

  /**
   * Nothing left that a stop should wait for: no item running, no council check or verdict transaction in flight,
   * and no checkpoint of ours under review that the council has not fetched and committed on yet (stopping then
   * would make it unreachable: a reject).
   */
  private drained(): boolean {
    if (this.jobs.keys().some((key) => /^(execute|check|vote|reveal|commit|evaluate):/.test(key))) return false
    const pending = this.tx?.pending ?? 0
    if (pending > 0 || !this.r) return pending === 0
    const now = this.r.clock.now()
    for (const task of this.r.indexer.tasks()) {
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
    this.jobs.close()
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
    const r = this.r!
    await r.indexer.sync()
    await r.clock.update()
    this.warned.delete('tick')
    const now = r.clock.now()
    for (const task of r.indexer.tasks()) r.scheduler.consider(task, now)
    if (this.streams) {
      try {
        await this.streams.tick(r.clock.block)
        this.warned.delete('stream')
      } catch (error) {
        this.warnOnce('stream', `Stream poll failed: ${errorText(error)}`)
      }
    }
    const cursor = r.indexer.state.cursor
    if (cursor > r.store.state.cursor && Date.now() - this.cursorSavedAt > 2000) {
      this.cursorSavedAt = Date.now()
      r.store.appendSoon({t: 'cursor', block: cursor})
    }
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return
    this.warned.add(key)
    this.log.warn(key.split(':')[0]!, message)
  }

  // ------------------------------------------------------------------ status

  status(): DaemonStatus {
    const chain = this.chain!
    return buildStatus({
      address: this.address,
      version: this.options.version ?? 'dev',
      network: {name: chain.network.name, chainId: chain.network.chainId},
      url: this.url,
      startedAt: this.startedAt,
      bidding: this.bidding,
      stopping: this.stopping,
      chain: {cursor: this.indexer?.state.cursor ?? 0, time: Math.floor(this.r?.clock.now() ?? Date.now() / 1000)},
      strategy: this.r?.strategy.name ?? '',
      models: this.engines.values(),
      vramGiB: this.vramGiB,
      records: Object.values(this.store?.state.tasks ?? {}),
      tasks: this.indexer ?? {task: () => undefined, tasks: () => []},
      bidLatencies: this.r?.bidder.latencies ?? [],
      txQueue: this.tx?.pending ?? 0,
      ...(this.streams ? {streams: this.streams.status()} : {}),
    })
  }
}
