import {Interface, isError, type ErrorDescription} from 'ethers'

import {ExternalError, type OgpuError, UserError} from '../errors/index.js'
import {loadErrorAbi} from './artifacts.js'
import {formatAmount} from './units.js'

let errorInterface: Interface | undefined
function errors(): Interface {
  errorInterface ??= new Interface(loadErrorAbi())
  return errorInterface
}

type Explain = (args: ErrorDescription['args']) => {message: string; hint?: string}

const TASK_STATUS_NAMES = ['none', 'open', 'assigned', 'finalized', 'failed', 'expired', 'cancelled']
const when = (ts: bigint): string => new Date(Number(ts) * 1000).toISOString()
const oGPU = (wei: bigint): string => `${formatAmount(wei)} oGPU`

/**
 * What each contract error means to a user, and what they can do about it. Errors not listed here are still
 * decoded by name and arguments.
 */
const EXPLAIN: Record<string, Explain> = {
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
export function decodeRevert(data: string): {name: string; args: unknown[]; message: string; hint?: string} | undefined {
  if (!data || data === '0x') return undefined
  let parsed: ErrorDescription | null = null
  try {
    parsed = errors().parseError(data)
  } catch {
    parsed = null
  }
  if (!parsed) return undefined
  const explained = EXPLAIN[parsed.name]?.(parsed.args)
  const args = [...parsed.args].map((a) => (typeof a === 'bigint' ? a.toString() : a))
  return {
    name: parsed.name,
    args,
    message: explained?.message ?? `The contract refused with ${parsed.name}(${args.join(', ')}).`,
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
      return new UserError(decoded.message, {
        code: `REVERT_${decoded.name}`,
        hint: decoded.hint,
        details: {revert: decoded.name, args: decoded.args},
        cause: err,
      })
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
