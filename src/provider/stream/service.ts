/**
 * The daemon's stream side: the API (./openai-api.ts), the stream cache fed by the StreamMarket's events, the
 * subscriptions (./subscriptions: decideStreamSubscription in ../strategy.ts), the redeemer and the dispute duty
 * (./disputes.ts). The daemon calls `tick()` from its loop; everything here is level-triggered like the batch side:
 * a restarted daemon re-reads the chain and its book and carries on (subscriptions are the chain's, vouchers and
 * salts are the book's).
 */
import {join} from 'node:path'

import type {ContractTransactionResponse, TransactionReceipt, Wallet} from 'ethers'

import {eventsIn} from '../../chain/contracts/events.js'
import type {StreamMarket} from '../../chain/contracts/stream-market.js'

import {readStake} from '../../chain/account.js'
import type {ChainContext} from '../../chain/context.js'
import {errorText, revertArgsOf, revertOf} from '../../chain/errors.js'
import {formatAmount} from '../../chain/units.js'
import {ogpuDomain} from '../../protocol/eip712.js'
import {Jobs} from '../jobs.js'
import type {Logger} from '../log.js'
import {decideStreamSubscription} from '../strategy.js'
import type {StreamLimits} from './auth.js'
import type {StreamBackend} from './backend.js'
import {openStreamBook, redeemedRecord, type StreamBookRecord, type StreamBookStore, unpaidOf, unredeemedOf} from './book.js'
import {DisputeDuty} from './disputes.js'
import {StreamCache, streamEventPages, type StreamEvent, type StreamInfo, streamMarketContract} from './market.js'
import {StreamApi, type TokenTransform} from './openai-api.js'

/** Gas of one redeem transaction (measured: 61,940; contracts/README.md). */
export const REDEEM_GAS = 62_000n
/** Most vouchers per redeemMany (the contract's MAX_REDEEM_BATCH). */
export const MAX_REDEEM_BATCH = 32

export type StreamMode = 'auto' | 'none' | bigint[]

export interface StreamServiceOptions {
  chain: ChainContext
  /** The provider's wallet, connected to the chain's provider. */
  wallet: Wallet
  /** The provider's state directory. */
  dir: string
  log: Logger
  backends: () => StreamBackend[]
  /** The model this provider runs itself (its GGUF loaded here), by sha256: a dispute seat verifies with it even when
   *  the API is served by a remote backend. Defaults to the local stream backends only. */
  localModel?: (sha256: string) => StreamBackend | undefined
  /** auto (default): subscribe to streams worth it; none; or these stream ids. */
  mode?: StreamMode
  /** Lowest price per 1k generated tokens worth subscribing to, wei, by model sha256. */
  priceFloor: (sha256: string) => bigint
  /** Redeem a stream's voucher once its unredeemed amount reaches this, wei. Defaults to 20 × the redeem gas at the current gas price (oGPU and the gas token taken at par). */
  redeemThreshold?: bigint
  limits?: Partial<StreamLimits>
  apiKey?: string
  /** Rewrites each generation's tokens (tests inject cheats, test/fixtures/cheats.ts). Defaults to none. */
  tokenTransform?: TokenTransform
  /** Sends a transaction through the daemon's one-at-a-time queue. */
  sendTx: (what: string, send: () => Promise<ContractTransactionResponse>, onSent?: (hash: string) => void) => Promise<TransactionReceipt>
  /** The chain's time, unix seconds. */
  now: () => number
  stopping: () => boolean
}


export class StreamService {
  readonly api: StreamApi
  readonly book: StreamBookStore
  readonly cache: StreamCache
  readonly market: StreamMarket
  readonly domain
  private readonly disputes: DisputeDuty
  private cursor: number
  private readonly jobs: Jobs
  private gasPrice: {value: bigint; at: number} = {value: 0n, at: 0}
  private readonly considered = new Set<string>()
  /** Streams where the client announced a decrease of this provider's allowance: redeem what it no longer covers now. */
  private readonly urgent = new Set<string>()

  constructor(private readonly options: StreamServiceOptions) {
    this.jobs = new Jobs({onError: (key, error) => options.log.error('stream', `${key} failed: ${errorText(error)}`)})
    const {chain} = options
    const address = chain.network.contracts.streamMarket!
    this.market = streamMarketContract(address, options.wallet)
    this.domain = ogpuDomain(chain.network.chainId, address)
    this.cache = new StreamCache(streamMarketContract(address, chain.provider), options.wallet.address)
    this.book = openStreamBook(options.dir)
    this.cursor = Math.max(0, chain.network.deployBlock - 1)
    this.api = new StreamApi({
      domain: this.domain,
      wallet: options.wallet,
      streams: this.cache,
      book: this.book,
      backends: options.backends,
      evidenceDir: join(options.dir, 'evidence'),
      limits: options.limits,
      apiKey: options.apiKey,
      stopping: options.stopping,
      tokenTransform: options.tokenTransform,
      onError: (error) => options.log.error('stream', `Request failed: ${errorText(error)}`),
    })
    this.disputes = new DisputeDuty({
      market: this.market,
      domain: this.domain,
      book: this.book,
      address: options.wallet.address,
      evidenceDir: join(options.dir, 'evidence'),
      backends: options.backends,
      localModel: options.localModel,
      log: options.log,
      sendTx: options.sendTx,
      now: options.now,
      spawn: (key, job) => this.jobs.spawn(key, job),
      due: (key, ms) => this.jobs.due(key, ms),
    })
  }

  get address(): string {
    return this.options.wallet.address
  }

  /** Reads what the book knows against the chain (redeemed amounts). */
  async start(): Promise<void> {
    const {recovery} = this.book
    if (recovery.snapshotSeq > 0 || recovery.replayed > 0)
      this.options.log.info('stream', `Recovered the stream book: ${Object.keys(this.book.state.streams).length} stream(s)`, {replayed: recovery.replayed})
    await Promise.all(Object.keys(this.book.state.streams).map((id) => this.syncRedeemed(BigInt(id)).catch(() => {})))
  }

  /** One pass: new events, subscriptions, redemptions, dispute duty. */
  async tick(latestBlock: number): Promise<void> {
    if (latestBlock > this.cursor) {
      const to = Math.min(latestBlock, this.cursor + 50_000) // bounded so a long catch-up spreads over ticks
      for await (const page of streamEventPages(this.options.chain.provider, this.market, this.cursor + 1, to)) {
        for (const event of page.events) await this.onEvent(event)
        this.cursor = page.toBlock
      }
    }
    if (!this.options.stopping()) for (const stream of this.cache.known()) this.considerSubscription(stream)
    this.redeemDue(false)
    this.disputes.tick(latestBlock)
  }

  private async onEvent(event: StreamEvent): Promise<void> {
    const me = this.address
    const streamId = event.args.streamId as bigint | undefined
    switch (event.name) {
      case 'StreamCreated':
      case 'TermsUpdated':
        this.considered.delete(String(streamId))
        await this.cache.refresh(streamId!)
        return
      case 'Subscribed':
      case 'Unsubscribed':
      case 'UnsubscribeRequested':
      case 'StreamCloseRequested':
      case 'StreamClosed':
      case 'DepositToppedUp':
      case 'DisputeResolved':
      case 'DisputeDropped':
      case 'AllowanceIncreased':
      case 'AllowanceDecreased':
      case 'AllowanceReleased':
        if (this.cache.peek(streamId!) || (event.args.provider as string | undefined) === me) await this.cache.refresh(streamId!)
        if (event.name === 'DisputeResolved' || event.name === 'DisputeDropped') this.disputes.onEvent(event)
        return
      case 'AllowanceDecreaseRequested':
        // The client announced a decrease of this provider's allowance: surelyRedeemable dropped on chain now, the
        // allowance drops after the close notice. Re-read it (the admission counts vouchers against it), and redeem
        // at once what it no longer covers, well within the notice.
        if ((event.args.provider as string | undefined) !== me) return
        await this.cache.refresh(streamId!)
        this.urgent.add(String(streamId))
        return
      case 'VoucherRedeemed': {
        const record = redeemedRecord(event.args, me, event.log.transactionHash)
        if (record) this.book.appendSoon(record)
        // redeemed and surelyRedeemable are read together: re-read them after an own redemption
        if (record) await this.cache.refresh(streamId!)
        return
      }
      case 'DisputeOpened':
      case 'DisputeDrawReanchored':
      case 'DisputeCouncilSeated':
        this.disputes.onEvent(event)
    }
  }

  // ------------------------------------------------------------------ subscriptions

  private considerSubscription(stream: StreamInfo): void {
    const key = stream.id.toString()
    if (this.considered.has(key) || stream.subscription !== 'none' || stream.status !== 'active') return
    const mode = this.options.mode ?? 'auto'
    if (mode === 'none') return
    if (Array.isArray(mode) && !mode.includes(stream.id)) return
    this.considered.add(key)
    this.jobs.spawn(`subscribe:${key}`, async () => {
      const backend = this.options.backends().find((b) => b.sha256 === stream.modelHash)
      const stake = await readStake(this.options.chain, this.address)
      const decision = decideStreamSubscription(
        {...stream, modelHeld: Boolean(backend)},
        {address: this.address, minPricePer1k: Array.isArray(mode) || !backend ? 0n : this.options.priceFloor(backend.sha256), freeStake: stake.free},
      )
      if (!decision.subscribe) {
        this.options.log.info('stream', `Stream ${key}: not subscribing: ${decision.reason}`, {streamId: key})
        return
      }
      try {
        const receipt = await this.options.sendTx(`Subscribe to stream ${key}`, () => this.market.subscribe(stream.id))
        await this.cache.refresh(stream.id)
        this.options.log.info('stream', `Subscribed to stream ${key} (${formatAmount(stream.pricePerKTokenGenerated)} oGPU per 1k tokens, collateral ${formatAmount(stream.collateral)})`, {streamId: key, tx: receipt.hash})
      } catch (error) {
        this.options.log.warn('stream', `Subscribing to stream ${key} failed: ${errorText(error)}`, {streamId: key, revert: revertOf(error)})
        await this.cache.refresh(stream.id).catch(() => {})
      }
    })
  }

  // ------------------------------------------------------------------ redeemer

  private async threshold(): Promise<bigint> {
    if (this.options.redeemThreshold !== undefined) return this.options.redeemThreshold
    if (Date.now() - this.gasPrice.at > 60_000) {
      const fee = await this.options.chain.provider.getFeeData()
      this.gasPrice = {value: fee.gasPrice ?? fee.maxFeePerGas ?? 1_000_000_000n, at: Date.now()}
    }
    return 20n * REDEEM_GAS * this.gasPrice.value
  }

  /** Redeems the due vouchers (all of them with `all`: on shutdown), several streams in one redeemMany. */
  redeemDue(all: boolean): Promise<void> | undefined {
    if (this.jobs.has('redeem')) return undefined
    if (!all && !this.jobs.due('redeem', 1000)) return undefined
    const entries = Object.values(this.book.state.streams).filter((e) => unredeemedOf(e) > 0n)
    if (entries.length === 0) return undefined
    return this.jobs.spawn('redeem', async () => {
      const threshold = await this.threshold()
      const now = this.options.now()
      const due = entries.filter((e) => {
        const stream = this.cache.peek(BigInt(e.streamId))
        if (stream?.status === 'closed') return false
        if (!all && this.jobs.deferred(`redeem:${e.streamId}`)) return false
        // Nothing the chain could pay (no allowance left, no unreserved deposit): it would revert the whole batch.
        if (stream && stream.surelyRedeemable === 0n && stream.deposit === 0n) return false
        const closing = stream?.status === 'closing' && stream.closeAt - now < 30
        // An announced allowance decrease that leaves part of the voucher uncovered: redeem now, within the notice.
        const exposed = this.urgent.has(e.streamId) && stream !== undefined && unredeemedOf(e) > stream.surelyRedeemable
        return all || closing || exposed || unredeemedOf(e) >= threshold
      })
      if (due.length === 0) return
      const batch = due.slice(0, MAX_REDEEM_BATCH).map((e) => ({streamId: BigInt(e.streamId), cumulativeAmount: BigInt(e.voucher!.amount), signature: e.voucher!.signature}))
      const what = batch.length === 1 ? `Redeem the voucher of stream ${batch[0]!.streamId}` : `Redeem ${batch.length} vouchers`
      try {
        const receipt = await this.options.sendTx(what, () =>
          batch.length === 1
            ? this.market.redeem(batch[0]!.streamId, batch[0]!.cumulativeAmount, batch[0]!.signature)
            : this.market.redeemMany(batch),
        )
        // The status is current the moment the receipt is in (its VoucherRedeemed logs carry the redeemed totals);
        // a chain read then reconciles (the book keeps the larger amount; a failed read changes nothing).
        this.book.appendMany(this.redeemedIn(receipt))
        for (const b of batch) this.urgent.delete(b.streamId.toString())
        await Promise.all(batch.map((b) => this.syncRedeemed(b.streamId, receipt.hash).catch(() => {})))
        await Promise.all(batch.map((b) => this.cache.refresh(b.streamId).catch(() => {})))
        this.options.log.info('redeem', `${what}: ${batch.map((b) => `stream ${b.streamId} up to ${formatAmount(b.cumulativeAmount)} oGPU`).join(', ')}`, {tx: receipt.hash})
      } catch (error) {
        const name = revertOf(error)
        await Promise.all(batch.map((b) => this.syncRedeemed(b.streamId).catch(() => {})))
        // An empty allowance and deposit: wait for a top-up or a new allowance (retry every 30 s). The revert names the
        // stream: only that one waits, the others go in the next batch.
        if (name === 'StreamMarketDepositEmpty') {
          const empty = revertArgsOf(error)?.[0]
          for (const b of batch) if (empty === undefined || String(empty) === b.streamId.toString()) this.jobs.defer(`redeem:${b.streamId}`, 30_000)
        }
        this.options.log.warn('redeem', `${what} failed: ${errorText(error)}`, {revert: name})
      }
    })
  }

  /** The book records of this provider's redemptions in a receipt (the StreamMarket's VoucherRedeemed logs). */
  private redeemedIn(receipt: TransactionReceipt): StreamBookRecord[] {
    return eventsIn(receipt, this.market, this.market.getEvent('VoucherRedeemed')).flatMap((args) => {
      const record = redeemedRecord(args, this.address, receipt.hash)
      return record ? [record] : []
    })
  }

  private async syncRedeemed(streamId: bigint, tx?: string): Promise<void> {
    const amount = await this.market.redeemed(streamId, this.address)
    this.book.append({t: 'redeemed', streamId: streamId.toString(), amount: amount.toString(), ...(tx ? {tx} : {})})
  }

  // ------------------------------------------------------------------ status and shutdown

  status(): {api: {generations: number; verifications: number; refused: Record<string, number>}; streams: Record<string, unknown>; chainReads: number; disputes: unknown[]} {
    return {
      api: {...this.api.counters, refused: {...this.api.counters.refused}},
      streams: this.api.streamsStatus(),
      chainReads: this.cache.reads,
      disputes: this.disputes.status(),
    }
  }

  /** Unpaid total over every stream (for logs). */
  unpaid(): bigint {
    return Object.values(this.book.state.streams).reduce((a, e) => a + unpaidOf(e), 0n)
  }

  /** Whether no stream job is running. */
  idle(): boolean {
    return this.jobs.idle()
  }

  /** On shutdown: redeem every voucher not redeemed yet, then wait for running jobs. */
  async drain(): Promise<void> {
    await this.jobs.settled()
    const final = this.redeemDue(true)
    if (final) await final
    await this.jobs.settled()
  }

  close(): void {
    this.book.close()
  }
}
