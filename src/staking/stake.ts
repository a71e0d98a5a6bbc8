import type {Wallet} from 'ethers'

import {type StakeJson, chainTime, formatDuration, readStake, stakeJson} from '../chain/account.js'
import {type ChainContext, withSigner} from '../chain/context.js'
import {signPermit} from '../chain/permit.js'
import {sendTx} from '../chain/tx.js'
import {formatAmount} from '../chain/units.js'
import {UserError} from '../errors/index.js'

export interface StakeChange {
  address: string
  txHashes: string[]
  /** How the deposit was authorised: one transaction with an ERC-2612 permit, or approve + stake. */
  method?: 'permit' | 'approve'
  stake: StakeJson
}

async function summary(chain: ChainContext, address: string, txHashes: string[], method?: StakeChange['method']): Promise<StakeChange> {
  const [stake, now] = await Promise.all([readStake(chain, address), chainTime(chain)])
  return {address, txHashes, ...(method ? {method} : {}), stake: stakeJson(stake, now)}
}

/** Stakes `amount` oGPU: one transaction with a permit where the token supports it, else approve + stake. */
export async function depositStake(chain: ChainContext, signer: Wallet, amount: bigint): Promise<StakeChange> {
  const wallet = signer.connect(chain.provider)
  const balance = await chain.token.balanceOf(wallet.address)
  if (balance < amount)
    throw new UserError(`You have ${formatAmount(balance)} oGPU, less than the ${formatAmount(amount)} oGPU you asked to stake.`, {
      code: 'INSUFFICIENT_BALANCE',
      hint: chain.network.devnet ? 'Get more with `ogpu wallet fund` (devnet).' : 'Stake less, or get more oGPU first.',
    })
  const registryAddress = await chain.registry.getAddress()
  const registry = withSigner(chain.registry, wallet)
  const deadline = (await chainTime(chain)) + 3600
  const permit = await signPermit(chain.token, wallet, registryAddress, amount, deadline)
  if (permit) {
    const receipt = await sendTx(chain.provider, 'Stake with permit', () => registry.stakeWithPermit(amount, deadline, permit.v, permit.r, permit.s), chain.tx)
    return summary(chain, wallet.address, [receipt.hash], 'permit')
  }
  const token = withSigner(chain.token, wallet)
  const approve = await sendTx(chain.provider, 'Approve oGPU', () => token.approve(registryAddress, amount), chain.tx)
  const stake = await sendTx(chain.provider, 'Stake', () => registry.stake(amount), chain.tx)
  return summary(chain, wallet.address, [approve.hash, stake.hash], 'approve')
}

/** Starts unbonding `amount` of free stake; it can be claimed after the unbonding period. */
export async function withdrawStake(chain: ChainContext, signer: Wallet, amount: bigint): Promise<StakeChange> {
  const wallet = signer.connect(chain.provider)
  const stake = await readStake(chain, wallet.address)
  if (amount > stake.free)
    throw new UserError(
      `You asked to unstake ${formatAmount(amount)} oGPU but only ${formatAmount(stake.free)} oGPU is free` +
        (stake.locked > 0n ? ` (${formatAmount(stake.locked)} oGPU is locked as collateral).` : '.'),
      {code: 'INSUFFICIENT_FREE_STAKE', hint: 'See `ogpu stake status`. Locked collateral is released when its tasks end.'},
    )
  const registry = withSigner(chain.registry, wallet)
  const receipt = await sendTx(chain.provider, 'Request unstake', () => registry.requestUnstake(amount), chain.tx)
  return summary(chain, wallet.address, [receipt.hash])
}

/** Claims the unbonded stake once its period is over. */
export async function claimStake(chain: ChainContext, signer: Wallet): Promise<StakeChange & {claimed: string}> {
  const wallet = signer.connect(chain.provider)
  const [stake, now] = await Promise.all([readStake(chain, wallet.address), chainTime(chain)])
  if (stake.unbonding === 0n)
    throw new UserError('Nothing is unbonding, so there is nothing to claim.', {
      code: 'NOTHING_TO_CLAIM',
      hint: 'Start unbonding with `ogpu stake withdraw AMOUNT`, then claim after the unbonding period.',
    })
  if (now < stake.unbondingEnd)
    throw new UserError(
      `The unbonding period is not over: ${formatAmount(stake.unbonding)} oGPU becomes claimable at ${new Date(stake.unbondingEnd * 1000).toISOString()} (in ${formatDuration(stake.unbondingEnd - now)}).`,
      {code: 'UNBONDING_NOT_OVER', hint: 'Run `ogpu stake claim` again after that time.'},
    )
  const registry = withSigner(chain.registry, wallet)
  const receipt = await sendTx(chain.provider, 'Claim unbonded stake', () => registry.claim(), chain.tx)
  return {...(await summary(chain, wallet.address, [receipt.hash])), claimed: formatAmount(stake.unbonding)}
}

export async function stakeStatus(chain: ChainContext, address: string): Promise<{address: string; stake: StakeJson}> {
  const [stake, now] = await Promise.all([readStake(chain, address), chainTime(chain)])
  return {address, stake: stakeJson(stake, now)}
}
