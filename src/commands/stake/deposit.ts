import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {withChain} from '../../cli/chain.js'
import {renderStake} from '../../cli/render-stake.js'
import {unlockWallet, walletFlags} from '../../cli/wallet-flags.js'
import {parseAmount} from '../../chain/units.js'
import {depositStake} from '../../staking/stake.js'

export default class StakeDeposit extends BaseCommand<typeof StakeDeposit> {
  static override summary = 'Stake oGPU as collateral for bids, council seats and stream subscriptions.'
  static override description = 'Moves AMOUNT oGPU from the wallet into the ProviderRegistry. Where the token supports ERC-2612 permits (oGPU does) it is one transaction; otherwise approve + stake.'
  static override examples = ['<%= config.bin %> stake deposit 1000', '<%= config.bin %> stake deposit 12.5 --wallet alice --json']
  static override args = {amount: Args.string({description: 'Decimal oGPU amount, e.g. 12.5.', required: true})}
  static override flags = {...walletFlags}

  async run() {
    const amount = parseAmount(this.args.amount)
    const {wallet} = await unlockWallet(this.paths, this.flags)
    const result = await withChain(this.paths, this.flags, (chain) => depositStake(chain, wallet, amount))
    this.log(`Staked ${this.args.amount} oGPU (${result.method === 'permit' ? 'one transaction with a permit' : 'approve + stake'}).\n`)
    this.log(renderStake(result.address, result.stake))
    return result
  }
}
