/**
 * The StreamMarket's transactions, for clients and providers: create, top up, close, subscribe, unsubscribe,
 * disputes, verdicts and voucher redemption. Plain options in, plain TypeScript out; no CLI concerns, so the gateway,
 * the provider daemon, the dashboard and the `ogpu stream` commands all share it. The typed readers live with the
 * binding in src/chain/contracts/stream-market.ts and are re-exported here.
 */
import {getAddress, type TransactionReceipt, type Wallet} from 'ethers'

import {chainTime} from '../chain/account.js'
import type {ChainContext} from '../chain/context.js'
import {signPermit} from '../chain/permit.js'
import {eventIn, eventsIn} from '../chain/contracts/events.js'
import {type AllowanceInfo, allowanceOf, getStream, RESPONSE_METHODS, type StreamParams, streamMarketAddress, type StreamMarket, streamMarketOf, subscription, toId, type TxResult} from '../chain/contracts/stream-market.js'
import {revertOf} from '../chain/errors.js'
import {sendTx} from '../chain/tx.js'
import {formatAmount} from '../chain/units.js'
import {BugError, UserError} from '../errors/index.js'
import type {Receipt} from '../protocol/stream.js'
import type {IStreamMarket} from '../chain/contracts/stream-market.js'

export * from '../chain/contracts/stream-market.js'
// ------------------------------------------------------------------------------------------------ transactions

const txOf = (receipt: TransactionReceipt): TxResult => ({txHash: receipt.hash, block: receipt.blockNumber})

async function requireBalance(chain: ChainContext, address: string, amount: bigint, what: string, hint: string): Promise<void> {
  const balance = await chain.token.balanceOf(address)
  if (balance < amount)
    throw new UserError(`${what} takes ${formatAmount(amount)} oGPU but ${address} has ${formatAmount(balance)} oGPU.`, {
      code: 'INSUFFICIENT_BALANCE',
      hint: chain.network.devnet ? `${hint} On the devnet, \`ogpu wallet fund\` gives you more.` : hint,
    })
}

/** The contract's tuple for StreamParams (the enum as its index). */
function paramsTuple(params: StreamParams): IStreamMarket.StreamParamsStruct {
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
      receipt = await sendTx(chain.provider, 'Create stream with permit', () => market.createWithPermit(tuple, deadline, permit.v, permit.r, permit.s), chain.tx)
    } else {
      method = 'approve'
      const token = chain.token.connect(wallet)
      txHashes.push((await sendTx(chain.provider, 'Approve oGPU', () => token.approve(marketAddress, params.deposit), chain.tx)).hash)
      receipt = await sendTx(chain.provider, 'Create stream', () => market.create(tuple), chain.tx)
    }
  } else {
    receipt = await sendTx(chain.provider, 'Create stream', () => market.create(tuple), chain.tx)
  }
  txHashes.push(receipt.hash)
  const created = eventIn(receipt, market, market.getEvent('StreamCreated'))
  if (!created) throw new BugError('The create transaction emitted no StreamCreated event.', {code: 'UNEXPECTED', details: {tx: receipt.hash}})
  return {streamId: created.streamId, method, txHashes, ...txOf(receipt)}
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
    await sendTx(chain.provider, 'Update stream terms', () => market.updateTerms(toId(id), prices.pricePerKTokenGenerated, prices.pricePerKTokenVerified), chain.tx),
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
    receipt = await sendTx(chain.provider, 'Top up with permit', () => market.topUpWithPermit(streamId, amount, deadline, permit.v, permit.r, permit.s), chain.tx)
  } else {
    const token = chain.token.connect(wallet)
    txHashes.push((await sendTx(chain.provider, 'Approve oGPU', () => token.approve(marketAddress, amount), chain.tx)).hash)
    receipt = await sendTx(chain.provider, 'Top up', () => market.topUp(streamId, amount), chain.tx)
  }
  txHashes.push(receipt.hash)
  const event = eventIn(receipt, market, market.getEvent('DepositToppedUp'))
  const deposit = event ? (event.deposit) : (await getStream(chain, streamId)).deposit
  return {method: permit ? 'permit' : 'approve', txHashes, deposit, ...txOf(receipt)}
}

/** Starts the close notice (client only). Returns when the close can be finalized. */
export async function closeStream(chain: ChainContext, signer: Wallet, id: bigint | number): Promise<TxResult & {closeAt: number}> {
  const market = streamMarketOf(chain, signer)
  const receipt = await sendTx(chain.provider, 'Close stream', () => market.close(toId(id)), chain.tx)
  const event = eventIn(receipt, market, market.getEvent('StreamCloseRequested'))
  const closeAt = event ? Number(event.closeAt) : (await getStream(chain, id)).closeAt
  return {closeAt, ...txOf(receipt)}
}

/** Ends a closing stream once its notice is over (anyone): refunds the deposit, releases every subscriber. */
export async function finalizeClose(chain: ChainContext, signer: Wallet, id: bigint | number): Promise<TxResult & {refund: bigint}> {
  const market = streamMarketOf(chain, signer)
  const receipt = await sendTx(chain.provider, 'Finalize stream close', () => market.finalizeClose(toId(id)), chain.tx)
  const event = eventIn(receipt, market, market.getEvent('StreamClosed'))
  return {refund: event ? (event.clientRefund) : 0n, ...txOf(receipt)}
}

/** Subscribes the signer (a registered provider) to the stream, locking the stream's collateral from its free stake. */
export async function subscribe(chain: ChainContext, signer: Wallet, id: bigint | number): Promise<TxResult & {collateral: bigint; subscriberCount: number}> {
  const market = streamMarketOf(chain, signer)
  const receipt = await sendTx(chain.provider, 'Subscribe to stream', () => market.subscribe(toId(id)), chain.tx)
  const event = eventIn(receipt, market, market.getEvent('Subscribed'))
  if (!event) throw new BugError('The subscribe transaction emitted no Subscribed event.', {code: 'UNEXPECTED', details: {tx: receipt.hash}})
  return {collateral: event.collateral, subscriberCount: Number(event.subscriberCount), ...txOf(receipt)}
}

/** Starts the signer's unsubscribe notice. Returns when it may finish. */
export async function requestUnsubscribe(chain: ChainContext, signer: Wallet, id: bigint | number): Promise<TxResult & {noticeEnd: number}> {
  const market = streamMarketOf(chain, signer)
  const receipt = await sendTx(chain.provider, 'Request unsubscribe', () => market.requestUnsubscribe(toId(id)), chain.tx)
  const event = eventIn(receipt, market, market.getEvent('UnsubscribeRequested'))
  const noticeEnd = event ? Number(event.noticeEnd) : (await subscription(chain, id, signer.address)).noticeEnd
  return {noticeEnd, ...txOf(receipt)}
}

/** Ends the signer's subscription once the notice is over: its collateral is released. */
export async function finishUnsubscribe(chain: ChainContext, signer: Wallet, id: bigint | number): Promise<TxResult & {released: bigint}> {
  const market = streamMarketOf(chain, signer)
  const receipt = await sendTx(chain.provider, 'Finish unsubscribe', () => market.finishUnsubscribe(toId(id)), chain.tx)
  const event = eventIn(receipt, market, market.getEvent('Unsubscribed'))
  return {released: event ? (event.released) : 0n, ...txOf(receipt)}
}

// ------------------------------------------------------------------------------------------------ allowances

/** Reserves `amount` of the stream's unreserved deposit for `provider`, a subscriber (client only). */
export async function increaseAllowance(chain: ChainContext, signer: Wallet, id: bigint | number, provider: string, amount: bigint): Promise<TxResult & {allowance: bigint; deposit: bigint}> {
  if (amount <= 0n) throw new UserError('The allowance increase must be greater than zero.', {code: 'INVALID_AMOUNT'})
  const market = streamMarketOf(chain, signer)
  const receipt = await sendTx(chain.provider, 'Increase allowance', () => market.increaseAllowance(toId(id), getAddress(provider), amount), chain.tx)
  const event = eventIn(receipt, market, market.getEvent('AllowanceIncreased'))
  if (!event) throw new BugError('The increaseAllowance transaction emitted no AllowanceIncreased event.', {code: 'UNEXPECTED', details: {tx: receipt.hash}})
  return {allowance: event.allowance, deposit: event.deposit, ...txOf(receipt)}
}

/** Announces a decrease of `provider`'s allowance (client only); it can be applied after the close notice. */
export async function requestAllowanceDecrease(chain: ChainContext, signer: Wallet, id: bigint | number, provider: string, amount: bigint): Promise<TxResult & {pendingDecrease: bigint; decreaseAt: number}> {
  if (amount <= 0n) throw new UserError('The allowance decrease must be greater than zero.', {code: 'INVALID_AMOUNT'})
  const market = streamMarketOf(chain, signer)
  const receipt = await sendTx(chain.provider, 'Request allowance decrease', () => market.requestAllowanceDecrease(toId(id), getAddress(provider), amount), chain.tx)
  const event = eventIn(receipt, market, market.getEvent('AllowanceDecreaseRequested'))
  if (!event) throw new BugError('The requestAllowanceDecrease transaction emitted no AllowanceDecreaseRequested event.', {code: 'UNEXPECTED', details: {tx: receipt.hash}})
  return {pendingDecrease: event.pendingDecrease, decreaseAt: Number(event.decreaseAt), ...txOf(receipt)}
}

/** Applies `provider`'s announced allowance decrease once its notice is over (anyone). */
export async function finishAllowanceDecrease(chain: ChainContext, signer: Wallet, id: bigint | number, provider: string): Promise<TxResult & {decreased: bigint; allowance: bigint}> {
  const market = streamMarketOf(chain, signer)
  const receipt = await sendTx(chain.provider, 'Finish allowance decrease', () => market.finishAllowanceDecrease(toId(id), getAddress(provider)), chain.tx)
  const event = eventIn(receipt, market, market.getEvent('AllowanceDecreased'))
  if (!event) throw new BugError('The finishAllowanceDecrease transaction emitted no AllowanceDecreased event.', {code: 'UNEXPECTED', details: {tx: receipt.hash}})
  return {decreased: event.amount, allowance: event.allowance, ...txOf(receipt)}
}

export interface SetAllowanceResult {
  /** What was sent: an increase, an announced decrease, or nothing (already there); a due decrease is applied first. */
  action: 'increased' | 'decrease-requested' | 'unchanged'
  /** Whether a decrease whose notice was over was applied first. */
  appliedDue: boolean
  txHashes: string[]
  /** The allowance afterwards. */
  allowance: AllowanceInfo
}

/**
 * Brings what `provider` can surely redeem on the stream to `target` (client only): applies a due decrease first,
 * then increases the allowance from the unreserved deposit, or announces a decrease (effective after the close
 * notice; surelyRedeemable drops at once).
 */
export async function setAllowance(chain: ChainContext, signer: Wallet, id: bigint | number, provider: string, target: bigint): Promise<SetAllowanceResult> {
  if (target < 0n) throw new UserError('An allowance cannot be negative.', {code: 'INVALID_AMOUNT'})
  const txHashes: string[] = []
  let current = await allowanceOf(chain, id, provider)
  let appliedDue = false
  if (current.decreaseAt !== 0 && current.decreaseAt <= (await chainTime(chain))) {
    txHashes.push((await finishAllowanceDecrease(chain, signer, id, provider)).txHash)
    appliedDue = true
    current = await allowanceOf(chain, id, provider)
  }
  let action: SetAllowanceResult['action'] = 'unchanged'
  if (target > current.surelyRedeemable) {
    const more = target - current.surelyRedeemable
    const stream = await getStream(chain, id)
    if (more > stream.deposit)
      throw new UserError(`Stream ${id} has ${formatAmount(stream.deposit)} oGPU unreserved; raising ${getAddress(provider)}'s allowance to ${formatAmount(target)} oGPU takes ${formatAmount(more)} oGPU.`, {
        code: 'INSUFFICIENT_DEPOSIT',
        hint: `Top the stream up first: \`ogpu stream topup ${id} AMOUNT\`.`,
      })
    txHashes.push((await increaseAllowance(chain, signer, id, provider, more)).txHash)
    action = 'increased'
  } else if (target < current.surelyRedeemable) {
    txHashes.push((await requestAllowanceDecrease(chain, signer, id, provider, current.surelyRedeemable - target)).txHash)
    action = 'decrease-requested'
  }
  return {action, appliedDue, txHashes, allowance: action === 'unchanged' && !appliedDue ? current : await allowanceOf(chain, id, provider)}
}

/**
 * The default split of a stream's funds among its subscribers: each gets an equal share of the stream's funds
 * (unreserved deposit + allowances left). Returns the increases to send (those whose allowance is below half of its
 * share, so a redeem does not trigger a refill at once), bounded by the unreserved deposit, in subscriber order.
 */
export function allowanceTopUps(deposit: bigint, allowances: ReadonlyArray<{provider: string; left: bigint}>): Array<{provider: string; amount: bigint}> {
  const n = BigInt(allowances.length)
  if (n === 0n) return []
  const total = deposit + allowances.reduce((sum, a) => sum + a.left, 0n)
  const share = total / n
  let free = deposit
  const out: Array<{provider: string; amount: bigint}> = []
  for (const a of allowances) {
    if (free === 0n) break
    if (a.left * 2n >= share || share === 0n) continue
    const amount = share - a.left < free ? share - a.left : free
    out.push({provider: a.provider, amount})
    free -= amount
  }
  return out
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
  /** The block whose hash seeds the council draw: seatDispute works from the next block on. */
  drawBlock: number
  txHashes: string[]
}

/** What seatDispute did: seated the council, moved a stale draw block, or dropped the dispute (pool too small). */
export type SeatDisputeResult = TxResult &
  (
    | {outcome: 'seated'; council: string[]; drawBlock: number; commitEnd: number; revealEnd: number}
    | {outcome: 'reanchored'; drawBlock: number}
    | {outcome: 'dropped'; bondRefunded: bigint}
  )

/** Waits until the chain is past `block` (a new block mined), polling; false after `timeoutMs`. */
async function waitPastBlock(chain: ChainContext, block: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  const pollMs = chain.network.devnet ? 200 : 2000
  while ((await chain.provider.getBlockNumber()) <= block) {
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, pollMs))
  }
  return true
}

/**
 * Seats a dispute's council (anyone; StreamMarket.seatDispute): drawn from the staked council pool of the stream's
 * model, seeded by the hash of the dispute's draw block: when the chain refuses it as too early, it waits for a block
 * past that one (up to `waitMs`, defaults to 60 s) and tries again. Past 256 blocks the draw moves to a new block (outcome reanchored: seat again).
 */
export async function seatDispute(chain: ChainContext, signer: Wallet, disputeId: bigint | number, options: {waitMs?: number} = {}): Promise<SeatDisputeResult> {
  const market = streamMarketOf(chain, signer)
  const id = toId(disputeId)
  const send = () => sendTx(chain.provider, 'Seat the dispute council', () => market.seatDispute(id), chain.tx)
  let receipt: TransactionReceipt
  try {
    receipt = await send() // the next block is the one it is mined in: often already fine
  } catch (error) {
    if (revertOf(error) !== 'StreamMarketSeatingTooEarly') throw error
    const dispute = await market.getDispute(id)
    await waitPastBlock(chain, Number(dispute.drawBlock), options.waitMs ?? 60_000)
    receipt = await send()
  }
  const seated = eventIn(receipt, market, market.getEvent('DisputeCouncilSeated'))
  if (seated)
    return {outcome: 'seated', council: [...seated.council].map((a) => getAddress(a)), drawBlock: Number(seated.drawBlock), commitEnd: Number(seated.commitEnd), revealEnd: Number(seated.revealEnd), ...txOf(receipt)}
  const moved = eventIn(receipt, market, market.getEvent('DisputeDrawReanchored'))
  if (moved) return {outcome: 'reanchored', drawBlock: Number(moved.toBlock), ...txOf(receipt)}
  const dropped = eventIn(receipt, market, market.getEvent('DisputeDropped'))
  if (dropped) return {outcome: 'dropped', bondRefunded: dropped.bond, ...txOf(receipt)}
  throw new BugError('The seatDispute transaction emitted none of DisputeCouncilSeated, DisputeDrawReanchored, DisputeDropped.', {code: 'UNEXPECTED', details: {tx: receipt.hash}})
}

/** Opens a dispute on a provider-signed receipt (anyone but the accused), paying the stream's dispute bond (approved first if needed). */
export async function openDispute(chain: ChainContext, signer: Wallet, input: OpenDisputeInput): Promise<OpenDisputeResult> {
  const wallet = signer.connect(chain.provider)
  const market = streamMarketOf(chain, wallet)
  const marketAddress = streamMarketAddress(chain)
  const stream = await getStream(chain, input.receipt.streamId)
  const txHashes: string[] = []
  if (stream.disputeBond > 0n) {
    await requireBalance(chain, wallet.address, stream.disputeBond, 'The dispute bond', 'Get more oGPU.')
    const allowance = await chain.token.allowance(wallet.address, marketAddress)
    if (allowance < stream.disputeBond) {
      const token = chain.token.connect(wallet)
      txHashes.push((await sendTx(chain.provider, 'Approve the dispute bond', () => token.approve(marketAddress, stream.disputeBond), chain.tx)).hash)
    }
  }
  const receipt = await sendTx(
    chain.provider,
    'Open dispute',
    () => market.openDispute(getAddress(input.provider), input.receipt, input.signature, input.evidenceUri ?? ''),
    chain.tx,
  )
  txHashes.push(receipt.hash)
  const event = eventIn(receipt, market, market.getEvent('DisputeOpened'))
  if (!event) throw new BugError('The openDispute transaction emitted no DisputeOpened event.', {code: 'UNEXPECTED', details: {tx: receipt.hash}})
  return {
    disputeId: event.disputeId,
    streamId: event.streamId,
    bond: event.bond,
    drawBlock: Number(event.drawBlock),
    txHashes,
    ...txOf(receipt),
  }
}

/** Commits a council member's verdict (see {@link verdictCommitment}). */
export async function commitVerdict(chain: ChainContext, signer: Wallet, disputeId: bigint | number, commitment: string): Promise<TxResult> {
  const market = streamMarketOf(chain, signer)
  return txOf(await sendTx(chain.provider, 'Commit dispute verdict', () => market.commitVerdict(toId(disputeId), commitment), chain.tx))
}

/** Reveals a council member's verdict: exactly the verdict and salt that were committed. */
export async function revealVerdict(chain: ChainContext, signer: Wallet, disputeId: bigint | number, accept: boolean, salt: string): Promise<TxResult> {
  const market = streamMarketOf(chain, signer)
  return txOf(await sendTx(chain.provider, 'Reveal dispute verdict', () => market.revealVerdict(toId(disputeId), accept, salt), chain.tx))
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
  const receipt = await sendTx(chain.provider, 'Finalize dispute', () => market.finalizeDispute(toId(disputeId)), chain.tx)
  const event = eventIn(receipt, market, market.getEvent('DisputeResolved'))
  if (!event) throw new BugError('The finalizeDispute transaction emitted no DisputeResolved event.', {code: 'UNEXPECTED', details: {tx: receipt.hash}})
  return {
    valid: event.valid,
    approvals: Number(event.approvals),
    rejections: Number(event.rejections),
    providerSlashed: event.providerSlashed,
    rewardPerVoter: event.rewardPerVoter,
    toClient: event.toClient,
    toProvider: event.toProvider,
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

export function redeemResult(receipt: TransactionReceipt, market: StreamMarket): RedeemResult {
  const streams = eventsIn(receipt, market, market.getEvent('VoucherRedeemed')).map((e) => ({streamId: e.streamId, paid: e.paid, redeemed: e.redeemed, deposit: e.deposit}))
  return {paid: streams.reduce((sum, s) => sum + s.paid, 0n), streams, ...txOf(receipt)}
}

/** Redeems one voucher: pays min(cumulativeAmount - redeemed, deposit) to the signer. */
export async function redeem(chain: ChainContext, signer: Wallet, voucher: Redemption): Promise<RedeemResult> {
  const market = streamMarketOf(chain, signer)
  const receipt = await sendTx(chain.provider, 'Redeem voucher', () => market.redeem(voucher.streamId, voucher.cumulativeAmount, voucher.signature), chain.tx)
  return redeemResult(receipt, market)
}

/** The most vouchers one redeemMany takes (IStreamMarket.MAX_REDEEM_BATCH). */
export async function maxRedeemBatch(chain: ChainContext): Promise<number> {
  return Number(await streamMarketOf(chain).MAX_REDEEM_BATCH())
}

/** Redeems several vouchers (of different streams) in one transaction; at most {@link maxRedeemBatch}. */
export async function redeemMany(chain: ChainContext, signer: Wallet, vouchers: readonly Redemption[]): Promise<RedeemResult> {
  if (vouchers.length === 0) throw new UserError('There is no voucher to redeem.', {code: 'NOTHING_TO_REDEEM'})
  const market = streamMarketOf(chain, signer)
  const batch = vouchers.map((v) => ({streamId: v.streamId, cumulativeAmount: v.cumulativeAmount, signature: v.signature}))
  const receipt = await sendTx(chain.provider, `Redeem ${vouchers.length} voucher(s)`, () => market.redeemMany(batch), chain.tx)
  return redeemResult(receipt, market)
}
