import {Interface, isError, type ErrorDescription} from 'ethers'

import {ExternalError, isOgpuError, type OgpuError, type OgpuErrorOptions, UserError} from '../errors/index.js'
import {ERRORS_ABI, REVERT_NAMES, type RevertName} from './contracts/generated/reverts.js'
import {formatAmount} from './units.js'

export type {RevertName} from './contracts/generated/reverts.js'

let errorInterface: Interface | undefined
function errors(): Interface {
  errorInterface ??= new Interface(ERRORS_ABI)
  return errorInterface
}

const revertNames: ReadonlySet<string> = new Set(REVERT_NAMES)
const isRevertName = (name: string): name is RevertName => revertNames.has(name)

/** A contract refused: the custom error's name (typed from the ABIs) and its decoded arguments. */
export class ContractRevertError extends UserError {
  declare readonly code: `REVERT_${RevertName}`
  readonly revert: RevertName
  readonly args: readonly unknown[]
  constructor(message: string, revert: RevertName, args: readonly unknown[], options: Omit<OgpuErrorOptions, 'code'> = {}) {
    super(message, {code: `REVERT_${revert}`, ...options, details: {revert, args, ...options.details}})
    this.revert = revert
    this.args = args
  }
}

type Explain = (args: ErrorDescription['args']) => {message: string; hint?: string}

const TASK_STATUS_NAMES = ['none', 'open', 'assigned', 'finalized', 'failed', 'expired', 'cancelled']
const STREAM_STATUS_NAMES = ['none', 'active', 'closing', 'closed']
const STREAM_METHOD_NAMES = ['optimistic', 'weighted', 'unanimous']
const SUBSCRIPTION_STATUS_NAMES = ['none', 'active', 'unsubscribing', 'removed']
const DISPUTE_STATE_NAMES = ['none', 'open', 'valid', 'invalid', 'waiting for its council', 'dropped (no council could be drawn)']
const when = (ts: bigint): string => new Date(Number(ts) * 1000).toISOString()
const oGPU = (wei: bigint): string => `${formatAmount(wei)} oGPU`

/**
 * What each contract error means to a user, and what they can do about it. Errors not listed here are still
 * decoded by name and arguments.
 */
const EXPLAIN: Partial<Record<RevertName, Explain>> = {
  ProviderRegistryZeroAmount: () => ({message: 'The amount must be greater than zero.'}),
  ProviderRegistryInsufficientFreeStake: ([provider, requested, available]) => ({
    message: `Not enough free stake: ${provider} asked for ${oGPU(requested)} but only ${oGPU(available)} is free (the rest is locked as collateral or unbonding).`,
    hint: 'Check `ogpu stake status`; deposit more with `ogpu stake deposit AMOUNT`.',
  }),
  ProviderRegistryInsufficientLocked: ([provider, requested, locked]) => ({
    message: `Only ${oGPU(locked)} of ${provider}'s collateral is locked, less than the ${oGPU(requested)} requested.`,
  }),
  ProviderRegistryNothingToClaim: ([provider]) => ({
    message: `${provider} has nothing unbonding to claim.`,
    hint: 'Start unbonding first with `ogpu stake withdraw AMOUNT`.',
  }),
  ProviderRegistryUnbondingNotOver: ([, end]) => ({
    message: `The unbonding period is not over: it ends at ${when(end)}.`,
    hint: 'Run `ogpu stake claim` again after that time; `ogpu stake status` shows it.',
  }),
  ProviderRegistryAlreadyRegistered: ([provider]) => ({
    message: `${provider} is already registered as a provider.`,
    hint: 'Run `ogpu provider status` to see the registration.',
  }),
  ProviderRegistryNotRegistered: ([provider]) => ({
    message: `${provider} is not registered as a provider.`,
    hint: 'Register first: `ogpu provider register --endpoint URL`.',
  }),
  ProviderRegistryInvalidEndpoint: () => ({message: 'The endpoint URL is empty or longer than 256 bytes.'}),
  ERC20InsufficientBalance: ([sender, balance, needed]) => ({
    message: `${sender} has ${oGPU(balance)}, less than the ${oGPU(needed)} needed.`,
    hint: 'Check balances with `ogpu wallet show`.',
  }),
  ERC20InsufficientAllowance: ([spender, allowance, needed]) => ({
    message: `The contract ${spender} may spend ${oGPU(allowance)} of your oGPU, less than the ${oGPU(needed)} needed.`,
  }),
  ERC2612ExpiredSignature: ([deadline]) => ({message: `The permit signature expired at ${when(deadline)}.`, hint: 'Try again.'}),
  ERC2612InvalidSigner: ([signer, owner]) => ({message: `The permit was signed by ${signer}, not by the owner ${owner}.`}),
  ERC20ExceededCap: ([supply, cap]) => ({message: `Minting would raise the oGPU supply to ${oGPU(supply)}, above the cap of ${oGPU(cap)}.`}),
  TaskMarketUnknownTask: ([taskId]) => ({message: `There is no task ${taskId}.`, hint: 'Run `ogpu task list` to see the tasks.'}),
  TaskMarketHasBids: ([taskId, bids]) => ({
    message: `Task ${taskId} already has ${bids} bid(s), so it can no longer be cancelled.`,
    hint: 'Let it run, or confirm it early once assigned with `ogpu task confirm`.',
  }),
  TaskMarketNotClient: ([taskId, account]) => ({message: `${account} is not the client of task ${taskId}.`, hint: 'Use the wallet that submitted it (--wallet).'}),
  TaskMarketUnexpectedStatus: ([taskId, status, expected]) => ({
    message: `Task ${taskId} is ${TASK_STATUS_NAMES[Number(status)] ?? status}, but this needs it to be ${TASK_STATUS_NAMES[Number(expected)] ?? expected}.`,
    hint: `See \`ogpu task show ${taskId}\`.`,
  }),
  TaskMarketBidTooHigh: ([taskId, price, maxPrice]) => ({message: `A bid of ${oGPU(price)} is above task ${taskId}'s max price of ${oGPU(maxPrice)}.`}),
  TaskMarketBiddingClosed: ([taskId, end]) => ({message: `Bidding on task ${taskId} closed at ${when(end)}.`}),
  TaskMarketClientCannotBid: ([taskId]) => ({message: `The client of task ${taskId} cannot bid on its own task.`}),
  TaskMarketBidNotBelowHighest: ([taskId, price, highest]) => ({
    message: `Task ${taskId} holds as many bids as it takes; a bid of ${oGPU(price)} is not below the highest of them (${oGPU(highest)}), so it cannot evict it.`,
    hint: `Bid less than ${oGPU(highest)} to take its place, or see \`ogpu task show ${taskId}\`.`,
  }),
  TaskMarketOpenTimeNotOver: ([taskId, at]) => ({
    message: `Task ${taskId} cannot be assigned before ${when(at)}: every task stays open to bids for the network's minimum open time.`,
    hint: 'Try again after that time.',
  }),
  // StreamMarket (stream tasks): what a client or a provider can hit, and the command that fixes it.
  StreamMarketMissingHash: () => ({message: 'A stream needs a model hash and a spec hash (neither may be zero).', hint: 'Name the model by its sha256 in the stream spec.'}),
  StreamMarketInvalidSpecUri: ([length, max]) => ({message: `The spec URI is ${length} bytes; it must be 1..${max}.`, hint: 'Give a shorter --spec-uri to `ogpu stream create`.'}),
  StreamMarketInvalidCouncilSize: ([size, max]) => ({
    message: `A council of ${size} is not allowed: it must be 1..${max} on this network.`,
    hint: 'Change `council.size` in the stream spec.',
  }),
  StreamMarketInvalidWeight: ([method, weightBps]) => ({
    message: `A weight of ${weightBps} basis points does not fit the response method ${STREAM_METHOD_NAMES[Number(method)] ?? method} (weighted needs 1..10000; the others 0).`,
    hint: 'Set `council.weight` (0..1) only with `council.method: weighted`.',
  }),
  StreamMarketCollateralTooLow: ([collateral, min]) => ({
    message: `A collateral of ${oGPU(collateral)} is below this network's minimum of ${oGPU(min)}.`,
    hint: 'Raise `collateral` in the stream spec.',
  }),
  StreamMarketDisputeBondTooLow: ([bond, min]) => ({
    message: `A dispute bond of ${oGPU(bond)} is below this network's minimum of ${oGPU(min)}.`,
    hint: 'Raise `disputes.bond` in the stream spec.',
  }),
  StreamMarketInvalidMaxDowntime: ([downtime, max]) => ({message: `A max downtime of ${downtime} s is not allowed (1..${max} s).`, hint: 'Change `maxDowntime` in the stream spec.'}),
  StreamMarketInvalidNotice: ([notice, min, max]) => ({
    message: `A notice of ${notice} s is outside this network's bounds of ${min}..${max} s.`,
    hint: 'Change `notice.unsubscribe` or `notice.close` in the stream spec.',
  }),
  StreamMarketInvalidVerdictWindow: ([window, min, max]) => ({
    message: `A verdict window of ${window} s is outside this network's bounds of ${min}..${max} s.`,
    hint: 'Change `disputes.commitWindow` or `disputes.revealWindow` in the stream spec.',
  }),
  StreamMarketUnknownStream: ([streamId]) => ({message: `There is no stream ${streamId}.`, hint: 'Run `ogpu stream list --all` to see the streams.'}),
  StreamMarketUnexpectedStatus: ([streamId, status, expected]) => ({
    message: `Stream ${streamId} is ${STREAM_STATUS_NAMES[Number(status)] ?? status}, but this needs it to be ${STREAM_STATUS_NAMES[Number(expected)] ?? expected}.`,
    hint:
      Number(expected) === 3 || Number(expected) === 2
        ? `Close it first with \`ogpu stream close ${streamId}\`; see \`ogpu stream show ${streamId}\`.`
        : `See \`ogpu stream show ${streamId}\`.`,
  }),
  StreamMarketStreamClosed: ([streamId]) => ({message: `Stream ${streamId} is closed.`, hint: 'Create a new stream with `ogpu stream create SPEC.yaml`.'}),
  StreamMarketNotClient: ([streamId, account]) => ({message: `${account} is not the client of stream ${streamId}.`, hint: 'Use the wallet that created it (--wallet).'}),
  StreamMarketZeroAmount: () => ({message: 'The amount must be greater than zero.'}),
  StreamMarketClientCannotSubscribe: ([streamId, client]) => ({
    message: `${client} is the client of stream ${streamId}, and a client cannot serve its own stream.`,
    hint: 'Subscribe with a provider wallet (--wallet).',
  }),
  StreamMarketProviderNotRegistered: ([provider]) => ({
    message: `${provider} is not a registered provider, so it cannot subscribe.`,
    hint: 'Register first: `ogpu provider register --endpoint URL`, and stake the collateral with `ogpu stake deposit AMOUNT`.',
  }),
  StreamMarketAlreadySubscribed: ([streamId, provider]) => ({
    message: `${provider} is already subscribed to stream ${streamId}.`,
    hint: `See \`ogpu stream show ${streamId}\`; leave with \`ogpu stream unsubscribe ${streamId}\`.`,
  }),
  StreamMarketProviderRemoved: ([streamId, provider]) => ({
    message: `${provider} was removed from stream ${streamId} by a dispute it lost, and may not subscribe again.`,
  }),
  StreamMarketSubscriberCapReached: ([streamId, max]) => ({message: `Stream ${streamId} already has the most subscribers allowed (${max}).`, hint: 'Subscribe to another stream (`ogpu stream list`).'}),
  StreamMarketNotSubscribed: ([streamId, provider, status]) => ({
    message: `${provider} is not ${Number(status) === 2 ? 'actively ' : ''}subscribed to stream ${streamId} (its subscription is ${SUBSCRIPTION_STATUS_NAMES[Number(status)] ?? status}).`,
    hint:
      Number(status) === 2
        ? `Its unsubscribe notice is already running: finish with \`ogpu stream unsubscribe ${streamId}\` once it is over.`
        : `Subscribe with \`ogpu stream subscribe ${streamId}\`.`,
  }),
  StreamMarketUnsubscribeNoticeNotOver: ([streamId, , noticeEnd]) => ({
    message: `The unsubscribe notice on stream ${streamId} runs until ${when(noticeEnd)}.`,
    hint: `Run \`ogpu stream unsubscribe ${streamId}\` again after that time.`,
  }),
  StreamMarketSubscriptionBusy: ([streamId, provider, openDispute]) => ({
    message: `${provider} cannot leave stream ${streamId} yet: dispute ${openDispute} accuses it.`,
    hint: `Wait until it is settled (\`ogpu stream dispute finalize ${openDispute}\` once its reveal phase is over), then try again.`,
  }),
  StreamMarketCloseNoticeNotOver: ([streamId, closeAt]) => ({
    message: `The close notice of stream ${streamId} runs until ${when(closeAt)}.`,
    hint: `Run \`ogpu stream finalize ${streamId}\` after that time.`,
  }),
  StreamMarketCloseNoticeOver: ([streamId, closeAt]) => ({message: `The close notice of stream ${streamId} ended at ${when(closeAt)}; no more disputes can be opened.`}),
  StreamMarketDisputesOpen: ([streamId, open]) => ({
    message: `Stream ${streamId} still has ${open} open dispute(s), so it cannot be closed for good yet.`,
    hint: 'Settle them with `ogpu stream dispute finalize ID` once their reveal phase is over, then finalize again.',
  }),
  StreamMarketCumulativeNotIncreasing: ([streamId, provider, cumulative, alreadyRedeemed]) => ({
    message: `The voucher for ${oGPU(cumulative)} on stream ${streamId} does not exceed the ${oGPU(alreadyRedeemed)} ${provider} has already redeemed.`,
    hint: 'Redeem a newer voucher.',
  }),
  StreamMarketInvalidVoucherSignature: ([streamId, provider, cumulative]) => ({
    message: `The voucher of ${oGPU(cumulative)} for ${provider} on stream ${streamId} is not signed by the stream's client.`,
  }),
  StreamMarketDepositEmpty: ([streamId, owed]) => ({
    message: `Neither this provider's allowance nor stream ${streamId}'s unreserved deposit holds anything; ${oGPU(owed)} stays owed and redeemable after a top-up or a new allowance.`,
    hint: `The client tops it up with \`ogpu stream topup ${streamId} AMOUNT\`.`,
  }),
  StreamMarketAllowanceExceedsDeposit: ([streamId, amount, deposit]) => ({
    message: `An allowance of ${oGPU(amount)} does not fit in stream ${streamId}'s unreserved deposit of ${oGPU(deposit)}.`,
    hint: `Top the stream up first: \`ogpu stream topup ${streamId} AMOUNT\`.`,
  }),
  StreamMarketDecreaseExceedsAllowance: ([streamId, provider, amount, decreasable]) => ({
    message: `${provider}'s allowance on stream ${streamId} can be lowered by at most ${oGPU(decreasable)} (asked: ${oGPU(amount)}).`,
  }),
  StreamMarketNoAllowanceDecrease: ([streamId, provider]) => ({message: `No allowance decrease of ${provider} is pending on stream ${streamId}.`}),
  StreamMarketAllowanceNoticeNotOver: ([streamId, provider, decreaseAt]) => ({
    message: `The notice of the decrease of ${provider}'s allowance on stream ${streamId} ends at ${when(decreaseAt)}.`,
    hint: 'Apply it after that time (`ogpu stream allowance ID PROVIDER AMOUNT` again).',
  }),
  StreamMarketInvalidBatch: ([length, max]) => ({message: `A batch of ${length} vouchers is not allowed (1..${max}).`}),
  StreamMarketInvalidReceiptSignature: ([streamId, provider, requestId]) => ({
    message: `The receipt of request ${requestId} on stream ${streamId} is not signed by ${provider}.`,
    hint: 'Check the receipt file: its provider, receipt and signature must be exactly what the provider sent.',
  }),
  StreamMarketReceiptAlreadyDisputed: ([, disputeId]) => ({message: `This receipt was already disputed (dispute ${disputeId}).`, hint: `See \`ogpu stream dispute show ${disputeId}\`.`}),
  StreamMarketProviderUnderDispute: ([streamId, provider, disputeId]) => ({
    message: `${provider} is already accused on stream ${streamId} by the open dispute ${disputeId} (one at a time).`,
    hint: `Wait for it to settle: \`ogpu stream dispute show ${disputeId}\`, then \`ogpu stream dispute finalize ${disputeId}\`.`,
  }),
  StreamMarketNotSeating: ([disputeId, state]) => ({
    message: Number(state) === 0 ? `There is no dispute ${disputeId}.` : `Dispute ${disputeId} is ${DISPUTE_STATE_NAMES[Number(state)] ?? state}: its council is no longer waiting to be seated.`,
    hint: Number(state) === 0 ? 'Open disputes of a stream are listed by `ogpu stream show ID`.' : `See \`ogpu stream dispute show ${disputeId}\`.`,
  }),
  StreamMarketSeatingTooEarly: ([disputeId, drawBlock]) => ({
    message: `The council of dispute ${disputeId} is drawn from the hash of block ${drawBlock}: it can be seated from block ${Number(drawBlock) + 1} on.`,
    hint: `Run \`ogpu stream dispute seat ${disputeId}\` again once a block has been mined (providers' daemons seat it too).`,
  }),
  StreamMarketInvalidEvidenceUri: ([length, max]) => ({message: `The evidence URI is ${length} bytes; at most ${max} are allowed.`}),
  StreamMarketUnknownDispute: ([disputeId]) => ({message: `There is no dispute ${disputeId}.`, hint: 'Open disputes of a stream are listed by `ogpu stream show ID`.'}),
  StreamMarketDisputeNotOpen: ([disputeId, state]) => ({
    message: `Dispute ${disputeId} is ${DISPUTE_STATE_NAMES[Number(state)] ?? state}, not open.`,
    hint: Number(state) === 4 ? `Seat its council first: \`ogpu stream dispute seat ${disputeId}\` (providers' daemons do it too).` : `See \`ogpu stream dispute show ${disputeId}\`.`,
  }),
  StreamMarketNotCouncilMember: ([disputeId, account]) => ({message: `${account} holds no seat on the council of dispute ${disputeId}.`}),
  VerdictRoundNotOver: ([, revealEnd]) => ({message: `The verdict round is still open until ${when(revealEnd)} (or until every member has revealed).`}),
  VerdictRoundCommitmentMismatch: ([, voter]) => ({
    message: `The revealed verdict of ${voter} does not match its commitment (wrong verdict or salt).`,
    hint: 'Reveal exactly the verdict and salt that were committed.',
  }),
  AccessControlUnauthorizedAccount: ([account, role]) => ({
    message: `${account} lacks the role ${role} this action needs.`,
    hint: 'Use the wallet that deployed the contracts (or was granted the role).',
  }),
}

/** Decodes revert data into the contract error's name and a sentence a user understands. */
export function decodeRevert(data: string): {name: RevertName; args: unknown[]; message: string; hint?: string} | undefined {
  if (!data || data === '0x') return undefined
  let parsed: ErrorDescription | null = null
  try {
    parsed = errors().parseError(data)
  } catch {
    parsed = null
  }
  if (!parsed || !isRevertName(parsed.name)) return undefined
  const name = parsed.name
  const explained = EXPLAIN[name]?.(parsed.args)
  const args = [...parsed.args].map((a) => (typeof a === 'bigint' ? a.toString() : a))
  return {
    name,
    args,
    message: explained?.message ?? `The contract refused with ${name}(${args.join(', ')}).`,
    hint: explained?.hint,
  }
}

function findRevertData(err: unknown): string | undefined {
  let current: unknown = err
  for (let depth = 0; current && depth < 6; depth++) {
    const c = current as {data?: unknown; error?: unknown; info?: {error?: {data?: unknown}}; cause?: unknown}
    if (typeof c.data === 'string' && c.data.startsWith('0x') && c.data.length >= 10) return c.data
    const infoData = c.info?.error?.data
    if (typeof infoData === 'string' && infoData.startsWith('0x') && infoData.length >= 10) return infoData
    current = c.error ?? c.cause
  }
  return undefined
}

/** Converts ethers errors into the ogpu hierarchy: reverts by name (user errors), transport failures (external). */
export function fromChainError(err: unknown): OgpuError | undefined {
  if (!(err instanceof Error)) return undefined
  const data = findRevertData(err)
  if (data) {
    const decoded = decodeRevert(data)
    if (decoded)
      return new ContractRevertError(decoded.message, decoded.name, decoded.args, {hint: decoded.hint, cause: err})
  }
  if (isError(err, 'INSUFFICIENT_FUNDS'))
    return new UserError('Not enough ETH to pay for gas.', {
      code: 'INSUFFICIENT_FUNDS',
      hint: 'Send ETH to this wallet (on the devnet: `ogpu wallet fund`).',
      cause: err,
    })
  if (isError(err, 'CALL_EXCEPTION'))
    return new UserError(`The transaction was reverted${err.reason ? `: ${err.reason}` : ''}.`, {code: 'REVERTED', cause: err})
  if (isError(err, 'NONCE_EXPIRED') || isError(err, 'REPLACEMENT_UNDERPRICED') || isError(err, 'TRANSACTION_REPLACED'))
    return new ExternalError(`The node refused the transaction: ${err.shortMessage}.`, {
      code: 'TX_CONFLICT',
      hint: 'Another transaction from this wallet was sent at the same time. Try again once it is mined.',
      cause: err,
    })
  if (isError(err, 'NETWORK_ERROR') || isError(err, 'TIMEOUT') || isError(err, 'SERVER_ERROR'))
    return new ExternalError(`The RPC endpoint failed: ${err.shortMessage}`, {code: 'RPC_ERROR', cause: err})
  return undefined
}

/** The error in the ogpu hierarchy (chain errors converted), or undefined when it is none we know. */
function converted(error: unknown): OgpuError | undefined {
  return isOgpuError(error) ? error : fromChainError(error)
}

/** The message to log for any error: a decoded revert, a converted chain error, or the error's own message. */
export function errorText(error: unknown): string {
  return converted(error)?.message ?? (error as Error)?.message ?? String(error)
}

/** The custom error a contract refused with, or undefined when the error is no decoded revert. */
export function revertOf(error: unknown): RevertName | undefined {
  const c = converted(error)
  return c instanceof ContractRevertError ? c.revert : undefined
}

/** The decoded arguments of the custom error a contract refused with (undefined when the error is no decoded revert). */
export function revertArgsOf(error: unknown): readonly unknown[] | undefined {
  const c = converted(error)
  return c instanceof ContractRevertError ? c.args : undefined
}
