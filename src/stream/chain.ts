/**
 * The StreamMarket on chain: typed readers (streams, subscriptions, disputes) and the transactions of clients and
 * providers. Plain options in, plain TypeScript out (bigint amounts, enums as strings); no CLI concerns, so the
 * gateway, the provider daemon, the dashboard and the `ogpu stream` commands all share it.
 */
import {Contract, getAddress, Interface, type Result, type TransactionReceipt, type TypedDataDomain, type Wallet} from 'ethers'

import {chainTime} from '../chain/account.js'
import {loadArtifact} from '../chain/artifacts.js'
import type {ChainContext} from '../chain/context.js'
import {signPermit} from '../chain/permit.js'
import {sendTx} from '../chain/tx.js'
import {formatAmount} from '../chain/units.js'
import {BugError, UserError} from '../errors/index.js'
import {ogpuDomain} from '../protocol/eip712.js'
import type {Receipt} from '../protocol/stream.js'

// ------------------------------------------------------------------------------------------------ types

export type StreamStatus = 'active' | 'closing' | 'closed'
export type ResponseMethod = 'optimistic' | 'weighted' | 'unanimous'
export type SubscriptionStatus = 'none' | 'active' | 'unsubscribing' | 'removed'
export type DisputeState = 'open' | 'valid' | 'invalid'

/** Contract enum order (IStreamMarket.StreamStatus; 0 = None, which the readers turn into an error). */
const STREAM_STATUS: readonly StreamStatus[] = ['active', 'closing', 'closed']
export const RESPONSE_METHODS: readonly ResponseMethod[] = ['optimistic', 'weighted', 'unanimous']
const SUBSCRIPTION_STATUS: readonly SubscriptionStatus[] = ['none', 'active', 'unsubscribing', 'removed']
const DISPUTE_STATE: readonly DisputeState[] = ['open', 'valid', 'invalid']

/** A stream as IStreamMarket.getStream returns it. Amounts in wei, times in unix seconds, durations in seconds. */
export interface StreamInfo {
  id: bigint
  /** Who created it: signs vouchers and requests, opens disputes, gets the refund. */
  client: string
  status: StreamStatus
  /** sha256 of the model's GGUF file, 0x-prefixed. */
  modelHash: string
  /** keccak256 of the canonical JSON of the terms document. */
  specHash: string
  specUri: string
  pricePerKTokenGenerated: bigint
  pricePerKTokenVerified: bigint
  councilSize: number
  responseMethod: ResponseMethod
  /** Weighted release threshold in basis points (0 for the other methods). */
  weightBps: number
  /** Stake each subscriber locks. */
  collateral: bigint
  maxDowntime: number
  unsubscribeNotice: number
  closeNotice: number
  commitWindow: number
  revealWindow: number
  disputeBond: bigint
  /** Slash per unrevealed dispute verdict (fixed at creation). */
  nonRevealSlash: bigint
  /** Voters' share of a slash or a bond, basis points (fixed at creation). */
  voterRewardBps: number
  /** Tokens left to pay vouchers with (0 once closed). */
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
  /** When it subscribed (0 when not subscribed). */
  subscribedAt: number
  /** While unsubscribing: when it may finish (0 otherwise). */
  noticeEnd: number
  /** The open dispute accusing it (0n when none). */
  openDispute: bigint
  /** Open disputes of the stream in which it holds a council seat. */
  openSeats: number
}

/** A dispute (IStreamMarket.getDispute). */
export interface DisputeInfo {
  id: bigint
  streamId: bigint
  /** The accused provider. */
  provider: string
  state: DisputeState
  receipt: Receipt
  bond: bigint
  /** The voters, seat by seat. */
  council: string[]
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
  /** Basis points 1..10,000 for 'weighted'; must be 0 for the other methods. */
  weightBps: number
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

export interface TxResult {
  txHash: string
  block: number
}

// ------------------------------------------------------------------------------------------------ contract

const contracts = new WeakMap<ChainContext, Contract>()

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
export function streamMarketOf(chain: ChainContext, signer?: Wallet): Contract {
  let market = contracts.get(chain)
  if (!market) {
    market = new Contract(streamMarketAddress(chain), loadArtifact('StreamMarket').abi, chain.provider)
    contracts.set(chain, market)
  }
  return signer ? (market.connect(signer.connect(chain.provider)) as Contract) : market
}

/** The EIP-712 domain of every stream message (vouchers, receipts, requests, attestations) on this chain. */
export function streamDomain(chain: ChainContext): TypedDataDomain {
  return ogpuDomain(chain.network.chainId, streamMarketAddress(chain))
}

// ------------------------------------------------------------------------------------------------ readers

const toId = (id: bigint | number): bigint => {
  const value = BigInt(id)
  if (value < 0n) throw new UserError(`A stream or dispute id cannot be negative (${value}).`, {code: 'INVALID_ID'})
  return value
}

function enumName<T extends string>(values: readonly T[], index: bigint | number, offset: number, what: string): T {
  const name = values[Number(index) - offset]
  if (name === undefined) throw new BugError(`The StreamMarket returned an unknown ${what} ${index}.`, {code: 'UNKNOWN_ENUM'})
  return name
}

function streamFrom(id: bigint, s: Result): StreamInfo {
  return {
    id,
    client: getAddress(s.client as string),
    status: enumName(STREAM_STATUS, s.status as bigint, 1, 'stream status'),
    modelHash: s.modelHash as string,
    specHash: s.specHash as string,
    specUri: s.specUri as string,
    pricePerKTokenGenerated: s.pricePerKTokenGenerated as bigint,
    pricePerKTokenVerified: s.pricePerKTokenVerified as bigint,
    councilSize: Number(s.councilSize),
    responseMethod: enumName(RESPONSE_METHODS, s.responseMethod as bigint, 0, 'response method'),
    weightBps: Number(s.weightBps),
    collateral: s.collateral as bigint,
    maxDowntime: Number(s.maxDowntime),
    unsubscribeNotice: Number(s.unsubscribeNotice),
    closeNotice: Number(s.closeNotice),
    commitWindow: Number(s.commitWindow),
    revealWindow: Number(s.revealWindow),
    disputeBond: s.disputeBond as bigint,
    nonRevealSlash: s.nonRevealSlash as bigint,
    voterRewardBps: Number(s.voterRewardBps),
    deposit: s.deposit as bigint,
    createdAt: Number(s.createdAt),
    closeAt: Number(s.closeAt),
    subscriberCount: Number(s.subscriberCount),
    openDisputes: Number(s.openDisputes),
  }
}

/** The stream, or undefined when there is no stream `id`. */
export async function findStream(chain: ChainContext, id: bigint | number): Promise<StreamInfo | undefined> {
  const streamId = toId(id)
  const s = (await streamMarketOf(chain).getFunction('getStream')(streamId)) as Result
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
  const list = (await streamMarketOf(chain).getFunction('subscribersOf')(toId(id))) as string[]
  return [...list].map((a) => getAddress(a))
}

export async function subscription(chain: ChainContext, id: bigint | number, provider: string): Promise<SubscriptionInfo> {
  const s = (await streamMarketOf(chain).getFunction('subscription')(toId(id), provider)) as Result
  return {
    streamId: toId(id),
    provider: getAddress(provider),
    status: enumName(SUBSCRIPTION_STATUS, s.status as bigint, 0, 'subscription status'),
    locked: s.locked as bigint,
    subscribedAt: Number(s.subscribedAt),
    noticeEnd: Number(s.noticeEnd),
    openDispute: s.openDispute as bigint,
    openSeats: Number(s.openSeats),
  }
}

/** What `provider` has redeemed on the stream so far, wei. */
export async function redeemed(chain: ChainContext, id: bigint | number, provider: string): Promise<bigint> {
  return (await streamMarketOf(chain).getFunction('redeemed')(toId(id), provider)) as bigint
}

/** The dispute, or undefined when there is no dispute `id`. */
export async function findDispute(chain: ChainContext, id: bigint | number): Promise<DisputeInfo | undefined> {
  const disputeId = toId(id)
  const d = (await streamMarketOf(chain).getFunction('getDispute')(disputeId)) as Result
  if (Number(d.state) === 0) return undefined
  const r = d.receipt as Result
  return {
    id: disputeId,
    streamId: d.streamId as bigint,
    provider: getAddress(d.provider as string),
    state: enumName(DISPUTE_STATE, d.state as bigint, 1, 'dispute state'),
    receipt: {
      streamId: r.streamId as bigint,
      requestId: r.requestId as string,
      responseHash: r.responseHash as string,
      promptTokens: Number(r.promptTokens),
      completionTokens: Number(r.completionTokens),
    },
    bond: d.bond as bigint,
    council: [...(d.council as string[])].map((a) => getAddress(a)),
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

/** The dispute id that judged (or judges) a receipt, by its EIP-712 digest; 0n when none. */
export async function disputeOfReceipt(chain: ChainContext, digest: string): Promise<bigint> {
  return (await streamMarketOf(chain).getFunction('disputeOfReceipt')(digest)) as bigint
}

export async function verdictOf(chain: ChainContext, disputeId: bigint | number, voter: string): Promise<VerdictInfo> {
  const v = (await streamMarketOf(chain).getFunction('verdictOf')(toId(disputeId), voter)) as Result
  return {
    member: v.member as boolean,
    seat: Number(v.seat),
    committed: v.committed as boolean,
    revealed: v.revealed as boolean,
    accept: v.accept as boolean,
    commitment: v.commitment as string,
  }
}

/** The commitment `voter` submits for `accept` and `salt` in a dispute (computed by the contract). */
export async function verdictCommitment(chain: ChainContext, disputeId: bigint | number, accept: boolean, salt: string, voter: string): Promise<string> {
  return (await streamMarketOf(chain).getFunction('verdictCommitment')(toId(disputeId), accept, salt, voter)) as string
}

/** The next stream id the market will assign (ids start at 1, so there are nextStreamId - 1 streams). */
export async function nextStreamId(chain: ChainContext): Promise<bigint> {
  return (await streamMarketOf(chain).getFunction('nextStreamId')()) as bigint
}

/** The next dispute id (ids start at 1). */
export async function nextDisputeId(chain: ChainContext): Promise<bigint> {
  return (await streamMarketOf(chain).getFunction('nextDisputeId')()) as bigint
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

// ------------------------------------------------------------------------------------------------ transactions

const marketInterface = (): Interface => new Interface(loadArtifact('StreamMarket').abi)

function eventArgs(receipt: TransactionReceipt, market: string, name: string): Result | undefined {
  const iface = marketInterface()
  for (const log of receipt.logs) {
    if (getAddress(log.address) !== market) continue
    const parsed = iface.parseLog(log)
    if (parsed?.name === name) return parsed.args
  }
  return undefined
}

const txOf = (receipt: TransactionReceipt): TxResult => ({txHash: receipt.hash, block: receipt.blockNumber})

async function requireBalance(chain: ChainContext, address: string, amount: bigint, what: string, hint: string): Promise<void> {
  const balance = (await chain.token.getFunction('balanceOf')(address)) as bigint
  if (balance < amount)
    throw new UserError(`${what} takes ${formatAmount(amount)} oGPU but ${address} has ${formatAmount(balance)} oGPU.`, {
      code: 'INSUFFICIENT_BALANCE',
      hint: chain.network.devnet ? `${hint} On the devnet, \`ogpu wallet fund\` gives you more.` : hint,
    })
}

/** The contract's tuple for StreamParams (the enum as its index). */
function paramsTuple(params: StreamParams): Record<string, unknown> {
  const method = RESPONSE_METHODS.indexOf(params.responseMethod)
  if (method < 0) throw new UserError(`Unknown response method "${params.responseMethod}".`, {code: 'INVALID_SPEC', hint: `Use one of: ${RESPONSE_METHODS.join(', ')}.`})
  return {...params, responseMethod: method}
}

export interface CreateResult extends TxResult {
  streamId: bigint
  /** How the deposit was authorised: a permit in the same transaction, an approve before it, or nothing (no deposit). */
  method: 'permit' | 'approve' | 'none'
  txHashes: string[]
}

/** Creates a stream, escrowing `params.deposit` (one transaction with a permit where the token supports it). */
export async function createStream(chain: ChainContext, signer: Wallet, params: StreamParams): Promise<CreateResult> {
  const wallet = signer.connect(chain.provider)
  const market = streamMarketOf(chain, wallet)
  const marketAddress = streamMarketAddress(chain)
  const tuple = paramsTuple(params)
  let method: CreateResult['method'] = 'none'
  const txHashes: string[] = []
  let receipt: TransactionReceipt
  if (params.deposit > 0n) {
    await requireBalance(chain, wallet.address, params.deposit, 'The deposit', 'Lower the deposit, or get more oGPU.')
    const deadline = (await chainTime(chain)) + 3600
    const permit = await signPermit(chain.token, wallet, marketAddress, params.deposit, deadline)
    if (permit) {
      method = 'permit'
      receipt = await sendTx(chain.provider, 'Create stream with permit', () => market.getFunction('createWithPermit')(tuple, deadline, permit.v, permit.r, permit.s), chain.tx)
    } else {
      method = 'approve'
      const token = chain.token.connect(wallet) as Contract
      txHashes.push((await sendTx(chain.provider, 'Approve oGPU', () => token.getFunction('approve')(marketAddress, params.deposit), chain.tx)).hash)
      receipt = await sendTx(chain.provider, 'Create stream', () => market.getFunction('create')(tuple), chain.tx)
    }
  } else {
    receipt = await sendTx(chain.provider, 'Create stream', () => market.getFunction('create')(tuple), chain.tx)
  }
  txHashes.push(receipt.hash)
  const created = eventArgs(receipt, marketAddress, 'StreamCreated')
  if (!created) throw new BugError('The create transaction emitted no StreamCreated event.', {code: 'UNEXPECTED', details: {tx: receipt.hash}})
  return {streamId: created.streamId as bigint, method, txHashes, ...txOf(receipt)}
}

/** Changes the stream's prices (client only; applies to requests signed afterwards). */
export async function updateTerms(
  chain: ChainContext,
  signer: Wallet,
  id: bigint | number,
  prices: {pricePerKTokenGenerated: bigint; pricePerKTokenVerified: bigint},
): Promise<TxResult> {
  const market = streamMarketOf(chain, signer)
  return txOf(
    await sendTx(chain.provider, 'Update stream terms', () => market.getFunction('updateTerms')(toId(id), prices.pricePerKTokenGenerated, prices.pricePerKTokenVerified), chain.tx),
  )
}

export interface TopUpResult extends TxResult {
  method: 'permit' | 'approve'
  txHashes: string[]
  /** The stream's deposit after the top-up, wei. */
  deposit: bigint
}

/** Adds `amount` to the stream's deposit (anyone may; one transaction with a permit where supported). */
export async function topUp(chain: ChainContext, signer: Wallet, id: bigint | number, amount: bigint): Promise<TopUpResult> {
  if (amount <= 0n) throw new UserError('The top-up amount must be greater than zero.', {code: 'INVALID_AMOUNT'})
  const wallet = signer.connect(chain.provider)
  const market = streamMarketOf(chain, wallet)
  const marketAddress = streamMarketAddress(chain)
  const streamId = toId(id)
  await requireBalance(chain, wallet.address, amount, 'The top-up', 'Top up less, or get more oGPU.')
  const deadline = (await chainTime(chain)) + 3600
  const permit = await signPermit(chain.token, wallet, marketAddress, amount, deadline)
  const txHashes: string[] = []
  let receipt: TransactionReceipt
  if (permit) {
    receipt = await sendTx(chain.provider, 'Top up with permit', () => market.getFunction('topUpWithPermit')(streamId, amount, deadline, permit.v, permit.r, permit.s), chain.tx)
  } else {
    const token = chain.token.connect(wallet) as Contract
    txHashes.push((await sendTx(chain.provider, 'Approve oGPU', () => token.getFunction('approve')(marketAddress, amount), chain.tx)).hash)
    receipt = await sendTx(chain.provider, 'Top up', () => market.getFunction('topUp')(streamId, amount), chain.tx)
  }
  txHashes.push(receipt.hash)
  const event = eventArgs(receipt, marketAddress, 'DepositToppedUp')
  const deposit = event ? (event.deposit as bigint) : (await getStream(chain, streamId)).deposit
  return {method: permit ? 'permit' : 'approve', txHashes, deposit, ...txOf(receipt)}
}

/** Starts the close notice (client only). Returns when the close can be finalized. */
export async function closeStream(chain: ChainContext, signer: Wallet, id: bigint | number): Promise<TxResult & {closeAt: number}> {
  const market = streamMarketOf(chain, signer)
  const receipt = await sendTx(chain.provider, 'Close stream', () => market.getFunction('close')(toId(id)), chain.tx)
  const event = eventArgs(receipt, streamMarketAddress(chain), 'StreamCloseRequested')
  const closeAt = event ? Number(event.closeAt) : (await getStream(chain, id)).closeAt
  return {closeAt, ...txOf(receipt)}
}

/** Ends a closing stream once its notice is over (anyone): refunds the deposit, releases every subscriber. */
export async function finalizeClose(chain: ChainContext, signer: Wallet, id: bigint | number): Promise<TxResult & {refund: bigint}> {
  const market = streamMarketOf(chain, signer)
  const receipt = await sendTx(chain.provider, 'Finalize stream close', () => market.getFunction('finalizeClose')(toId(id)), chain.tx)
  const event = eventArgs(receipt, streamMarketAddress(chain), 'StreamClosed')
  return {refund: event ? (event.clientRefund as bigint) : 0n, ...txOf(receipt)}
}

/** Subscribes the signer (a registered provider) to the stream, locking the stream's collateral from its free stake. */
export async function subscribe(chain: ChainContext, signer: Wallet, id: bigint | number): Promise<TxResult & {collateral: bigint; subscriberCount: number}> {
  const market = streamMarketOf(chain, signer)
  const receipt = await sendTx(chain.provider, 'Subscribe to stream', () => market.getFunction('subscribe')(toId(id)), chain.tx)
  const event = eventArgs(receipt, streamMarketAddress(chain), 'Subscribed')
  if (!event) throw new BugError('The subscribe transaction emitted no Subscribed event.', {code: 'UNEXPECTED', details: {tx: receipt.hash}})
  return {collateral: event.collateral as bigint, subscriberCount: Number(event.subscriberCount), ...txOf(receipt)}
}

/** Starts the signer's unsubscribe notice. Returns when it may finish. */
export async function requestUnsubscribe(chain: ChainContext, signer: Wallet, id: bigint | number): Promise<TxResult & {noticeEnd: number}> {
  const market = streamMarketOf(chain, signer)
  const receipt = await sendTx(chain.provider, 'Request unsubscribe', () => market.getFunction('requestUnsubscribe')(toId(id)), chain.tx)
  const event = eventArgs(receipt, streamMarketAddress(chain), 'UnsubscribeRequested')
  const noticeEnd = event ? Number(event.noticeEnd) : (await subscription(chain, id, signer.address)).noticeEnd
  return {noticeEnd, ...txOf(receipt)}
}

/** Ends the signer's subscription once the notice is over: its collateral is released. */
export async function finishUnsubscribe(chain: ChainContext, signer: Wallet, id: bigint | number): Promise<TxResult & {released: bigint}> {
  const market = streamMarketOf(chain, signer)
  const receipt = await sendTx(chain.provider, 'Finish unsubscribe', () => market.getFunction('finishUnsubscribe')(toId(id)), chain.tx)
  const event = eventArgs(receipt, streamMarketAddress(chain), 'Unsubscribed')
  return {released: event ? (event.released as bigint) : 0n, ...txOf(receipt)}
}

export interface OpenDisputeInput {
  /** The accused provider (the receipt's signer). */
  provider: string
  receipt: Receipt
  /** The provider's EIP-712 signature of the receipt. */
  signature: string
  /** Where the council fetches the evidence (request body and tokens); may be empty. Defaults to "". */
  evidenceUri?: string
}

export interface OpenDisputeResult extends TxResult {
  disputeId: bigint
  streamId: bigint
  bond: bigint
  council: string[]
  commitEnd: number
  revealEnd: number
  txHashes: string[]
}

/** Opens a dispute on a provider-signed receipt (client only), paying the stream's dispute bond (approved first if needed). */
export async function openDispute(chain: ChainContext, signer: Wallet, input: OpenDisputeInput): Promise<OpenDisputeResult> {
  const wallet = signer.connect(chain.provider)
  const market = streamMarketOf(chain, wallet)
  const marketAddress = streamMarketAddress(chain)
  const stream = await getStream(chain, input.receipt.streamId)
  const txHashes: string[] = []
  if (stream.disputeBond > 0n) {
    await requireBalance(chain, wallet.address, stream.disputeBond, 'The dispute bond', 'Get more oGPU.')
    const allowance = (await chain.token.getFunction('allowance')(wallet.address, marketAddress)) as bigint
    if (allowance < stream.disputeBond) {
      const token = chain.token.connect(wallet) as Contract
      txHashes.push((await sendTx(chain.provider, 'Approve the dispute bond', () => token.getFunction('approve')(marketAddress, stream.disputeBond), chain.tx)).hash)
    }
  }
  const receipt = await sendTx(
    chain.provider,
    'Open dispute',
    () => market.getFunction('openDispute')(getAddress(input.provider), input.receipt, input.signature, input.evidenceUri ?? ''),
    chain.tx,
  )
  txHashes.push(receipt.hash)
  const event = eventArgs(receipt, marketAddress, 'DisputeOpened')
  if (!event) throw new BugError('The openDispute transaction emitted no DisputeOpened event.', {code: 'UNEXPECTED', details: {tx: receipt.hash}})
  return {
    disputeId: event.disputeId as bigint,
    streamId: event.streamId as bigint,
    bond: event.bond as bigint,
    council: [...(event.council as string[])].map((a) => getAddress(a)),
    commitEnd: Number(event.commitEnd),
    revealEnd: Number(event.revealEnd),
    txHashes,
    ...txOf(receipt),
  }
}

/** Commits a council member's verdict (see {@link verdictCommitment}). */
export async function commitVerdict(chain: ChainContext, signer: Wallet, disputeId: bigint | number, commitment: string): Promise<TxResult> {
  const market = streamMarketOf(chain, signer)
  return txOf(await sendTx(chain.provider, 'Commit dispute verdict', () => market.getFunction('commitVerdict')(toId(disputeId), commitment), chain.tx))
}

/** Reveals a council member's verdict: exactly the verdict and salt that were committed. */
export async function revealVerdict(chain: ChainContext, signer: Wallet, disputeId: bigint | number, accept: boolean, salt: string): Promise<TxResult> {
  const market = streamMarketOf(chain, signer)
  return txOf(await sendTx(chain.provider, 'Reveal dispute verdict', () => market.getFunction('revealVerdict')(toId(disputeId), accept, salt), chain.tx))
}

export interface FinalizeDisputeResult extends TxResult {
  valid: boolean
  approvals: number
  rejections: number
  providerSlashed: bigint
  rewardPerVoter: bigint
  toClient: bigint
  toProvider: bigint
}

/** Settles a dispute after its reveal phase (anyone). */
export async function finalizeDispute(chain: ChainContext, signer: Wallet, disputeId: bigint | number): Promise<FinalizeDisputeResult> {
  const market = streamMarketOf(chain, signer)
  const receipt = await sendTx(chain.provider, 'Finalize dispute', () => market.getFunction('finalizeDispute')(toId(disputeId)), chain.tx)
  const event = eventArgs(receipt, streamMarketAddress(chain), 'DisputeResolved')
  if (!event) throw new BugError('The finalizeDispute transaction emitted no DisputeResolved event.', {code: 'UNEXPECTED', details: {tx: receipt.hash}})
  return {
    valid: event.valid as boolean,
    approvals: Number(event.approvals),
    rejections: Number(event.rejections),
    providerSlashed: event.providerSlashed as bigint,
    rewardPerVoter: event.rewardPerVoter as bigint,
    toClient: event.toClient as bigint,
    toProvider: event.toProvider as bigint,
    ...txOf(receipt),
  }
}

/** One voucher of the signer's to redeem: the client's signature of Voucher(streamId, signer, cumulativeAmount). */
export interface Redemption {
  streamId: bigint
  cumulativeAmount: bigint
  signature: string
}

export interface RedeemResult extends TxResult {
  /** Paid by this transaction, wei. */
  paid: bigint
  /** Per stream, from the VoucherRedeemed events. */
  streams: Array<{streamId: bigint; paid: bigint; redeemed: bigint; deposit: bigint}>
}

function redeemResult(receipt: TransactionReceipt, market: string): RedeemResult {
  const iface = marketInterface()
  const streams: RedeemResult['streams'] = []
  for (const log of receipt.logs) {
    if (getAddress(log.address) !== market) continue
    const parsed = iface.parseLog(log)
    if (parsed?.name === 'VoucherRedeemed')
      streams.push({streamId: parsed.args.streamId as bigint, paid: parsed.args.paid as bigint, redeemed: parsed.args.redeemed as bigint, deposit: parsed.args.deposit as bigint})
  }
  return {paid: streams.reduce((sum, s) => sum + s.paid, 0n), streams, ...txOf(receipt)}
}

/** Redeems one voucher: pays min(cumulativeAmount - redeemed, deposit) to the signer. */
export async function redeem(chain: ChainContext, signer: Wallet, voucher: Redemption): Promise<RedeemResult> {
  const market = streamMarketOf(chain, signer)
  const receipt = await sendTx(chain.provider, 'Redeem voucher', () => market.getFunction('redeem')(voucher.streamId, voucher.cumulativeAmount, voucher.signature), chain.tx)
  return redeemResult(receipt, streamMarketAddress(chain))
}

/** The most vouchers one redeemMany takes (IStreamMarket.MAX_REDEEM_BATCH). */
export async function maxRedeemBatch(chain: ChainContext): Promise<number> {
  return Number(await streamMarketOf(chain).getFunction('MAX_REDEEM_BATCH')())
}

/** Redeems several vouchers (of different streams) in one transaction; at most {@link maxRedeemBatch}. */
export async function redeemMany(chain: ChainContext, signer: Wallet, vouchers: readonly Redemption[]): Promise<RedeemResult> {
  if (vouchers.length === 0) throw new UserError('There is no voucher to redeem.', {code: 'NOTHING_TO_REDEEM'})
  const market = streamMarketOf(chain, signer)
  const batch = vouchers.map((v) => ({streamId: v.streamId, cumulativeAmount: v.cumulativeAmount, signature: v.signature}))
  const receipt = await sendTx(chain.provider, `Redeem ${vouchers.length} voucher(s)`, () => market.getFunction('redeemMany')(batch), chain.tx)
  return redeemResult(receipt, streamMarketAddress(chain))
}
