/**
 * The client gateway's machinery, without HTTP: for one stream, answer completions through its subscribers with
 * failover, verification by the council per the stream's response method, vouchers and disputes. The HTTP server
 * (./server.ts) and `ogpu client chat` both drive it. docs/protocol.md ("The gateway: resumed responses, verification
 * and payment") describes the design. It composes the roles: generate and failover (./generate.ts), verify and
 * release (./verify.ts, ./release.ts), settlement and vouchers (./settlement.ts), disputes (./disputes.ts).
 */
import {randomBytes} from 'node:crypto'
import {join} from 'node:path'

import {getAddress, type TypedDataDomain, type Wallet} from 'ethers'

import type {ChainContext} from '../chain/context.js'
import {UserError} from '../errors/index.js'
import type {EvidenceCallBody} from '../protocol/stream.js'
import {CachedTypedDataWallet} from '../protocol/typed-data-cache.js'
import {disputeFlow} from '../stream/actions.js'
import {allowanceOf, allowanceTopUps, getStream, increaseAllowance, redeemed, type StreamInfo, streamDomain, streamMarketAddress, subscribersOf} from '../stream/chain.js'
import {formatAmount} from '../chain/units.js'
import {gatewayError, statusOf} from './caller.js'
import type {GatewayEvent, Part, StreamContext} from './context.js'
import {Disputes} from './disputes.js'
import {ResponseGenerator} from './generate.js'
import {GatewayMetrics} from './metrics.js'
import {type SubscriberRecord, SubscriberPool} from './pool.js'
import {httpProviderCalls, type ProviderCalls, type Route} from './provider-client.js'
import {ReleaseGate} from './release.js'
import {Settlement} from './settlement.js'
import {ResponseVerifier} from './verify.js'
import {VoucherBook} from './voucher-book.js'

export {gatewayError, parseCallerBody, statusOf} from './caller.js'
export type {GatewayEvent} from './context.js'
export type {Route} from './provider-client.js'

export interface GatewayOptions {
  chain: ChainContext
  /** The stream's client: signs requests, vouchers and disputes. */
  wallet: Wallet
  streamId: bigint
  /** The ogpu data dir: the voucher book and the evidence go under `{dataDir}/gateway`. */
  dataDir: string
  /** The URL council members fetch evidence from (`{publicUrl}/v1/ogpu/evidence/{digest}`). Defaults to none until the server sets it. */
  publicUrl?: string
  /** How often the subscriber list and health are refreshed, ms. Defaults to 2000. */
  healthIntervalMs?: number
  /** Longest wait for a generator's first byte, ms. Defaults to 30,000. */
  firstByteTimeoutMs?: number
  /** Longest gap between two tokens before the generator counts as dead, ms. Defaults to 30,000. */
  idleTimeoutMs?: number
  /** Longest wait for one verification, ms. Defaults to 120,000. */
  verifyTimeoutMs?: number
  /** Generators to use first when live, in this order (e.g. the client's own provider). Defaults to none: the best by latency, load and failures. */
  preferredGenerators?: readonly string[]
  /** Open disputes on failed verifications. Defaults to true. */
  disputes?: boolean
  /**
   * Keep every subscriber's allowance (the part of the deposit only it can redeem, which is all a provider counts a
   * voucher up to) at an equal share of the stream's funds: refilled from the unreserved deposit when it falls below
   * half of its share. Defaults to true; `ogpu stream allowance` sets them by hand.
   */
  allowances?: boolean
  /** The calls to providers. Defaults to HTTP (./provider-client.ts). */
  calls?: ProviderCalls
  onEvent?: (event: GatewayEvent) => void
  /** A log line (stderr of the command). Defaults to none. */
  log?: (line: string) => void
}

/** How a caller receives a completion. */
export interface CompletionHandlers {
  /** The response (its id) may go out now (called once, before the first text). */
  onRelease?: (id: string) => void
  /** Text for the caller (after onRelease), with the token ids it came from. */
  onText?: (text: string, tokens: number[]) => void
}

export interface CompletionOutcome {
  id: string
  text: string
  /** Every completion token, in order (all parts). */
  tokens: number[]
  finishReason: 'stop' | 'length'
  promptTokens: number
  /** The generators, in order (more than one after a mid-stream failover). */
  generators: string[]
  approvals: number
  required: number
}

const randomId = (): string => randomBytes(12).toString('hex')

export class StreamGateway {
  readonly metrics: GatewayMetrics
  readonly pool: SubscriberPool
  readonly book: VoucherBook
  readonly domain: TypedDataDomain
  readonly dir: string
  stream: StreamInfo
  publicUrl: string | undefined
  private readonly background = new Set<Promise<unknown>>()
  private readonly generator: ResponseGenerator
  private readonly verifier: ResponseVerifier
  private readonly settlement: Settlement
  private readonly disputes: Disputes
  private timer: NodeJS.Timeout | undefined
  private inflight = 0
  private allowancesRunning: Promise<void> | undefined
  private closed = false

  private constructor(
    private readonly options: GatewayOptions,
    stream: StreamInfo,
  ) {
    this.stream = stream
    this.publicUrl = options.publicUrl
    this.domain = streamDomain(options.chain)
    this.dir = join(options.dataDir, 'gateway')
    this.book = VoucherBook.open({dir: this.dir, chainId: options.chain.network.chainId, market: streamMarketAddress(options.chain), streamId: options.streamId, client: options.wallet.address})
    this.pool = new SubscriberPool({list: () => this.subscriberRecords(), preferred: options.preferredGenerators})
    this.metrics = new GatewayMetrics({
      liveSubscribers: () => this.pool.live().length,
      subscribers: () => this.pool.all().length,
      councilSize: () => this.stream.councilSize,
      owed: () => this.book.total,
      inflight: () => this.inflight,
    })
    const context: StreamContext = {
      streamId: options.streamId,
      // The client's wallet, signing typed data with cached encoders (requests, verify calls, vouchers, evidence).
      signer: CachedTypedDataWallet.of(options.wallet),
      domain: this.domain,
      stream: () => this.stream,
      emit: (event) => this.emit(event),
      log: (line) => this.log(line),
    }
    const calls = options.calls ?? httpProviderCalls
    const {pool, metrics, book} = this
    this.generator = new ResponseGenerator({context, pool, metrics, calls, firstByteTimeoutMs: options.firstByteTimeoutMs, idleTimeoutMs: options.idleTimeoutMs})
    this.disputes = new Disputes({
      context,
      pool,
      metrics,
      calls,
      chain: {
        openDispute: async (input) => {
          const r = await disputeFlow(options.chain, options.wallet, input)
          return {disputeId: r.disputeId, council: r.dispute.council}
        },
        endpointOf: async (provider) => (await options.chain.registry.providerOf(provider)).endpoint || undefined,
      },
      evidenceDir: join(this.dir, 'evidence'),
      publicUrl: () => this.publicUrl,
      enabled: options.disputes,
    })
    this.settlement = new Settlement({context, book, pool, metrics, calls, dispute: (part) => this.disputes.submit(part)})
    this.verifier = new ResponseVerifier({context, pool, metrics, calls, auditCharge: (p, stated, computed) => this.settlement.auditCharge(p, stated, computed), verifyTimeoutMs: options.verifyTimeoutMs})
  }

  /** Opens the gateway of a stream: checks the stream and the wallet, reads the subscribers, starts health checks. */
  static async open(options: GatewayOptions): Promise<StreamGateway> {
    const stream = await getStream(options.chain, options.streamId)
    if (stream.status !== 'active')
      throw new UserError(`Stream ${options.streamId} is ${stream.status}: it takes no more requests.`, {code: 'STREAM_NOT_ACTIVE', hint: 'Create a new stream with `ogpu stream create SPEC.yaml`.'})
    if (getAddress(stream.client) !== getAddress(options.wallet.address))
      throw new UserError(`Stream ${options.streamId} belongs to ${stream.client}, not to the wallet ${options.wallet.address}.`, {
        code: 'NOT_STREAM_CLIENT',
        hint: "Run the gateway with the stream client's wallet (--wallet NAME).",
      })
    const gateway = new StreamGateway(options, stream)
    await gateway.pool.refresh()
    await gateway.keepAllowances().catch((error) => gateway.log(`allowances failed: ${(error as Error).message}`))
    // The book never signs below what a provider already redeemed on chain (a lost or stale book).
    for (const s of gateway.pool.all()) gateway.book.raiseTo(s.address, await redeemed(options.chain, options.streamId, s.address))
    const interval = options.healthIntervalMs ?? 2000
    gateway.timer = setInterval(() => void gateway.refresh().catch((error) => gateway.log(`refresh failed: ${(error as Error).message}`)), interval)
    gateway.timer.unref()
    return gateway
  }

  private log(line: string): void {
    this.options.log?.(line)
  }

  private emit(event: GatewayEvent): void {
    this.options.onEvent?.(event)
  }

  /** Rereads the stream's terms and subscribers, and probes their health. */
  async refresh(): Promise<void> {
    this.stream = await getStream(this.options.chain, this.options.streamId)
    await this.pool.refresh()
    await this.keepAllowances()
  }

  /**
   * Tops the subscribers' allowances up to an equal share of the stream's funds (src/stream/chain.ts
   * allowanceTopUps), one transaction at a time; a call while one runs waits for it.
   */
  keepAllowances(): Promise<void> {
    if (this.options.allowances === false || this.stream.status !== 'active') return Promise.resolve()
    this.allowancesRunning ??= (async () => {
      const {chain, wallet, streamId} = this.options
      const current = await Promise.all(this.pool.all().map((s) => allowanceOf(chain, streamId, s.address)))
      const plan = allowanceTopUps(this.stream.deposit, current.map((a) => ({provider: a.provider, left: a.surelyRedeemable})))
      for (const step of plan) {
        const result = await increaseAllowance(chain, wallet, streamId, step.provider, step.amount)
        this.log(`allowance of ${step.provider} on stream ${streamId} raised by ${formatAmount(step.amount)} to ${formatAmount(result.allowance)} oGPU (tx ${result.txHash})`)
        this.emit({type: 'allowance', provider: step.provider, amount: step.amount.toString(), allowance: result.allowance.toString()})
      }
      if (plan.length > 0) this.stream = await getStream(chain, streamId)
    })().finally(() => (this.allowancesRunning = undefined))
    return this.allowancesRunning
  }

  private async subscriberRecords(): Promise<SubscriberRecord[]> {
    const addresses = await subscribersOf(this.options.chain, this.options.streamId)
    return Promise.all(
      addresses.map(async (address) => {
        const p = await this.options.chain.registry.providerOf(address)
        return {address: getAddress(address), endpoint: p.registered && p.endpoint ? p.endpoint.replace(/\/+$/, '') : null}
      }),
    )
  }

  /** Why the stream cannot serve now (fewer than c live subscribers), or undefined when it can. */
  unavailableReason(): string | undefined {
    const c = this.stream.councilSize
    const live = this.pool.live().length
    if (live >= c) return undefined
    const down = this.pool
      .all()
      .filter((s) => !s.live)
      .map((s) => `${s.address}: ${s.reason}`)
    return `Stream ${this.options.streamId} has ${live} live subscriber${live === 1 ? '' : 's'} of the ${c} its council needs${down.length ? ` (${down.join('; ')})` : ''}.`
  }

  /** Waits for the verifications, vouchers and disputes still running in the background. */
  async idle(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background])
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.background.add(promise)
    void promise.finally(() => this.background.delete(promise)).catch(() => {})
    return promise
  }

  /** Evidence of a disputed receipt, by its digest (served to council members). */
  evidence(digest: string): EvidenceCallBody | undefined {
    return this.disputes.evidence(digest)
  }

  /**
   * Answers one completion. Text goes to `handlers.onText` once the response method allows (optimistic: as it comes;
   * weighted/unanimous: after the approvals). Throws an error with an HTTP status ({@link statusOf}) when no response
   * can be given; after onRelease, an error means the stream to the caller broke off.
   */
  async complete(route: Route, callerBody: Record<string, unknown>, handlers: CompletionHandlers = {}, signal?: AbortSignal): Promise<CompletionOutcome> {
    if (this.closed) throw gatewayError(503, 'gateway_closed', 'The gateway is shutting down.')
    this.inflight++
    try {
      return await this.completeInner(route, callerBody, handlers, signal)
    } finally {
      this.inflight--
    }
  }

  private async completeInner(route: Route, callerBody: Record<string, unknown>, handlers: CompletionHandlers, signal?: AbortSignal): Promise<CompletionOutcome> {
    const id = `${route === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomId()}`
    const started = performance.now()
    if (this.unavailableReason()) await this.pool.refresh()
    const unavailable = this.unavailableReason()
    if (unavailable) throw gatewayError(503, 'stream_interrupted', unavailable, 'Wait for subscribers to come back, or raise the price so that more providers subscribe.')
    const method = this.stream.responseMethod
    const base = {...callerBody, stream: true}
    delete (base as Record<string, unknown>).stream_options
    const rejectedGenerators = new Set<string>()
    let released = false
    let firstText = true
    const release = (gate: ReleaseGate) => {
      if (released) return
      released = true
      this.emit({type: 'release', id, approvals: gate.approvals, required: gate.required})
      handlers.onRelease?.(id)
    }
    const sendText = (text: string, tokens: number[]) => {
      if (firstText && text !== '') {
        firstText = false
        this.metrics.timeToFirstToken.observe((performance.now() - started) / 1000)
      }
      handlers.onText?.(text, tokens)
    }
    let lastFailure = 'no generator answered'
    // Rounds: a whole response (with its failovers) per round; a round that fails verification before release starts over elsewhere.
    for (let round = 0; round < Math.max(1, this.pool.all().length); round++) {
      const gate = new ReleaseGate(method, this.stream.councilSize, this.stream.weightBps)
      const buffered: Array<[string, number[]]> = []
      const onText = (text: string, tokens: number[]) => {
        if (method === 'optimistic') {
          release(gate)
          sendText(text, tokens)
        } else buffered.push([text, tokens])
      }
      let parts: Part[]
      try {
        parts = await this.generator.generate({id, route, base, exclude: rejectedGenerators, onText, signal})
      } catch (error) {
        if (released || round === 0 || statusOf(error) < 500) throw error
        throw gatewayError(502, 'verification_failed', `No generator's response passed verification (${lastFailure}).`)
      }
      const final = parts.at(-1)!
      if (method === 'optimistic') {
        // Verified after the release: the verify calls start on the next turn of the event loop, once the caller's
        // response has been ended, so that signing them does not delay its last bytes.
        const verified = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.verifier.verify(id, parts, gate).settled)
        this.track(verified.then((reports) => this.settlement.settle(id, parts, reports, {released: true})))
      } else {
        const verification = this.verifier.verify(id, parts, gate)
        const decision = await verification.decided
        this.track(verification.settled.then((reports) => this.settlement.settle(id, parts, reports, {released: decision === 'release'})))
        if (decision !== 'release') {
          for (const p of parts) rejectedGenerators.add(p.provider)
          lastFailure = `${final.provider}'s response got ${gate.approvals} of the ${gate.required} approvals it needs (${gate.rejections} rejected, ${gate.abstentions} did not answer)`
          this.metrics.failovers.inc({kind: 'rejected'})
          this.metrics.responses.inc({method, outcome: 'failed'})
          this.log(`${id}: ${lastFailure}; trying another generator`)
          continue
        }
        release(gate)
        for (const [text, tokens] of buffered) sendText(text, tokens)
      }
      if (method === 'optimistic') release(gate)
      const tokens = parts.flatMap((p) => p.tokens)
      this.metrics.responses.inc({method, outcome: 'released'})
      // The final part's prompt is the caller's prompt plus the resumed tokens.
      const promptTokens = final.end!.receipt.promptTokens - (tokens.length - final.tokens.length)
      this.metrics.tokens.inc({}, tokens.length)
      this.metrics.promptTokens.inc({}, promptTokens)
      this.emit({type: 'done', id, tokens, generators: parts.map((p) => p.provider)})
      return {
        id,
        text: parts.map((p) => p.text).join(''),
        tokens,
        finishReason: final.end!.finishReason,
        promptTokens,
        generators: parts.map((p) => p.provider),
        approvals: gate.approvals,
        required: gate.required,
      }
    }
    throw gatewayError(502, 'verification_failed', `No generator's response passed verification (${lastFailure}).`)
  }

  /** Stops the health checks and waits for background work (verifications, vouchers, disputes). */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearInterval(this.timer)
    await this.idle()
    this.book.close()
  }
}

