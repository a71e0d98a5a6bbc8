import {BaseCommand} from '../../cli/base-command.js'
import {withChain} from '../../cli/chain.js'
import {renderStake} from '../../cli/render-stake.js'
import {unlockWallet, walletFlags} from '../../cli/wallet-flags.js'
import {claimStake} from '../../staking/stake.js'

export default class StakeClaim extends BaseCommand<typeof StakeClaim> {
  static override summary = 'Claim stake whose unbonding period is over back into the wallet.'
  static override examples = ['<%= config.bin %> stake claim', '<%= config.bin %> stake claim --wallet alice --json']
  static override flags = {...walletFlags}

  async run() {
    const {wallet} = await unlockWallet(this.paths, this.flags)
    const result = await withChain(this.paths, this.flags, (chain) => claimStake(chain, wallet))
    this.log(`Claimed ${result.claimed} oGPU.\n`)
    this.log(renderStake(result.address, result.stake))
    return result
  }
}
