import type {ChainContext} from './context.js'
import {type AmountJson, amountJson} from './units.js'

/** Stake of one account in the ProviderRegistry, in base units. */
export interface StakeState {
  /** Active stake, including the locked part. */
  staked: bigint
  /** Collateral locked by bids, council seats and stream subscriptions. */
  locked: bigint
  /** staked − locked: what can be unstaked or committed to new work. */
  free: bigint
  /** Waiting for the unbonding period to end. */
  unbonding: bigint
  /** Unix seconds when the unbonding amount becomes claimable (0 when nothing unbonds). */
  unbondingEnd: number
}

export interface StakeJson {
  staked: AmountJson
  locked: AmountJson
  free: AmountJson
  unbonding: AmountJson
  /** ISO time when the unbonding amount becomes claimable, or null. */
  unbondingEnd: string | null
  /** Seconds until then (0 when claimable now), or null. */
  unbondingRemainingSeconds: number | null
  claimable: boolean
}

export async function readStake(chain: ChainContext, address: string): Promise<StakeState> {
  const info = await chain.registry.stakeOf(address)
  return {
    staked: info.staked,
    locked: info.locked,
    free: info.staked - info.locked,
    unbonding: info.unbonding,
    unbondingEnd: Number(info.unbondingEnd),
  }
}

/** The chain's clock: the latest block's timestamp. */
export async function chainTime(chain: ChainContext): Promise<number> {
  const block = await chain.provider.getBlock('latest')
  return block?.timestamp ?? Math.floor(Date.now() / 1000)
}

export function stakeJson(stake: StakeState, now: number): StakeJson {
  const unbonds = stake.unbonding > 0n
  return {
    staked: amountJson(stake.staked),
    locked: amountJson(stake.locked),
    free: amountJson(stake.free),
    unbonding: amountJson(stake.unbonding),
    unbondingEnd: unbonds ? new Date(stake.unbondingEnd * 1000).toISOString() : null,
    unbondingRemainingSeconds: unbonds ? Math.max(0, stake.unbondingEnd - now) : null,
    claimable: unbonds && now >= stake.unbondingEnd,
  }
}

export interface BalancesJson {
  address: string
  eth: AmountJson
  ogpu: AmountJson
}

export async function readBalances(chain: ChainContext, address: string): Promise<BalancesJson> {
  const [eth, ogpu] = await Promise.all([chain.provider.getBalance(address), chain.token.balanceOf(address)])
  return {address, eth: amountJson(eth), ogpu: amountJson(ogpu)}
}

/** "1h 2m 3s" */
export function formatDuration(seconds: number): string {
  if (seconds <= 0) return '0s'
  const h = Math.floor(seconds / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = seconds % 60
  return [h ? `${h}h` : '', m ? `${m}m` : '', s || (!h && !m) ? `${s}s` : ''].filter(Boolean).join(' ')
}
