import {BaseCommand} from '../../cli/base-command.js'
import {withChain} from '../../cli/chain.js'
import {renderStake} from '../../cli/render-stake.js'
import {walletFlags} from '../../cli/wallet-flags.js'
import {stakeStatus} from '../../staking/stake.js'
import {WalletStore} from '../../wallet/wallet-store.js'

export default class StakeStatus extends BaseCommand<typeof StakeStatus> {
  static override summary = 'Show stake: total, free, locked as collateral, and unbonding with its end time.'
  static override examples = ['<%= config.bin %> stake status', '<%= config.bin %> stake status --wallet dev3 --json']
  static override flags = {wallet: walletFlags.wallet}

  async run() {
    const store = new WalletStore(this.paths)
    const {address} = store.get(store.resolveName(this.flags.wallet))
    const result = await withChain(this.paths, this.flags, (chain) => stakeStatus(chain, address))
    this.log(renderStake(result.address, result.stake))
    return result
  }
}
