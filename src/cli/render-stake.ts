import type {StakeJson} from '../chain/account.js'
import {formatDuration} from '../chain/account.js'
import {keyValues} from './format.js'

export function renderStake(address: string, stake: StakeJson): string {
  let unbonding = `${stake.unbonding.value} oGPU`
  if (stake.unbondingEnd)
    unbonding += stake.claimable
      ? ' (claimable now: `ogpu stake claim`)'
      : ` (claimable at ${stake.unbondingEnd}, in ${formatDuration(stake.unbondingRemainingSeconds ?? 0)})`
  return keyValues([
    ['Address', address],
    ['Staked', `${stake.staked.value} oGPU`],
    ['Free', `${stake.free.value} oGPU`],
    ['Locked', `${stake.locked.value} oGPU`],
    ['Unbonding', unbonding],
  ])
}
