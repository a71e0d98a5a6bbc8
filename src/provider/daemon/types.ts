/** The provider daemon's public shapes: its options, its injectable ports, its status and its handle. */
import type {Wallet} from 'ethers'

import type {OgpuPaths} from '../../config/paths.js'
import type {ServerLimits} from '../../http/index.js'
import type {BenchmarkResult, GpuChoice, InferenceEngine} from '../../gpu/index.js'
import type {ItemResult} from '../../protocol/results.js'
import type {LogFormat, Logger} from '../log.js'
import type {TokenTransform} from '../stream/openai-api.js'
import type {StreamLimits} from '../stream/auth.js'
import type {StreamMode, StreamService} from '../stream/service.js'

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
  /** Join the council pool of every served model on start, so councils drawn from the pool may seat us on tasks we
   *  did not bid for. Defaults to true. */
  councilDuty?: boolean
  /** Streams to subscribe to: auto (those worth it), none, or a list of stream ids. Defaults to auto. */
  streams?: StreamMode
  /** Lowest price per 1000 generated tokens worth subscribing to, base units. Defaults to the benchmark's cost of 1000 tokens at gpuSecondPrice, plus the margin. */
  minStreamPricePer1k?: bigint
  /** Redeem a stream's voucher once its unredeemed amount reaches this, base units. Defaults to 20 × the redeem gas at the current gas price. */
  redeemThreshold?: bigint
  /** Limits of the stream API (body bytes, max_tokens, prompt tokens, rate, credit). Defaults to DEFAULT_STREAM_LIMITS. */
  streamLimits?: Partial<StreamLimits>
  /** Bounds of the HTTP server (connections per client and in all, header and request timeouts). Defaults to DEFAULT_SERVER_LIMITS. */
  serverLimits?: Partial<ServerLimits>
  /** Also serve plain OpenAI requests carrying `Authorization: Bearer KEY` (no receipt, no charge). Defaults to none. */
  apiKey?: string
  /** Where generations run: local (the loaded GGUF, default) or endpoint:URL (an OpenAI-compatible TGI/vLLM/HF endpoint; tokens from the local GGUF's tokenizer; cannot verify). */
  backend?: string
  /** Bearer token for an endpoint backend. Defaults to none. */
  backendToken?: string
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
  /**
   * Council seats with a kept verdict. Secret until revealed: before the reveal only the flags show (a verdict or a
   * sample seen early could be copied by another member without checking anything); `ogpu council status` reads the
   * verdicts from the local journal instead.
   */
  council: Array<{taskId: number; k: number; committed: boolean; revealed: boolean; verdict: 'accept' | 'reject' | null; sample: number[] | null; problems: string[] | null}>
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

/**
 * Behaviours injected into the daemon's roles. Production passes none; tests inject cheating providers through them
 * (test/fixtures/cheats.ts), so no test-only behaviour ships in the options or the CLI.
 */
export interface ProviderDaemonPorts {
  /** Executor: the result committed and served in place of the model's. Defaults to the model's result. */
  transformResult?: (engine: InferenceEngine, result: ItemResult, prompt: readonly number[]) => ItemResult
  /** Executor: awaited before each item runs. Defaults to none. */
  beforeItem?: (taskId: number, index: number) => Promise<void>
  /** Items API: whether items are served now (false answers 503). Defaults to always. */
  servingItems?: () => boolean
  /** Council: whether committed verdicts may be revealed now. Defaults to always. */
  mayReveal?: (taskId: number, k: number) => boolean
  /** Streams: rewrites each generation's tokens. Defaults to none. */
  tokenTransform?: TokenTransform
}

/** A model the daemon serves: its engine and its stored benchmark. */
export interface LoadedModel {
  name: string
  sha256: string
  path: string
  engine: InferenceEngine
  benchmark: BenchmarkResult
}
