/**
 * The StreamMarket (StreamMarket.sol) through its typed binding: the handle, and typed readers of streams,
 * subscriptions, disputes and verdicts. Plain TypeScript out (bigint amounts, enums as strings). The transactions of
 * clients and providers are in src/stream/chain.ts; everything that reads or writes the StreamMarket goes through here.
 */
import {AbiCoder, type ContractRunner, getAddress, keccak256, type TypedDataDomain, type Wallet} from 'ethers'

import type {ChainContext} from '../context.js'
import {BugError, UserError} from '../../errors/index.js'
import {ogpuDomain} from '../../protocol/eip712.js'
import type {Receipt} from '../../protocol/stream.js'
import {type StreamMarket, StreamMarket__factory} from './generated/index.js'
import type {IStreamMarket} from './generated/StreamMarket.js'

export type {StreamMarket} from './generated/index.js'
export type {IStreamMarket} from './generated/StreamMarket.js'
// ------------------------------------------------------------------------------------------------ types

export type StreamStatus = 'active' | 'closing' | 'closed'
export type ResponseMethod = 'optimistic' | 'weighted' | 'unanimous'
export type SubscriptionStatus = 'none' | 'active' | 'unsubscribing' | 'removed'
/** seating: opened, its council not drawn yet (seatDispute, a block later); no-council: the pool could not seat one (bond refunded). */
export type DisputeState = 'open' | 'valid' | 'invalid' | 'seating' | 'no-council'

/** Contract enum order (IStreamMarket.StreamStatus; 0 = None, which the readers turn into an error). */
const STREAM_STATUS: readonly StreamStatus[] = ['active', 'closing', 'closed']
export const RESPONSE_METHODS: readonly ResponseMethod[] = ['optimistic', 'weighted', 'unanimous']
const SUBSCRIPTION_STATUS: readonly SubscriptionStatus[] = ['none', 'active', 'unsubscribing', 'removed']
const DISPUTE_STATE: readonly DisputeState[] = ['open', 'valid', 'invalid', 'seating', 'no-council']

/** The on-chain part of a stream's terms (IStreamMarket.StreamParams). Amounts in wei, durations in seconds. */
export interface StreamParams {
  /** sha256 of the model's GGUF file, 0x + 64 hex. */
  modelHash: string
  /** keccak256 of the canonical JSON of the terms document. */
  specHash: string
  /** Where the terms document is (1..256 bytes). */
  specUri: string
  pricePerKTokenGenerated: bigint
  pricePerKTokenVerified: bigint
  councilSize: number
  responseMethod: ResponseMethod
  /** Weighted release threshold: basis points 1..10,000 for 'weighted'; must be 0 for the other methods. */
  weightBps: number
  /** Stake each subscriber locks. */
  collateral: bigint
  maxDowntime: number
  unsubscribeNotice: number
  closeNotice: number
  commitWindow: number
  revealWindow: number
  disputeBond: bigint
  /** Escrowed from the client at creation (may be 0: top up later). */
  deposit: bigint
}

/**
 * A stream as IStreamMarket.getStream returns it: its terms (the StreamParams it was created with) and its state.
 * Amounts in wei, times in unix seconds, durations in seconds.
 */
export interface StreamInfo extends StreamParams {
  id: bigint
  /** Who created it: signs vouchers and requests, opens disputes, gets the refund. */
  client: string
  status: StreamStatus
  /** Slash per unrevealed dispute verdict (fixed at creation). */
  nonRevealSlash: bigint
  /** Voters' share of a slash or a bond, basis points (fixed at creation). */
  voterRewardBps: number
  /** The unreserved deposit: tokens left to pay vouchers with that no allowance reserves (0 once closed); the rest of the stream's funds are its subscribers' allowances. */
  deposit: bigint
  createdAt: number
  /** End of the close notice (0 while active). */
  closeAt: number
  /** Current subscribers (active or unsubscribing). */
  subscriberCount: number
  openDisputes: number
}

/** A provider's subscription to a stream (IStreamMarket.subscription). */
export interface SubscriptionInfo {
  streamId: bigint
  provider: string
  status: SubscriptionStatus
  /** Collateral locked for it on the stream, wei (0 when not subscribed). */
  locked: bigint
  /** Its allowance left: the part of the deposit only its redeems can spend, wei. */
  allowance: bigint
  /** When it subscribed (0 when not subscribed). */
  subscribedAt: number
  /** While unsubscribing: when it may finish (0 otherwise). */
  noticeEnd: number
  /** The open dispute accusing it (0n when none). */
  openDispute: bigint
}

/**
 * A provider's allowance on a stream (IStreamMarket.subscription's allowance fields, and surelyRedeemable): the part
 * of the deposit reserved for it, which only its own redeems can spend.
 */
export interface AllowanceInfo {
  streamId: bigint
  provider: string
  /** Reserved and not yet redeemed, wei. */
  left: bigint
  /** The decrease the client announced (0 when none), wei. */
  pendingDecrease: bigint
  /** When the announced decrease may be applied (0 when none). */
  decreaseAt: number
  /** left − pendingDecrease (0 once the stream is closed): what the provider may serve against. */
  surelyRedeemable: bigint
}

/** A dispute (IStreamMarket.getDispute). */
export interface DisputeInfo {
  id: bigint
  streamId: bigint
  /** The accused provider. */
  provider: string
  /** Who opened it and paid the bond (never on its council). */
  disputer: string
  state: DisputeState
  receipt: Receipt
  bond: bigint
  /** The voters, seat by seat (empty until seated). */
  council: string[]
  /** The block whose hash seeds the council draw (drawn from the pool as of the block before). */
  drawBlock: number
  openedAt: number
  commitEnd: number
  revealEnd: number
  commits: number
  reveals: number
  approvals: number
  rejections: number
}

/** One council member's verdict in a dispute (IStreamMarket.verdictOf). */
export interface VerdictInfo {
  member: boolean
  seat: number
  committed: boolean
  revealed: boolean
  /** The revealed verdict (true = the response is valid); meaningful when revealed. */
  accept: boolean
  commitment: string
}

export interface TxResult {
  txHash: string
  block: number
}

// ------------------------------------------------------------------------------------------------ contract

const contracts = new WeakMap<ChainContext, StreamMarket>()

/** The StreamMarket address of the chain's network file; a user error when the file has none. */
export function streamMarketAddress(chain: ChainContext): string {
  const address = chain.network.contracts.streamMarket
  if (!address)
    throw new UserError(`The network "${chain.network.name}" has no StreamMarket (its network file was written before stream tasks existed).`, {
      code: 'NO_STREAM_MARKET',
      hint: chain.network.devnet
        ? 'Restart the devnet so it deploys one: `ogpu devnet stop`, then `ogpu devnet start`.'
        : 'Redeploy with `ogpu deploy`, or name the deployed market with `ogpu network add --stream-market ADDRESS`.',
    })
  return getAddress(address)
}

/** The StreamMarket contract, read-only, or signing with `signer` (connected to the chain's provider). */
export function streamMarketOf(chain: ChainContext, signer?: Wallet): StreamMarket {
  let market = contracts.get(chain)
  if (!market) {
    market = StreamMarket__factory.connect(streamMarketAddress(chain), chain.provider)
    contracts.set(chain, market)
  }
  return signer ? market.connect(signer.connect(chain.provider)) : market
}

/** The EIP-712 domain of every stream message (vouchers, receipts, requests, attestations) on this chain. */
export function streamDomain(chain: ChainContext): TypedDataDomain {
  return ogpuDomain(chain.network.chainId, streamMarketAddress(chain))
}

// ------------------------------------------------------------------------------------------------ readers

export const toId = (id: bigint | number): bigint => {
  const value = BigInt(id)
  if (value < 0n) throw new UserError(`A stream or dispute id cannot be negative (${value}).`, {code: 'INVALID_ID'})
  return value
}

function enumName<T extends string>(values: readonly T[], index: bigint | number, offset: number, what: string): T {
  const name = values[Number(index) - offset]
  if (name === undefined) throw new BugError(`The StreamMarket returned an unknown ${what} ${index}.`, {code: 'UNKNOWN_ENUM'})
  return name
}

/** A stream out of IStreamMarket.getStream. */
export function streamFrom(id: bigint, s: IStreamMarket.StreamStructOutput): StreamInfo {
  return {
    id,
    client: getAddress(s.client),
    status: enumName(STREAM_STATUS, s.status, 1, 'stream status'),
    modelHash: s.modelHash,
    specHash: s.specHash,
    specUri: s.specUri,
    pricePerKTokenGenerated: s.pricePerKTokenGenerated,
    pricePerKTokenVerified: s.pricePerKTokenVerified,
    councilSize: Number(s.councilSize),
    responseMethod: enumName(RESPONSE_METHODS, s.responseMethod, 0, 'response method'),
    weightBps: Number(s.weightBps),
    collateral: s.collateral,
    maxDowntime: Number(s.maxDowntime),
    unsubscribeNotice: Number(s.unsubscribeNotice),
    closeNotice: Number(s.closeNotice),
    commitWindow: Number(s.commitWindow),
    revealWindow: Number(s.revealWindow),
    disputeBond: s.disputeBond,
    nonRevealSlash: s.nonRevealSlash,
    voterRewardBps: Number(s.voterRewardBps),
    deposit: s.deposit,
    createdAt: Number(s.createdAt),
    closeAt: Number(s.closeAt),
    subscriberCount: Number(s.subscriberCount),
    openDisputes: Number(s.openDisputes),
  }
}

/** The stream, or undefined when there is no stream `id`. */
export async function findStream(chain: ChainContext, id: bigint | number): Promise<StreamInfo | undefined> {
  const streamId = toId(id)
  const s = await streamMarketOf(chain).getStream(streamId)
  if (Number(s.status) === 0) return undefined
  return streamFrom(streamId, s)
}

/** The stream; a user error (UNKNOWN_STREAM) when there is no stream `id`. */
export async function getStream(chain: ChainContext, id: bigint | number): Promise<StreamInfo> {
  const stream = await findStream(chain, id)
  if (!stream)
    throw new UserError(`There is no stream ${id} on ${chain.network.name}.`, {code: 'UNKNOWN_STREAM', hint: 'Run `ogpu stream list` to see the streams.'})
  return stream
}

/** The stream's current subscribers (active or unsubscribing), in subscription order (longest-subscribed first). */
export async function subscribersOf(chain: ChainContext, id: bigint | number): Promise<string[]> {
  const list = await streamMarketOf(chain).subscribersOf(toId(id))
  return [...list].map((a) => getAddress(a))
}

export async function subscription(chain: ChainContext, id: bigint | number, provider: string): Promise<SubscriptionInfo> {
  const s = await streamMarketOf(chain).subscription(toId(id), provider)
  return {
    streamId: toId(id),
    provider: getAddress(provider),
    status: enumName(SUBSCRIPTION_STATUS, s.status, 0, 'subscription status'),
    locked: s.locked,
    allowance: s.allowance,
    subscribedAt: Number(s.subscribedAt),
    noticeEnd: Number(s.noticeEnd),
    openDispute: s.openDispute,
  }
}

/** What `provider` has redeemed on the stream so far, wei. */
export async function redeemed(chain: ChainContext, id: bigint | number, provider: string): Promise<bigint> {
  return await streamMarketOf(chain).redeemed(toId(id), provider)
}

/** `provider`'s allowance on the stream (zeros when none). */
export async function allowanceOf(chain: ChainContext, id: bigint | number, provider: string): Promise<AllowanceInfo> {
  const market = streamMarketOf(chain)
  const [sub, sure] = await Promise.all([market.subscription(toId(id), provider), market.surelyRedeemable(toId(id), provider)])
  return {streamId: toId(id), provider: getAddress(provider), left: sub.allowance, pendingDecrease: sub.pendingDecrease, decreaseAt: Number(sub.decreaseAt), surelyRedeemable: sure}
}

/** The dispute, or undefined when there is no dispute `id`. */
export async function findDispute(chain: ChainContext, id: bigint | number): Promise<DisputeInfo | undefined> {
  const disputeId = toId(id)
  const d = await streamMarketOf(chain).getDispute(disputeId)
  if (Number(d.state) === 0) return undefined
  const r = d.receipt
  return {
    id: disputeId,
    streamId: d.streamId,
    provider: getAddress(d.provider),
    disputer: getAddress(d.disputer),
    state: enumName(DISPUTE_STATE, d.state, 1, 'dispute state'),
    receipt: {
      streamId: r.streamId,
      requestId: r.requestId,
      responseHash: r.responseHash,
      promptTokens: Number(r.promptTokens),
      completionTokens: Number(r.completionTokens),
    },
    bond: d.bond,
    council: [...d.council].map((a) => getAddress(a)),
    drawBlock: Number(d.drawBlock),
    openedAt: Number(d.openedAt),
    commitEnd: Number(d.commitEnd),
    revealEnd: Number(d.revealEnd),
    commits: Number(d.commits),
    reveals: Number(d.reveals),
    approvals: Number(d.approvals),
    rejections: Number(d.rejections),
  }
}

/** The dispute; a user error (UNKNOWN_DISPUTE) when there is no dispute `id`. */
export async function getDispute(chain: ChainContext, id: bigint | number): Promise<DisputeInfo> {
  const dispute = await findDispute(chain, id)
  if (!dispute)
    throw new UserError(`There is no dispute ${id} on ${chain.network.name}.`, {
      code: 'UNKNOWN_DISPUTE',
      hint: 'Disputes of a stream are listed by `ogpu stream show STREAM_ID`.',
    })
  return dispute
}

export async function verdictOf(chain: ChainContext, disputeId: bigint | number, voter: string): Promise<VerdictInfo> {
  const v = await streamMarketOf(chain).verdictOf(toId(disputeId), voter)
  return {
    member: v.member,
    seat: Number(v.seat),
    committed: v.committed,
    revealed: v.revealed,
    accept: v.accept,
    commitment: v.commitment,
  }
}

/**
 * The commitment `voter` submits for `accept` and `salt` in a dispute: keccak256(abi.encode(chainId, market,
 * disputeId, accept, salt, voter)), IStreamMarket.commitVerdict's formula (the market has no getter for it).
 */
export function disputeCommitment(chainId: bigint | number, market: string, disputeId: bigint | number, accept: boolean, salt: string, voter: string): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode(['uint256', 'address', 'uint256', 'bool', 'bytes32', 'address'], [BigInt(chainId), getAddress(market), toId(disputeId), accept, salt, getAddress(voter)]))
}

/** The commitment `voter` submits for `accept` and `salt` in a dispute on this chain's StreamMarket. */
export async function verdictCommitment(chain: ChainContext, disputeId: bigint | number, accept: boolean, salt: string, voter: string): Promise<string> {
  return disputeCommitment(chain.network.chainId, streamMarketAddress(chain), disputeId, accept, salt, voter)
}

/** The next stream id the market will assign (ids start at 1, so there are nextStreamId - 1 streams). */
export async function nextStreamId(chain: ChainContext): Promise<bigint> {
  return await streamMarketOf(chain).nextStreamId()
}

/** The next dispute id (ids start at 1). */
export async function nextDisputeId(chain: ChainContext): Promise<bigint> {
  return await streamMarketOf(chain).nextDisputeId()
}

export interface ListStreamsOptions {
  /** Only the streams of this client. Defaults to every client. */
  client?: string
  /** Only streams in these states. Defaults to every state. */
  status?: readonly StreamStatus[]
  /** Most streams returned. Defaults to 100. */
  limit?: number
  /** Only ids below this one (the previous page's `nextBefore`). Defaults to the newest stream. */
  before?: bigint
  /** Streams read at once. Defaults to 8. */
  concurrency?: number
  signal?: AbortSignal
}

export interface StreamPage {
  /** Newest first. */
  streams: StreamInfo[]
  /** Pass as `before` for the next (older) page; null when no older stream is left. */
  nextBefore: bigint | null
  /** Every stream the market has created. */
  total: number
}

/** Streams, newest first, filtered, in bounded pages (one getStream call per id read). */
export async function listStreams(chain: ChainContext, options: ListStreamsOptions = {}): Promise<StreamPage> {
  const limit = options.limit ?? 100
  if (!Number.isInteger(limit) || limit < 1) throw new UserError(`The list limit must be a positive integer (got ${limit}).`, {code: 'INVALID_LIMIT'})
  const concurrency = Math.max(1, options.concurrency ?? 8)
  const next = await nextStreamId(chain)
  const client = options.client ? getAddress(options.client) : undefined
  const keep = (s: StreamInfo): boolean => (!client || s.client === client) && (!options.status || options.status.includes(s.status))
  const streams: StreamInfo[] = []
  let id = options.before !== undefined && options.before < next ? options.before - 1n : next - 1n
  while (id >= 1n && streams.length < limit) {
    options.signal?.throwIfAborted()
    const ids: bigint[] = []
    for (let i = id; i >= 1n && ids.length < concurrency; i--) ids.push(i)
    const read = await Promise.all(ids.map((i) => findStream(chain, i)))
    for (const [k, s] of read.entries()) {
      id = ids[k]! - 1n
      if (s && keep(s)) streams.push(s)
      if (streams.length === limit) break
    }
  }
  return {streams, nextBefore: id >= 1n ? id + 1n : null, total: Number(next - 1n)}
}


/** The StreamMarket at `address`, read-only with a provider, or signing with a signer (prefer {@link streamMarketOf}). */
export function streamMarketAt(address: string, runner: ContractRunner): StreamMarket {
  return StreamMarket__factory.connect(address, runner)
}
