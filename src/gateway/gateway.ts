/**
 * The client gateway's machinery, without HTTP: for one stream, answer completions through its subscribers with
 * failover, verification by the council per the stream's response method, vouchers and disputes. The HTTP server
 * (./server.ts) and `ogpu client chat` both drive it. docs/protocol.md ("The gateway: resumed responses, verification
 * and payment") describes the design.
 */
import {randomBytes} from 'node:crypto'
import {existsSync, mkdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'

import {getAddress, type TypedDataDomain, type Wallet} from 'ethers'

import type {ChainContext} from '../chain/context.js'
import {ExternalError, isOgpuError, type OgpuError, UserError} from '../errors/index.js'
import {httpStatusOf} from '../http/index.js'
import {writeFileDurable} from '../storage/index.js'
import {
  bodyHashOf,
  type EvidenceCallBody,
  generationCharge,
  newRequestId,
  type OgpuResponseEnd,
  receiptDigest,
  recoverAttestation,
  recoverReceipt,
  responseHashOf,
  signVoucher,
  toReceipt,
  verificationCharge,
} from '../protocol/stream.js'
import {CachedTypedDataWallet} from '../protocol/typed-data-cache.js'
import {getStream, openDispute, redeemed, type StreamInfo, streamDomain, streamMarketAddress, subscribersOf} from '../stream/chain.js'
import {GatewayMetrics} from './metrics.js'
import {type SubscriberRecord, SubscriberPool} from './pool.js'
import {generateOn, postEvidence, postVoucher, ProviderCallError, type Route, verifyOn} from './provider-client.js'
import {ReleaseGate} from './release.js'
import {VoucherBook} from './voucher-book.js'

export type {Route} from './provider-client.js'

/** An error with the HTTP status the gateway answers its caller (OpenAI's error JSON with `code`). */
export function gatewayError(status: number, code: string, message: string, hint?: string): OgpuError {
  const options = {code, hint, details: {status}}
  return status < 500 ? new UserError(message, options) : new ExternalError(message, options)
}

/** The HTTP status of an error from the gateway (500 when it carries none). */
export const statusOf = (error: unknown): number => httpStatusOf(error)

/** What the gateway reports as it works (tests and logs follow it). */
export type GatewayEvent =
  | {type: 'generator'; id: string; provider: string; part: number; resumeTokens: number}
  | {type: 'failover'; id: string; provider: string; kind: 'before_first_token' | 'mid_stream' | 'bad_receipt'; reason: string}
  | {type: 'generated'; id: string; provider: string; part: number; tokens: number}
  | {type: 'verdict'; id: string; verifier: string; outcome: 'approved' | 'rejected' | 'abstained'; reason?: string}
  | {type: 'release'; id: string; approvals: number; required: number}
  | {type: 'rejected'; id: string; provider: string; released: boolean}
  | {type: 'done'; id: string; tokens: number[]; generators: string[]}
  | {type: 'voucher'; provider: string; cumulative: string; delivered: boolean; reason?: string}
  | {type: 'dispute'; provider: string; digest: string; disputeId?: string; error?: string}
  | {type: 'charge_mismatch'; provider: string; stated: string; computed: string}

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

/** One generator's share of a response. */
interface Part {
  provider: string
  endpoint: string
  body: string
  requestId: string
  tokens: number[]
  text: string
  /** The receipt (null when the generator died mid-stream). */
  end: OgpuResponseEnd | null
}

interface VerifierReport {
  verifier: string
  outcome: 'approved' | 'rejected' | 'abstained'
  reason?: string
  /** Charges of the attestations it signed, wei. */
  charge: bigint
  /** Parts it rejected (indexes). */
  rejectedParts: number[]
}

const randomId = (): string => randomBytes(12).toString('hex')

/** Parses and checks what a caller sent (the provider checks the rest and its 400 goes back to the caller). */
export function parseCallerBody(route: Route, raw: string | Record<string, unknown>): Record<string, unknown> {
  let body: unknown = raw
  if (typeof raw === 'string') {
    try {
      body = JSON.parse(raw)
    } catch (error) {
      throw gatewayError(400, 'invalid_request', `The request body is not JSON (${(error as Error).message}).`)
    }
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw gatewayError(400, 'invalid_request', 'The request body must be a JSON object.')
  const b = body as Record<string, unknown>
  if (route === 'chat' && (!Array.isArray(b.messages) || b.messages.length === 0)) throw gatewayError(400, 'invalid_request', 'messages must be a non-empty array.')
  if (route === 'completions' && typeof b.prompt !== 'string' && !Array.isArray(b.prompt)) throw gatewayError(400, 'invalid_request', 'prompt must be a string or an array of token ids.')
  if (b.stream !== undefined && typeof b.stream !== 'boolean') throw gatewayError(400, 'invalid_request', 'stream must be a boolean.')
  if (b.ogpu !== undefined) throw gatewayError(400, 'invalid_request', 'ogpu is reserved for the gateway.')
  return b
}

export class StreamGateway {
  readonly metrics: GatewayMetrics
  readonly pool: SubscriberPool
  readonly book: VoucherBook
  readonly domain: TypedDataDomain
  readonly dir: string
  stream: StreamInfo
  publicUrl: string | undefined
  private readonly background = new Set<Promise<unknown>>()
  private readonly voucherQueues = new Map<string, Promise<void>>()
  private disputeQueue: Promise<unknown> = Promise.resolve()
  /** The client's wallet, signing typed data with cached encoders (requests, verify calls, vouchers, evidence). */
  private readonly signer: Wallet
  private timer: NodeJS.Timeout | undefined
  private inflight = 0
  private closed = false

  private constructor(
    private readonly options: GatewayOptions,
    stream: StreamInfo,
  ) {
    this.stream = stream
    this.signer = CachedTypedDataWallet.of(options.wallet)
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
    if (!/^0x[0-9a-fA-F]{64}$/.test(digest)) return undefined
    const file = join(this.dir, 'evidence', `${digest.toLowerCase()}.json`)
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as EvidenceCallBody) : undefined
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
        parts = await this.generate(id, route, base, rejectedGenerators, onText, signal)
      } catch (error) {
        if (released || round === 0 || statusOf(error) < 500) throw error
        throw gatewayError(502, 'verification_failed', `No generator's response passed verification (${lastFailure}).`)
      }
      const final = parts.at(-1)!
      if (method === 'optimistic') {
        // Verified after the release: the verify calls start on the next turn of the event loop, once the caller's
        // response has been ended, so that signing them does not delay its last bytes.
        const verified = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.verify(id, parts, gate).settled)
        this.track(verified.then((reports) => this.settle(id, parts, reports, {released: true})))
      } else {
        const verification = this.verify(id, parts, gate)
        const decision = await verification.decided
        this.track(verification.settled.then((reports) => this.settle(id, parts, reports, {released: decision === 'release'})))
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

  /** Generates one whole response, failing over before the first token and resuming after it. */
  private async generate(
    id: string,
    route: Route,
    base: Record<string, unknown>,
    exclude: ReadonlySet<string>,
    onText: (text: string, tokens: number[]) => void,
    signal?: AbortSignal,
  ): Promise<Part[]> {
    const parts: Part[] = []
    const tried = new Set(exclude)
    let lastError = 'no live subscriber left to generate'
    for (;;) {
      if (signal?.aborted) throw gatewayError(499, 'cancelled', 'The caller cancelled the request.')
      const generator = this.pool.chooseGenerator(tried)
      if (!generator) {
        const fault = parts.length > 0 ? `the response broke off after ${parts.flatMap((p) => p.tokens).length} tokens and no subscriber could resume it` : 'no subscriber could generate it'
        throw gatewayError(503, 'no_generator', `Stream ${this.options.streamId}: ${fault} (last error: ${lastError}).`)
      }
      tried.add(generator.address)
      const resumeTokens = parts.flatMap((p) => p.tokens)
      const body = JSON.stringify(resumeTokens.length > 0 ? {...base, ogpu: {resumeTokens}} : base)
      this.emit({type: 'generator', id, provider: generator.address, part: parts.length, resumeTokens: resumeTokens.length})
      const end = this.pool.begin(generator.address)
      const requestId = newRequestId()
      const partTokens: number[] = []
      let partText = ''
      const started = performance.now()
      let firstAt: number | undefined
      try {
        const result = await generateOn(
          {
            endpoint: generator.endpoint!,
            signer: this.signer,
            domain: this.domain,
            streamId: this.options.streamId,
            route,
            body,
            requestId,
            signal,
            firstByteTimeoutMs: this.options.firstByteTimeoutMs ?? 30_000,
            idleTimeoutMs: this.options.idleTimeoutMs ?? 30_000,
          },
          {
            onChunk: (text, tokens) => {
              firstAt ??= performance.now()
              partTokens.push(...tokens)
              partText += text
              onText(text, tokens)
            },
          },
        )
        const problem = this.checkReceipt(result.end, generator.address, body, result.requestId, result.tokens)
        if (problem) {
          // A receipt that does not sign what was streamed: the part is unpaid and unverifiable; resume after it.
          this.pool.failed(generator.address, problem)
          this.metrics.failovers.inc({kind: 'bad_receipt'})
          this.emit({type: 'failover', id, provider: generator.address, kind: 'bad_receipt', reason: problem})
          lastError = problem
          if (result.end.finishReason === 'stop' || resumeTokens.length + partTokens.length >= maxTokensOf(base)) {
            throw gatewayError(502, 'bad_receipt', `${generator.address} ended the response with a bad receipt: ${problem}.`)
          }
          parts.push({provider: generator.address, endpoint: generator.endpoint!, body, requestId: result.requestId, tokens: partTokens, text: partText, end: null})
          continue
        }
        this.pool.succeeded(generator.address, (firstAt ?? performance.now()) - started)
        parts.push({provider: generator.address, endpoint: generator.endpoint!, body, requestId: result.requestId, tokens: result.tokens, text: result.text, end: result.end})
        this.emit({type: 'generated', id, provider: generator.address, part: parts.length - 1, tokens: result.tokens.length})
        return parts
      } catch (error) {
        if (signal?.aborted) throw gatewayError(499, 'cancelled', 'The caller cancelled the request.')
        if (isOgpuError(error)) throw error
        const e = error instanceof ProviderCallError ? error : new ProviderCallError((error as Error).message)
        if (e.details.callerFault) throw gatewayError(e.details.status ?? 400, e.details.code ?? 'invalid_request', e.message.replace(/^.*? answered \d+ \w*: /, ''))
        lastError = e.message
        this.pool.failed(generator.address, e.message, {down: e.details.unreachable === true})
        const kind = partTokens.length === 0 ? 'before_first_token' : 'mid_stream'
        this.metrics.failovers.inc({kind})
        this.emit({type: 'failover', id, provider: generator.address, kind, reason: e.message})
        this.log(`${id}: ${generator.address} failed ${kind === 'mid_stream' ? `after ${partTokens.length} tokens` : 'before its first token'}: ${e.message}`)
        if (partTokens.length > 0) parts.push({provider: generator.address, endpoint: generator.endpoint!, body, requestId, tokens: partTokens, text: partText, end: null})
      } finally {
        end()
      }
    }
  }

  /** What is wrong with a generator's receipt, or undefined when it signs exactly what was streamed. */
  private checkReceipt(end: OgpuResponseEnd, provider: string, body: string, requestId: string, tokens: number[]): string | undefined {
    try {
      const receipt = toReceipt(end.receipt)
      if (receipt.streamId !== this.options.streamId) return `the receipt names stream ${receipt.streamId}`
      if (receipt.requestId.toLowerCase() !== requestId.toLowerCase()) return 'the receipt names another request id'
      if (receipt.completionTokens !== tokens.length) return `the receipt counts ${receipt.completionTokens} tokens, ${tokens.length} were streamed`
      if (receipt.responseHash !== responseHashOf(bodyHashOf(body), tokens)) return 'the receipt\'s response hash is not that of the streamed tokens'
      const signer = recoverReceipt(this.domain, receipt, end.signature)
      if (signer !== getAddress(provider)) return `the receipt is signed by ${signer}`
      return undefined
    } catch (error) {
      return `the receipt cannot be read (${(error as Error).message})`
    }
  }

  /**
   * Asks c − 1 other live subscribers to verify every part. `decided` settles when the release gate decides (or
   * every verifier answered); `settled` when every verifier answered.
   */
  private verify(id: string, parts: Part[], gate: ReleaseGate): {decided: Promise<'release' | 'fail'>; settled: Promise<VerifierReport[]>} {
    const generators = new Set(parts.map((p) => p.provider))
    const verifiers = this.pool.chooseVerifiers(gate.verifiers, generators)
    let decide!: (d: 'release' | 'fail') => void
    const decided = new Promise<'release' | 'fail'>((resolve) => (decide = resolve))
    const after = (d: ReturnType<ReleaseGate['decision']>) => {
      if (d !== 'wait') decide(d)
      else if (gate.settled) decide('fail')
    }
    for (let i = verifiers.length; i < gate.verifiers; i++) {
      this.metrics.verifications.inc({outcome: 'abstained'})
      this.emit({type: 'verdict', id, verifier: '', outcome: 'abstained', reason: 'not enough live subscribers to verify'})
      gate.abstain()
    }
    after(gate.decision())
    const settled = Promise.all(
      verifiers.map(async (v) => {
        const report = await this.verifyWith(v.address, v.endpoint!, parts)
        this.metrics.verifications.inc({outcome: report.outcome})
        this.emit({type: 'verdict', id, verifier: v.address, outcome: report.outcome, ...(report.reason ? {reason: report.reason} : {})})
        after(report.outcome === 'approved' ? gate.approve() : report.outcome === 'rejected' ? gate.reject() : gate.abstain())
        return report
      }),
    )
    return {decided, settled}
  }

  private async verifyWith(verifier: string, endpoint: string, parts: Part[]): Promise<VerifierReport> {
    const report: VerifierReport = {verifier, outcome: 'approved', charge: 0n, rejectedParts: []}
    const done = this.pool.begin(verifier)
    try {
      for (const [index, part] of parts.entries()) {
        const requestId = part.requestId
        const result = await verifyOn({
          endpoint,
          signer: this.signer,
          domain: this.domain,
          streamId: this.options.streamId,
          request: {body: part.body, tokens: part.tokens, requestId, ...(part.end ? {} : {allowPrefix: true})},
          timeoutMs: this.options.verifyTimeoutMs ?? 120_000,
        })
        const expected = responseHashOf(bodyHashOf(part.body), part.tokens)
        const attestation = {streamId: BigInt(result.attestation.streamId), requestId: result.attestation.requestId, responseHash: result.attestation.responseHash, valid: result.attestation.valid}
        let signer: string | undefined
        try {
          signer = recoverAttestation(this.domain, attestation, result.signature)
        } catch {
          signer = undefined
        }
        if (signer !== getAddress(verifier) || attestation.streamId !== this.options.streamId || attestation.responseHash !== expected || attestation.requestId.toLowerCase() !== requestId.toLowerCase() || attestation.valid !== result.valid)
          return {...report, outcome: 'abstained', reason: 'its attestation is not signed by it or does not name this response'}
        const computed = verificationCharge(result.promptTokens, part.tokens.length, this.stream.pricePerKTokenVerified)
        this.checkCharge(verifier, result.charge, computed)
        report.charge += computed
        if (!result.valid) {
          report.outcome = 'rejected'
          report.rejectedParts.push(index)
          const f = result.firstFailure
          report.reason = f ? `part ${index}: token ${f.position} ${f.reason}` : `part ${index} is invalid`
        }
      }
      this.pool.succeeded(verifier)
      return report
    } catch (error) {
      this.pool.failed(verifier, (error as Error).message, {down: error instanceof ProviderCallError && error.details.unreachable === true})
      return {...report, outcome: 'abstained', reason: (error as Error).message}
    } finally {
      done()
    }
  }

  private checkCharge(provider: string, stated: string, computed: bigint): void {
    if (stated === computed.toString()) return
    this.metrics.chargeMismatches.inc()
    this.emit({type: 'charge_mismatch', provider, stated, computed: computed.toString()})
    this.log(`${provider} stated a charge of ${stated} wei; the gateway computes ${computed} wei and pays that`)
  }

  /** After every verifier answered: pay who worked, dispute a rejected receipt. */
  private async settle(id: string, parts: Part[], reports: VerifierReport[], state: {released: boolean}): Promise<void> {
    const owed = new Map<string, bigint>()
    const add = (provider: string, amount: bigint) => owed.set(provider, (owed.get(provider) ?? 0n) + amount)
    for (const r of reports) if (r.charge > 0n) add(r.verifier, r.charge)
    const finalIndex = parts.length - 1
    const final = parts[finalIndex]!
    const rejected = reports.some((r) => r.rejectedParts.includes(finalIndex))
    if (final.end) {
      if (rejected) {
        this.metrics.responses.inc({method: this.stream.responseMethod, outcome: state.released ? 'rejected_after_release' : 'rejected'})
        this.emit({type: 'rejected', id, provider: final.provider, released: state.released})
        this.log(`${id}: ${final.provider}'s response failed verification${state.released ? ' after it was released' : ''}; disputing it`)
        if (this.options.disputes !== false) this.disputeQueue = this.disputeQueue.then(() => this.dispute(final)).catch(() => {})
        await this.disputeQueue
      } else {
        const computed = generationCharge(final.end.receipt.completionTokens, this.stream.pricePerKTokenGenerated)
        this.checkCharge(final.provider, final.end.charge, computed)
        add(final.provider, computed)
      }
    }
    await this.pay([...owed].filter(([, amount]) => amount > 0n))
  }

  /**
   * Credits the providers durably (one write for all), then signs each one's new cumulative voucher and sends it (one
   * at a time per provider).
   */
  private pay(amounts: Array<[string, bigint]>): Promise<unknown> {
    if (amounts.length === 0) return Promise.resolve()
    this.book.creditMany(amounts)
    return Promise.all(
      amounts.map(([provider]) => {
        const previous = this.voucherQueues.get(provider) ?? Promise.resolve()
        const next = previous.then(() => this.deliver(provider))
        this.voucherQueues.set(provider, next)
        return next
      }),
    )
  }

  private async deliver(provider: string): Promise<void> {
    const entry = this.book.get(provider)
    if (entry.delivered >= entry.cumulative) return
    const signature = entry.signature ?? (await signVoucher(this.signer, this.domain, {streamId: this.options.streamId, provider: entry.provider, cumulativeAmount: entry.cumulative}))
    this.book.signed(provider, entry.cumulative, signature)
    const endpoint = this.pool.get(entry.provider)?.endpoint
    try {
      if (!endpoint) throw new Error('it has no endpoint')
      await postVoucher(endpoint, {streamId: this.options.streamId.toString(), cumulativeAmount: entry.cumulative.toString(), signature}, 30_000)
      this.book.delivered(provider, entry.cumulative)
      this.metrics.vouchers.inc({outcome: 'delivered'})
      this.emit({type: 'voucher', provider: entry.provider, cumulative: entry.cumulative.toString(), delivered: true})
    } catch (error) {
      // Kept in the book: the next voucher to this provider carries the whole amount.
      this.metrics.vouchers.inc({outcome: 'failed'})
      this.emit({type: 'voucher', provider: entry.provider, cumulative: entry.cumulative.toString(), delivered: false, reason: (error as Error).message})
      this.log(`voucher of ${entry.cumulative} wei to ${entry.provider} not delivered: ${(error as Error).message}`)
    }
  }

  /** Writes the evidence, pushes it to the dispute's council, and opens the dispute on chain. */
  private async dispute(part: Part): Promise<void> {
    const end = part.end!
    const receipt = toReceipt(end.receipt)
    const digest = receiptDigest(this.domain, receipt)
    const evidence: EvidenceCallBody = {receipt: end.receipt, signature: end.signature, provider: getAddress(part.provider), body: part.body, tokens: part.tokens}
    try {
      const evidenceDir = join(this.dir, 'evidence')
      mkdirSync(evidenceDir, {recursive: true})
      writeFileDurable(evidenceDir, `${digest.toLowerCase()}.json`, `${JSON.stringify(evidence)}\n`)
      // The council: the first min(c, n − 1) other subscribers in subscription order (IStreamMarket.openDispute).
      const subscribers = (await subscribersOf(this.options.chain, this.options.streamId)).map((a) => getAddress(a))
      const council = subscribers.filter((a) => a !== getAddress(part.provider)).slice(0, this.stream.councilSize)
      await Promise.all(
        council.map(async (member) => {
          const endpoint = this.pool.get(member)?.endpoint
          if (!endpoint) return
          await postEvidence({endpoint, signer: this.signer, domain: this.domain, streamId: this.options.streamId, evidence, timeoutMs: 30_000}).catch((error) =>
            this.log(`evidence not delivered to council member ${member}: ${(error as Error).message}`),
          )
        }),
      )
      const evidenceUri = this.publicUrl ? `${this.publicUrl.replace(/\/+$/, '')}/v1/ogpu/evidence/${digest}` : `ogpu-evidence:${digest}`
      const result = await openDispute(this.options.chain, this.options.wallet, {provider: part.provider, receipt, signature: end.signature, evidenceUri})
      this.metrics.disputes.inc({outcome: 'opened'})
      this.emit({type: 'dispute', provider: getAddress(part.provider), digest, disputeId: result.disputeId.toString()})
      this.log(`dispute ${result.disputeId} opened on ${part.provider}'s receipt ${digest}`)
    } catch (error) {
      this.metrics.disputes.inc({outcome: 'failed'})
      this.emit({type: 'dispute', provider: getAddress(part.provider), digest, error: (error as Error).message})
      this.log(`dispute on ${part.provider}'s receipt ${digest} failed: ${(error as Error).message}`)
    }
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

function maxTokensOf(body: Record<string, unknown>): number {
  const value = body.max_completion_tokens ?? body.max_tokens
  return typeof value === 'number' ? value : Number.POSITIVE_INFINITY
}
