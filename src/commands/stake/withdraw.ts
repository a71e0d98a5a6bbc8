import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {withChain} from '../../cli/chain.js'
import {renderStake} from '../../cli/render-stake.js'
import {unlockWallet, walletFlags} from '../../cli/wallet-flags.js'
import {parseAmount} from '../../chain/units.js'
import {withdrawStake} from '../../staking/stake.js'

export default class StakeWithdraw extends BaseCommand<typeof StakeWithdraw> {
  static override summary = 'Start unbonding free stake; claim it with `ogpu stake claim` after the unbonding period.'
  static override description = 'Only free stake (not locked as collateral) can be withdrawn. A new withdrawal adds to the amount already unbonding and restarts its clock.'
  static override examples = ['<%= config.bin %> stake withdraw 250', '<%= config.bin %> stake withdraw 0.5 --json']
  static override args = {amount: Args.string({description: 'Decimal oGPU amount, e.g. 12.5.', required: true})}
  static override flags = {...walletFlags}

  async run() {
    const amount = parseAmount(this.args.amount)
    const {wallet} = await unlockWallet(this.paths, this.flags)
    const result = await withChain(this.paths, this.flags, (chain) => withdrawStake(chain, wallet, amount))
    this.log(`Unbonding ${this.args.amount} oGPU.\n`)
    this.log(renderStake(result.address, result.stake))
    return result
  }
}
